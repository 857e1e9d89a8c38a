"""Bad input to the simulator, to saved predictor files, to the super-network trainer and to
latency measurement (issue 12). The refusal contract and helpers: ``tests/bad_input_support.py``."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from bad_input_support import (
    DATASET, LATENCY_FAST, SIM_FAST, SUPERNET_FAST, assert_rerun_changes_nothing, copy_run, refused, with_options,
)


# ============================================================================ simulator
@pytest.mark.parametrize("argv, fragment", [
    (["simulate", "run", "--preset", "quick", "--trials", "0"], "--trials"),
    (["simulate", "run", "--preset", "quick", "--trials", "-3"], "--trials"),
    (["simulate", "run", "--preset", "quick", "--seed", "-1"], "seed"),
    (["simulate", "run", "--preset", "nope"], "nope"),
    (["simulate", "plan", "--dataset", DATASET, "--measure-seconds", "60", "--budget-seconds", "3600",
      "--predictor-tau", "2"], "tau"),
    (["simulate", "plan", "--dataset", DATASET, "--measure-seconds", "-1", "--budget-seconds", "3600",
      "--predictor-tau", "0.8"], "measure"),
    (["simulate", "real", "--dataset", DATASET, "--predictor", "ridge", "--subset-size", "0"], "subset-size"),
    (["simulate", "real", "--dataset", DATASET, "--predictor", "ridge", "--fits-per-size", "0"], "fits-per-size"),
    (["simulate", "real", "--dataset", DATASET, "--predictor", "ridge", "--train-sizes", "20.7"], "20.7"),
    (["simulate", "real", "--dataset", DATASET, "--predictor", "ridge", "--train-sizes", "0"], "train-sizes"),
    (["simulate", "real", "--dataset", DATASET, "--predictor", "lasso"], "lasso"),
], ids=["trials_0", "trials_negative", "seed_negative", "unknown_preset", "tau_2", "measure_negative",
        "real_subset_0", "real_fits_0", "real_size_fraction", "real_size_0", "real_unknown_predictor"])
def test_simulator_options(argv, fragment, tmp_path, capsys):
    needs_out = argv[1] in ("run", "real")
    line = refused(argv + (["--out", str(tmp_path / "out")] if needs_out else []), capsys, tmp_path)
    assert fragment in line


def test_simulation_rerun_with_other_trials_is_refused(world, tmp_path, capsys):
    run = copy_run(world, "sim", tmp_path)
    line = refused(["simulate", "run", "--preset", "quick", "--trials", "3", "--out", run, "--no-progress"], capsys,
                   tmp_path)
    assert "trials: stored 2, now 3" in line


def test_finished_simulation_resumed_is_byte_identical(world, tmp_path):
    assert_rerun_changes_nothing(world, "sim", tmp_path, ["simulate", "run", *SIM_FAST])


def test_damaged_simulation_results_are_refused(world, tmp_path, capsys):
    run = copy_run(world, "sim", tmp_path)
    csv = run / "simulation.csv"
    lines = csv.read_bytes().split(b"\n")
    lines[3] += b"000"
    csv.write_bytes(b"\n".join(lines))
    assert "line 4" in refused(["simulate", "run", *SIM_FAST, "--out", run], capsys, tmp_path)


# ============================================================================ predictor files
def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _tamper(model_dir: Path, fn: Callable[[dict, dict], None], keep_checksums: bool = False) -> None:
    """Rewrite model.npz with ``fn(meta, arrays)`` applied; checksums dropped unless kept (an
    attacker can always recompute them, so the other checks must hold without them)."""
    from predictors.persistence import META_KEY

    path = model_dir / "model.npz"
    arrays = _npz_arrays(path)
    meta = json.loads(str(arrays[META_KEY][()]))
    fn(meta, arrays)
    if not keep_checksums:
        meta.pop("state_sha256", None)
    arrays[META_KEY] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def _set(d: dict, key: str, value: Any) -> None:
    d[key] = value


MODEL_CASES: dict[str, tuple[str, Callable[[dict, dict], None], str]] = {
    "nan_weights": ("ridge", lambda m, a: a["state/coef"].__setitem__(0, np.nan), "NaN"),
    "inf_intercept": ("ridge", lambda m, a: _set(a, "state/intercept", np.array(np.inf)), "NaN or infinite"),
    "wrong_shape": ("ridge", lambda m, a: _set(a, "state/coef", a["state/coef"][:5]), "cannot predict"),
    "negative_scale": ("ridge", lambda m, a: _set(m, "y_scale", -1.0), "y_scale"),
    "nan_mean": ("ridge", lambda m, a: _set(m, "y_mean", float("nan")), "y_mean"),
    "missing_key": ("ridge", lambda m, a: m.pop("y_mean"), "y_mean"),
    "missing_state": ("ridge", lambda m, a: a.pop("state/coef"), "coef"),
    "unknown_param": ("ridge", lambda m, a: m["params"].update(bogus=1), "bogus"),
    "param_out_of_range": ("ridge", lambda m, a: m["params"].update(alpha=-3.0), "alpha"),
    "width_zero": ("ridge", lambda m, a: _set(m, "n_features_in", 0), "n_features_in"),
    "other_major_version": ("ridge", lambda m, a: _set(m, "toolkit_version", "99.0.0"), "99.0.0"),
    "other_predictor": ("ridge", lambda m, a: _set(m, "name", "svr"), "svr"),
    "ngboost_huge_refit": ("ngboost", lambda m, a: m["params"].update(n_estimators=10_000_000), "n_estimators"),
    "ngboost_wrong_width": ("ngboost", lambda m, a: _set(a, "state/X_train", a["state/X_train"][:, :3]), "columns"),
    "lightgbm_edited_string": ("lightgbm", lambda m, a: _set(
        a, "state/model_txt", np.frombuffer(a["state/model_txt"].tobytes().replace(b"Tree=", b"Tree=9", 3), np.uint8)),
        "lightgbm"),
    "lightgbm_truncated": ("lightgbm", lambda m, a: _set(
        a, "state/model_txt", a["state/model_txt"][: len(a["state/model_txt"]) // 3]), "lightgbm"),
}


@pytest.mark.parametrize("case", list(MODEL_CASES))
def test_tampered_model_files_are_refused(case, world, tmp_path, capsys):
    name, fn, fragment = MODEL_CASES[case]
    model = tmp_path / "model"
    shutil.copytree(world["root"] / f"model-{name}", model)
    _tamper(model, fn)
    t0 = time.perf_counter()
    line = refused(["predictors", "predict", "--model", model, "--all", "--out", tmp_path / "pred"], capsys, tmp_path)
    assert time.perf_counter() - t0 < 60, "loading a tampered file must be bounded work"
    assert fragment in line, line
    assert not (tmp_path / "pred" / "predictions.csv").exists()


def test_edited_model_with_stale_checksum_is_refused(world, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(world["root"] / "model-ridge", model)
    _tamper(model, lambda m, a: a["state/coef"].__setitem__(0, 123.0), keep_checksums=True)
    line = refused(["predictors", "predict", "--model", model, "--all", "--out", tmp_path / "pred"], capsys, tmp_path)
    assert "sha256" in line


def test_garbage_model_file(world, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(world["root"] / "model-ridge", model)
    (model / "model.npz").write_bytes(b"PK\x03\x04 not really a zip")
    assert "model.npz" in refused(["predictors", "predict", "--model", model, "--all", "--out", tmp_path / "p"],
                                  capsys, tmp_path)


@pytest.mark.parametrize("extra, fragment", [
    (["--param", "alpha=-1"], "alpha"),
    (["--param", "nonsense=1"], "nonsense"),
], ids=["param_out_of_range", "param_unknown"])
def test_predictors_fit_bad_params(extra, fragment, world, tmp_path, capsys):
    line = refused(["predictors", "fit", "ridge", "--space", "nb201", "--train", world["train"], "--out",
                    tmp_path / "m", *extra], capsys, tmp_path)
    assert fragment in line


def test_predictors_fit_non_finite_target(world, tmp_path, capsys):
    train = tmp_path / "train.csv"
    lines = world["train"].read_text().splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ",inf"
    train.write_text("\n".join(lines) + "\n")
    refused(["predictors", "fit", "ridge", "--space", "nb201", "--train", train, "--out", tmp_path / "m"], capsys,
            tmp_path)


# ============================================================================ super-network
@pytest.mark.parametrize("extra, fragment", [
    (["--channels", "0"], "channels"),
    (["--epochs", "0"], "epochs"),
    (["--batch-size", "0"], "batch-size"),
    (["--split-epoch", "5"], "split-epoch"),
    (["--cells-per-stage", "0"], "cells-per-stage"),
    (["--lr", "-0.1"], "lr"),
    (["--device", "tpu"], "tpu"),
    (["--dependencies", "1:3"], "earlier"),
], ids=["channels_0", "epochs_0", "batch_0", "split_after_end", "cells_0", "lr_negative", "device", "dependencies"])
def test_supernet_train_options(extra, fragment, tmp_path, capsys):
    argv = with_options(SUPERNET_FAST, extra)
    line = refused(["supernet", "train", *argv, "--out", tmp_path / "run"], capsys, tmp_path)
    assert fragment in line
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_second_supernet_train_with_other_config_leaves_the_checkpoint(world, tmp_path, capsys):
    run = copy_run(world, "supernet", tmp_path)
    argv = [a if a != "onlyconv" else "nozero" for a in SUPERNET_FAST]
    line = refused(["supernet", "train", *argv, "--out", run], capsys, tmp_path)
    assert "subset" in line and "--overwrite" in line


def test_second_supernet_train_same_config_leaves_the_finished_run(world, tmp_path):
    assert_rerun_changes_nothing(world, "supernet", tmp_path, ["supernet", "train", *SUPERNET_FAST])


def test_finished_latency_table_measured_again_is_unchanged(world, tmp_path):
    assert_rerun_changes_nothing(world, "latency", tmp_path, ["latency", "measure", *LATENCY_FAST])


def test_supernet_no_resume_and_garbage_checkpoint(world, tmp_path, capsys):
    run = copy_run(world, "supernet", tmp_path)
    assert "--overwrite" in refused(["supernet", "train", *SUPERNET_FAST, "--out", run, "--no-resume"], capsys,
                                    tmp_path)
    (run / "checkpoint.pt").write_bytes(b"garbage")
    assert "checkpoint" in refused(["supernet", "train", *SUPERNET_FAST, "--out", run], capsys, tmp_path)


def test_supernet_out_is_a_file(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert "f" in refused(["supernet", "train", *SUPERNET_FAST, "--out", tmp_path / "f"], capsys, tmp_path)


# ============================================================================ latency
@pytest.mark.parametrize("change, fragment", [
    (("--archs", "random:99999"), "99999"),
    (("--archs", "random:0"), "random:0"),
    (("--repeats", "0"), "repeats"),
    (("--warmup", "-1"), "warmup"),
    (("--archs", "{tmp}/archs.csv"), "conv_9x9"),
    (("--input-size", "0"), "input"),
    (("--space", "nb101"), "nb101"),
], ids=["random_too_many", "random_zero", "repeats_0", "warmup_negative", "bad_arch_file", "input_0", "space"])
def test_latency_measure_options(change, fragment, tmp_path, capsys):
    (tmp_path / "archs.csv").write_text("arch\n|conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|\n")
    argv = with_options(LATENCY_FAST, [change[0], change[1].replace("{tmp}", str(tmp_path))])
    line = refused(["latency", "measure", *argv, "--out", tmp_path / "out"], capsys, tmp_path)
    assert fragment in line


def test_latency_rerun_with_other_protocol_is_refused(world, tmp_path, capsys):
    run = copy_run(world, "latency", tmp_path)
    line = refused(["latency", "measure", *with_options(LATENCY_FAST, ["--repeats", "4"]), "--out", run], capsys,
                   tmp_path)
    assert "repeats" in line and "--overwrite" in line


def test_damaged_latency_table_is_refused(world, tmp_path, capsys):
    run = copy_run(world, "latency", tmp_path)
    table = next(p for p in run.glob("*.csv"))
    table.write_bytes(table.read_bytes() + b"extra,row\n")
    assert table.name in refused(["latency", "measure", *LATENCY_FAST, "--out", run], capsys, tmp_path)
