"""Super-network training on CPU: real torch steps on synthetic data, splitting, exact resume."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from nasbench_tools.errors import UnknownNameError
from nasbench_tools.networks import build_supernet
from nasbench_tools.supernet import CheckpointError, ConfigError, TrainConfig, load_checkpoint, train_supernet
from nasbench_tools.supernet.trainer import cosine_lr, make_optimizer, split_with_optimizer

TINY = dict(data="synthetic", synthetic_size=96, val_images=32, batch_size=32)


def tiny(**kw) -> TrainConfig:
    return TrainConfig(**{**TINY, **kw})


@pytest.mark.parametrize("space, subset, sets", [("nb201", "full", 76), ("nbmacro", "full", 44)])
@pytest.mark.parametrize("split", [False, True])
def test_train_each_space_with_and_without_split(tmp_path, space, subset, sets, split):
    cfg = tiny(space=space, subset=subset, epochs=2, split_epoch=1 if split else -1, channels=8)
    res = train_supernet(cfg, tmp_path)
    log = pd.read_csv(tmp_path / "train_log.csv")
    assert list(log["epoch"]) == [1, 2]
    assert {"train_loss", "train_acc", "val_loss", "val_acc", "time_s", "peak_gpu_mb"} <= set(log.columns)
    assert log["train_loss"].notna().all() and (log["time_s"] > 0).all()
    assert log["weight_sets"].iloc[-1] == (sets if split else (16 if space == "nbmacro" else 12))
    assert res.model.is_split == split
    assert log["lr"].iloc[1] == pytest.approx(cosine_lr(cfg, 1))
    ck = load_checkpoint(res.checkpoint)
    assert ck["epoch"] == 2 and ck["is_split"] == split


def test_training_reduces_loss_on_learnable_data(tmp_path):
    cfg = tiny(space="nb201", subset="onlyconv", epochs=4, channels=4, synthetic_size=320, lr=0.1)
    log = train_supernet(cfg, tmp_path).log
    assert log["train_loss"].iloc[-1] < log["train_loss"].iloc[0] - 0.1


def test_split_copies_weights_bn_stats_and_momentum_then_sets_train_separately():
    torch.manual_seed(0)
    cfg = tiny(space="nb201", subset="onlyconv", channels=4)
    net = build_supernet("nb201-onlyconv", channels=4)
    opt = make_optimizer(net, cfg)
    net.train()
    x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
    for arch in ([3] * 6, [2] * 6):
        net.set_arch(arch)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    cond = net._normal[0].ops["5_3"]
    ref = {k: v.clone() for k, v in cond.sets[0].state_dict().items()}
    assert ref["2.running_mean"].abs().sum() > 0  # BN statistics were updated by training
    ref_mom = opt.state[cond.sets[0][1].weight]["momentum_buffer"].clone()
    opt = split_with_optimizer(net, opt, cfg)
    assert cond.n_sets == 4
    for s in cond.sets:
        for k, v in s.state_dict().items():
            assert torch.equal(v, ref[k]), k
        torch.testing.assert_close(opt.state[s[1].weight]["momentum_buffer"], ref_mom)
    assert len({id(s[1].weight) for s in cond.sets}) == 4  # separate tensors, separate optimizer state
    arch = [3, 2, 3, 3, 3, 3]  # edge 5 depends on edges 1 (conv1x1 -> 0) and 2 (conv3x3 -> 1): set 1
    assert net.active_sets(arch)[5] == 1
    net.set_arch(arch)
    opt.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(net(x), y).backward()
    opt.step()
    changed = [not torch.equal(s[1].weight, ref["1.weight"]) for s in cond.sets]
    assert changed == [False, True, False, False]
    bn_changed = [not torch.equal(s[2].running_mean, ref["2.running_mean"]) for s in cond.sets]
    assert bn_changed == [False, True, False, False]


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("kill_epoch", [1, 2])  # killed right at the split epoch / after it
def test_resume_after_kill_gives_identical_weights(tmp_path, kill_epoch):
    cfg = tiny(space="nb201", subset="nozero", epochs=3, split_epoch=1, channels=4)
    full = train_supernet(cfg, tmp_path / "a")

    class KilledError(Exception):
        pass

    def kill(epoch, batch):
        if epoch == kill_epoch and batch == 1:
            raise KilledError

    with pytest.raises(KilledError):
        train_supernet(cfg, tmp_path / "b", on_batch=kill)
    ck = load_checkpoint(tmp_path / "b" / "checkpoint.pt")
    assert ck["epoch"] == kill_epoch and ck["is_split"] == (kill_epoch > 1)
    resumed = train_supernet(cfg, tmp_path / "b", resume=True)
    a, b = _state(full.model), _state(resumed.model)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    la, lb = full.log.drop(columns=["time_s", "peak_rss_mb"]), resumed.log.drop(columns=["time_s", "peak_rss_mb"])
    pd.testing.assert_frame_equal(la, lb)


def test_resume_with_a_different_configuration_is_refused(tmp_path):
    train_supernet(tiny(space="nb201", subset="onlyconv", epochs=1, channels=4), tmp_path)
    with pytest.raises(CheckpointError, match="different configuration.*subset"):
        train_supernet(tiny(space="nb201", subset="nozero", epochs=1, channels=4), tmp_path, resume=True)
    (tmp_path / "checkpoint.pt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(tmp_path / "checkpoint.pt")


def test_bad_options():
    with pytest.raises(UnknownNameError, match="unknown super-network space 'nb101'"):
        tiny(space="nb101").validate()
    with pytest.raises(UnknownNameError, match="unknown subset 'nonzero'"):
        tiny(subset="nonzero").validate()
    with pytest.raises(UnknownNameError, match="only the subset 'full'"):
        tiny(space="nbmacro", subset="onlyconv").validate()
    with pytest.raises(ConfigError, match="--split-epoch 10 is outside the schedule: expected 0..9"):
        tiny(epochs=10, split_epoch=10).validate()
    with pytest.raises(ConfigError, match="--split-epoch -3"):
        tiny(epochs=10, split_epoch=-3).validate()
    with pytest.raises(UnknownNameError, match="unknown dataset 'imagenet'"):
        tiny(data="imagenet").validate()


def test_user_configured_dependencies():
    cfg = tiny(space="nb201", subset="full", dependencies="5:1,2")
    net = cfg.validate().build_network(3, 10)
    net.split()
    assert net.weight_set_counts()["weight_sets"] == 5 * 2 + 2 * 25
    none = tiny(space="nbmacro", dependencies="none").validate().build_network(3, 10)
    none.split()
    assert none.weight_set_counts()["weight_sets"] == 16
    with pytest.raises(ValueError, match="earlier slots"):
        tiny(dependencies="1:3").validate()


def test_second_train_into_a_used_folder_never_restarts(tmp_path):
    """Issue 12 item 1: the same command again leaves a finished run unchanged; another
    configuration is refused with the checkpoint untouched; only --overwrite restarts."""
    from nasbench_tools.errors import RunExistsError

    cfg = tiny(space="nb201", subset="onlyconv", epochs=2, channels=4)
    first = train_supernet(cfg, tmp_path)
    ck = tmp_path / "checkpoint.pt"
    before = (ck.read_bytes(), (tmp_path / "train_log.csv").read_bytes())
    again = train_supernet(cfg, tmp_path)  # finished: returned as it is, nothing rewritten
    assert (ck.read_bytes(), (tmp_path / "train_log.csv").read_bytes()) == before
    assert len(again.log) == 2 and all(torch.equal(a, b) for a, b in zip(_state(first.model).values(),
                                                                           _state(again.model).values()))
    with pytest.raises(CheckpointError, match="epochs: checkpoint 2 vs now 6.*--overwrite"):
        train_supernet(tiny(space="nb201", subset="onlyconv", epochs=6, channels=4), tmp_path)
    with pytest.raises(RunExistsError, match="--overwrite"):
        train_supernet(cfg, tmp_path, resume=False)
    assert (ck.read_bytes(), (tmp_path / "train_log.csv").read_bytes()) == before
    fresh = train_supernet(tiny(space="nb201", subset="onlyconv", epochs=1, channels=4), tmp_path, overwrite=True)
    assert len(fresh.log) == 1 and load_checkpoint(ck)["epoch"] == 1


@pytest.mark.parametrize("option, value", [("channels", 0), ("cells_per_stage", 0), ("val_images", 0),
                                           ("synthetic_size", -1), ("seed", -1), ("train_images", 0),
                                           ("momentum", 1.5), ("weight_decay", -1.0)])
def test_out_of_range_options_are_refused(option, value):
    with pytest.raises(ConfigError, match=option.replace("_", "-")):
        tiny(**{option: value}).validate()
