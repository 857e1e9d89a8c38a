"""The resume convention of the long jobs through the command line (tiny real runs): resume by
default (a finished run resumed is byte-identical), ``--no-resume`` refuses, another configuration
is refused naming the fields, ``--overwrite`` starts again."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nasbench_tools.cli import main


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and p.name != ".lock"}


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("nasbench-study: error: ") and err.count("\n") == 1, err
    return err


def test_study_run_n_seeds_and_resume(tmp_path, data_dir, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text('name = "tiny"\ndatasets = ["hwnas/cifar10/edgegpu_latency"]\npredictors = ["ridge"]\n'
                   "train_sizes = [10]\ntest_size = 20\nseeds = 1\n[tuning]\npredictors = []\n")
    out = tmp_path / "run"
    run = ["study", "run", "--config", str(cfg), "--out", str(out), "--data-dir", str(data_dir), "--no-progress"]
    assert main(run + ["--n-seeds", "2"]) == 0
    rows = pd.read_csv(out / "results.csv")
    assert sorted(rows["seed"]) == [0, 1] and (rows["status"] == "ok").all()
    finished = (out / "results.csv").read_bytes()
    assert main(run + ["--n-seeds", "2"]) == 0
    assert "0 of 2 fits run (2 already done)" in capsys.readouterr().out
    assert (out / "results.csv").read_bytes() == finished
    assert main(run + ["--n-seeds", "3"]) == 2
    err = _one_line_error(capsys)
    assert "seeds" in err and "--overwrite" in err
    assert main(run + ["--n-seeds", "2", "--no-resume"]) == 2
    assert "already holds a run" in _one_line_error(capsys)
    assert (out / "results.csv").read_bytes() == finished
    assert main(run + ["--overwrite"]) == 0
    assert sorted(pd.read_csv(out / "results.csv")["seed"]) == [0]


TRAIN = ["supernet", "train", "--space", "nb201", "--channels", "4", "--cells-per-stage", "1", "--epochs", "1",
         "--data", "synthetic", "--synthetic-size", "64", "--val-images", "32", "--batch-size", "32", "--device", "cpu",
         "--no-progress"]


def test_supernet_train_resume_refuse_and_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(TRAIN + ["--out", str(out)]) == 0
    finished = _files(out)
    assert "checkpoint.pt" in finished
    assert main(TRAIN + ["--out", str(out)]) == 0  # resumed: already at its last epoch, nothing trained
    assert _files(out) == finished
    assert main(TRAIN + ["--out", str(out), "--no-resume"]) == 2
    _one_line_error(capsys)
    assert main(TRAIN + ["--out", str(out), "--seed", "1"]) == 2
    assert "seed" in _one_line_error(capsys)
    assert _files(out) == finished
    assert main(TRAIN + ["--out", str(out), "--seed", "1", "--overwrite"]) == 0
    assert _files(out)["checkpoint.pt"] != finished["checkpoint.pt"]


def test_supernet_cuda_only_options_are_refused_on_cpu(tmp_path, capsys):
    assert main(TRAIN + ["--out", str(tmp_path / "r"), "--amp"]) == 2
    assert "--amp needs a CUDA device, but --device cpu is not one" in _one_line_error(capsys)
    assert not (tmp_path / "r").exists()


def test_simulate_real_writes_a_folder_and_resumes(tmp_path, data_dir, capsys):
    out = tmp_path / "real"
    argv = ["simulate", "real", "--dataset", "hwnas/cifar10/edgegpu_latency", "--predictor", "ridge",
            "--train-sizes", "20", "--fits-per-size", "2", "--subset-size", "100", "--trials", "5",
            "--out", str(out), "--data-dir", str(data_dir)]
    assert main(argv) == 0
    frame = pd.read_csv(out / "real.csv")
    assert len(frame) == 2 and sorted(frame["seed"]) == [0, 1] and (frame["train_size"] == 20).all()
    finished = _files(out)
    assert set(finished) == {"real.csv", "real.config.json"}
    assert main(argv) == 0 and "nothing to do" in capsys.readouterr().out
    assert _files(out) == finished
    assert main(argv[:-4] + ["--trials", "6"] + argv[-4:]) == 2
    assert "trials: stored 5, now 6" in _one_line_error(capsys)
    assert main(argv + ["--no-resume"]) == 2
    _one_line_error(capsys)
    assert _files(out) == finished
    assert main(argv + ["--fits-per-size", "1", "--overwrite"]) == 0
    assert len(pd.read_csv(out / "real.csv")) == 1


@pytest.mark.parametrize("command", [
    ["study", "run", "--preset", "quick"], ["reproduce"], ["simulate", "run"], ["supernet", "train"],
    ["latency", "measure", "--space", "nb201"], ["simulate", "report", "--results", "{file}"],
    ["study", "report", "--results", "{file}"],
])
def test_out_pointing_at_a_file_is_refused(command, tmp_path, capsys):
    f = tmp_path / "results.csv"
    f.write_text("x\n")
    assert main([a.replace("{file}", str(f)) for a in command] + ["--out", str(f)]) == 2
    assert "is a file; --out is always a folder" in _one_line_error(capsys)
    assert f.read_text() == "x\n"
