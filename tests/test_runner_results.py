"""Results file: config fingerprint, atomic appends, resume after interruption, corruption errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from nasbench_tools.errors import NasbenchError
from nasbench_tools.runner import ConfigMismatchError, ResultsCorruptedError, ResultsFile

REPO = Path(__file__).resolve().parents[1]
COLS = ["name", "n", "trial", "value"]
KEYS = ["name", "n"]


def _rows(name: str, n: int, k: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"name": name, "n": n, "trial": range(k), "value": [n * 0.1 + t for t in range(k)]})


def _file(path: Path, **config) -> ResultsFile:
    return ResultsFile(path, COLS, KEYS, {"preset": "x", "seed": 0, **config})


def test_append_resume_and_finalize_order(tmp_path):
    r = _file(tmp_path / "r.csv")
    assert r.open(resume=False) == set()
    r.append(("b", 2), _rows("b", 2))
    r.append(("a", 1), _rows("a", 1))
    again = _file(tmp_path / "r.csv")
    assert again.open(resume=True) == {("b", "2"), ("a", "1")}
    again.finalize([("a", 1), ("b", 2)])
    df = pd.read_csv(tmp_path / "r.csv")
    assert df["name"].tolist() == ["a"] * 3 + ["b"] * 3
    # the journal still matches after finalising
    assert _file(tmp_path / "r.csv").open(resume=True) == {("b", "2"), ("a", "1")}


def test_existing_file_is_not_overwritten_without_resume(tmp_path):
    r = _file(tmp_path / "r.csv")
    r.open(resume=False)
    r.append(("a", 1), _rows("a", 1))
    before = (tmp_path / "r.csv").read_bytes()
    with pytest.raises(NasbenchError, match="--resume"):
        _file(tmp_path / "r.csv").open(resume=False)
    assert (tmp_path / "r.csv").read_bytes() == before


def test_config_mismatch_names_the_fields(tmp_path):
    _file(tmp_path / "r.csv").open(resume=False)
    with pytest.raises(ConfigMismatchError) as err:
        _file(tmp_path / "r.csv", seed=1, trials=5).open(resume=True)
    msg = str(err.value)
    assert "seed: stored 0, now 1" in msg and "trials: stored '<absent>', now 5" in msg


def test_interrupted_append_is_cut_and_redone(tmp_path):
    path = tmp_path / "r.csv"
    r = _file(path)
    r.open(resume=False)
    r.append(("a", 1), _rows("a", 1))
    committed = path.read_bytes()
    with open(path, "ab") as fh:  # a block written without its journal entry, cut mid-line
        fh.write(_rows("b", 2).to_csv(header=False, index=False).encode()[:-7])
    r2 = _file(path)
    assert r2.open(resume=True) == {("a", "1")}
    assert path.read_bytes() == committed
    r2.append(("b", 2), _rows("b", 2))
    r2.finalize([("a", 1), ("b", 2)])
    assert len(pd.read_csv(path)) == 6


@pytest.mark.parametrize("damage", ["header", "middle", "short", "journal"])
def test_corruption_gives_clear_errors_and_leaves_files_alone(tmp_path, damage):
    path = tmp_path / "r.csv"
    r = _file(path)
    r.open(resume=False)
    r.append(("a", 1), _rows("a", 1))
    r.append(("b", 2), _rows("b", 2))
    data = path.read_bytes()
    journal = r.journal_path
    if damage == "header":
        path.write_bytes(data.replace(b"name,n", b"nome,n", 1))
    elif damage == "middle":
        lines = data.split(b"\n")
        lines[2] = b"a,1,oops"
        path.write_bytes(b"\n".join(lines))
    elif damage == "short":
        path.write_bytes(data[:-30])
    else:
        journal.write_text("not json\n" + journal.read_text())
    before = (path.read_bytes(), journal.read_bytes())
    with pytest.raises(ResultsCorruptedError) as err:
        _file(path).open(resume=True)
    assert str(path.name) in str(err.value)
    assert (path.read_bytes(), journal.read_bytes()) == before


def _cli(args: list[str], **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    code = "import sys; from nasbench_tools.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def test_killed_run_resumes_to_exactly_the_uninterrupted_rows(tmp_path):
    args = ["simulate", "run", "--preset", "quick", "--trials", "80", "--no-progress"]
    killed = tmp_path / "killed"
    proc = _cli(args + ["--out", str(killed)])
    journal = killed / "simulation.csv.journal"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed; make it longer"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = pd.read_csv(killed / "simulation.csv")
    assert 0 < len(partial) < 5 * 2 * 4 * 80
    resumed = _cli(args + ["--out", str(killed), "--resume"])
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()
    clean = _cli(args + ["--out", str(tmp_path / "clean")])
    assert clean.wait(timeout=300) == 0, clean.stderr.read().decode()
    assert (killed / "simulation.csv").read_bytes() == (tmp_path / "clean" / "simulation.csv").read_bytes()
    cfg = json.loads((killed / "simulation.csv.config.json").read_text())
    assert cfg["config"]["trials"] == 80 and cfg["config"]["preset"] == "quick"
