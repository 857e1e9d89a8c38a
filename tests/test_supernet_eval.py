"""Evaluation of trained super-networks: BN recalibration, metrics, ground truth, CLI end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from nasbench_tools.cli import main
from nasbench_tools.networks import bn_buffers
from nasbench_tools.spaces import get_space
from nasbench_tools.supernet import TrainConfig, load_checkpoint, model_from_checkpoint, train_supernet
from nasbench_tools.supernet.data import load_data
from nasbench_tools.supernet.evaluate import ArchEvaluator, PopulationError, evaluate_checkpoint, population
from nasbench_tools.supernet.metrics import selection_metrics


def test_selection_metrics_known_values():
    truth = np.array([90.0, 91.0, 92.0, 93.0, 94.0])
    perfect = selection_metrics(truth * 2, truth, top_n=(1, 2))
    assert perfect["kendall_tau"] == pytest.approx(1.0)
    assert perfect["top1_truth"] == 94.0 and perfect["top1_improvement"] == pytest.approx(1.0)
    assert perfect["top2_truth"] == 93.5 and perfect["top2_improvement"] == pytest.approx(0.75)
    worst = selection_metrics(-truth, truth, top_n=(1,))
    assert worst["kendall_tau"] == pytest.approx(-1.0) and worst["top1_improvement"] == pytest.approx(-1.0)
    top = selection_metrics(np.array([1, 2, 3, 5, 4.0]), truth, top_tau=2, top_n=(1,))
    assert top["kendall_tau_top2"] == pytest.approx(-1.0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("sn")
    cfg = TrainConfig(space="nb201", subset="onlyconv", epochs=2, split_epoch=1, data="synthetic",
                      synthetic_size=128, val_images=32, batch_size=32, channels=4)
    train_supernet(cfg, out)
    return out / "checkpoint.pt"


def test_evaluator_restores_bn_statistics_between_architectures(trained):
    ck = load_checkpoint(trained)
    model = model_from_checkpoint(ck)
    trained_bn = [b.clone() for b in bn_buffers(model)]
    weights = {k: v.clone() for k, v in model.state_dict().items() if "running" not in k and "num_batches" not in k}
    data = load_data("synthetic", synthetic_size=128, val_images=32)
    ev = ArchEvaluator(model, data, torch.device("cpu"), batch_size=16, calibration_batches=2)
    rows = get_space("nb201-onlyconv").enumerate()
    a0 = ev.accuracy(rows[0])
    assert any(not torch.equal(a, b) for a, b in zip(bn_buffers(model), trained_bn))  # recalibrated
    ev.accuracy(rows[5])
    assert ev.accuracy(rows[0]) == a0  # same start state each time -> same result
    ev.restore()
    for a, b in zip(bn_buffers(model), trained_bn):
        assert torch.equal(a, b)
    for k, v in model.state_dict().items():
        if k in weights:
            assert torch.equal(v, weights[k])


def test_bn_reset_recalibration_ignores_trained_statistics(trained):
    """With ``bn_reset`` the statistics are the plain average over the calibration batches, so
    poisoned trained statistics do not matter; without it they leak into the result."""
    data = load_data("synthetic", synthetic_size=128, val_images=32)
    row = get_space("nb201-onlyconv").enumerate()[7]
    results = {}
    for poisoned in (False, True):
        model = model_from_checkpoint(load_checkpoint(trained))
        if poisoned:
            for m in model.modules():
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                    m.running_var.fill_(1e6)
                    m.running_mean.fill_(50.0)
        for reset in (False, True):
            ev = ArchEvaluator(model, data, torch.device("cpu"), batch_size=16, calibration_batches=2, bn_reset=reset)
            ev.accuracy(row)
            results[poisoned, reset] = [b.clone() for b in bn_buffers(model)]
            moms = {m.momentum for m in ev.bn_modules}
            assert moms == {0.1}  # momentum restored after a reset calibration
    for a, b in zip(results[False, True], results[True, True]):
        torch.testing.assert_close(a, b)
    assert any(not torch.allclose(a.float(), b.float()) for a, b in zip(results[False, False], results[True, False]))


def test_population_specs():
    space = get_space("nb201-onlyconv")
    truth = np.arange(space.size, dtype=float)
    assert list(population(space, "top:3", truth, 0)) == [63, 62, 61]
    assert len(population(space, "all", None, 0)) == 64
    r = population(space, "random:10", None, 1)
    assert len(set(r)) == 10 and np.array_equal(r, population(space, "random:10", None, 1))
    with pytest.raises(PopulationError, match="random:N"):
        population(space, "best:3", truth, 0)
    with pytest.raises(PopulationError, match="needs ground truth"):
        population(space, "top:3", None, 0)


def test_eval_against_custom_truth_and_benchmark(trained, tmp_path, data_dir):
    space = get_space("nb201-onlyconv")
    rows = space.enumerate()
    truth = 80 + rows.sum(axis=1)
    gt = tmp_path / "gt.csv"
    pd.DataFrame({"arch": space.format(rows), "accuracy": truth}).to_csv(gt, index=False)
    res = evaluate_checkpoint(trained, "random:6", truth_source=str(gt), batch_size=16, calibration_batches=2)
    assert len(res.per_arch) == 6
    np.testing.assert_array_equal(res.per_arch["ground_truth"], truth[res.per_arch["index"]])
    s = res.summary.iloc[0]
    assert s["weight_sets"] == 22 and s["n_evaluated"] == 6
    constant = res.per_arch["supernet_val_acc"].nunique() == 1  # tau is undefined for tied predictions
    assert np.isnan(s["kendall_tau"]) == constant and (constant or -1 <= s["kendall_tau"] <= 1)
    bench = evaluate_checkpoint(trained, "top:4", truth_source="benchmark", benchmark_dir=data_dir,
                                batch_size=16, calibration_batches=1)
    assert bench.per_arch["ground_truth"].min() > 90  # best onlyconv archs of NB201 on CIFAR-10


def test_cli_train_resume_and_eval(tmp_path, data_dir, capsys):
    out = tmp_path / "run"
    args = ["supernet", "train", "--space", "nbmacro", "--epochs", "1", "--data", "synthetic", "--synthetic-size",
            "64", "--val-images", "32", "--batch-size", "32", "--out", str(out), "--no-progress", "--device", "cpu"]
    assert main(args) == 0
    assert "nbmacro" in capsys.readouterr().out
    assert main(args[:5] + ["3"] + args[6:] + ["--resume", "--seed", "7"]) == 2
    assert "different configuration" in capsys.readouterr().err
    assert main(["supernet", "eval", "--checkpoint", str(out / "checkpoint.pt"), "--population", "random:3",
                 "--data-dir", str(data_dir), "--batch-size", "32", "--calibration-batches", "1", "--no-progress"]) == 0
    per = pd.read_csv(out / "eval.csv")
    summary = pd.read_csv(out / "eval_summary.csv")
    assert len(per) == 3 and per["ground_truth"].between(80, 100).all()
    assert summary["weight_sets"].iloc[0] == 16 and "kendall_tau" in summary.columns
    assert main(["supernet", "train", "--space", "nb201", "--subset", "all", "--out", str(out)]) == 2
    assert "unknown subset 'all'" in capsys.readouterr().err
    assert main(["supernet", "train", "--data", "cifar10", "--image-dir", str(tmp_path), "--epochs", "2",
                 "--out", str(tmp_path / "c")]) == 2
    assert "data_batch_1" in capsys.readouterr().err
