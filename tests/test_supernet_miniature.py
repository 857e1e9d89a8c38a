"""The Fashion-MNIST miniature experiment end to end at a tiny size (real PyTorch training):
multi-seed ground truth, super-networks with/without splitting and the early-stop ablation; the
same rows as the library computes directly, serially and in a 2-process pool; resume trains
nothing; checkpoints in the work folder are evaluated again, not retrained; changed image files
are refused on resume; the thin wrapper script and the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from test_supernet_data import write_fmnist  # the tests folder is on sys.path

from nasbench_tools.cli import main
from nasbench_tools.errors import ConfigError, ConfigMismatchError
from nasbench_tools.networks import build_standalone
from nasbench_tools.runner.config import write_config_toml
from nasbench_tools.runner.experiment import run_experiment
from nasbench_tools.spaces import get_space
from nasbench_tools.supernet.data import Normalizer
from nasbench_tools.supernet.evaluate import evaluate_checkpoint
from nasbench_tools.supernet.miniature import SupernetMiniature
from nasbench_tools.supernet.miniature_config import ImageSettings, MiniatureConfig
from nasbench_tools.supernet.miniature_tasks import gt_architectures, load_images, train_config
from nasbench_tools.supernet.standalone import accuracy, train_standalone
from nasbench_tools.supernet.trainer import train_supernet

REPO = Path(__file__).resolve().parents[1]
EXP = SupernetMiniature()
TIMING = set(EXP.timing_columns) | {"time_s", "peak_rss_mb"}
COMPARED = ["ground_truth.csv", "ground_truth_runs.csv", "supernets.csv", "summary.csv", "runs/seed0_split1_eval.csv",
            "runs/seed0_baseline_train_log.csv"]


def _frame(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, float_precision="round_trip")
    return df.drop(columns=[c for c in df.columns if any(c.startswith(t) for t in TIMING)])  # train_s_mean ...


def _stamps(folder: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*.pt")}


@pytest.fixture
def one_thread():
    """The tasks train with one torch thread; so does the test's own computation."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> Path:
    """The smoke preset run serially with a kept work folder, and its report beside it."""
    root = tmp_path_factory.mktemp("mini")
    config = EXP.preset("smoke").replace(work_dir=str(root / "work"))
    run_experiment(EXP, config, root / "serial", progress=False)
    EXP.report(root / "serial" / "supernets.csv", root / "serial", store=None)
    return root / "serial"


def test_ground_truth_table_and_repeatability(serial):
    gt = pd.read_csv(serial / "ground_truth.csv")
    assert len(gt) == 5 and gt["arch"].is_unique
    assert {"accuracy", "accuracy_std", "accuracy_seed0", "accuracy_seed1"} <= set(gt.columns)
    assert (gt["accuracy"] - gt[["accuracy_seed0", "accuracy_seed1"]].mean(axis=1)).abs().max() < 1e-9
    rep = json.loads((serial / "ground_truth_repeatability.json").read_text())
    assert rep["n_archs"] == 5 and rep["n_seeds"] == 2 and len(rep["pairs"]) == 1
    assert -1 <= rep["pairs"][0]["kendall_tau"] <= 1
    assert len(pd.read_csv(serial / "ground_truth_runs.csv")) == 10


def test_supernet_rows_cover_baseline_split_and_early_stop(serial):
    sn = pd.read_csv(serial / "supernets.csv")
    assert sorted(zip(sn["kind"], sn["epoch"])) == [("baseline", -1), ("early_stop", 1), ("split", 1)]
    assert (sn["n_evaluated"] == 5).all()  # exactly the ground-truth architectures
    split, base = sn[sn["kind"] == "split"].iloc[0], sn[sn["kind"] == "baseline"].iloc[0]
    assert split["weight_sets"] > base["weight_sets"]  # nozero: 12 -> 54
    evals = sorted(p.name for p in (serial / "runs").glob("*_eval.csv"))
    assert evals == ["seed0_baseline_eval.csv", "seed0_early_stop1_eval.csv", "seed0_split1_eval.csv"]
    assert (serial / "summary.csv").is_file() and (serial / "improvement.png").stat().st_size > 0
    summary = pd.read_csv(serial / "summary.csv")
    assert summary["n_seeds"].tolist() == [1, 1, 1]


