"""The Fashion-MNIST miniature script end to end on synthetic data: multi-seed ground truth,
super-networks with/without splitting, early-stop ablation; same CSVs with 1 or 2 processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "supernet_miniature.py"
TINY = ["--data", "synthetic", "--space", "nb201-nozero", "--archs", "5", "--gt-seeds", "0,1",
        "--train-images", "96", "--val-images", "32", "--test-images", "48", "--gt-epochs", "2",
        "--channels", "4", "--batch", "32", "--epochs", "2", "--splits", "1", "--seeds", "0",
        "--calib-batches", "1", "--early-stop"]
TIME_COLUMNS = {"train_s", "eval_time_s", "archs_per_s", "time_s", "peak_rss_mb"}


def _run(out: Path, jobs: int) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(SCRIPT), *TINY, "--jobs", str(jobs), "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]


def _frame(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    return df.drop(columns=[c for c in df.columns if any(c.startswith(t) for t in TIME_COLUMNS)])


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("mini")
    _run(root / "serial", 1)
    _run(root / "parallel", 2)
    return root / "serial", root / "parallel"


def test_ground_truth_table_and_repeatability(runs):
    serial, _ = runs
    gt = pd.read_csv(serial / "ground_truth.csv")
    assert len(gt) == 5 and gt["arch"].is_unique
    assert {"accuracy", "accuracy_std", "accuracy_seed0", "accuracy_seed1"} <= set(gt.columns)
    assert (gt["accuracy"] - gt[["accuracy_seed0", "accuracy_seed1"]].mean(axis=1)).abs().max() < 1e-9
    rep = json.loads((serial / "ground_truth_repeatability.json").read_text())
    assert rep["n_archs"] == 5 and rep["n_seeds"] == 2 and len(rep["pairs"]) == 1
    assert -1 <= rep["pairs"][0]["kendall_tau"] <= 1
    assert len(pd.read_csv(serial / "ground_truth_runs.csv")) == 10


def test_supernet_rows_cover_baseline_split_and_early_stop(runs):
    serial, _ = runs
    sn = pd.read_csv(serial / "supernets.csv")
    assert sorted(zip(sn["kind"], sn["epoch"])) == [("baseline", -1), ("early_stop", 1), ("split", 1)]
    assert (sn["n_evaluated"] == 5).all()  # exactly the ground-truth architectures
    split = sn[sn["kind"] == "split"].iloc[0]
    base = sn[sn["kind"] == "baseline"].iloc[0]
    assert split["weight_sets"] > base["weight_sets"]  # nozero: 12 -> 54
    evals = sorted(p.name for p in (serial / "runs").glob("*_eval.csv"))
    assert evals == ["seed0_baseline_eval.csv", "seed0_early_stop1_eval.csv", "seed0_split1_eval.csv"]
    assert (serial / "summary.csv").is_file() and (serial / "improvement.png").stat().st_size > 0


def test_results_do_not_depend_on_process_count(runs):
    serial, parallel = runs
    for name in ["ground_truth.csv", "ground_truth_runs.csv", "supernets.csv", "summary.csv",
                 "runs/seed0_split1_eval.csv"]:
        pd.testing.assert_frame_equal(_frame(serial / name), _frame(parallel / name))


def test_reuses_a_given_ground_truth_with_identity_skips(runs, tmp_path):
    serial, _ = runs
    out = tmp_path / "reuse"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = [sys.executable, str(SCRIPT), *TINY, "--ground-truth", str(serial / "ground_truth.csv"),
            "--no-skip-linear", "--out", str(out)]
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not (out / "ground_truth_runs.csv").exists()  # nothing retrained
    sn = pd.read_csv(out / "supernets.csv")
    assert (sn["n_evaluated"] == 5).all()
    assert (sn["extra_weight_sets"] == 0).all()  # no skip-edge linear transformers
    assert json.loads((out / "settings.json").read_text())["no_skip_linear"] is True


def test_finished_runs_in_work_are_evaluated_again_not_retrained(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    work = tmp_path / "work"
    base = [sys.executable, str(SCRIPT), *TINY, "--work", str(work)]
    for out, extra in (("first", []), ("again", ["--bn-reset"])):
        proc = subprocess.run(base + ["--out", str(tmp_path / out), *extra], capture_output=True, text=True,
                              env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        if out == "first":
            stamp = {p: p.stat().st_mtime_ns for p in work.rglob("*.pt")}
    assert stamp and {p: p.stat().st_mtime_ns for p in work.rglob("*.pt")} == stamp  # no checkpoint rewritten
    for name in ("seed0_baseline_train_log.csv", "seed0_split1_train_log.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "first" / "runs" / name),
                                      pd.read_csv(tmp_path / "again" / "runs" / name))
    first, again = pd.read_csv(tmp_path / "first" / "supernets.csv"), pd.read_csv(tmp_path / "again" / "supernets.csv")
    assert (~first["bn_reset"]).all() and again["bn_reset"].all()