def test_rows_are_the_library_computations(serial, one_thread):
    """What the first script computed, recomputed here with the library itself."""
    config = EXP.preset("smoke")
    data, test_x, test_y = load_images(config.images)
    index = int(gt_architectures(config)[0])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        net = build_standalone(config.space, get_space(config.space).arch(np.array([index]))[0],
                               channels=config.channels, in_channels=1, skip_linear=config.skip_linear)
    losses = train_standalone(net, data, train_config(config, epochs=config.gt_epochs), seed=1)
    acc = 100.0 * accuracy(net, test_x, test_y, Normalizer(data.mean, data.std, torch.device("cpu")))
    runs = pd.read_csv(serial / "ground_truth_runs.csv", float_precision="round_trip").set_index(["index", "seed"])
    assert runs.loc[(index, 1), "accuracy"] == acc and runs.loc[(index, 1), "final_train_loss"] == losses[-1]

    cfg = train_config(config, epochs=config.epochs, split_epoch=1, data="fashion-mnist", seed=0,
                       val_images=config.images.val_images, train_images=config.images.train_images)
    work = serial.parent / "library"
    res = train_supernet(cfg, work, data=data, device="cpu")
    ev = evaluate_checkpoint(res.checkpoint, "top:5", truth_source=str(serial / "ground_truth.csv"), data=data,
                             device="cpu", batch_size=config.batch, calibration_batches=config.calib_batches, seed=0)
    row = pd.read_csv(serial / "supernets.csv", float_precision="round_trip").query("kind == 'split'").iloc[0]
    for metric in ("kendall_tau", "top1_truth", "top5_improvement", "weight_sets", "population_best_truth"):
        assert row[metric] == ev.summary.iloc[0][metric], metric
    assert row["final_val_acc"] == res.log["val_acc"].iloc[-1]


def test_a_process_pool_through_the_command_line_gives_the_same_rows(serial, tmp_path):
    out = tmp_path / "parallel"
    assert main(["supernet-miniature", "run", "--preset", "smoke", "--out", str(out), "--jobs", "2",
                 "--no-progress", "--report"]) == 0
    assert not list(out.rglob("*.pt"))  # the default work folder is temporary
    for name in COMPARED:
        folder = out / "report" if name == "summary.csv" else out
        pd.testing.assert_frame_equal(_frame(serial / name), _frame(folder / name), check_exact=True)


def test_a_finished_run_resumes_without_training(serial):
    work = serial.parent / "work"
    stamps, before = _stamps(work), (serial / "supernets.csv").read_bytes()
    config = EXP.preset("smoke").replace(work_dir=str(work))
    summaries = run_experiment(EXP, config, serial, progress=False)
    assert [s.ran for s in summaries] == [0, 0] and [s.skipped for s in summaries] == [10, 2]
    assert stamps and _stamps(work) == stamps and (serial / "supernets.csv").read_bytes() == before


def test_checkpoints_in_the_work_folder_are_evaluated_again_not_retrained(serial, tmp_path):
    work = serial.parent / "work"
    stamps = _stamps(work)
    config = EXP.preset("smoke").replace(work_dir=str(work), bn_reset=True,
                                         ground_truth=str(serial / "ground_truth.csv"))
    summaries = run_experiment(EXP, config, tmp_path / "again", progress=False)
    assert len(summaries) == 1 and summaries[0].ran == 2  # no ground truth trained
    assert _stamps(work) == stamps  # no checkpoint rewritten
    for name in ("seed0_baseline_train_log.csv", "seed0_split1_train_log.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(serial / "runs" / name), pd.read_csv(tmp_path / "again" / "runs" / name))
    first, again = pd.read_csv(serial / "supernets.csv"), pd.read_csv(tmp_path / "again" / "supernets.csv")
    assert (~first["bn_reset"]).all() and again["bn_reset"].all()


def test_reuses_a_given_ground_truth_with_identity_skips(serial, tmp_path):
    config = EXP.preset("smoke").replace(ground_truth=str(serial / "ground_truth.csv"), skip_linear=False)
    run_experiment(EXP, config, tmp_path / "reuse", progress=False)
    assert not (tmp_path / "reuse" / "ground_truth_runs.csv").exists()  # nothing retrained
    sn = pd.read_csv(tmp_path / "reuse" / "supernets.csv")
    assert (sn["n_evaluated"] == 5).all() and (sn["extra_weight_sets"] == 0).all()  # no skip-edge transformers
    truth = pd.read_csv(serial / "ground_truth.csv")
    truth.loc[0, "accuracy"] += 1.0
    changed = tmp_path / "truth.csv"
    truth.to_csv(changed, index=False)
    with pytest.raises(ConfigMismatchError, match="input_files"):
        run_experiment(EXP, config.replace(ground_truth=str(changed)), tmp_path / "reuse", progress=False)


def test_changed_image_files_are_refused_on_resume_but_a_moved_folder_is_not(tmp_path):
    images = tmp_path / "fmnist"
    images.mkdir()
    write_fmnist(images, n=60, gz=True)
    write_fmnist(images, n=16, gz=False, seed=1, prefix="t10k")
    config = MiniatureConfig(
        name="tiny", space="nb201-onlyconv", archs=2, gt_seeds=(0,), gt_epochs=1, seeds=(), channels=2, batch=16,
        images=ImageSettings(data_dir=str(images), train_images=32, val_images=16, test_images=16, size=8))
    out = tmp_path / "run"
    assert [s.ran for s in run_experiment(EXP, config, out, progress=False)] == [2]
    stored = json.loads((out / "ground_truth_runs.csv.config.json").read_text())["config"]
    assert sorted(stored["input_files"]["images"]) == ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                                                        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    moved = tmp_path / "moved"
    images.rename(moved)
    config = config.replace(images=config.images.replace(data_dir=str(moved)))
    assert [s.ran for s in run_experiment(EXP, config, out, progress=False)] == [0]
    raw = bytearray((moved / "t10k-images-idx3-ubyte").read_bytes())
    raw[-1] ^= 0xFF
    (moved / "t10k-images-idx3-ubyte").write_bytes(bytes(raw))
    with pytest.raises(ConfigMismatchError, match="input_files"):
        run_experiment(EXP, config, out, progress=False)


def test_config_errors_name_the_field(tmp_path):
    with pytest.raises(ConfigError, match="splits: expected integers >= 1 and <= 1"):
        EXP.preset("smoke").replace(splits=(2,))
    with pytest.raises(ConfigError, match="space: expected one of"):
        MiniatureConfig(space="nbmacro")
    with pytest.raises(ConfigError, match="data_dir: required for Fashion-MNIST"):
        ImageSettings(data_dir=None)
    with pytest.raises(ConfigError, match="device"):
        MiniatureConfig(device="tpu")
    path = write_config_toml(tmp_path / "c.toml", EXP.preset("smoke"))
    path.write_text(path.read_text().replace("calib_batches = 1", "calib_batches = 0"))
    assert main(["supernet-miniature", "run", "--config", str(path), "--out", str(tmp_path / "x")]) == 2


def test_the_wrapper_script_keeps_the_first_scripts_options(tmp_path):
    args = ["--data", "synthetic", "--space", "nb201-nozero", "--archs", "3", "--gt-seeds", "0,1", "--gt-epochs", "1",
            "--train-images", "64", "--val-images", "16", "--test-images", "16", "--channels", "2", "--batch", "32",
            "--gt-only", "--out", str(tmp_path / "w")]
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "supernet_miniature.py"), *args],
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(pd.read_csv(tmp_path / "w" / "ground_truth.csv")) == 3
    assert json.loads((tmp_path / "w" / "ground_truth_repeatability.json").read_text())["n_seeds"] == 2
    assert not (tmp_path / "w" / "supernets.csv").exists()
