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

from nasbench_tools.errors import OutputLockedError, RunExistsError
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
    r.close()
    again = _file(tmp_path / "r.csv")
    assert again.open(resume=True) == {("b", "2"), ("a", "1")}
    again.finalize([("a", 1), ("b", 2)])
    again.close()
    df = pd.read_csv(tmp_path / "r.csv")
    assert df["name"].tolist() == ["a"] * 3 + ["b"] * 3
    # the journal still matches after finalising
    with _file(tmp_path / "r.csv") as third:
        assert third.open(resume=True) == {("b", "2"), ("a", "1")}


def test_existing_file_is_not_overwritten_without_resume(tmp_path):
    r = _file(tmp_path / "r.csv")
    r.open(resume=False)
    r.append(("a", 1), _rows("a", 1))
    r.close()
    before = (tmp_path / "r.csv").read_bytes()
    with pytest.raises(RunExistsError, match="--overwrite"):
        _file(tmp_path / "r.csv").open(resume=False)
    assert (tmp_path / "r.csv").read_bytes() == before


def test_config_mismatch_names_the_fields(tmp_path):
    with _file(tmp_path / "r.csv") as r:
        r.open(resume=False)
    with pytest.raises(ConfigMismatchError) as err:
        _file(tmp_path / "r.csv", seed=1, trials=5).open(resume=True)
    msg = str(err.value)
    assert "seed: stored 0, now 1" in msg and "trials: stored '<absent>', now 5" in msg


def test_interrupted_append_is_cut_and_redone(tmp_path):
    path = tmp_path / "r.csv"
    r = _file(path)
    r.open(resume=False)
    r.append(("a", 1), _rows("a", 1))
    r.close()
    committed = path.read_bytes()
    with open(path, "ab") as fh:  # the fragment of a row without a journal entry
        fh.write(_rows("b", 2).to_csv(header=False, index=False).encode()[:7])
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
    r.close()
    data = path.read_bytes()
    journal = r.journal_path
    if damage == "header":
        path.write_bytes(data.replace(b"name,n", b"nome,n", 1))
    elif damage == "middle":
        lines = data.split(b"\n")
        lines[2] = b"a,1,oops"
        path.write_bytes(b"\n".join(lines))
    elif damage == "short":  # cut inside the first block: not a torn final append
        path.write_bytes(data[: len(b"name,n,trial,value\n") + 12])
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


def kill_mid_run(args: list[str], journal: Path, blocks: int, timeout_s: float = 180) -> None:
    """Start the command line ``args`` in a process and SIGKILL it once ``journal`` records
    ``blocks`` committed tasks (failing if the run ends first)."""
    proc = _cli(args)
    deadline = time.time() + timeout_s
    while time.time() < deadline and proc.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= blocks:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed; make it longer"
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_killed_run_resumes_to_exactly_the_uninterrupted_rows(tmp_path):
    args = ["simulate", "run", "--preset", "quick", "--trials", "80", "--no-progress"]
    killed = tmp_path / "killed"
    kill_mid_run(args + ["--out", str(killed)], killed / "simulation.csv.journal", 3)
    partial = pd.read_csv(killed / "simulation.csv")
    assert 0 < len(partial) < 5 * 2 * 4 * 80
    resumed = _cli(args + ["--out", str(killed)])
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()
    clean = _cli(args + ["--out", str(tmp_path / "clean")])
    assert clean.wait(timeout=300) == 0, clean.stderr.read().decode()
    assert (killed / "simulation.csv").read_bytes() == (tmp_path / "clean" / "simulation.csv").read_bytes()
    cfg = json.loads((killed / "simulation.csv.config.json").read_text())
    assert cfg["config"]["trials"] == 80 and cfg["config"]["preset"] == "quick"


def _finished(path: Path) -> ResultsFile:
    r = _file(path)
    r.open(resume=False)
    r.append(("a", 1), _rows("a", 1))
    r.append(("b", 2), _rows("b", 2))
    r.finalize([("a", 1), ("b", 2)])
    r.close()
    return r


def test_a_second_writer_is_refused_naming_the_folder_and_holder(tmp_path):
    first = _file(tmp_path / "r.csv")
    first.open(resume=False)
    with pytest.raises(OutputLockedError) as err:
        _file(tmp_path / "r.csv").open(resume=True)
    msg = str(err.value)
    assert str(tmp_path) in msg and f"pid {os.getpid()}" in msg and "\n" not in msg
    first.close()
    with _file(tmp_path / "r.csv") as again:  # released: the next writer proceeds
        assert again.open(resume=True) == set()


def test_lock_of_a_killed_process_does_not_block(tmp_path):
    code = ("import sys, time; from nasbench_tools.runner import OutputLock; "
            "lock = OutputLock(sys.argv[1]).acquire(); print('locked', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.stdout.readline().strip() == b"locked"
    with pytest.raises(OutputLockedError, match=f"pid {proc.pid}"):
        _file(tmp_path / "r.csv").open(resume=True)
    proc.kill()
    proc.wait()
    with _file(tmp_path / "r.csv") as r:  # the lock file is still there, its holder is gone
        assert r.open(resume=True) == set()


@pytest.mark.parametrize("damage", ["lengthen_first", "lengthen_last", "edit_same_length", "append_note",
                                    "append_rows", "append_note_no_newline"])
def test_edits_are_refused_with_the_line_named_and_nothing_touched(tmp_path, damage):
    path = tmp_path / "r.csv"
    r = _finished(path)
    data = path.read_bytes()
    lines = data.split(b"\n")
    if damage == "lengthen_first":
        lines[1] += b"123"
        new = b"\n".join(lines)
    elif damage == "lengthen_last":
        lines[-2] += b"123"
        new = b"\n".join(lines)
    elif damage == "edit_same_length":
        lines[5] = lines[5][:-1] + (b"9" if lines[5][-1:] != b"9" else b"8")
        new = b"\n".join(lines)
    elif damage == "append_note":
        new = data + b"note: checked by hand\n"
    elif damage == "append_rows":
        new = data + _rows("c", 3).to_csv(header=False, index=False).encode()
    else:
        new = data + b"b,2,9,0.5\nnote"
    path.write_bytes(new)
    before = (path.read_bytes(), r.journal_path.read_bytes())
    with pytest.raises(ResultsCorruptedError) as err:
        _file(path).open(resume=True)
    assert "line " in str(err.value) and "\n" not in str(err.value)
    assert (path.read_bytes(), r.journal_path.read_bytes()) == before


def test_append_torn_after_its_journal_line_is_repaired(tmp_path):
    path = tmp_path / "r.csv"
    r = _file(path)
    r.open(resume=False)
    r.append(("a", 1), _rows("a", 1))
    committed = path.read_bytes()
    block = _rows("b", 2).to_csv(header=False, index=False, lineterminator="\n").encode()
    real_write = os.write
    try:  # the journal line is written first; the process dies half-way through the block
        os.write = lambda fd, b: real_write(fd, b[: len(b) // 2])  # type: ignore[assignment]
        r.append(("b", 2), _rows("b", 2))
    finally:
        os.write = real_write  # type: ignore[assignment]
    r.close()
    assert path.read_bytes() == committed + block[: len(block) // 2]
    r2 = _file(path)
    assert r2.open(resume=True) == {("a", "1")}
    assert path.read_bytes() == committed
    r2.append(("b", 2), _rows("b", 2))
    r2.finalize([("a", 1), ("b", 2)])
    r2.close()
    assert len(pd.read_csv(path)) == 6


def test_finished_run_resumed_is_byte_identical(tmp_path):
    path = tmp_path / "r.csv"
    r = _file(path)
    r.open(resume=False)
    rows = _rows("a", 1)
    rows["value"] = [0.1 + 0.2, 1 / 3, 2.675e-17]  # floats that a default-precision re-read changes
    r.append(("a", 1), rows)
    r.finalize([("a", 1)])
    r.close()
    files = {p: p.read_bytes() for p in r.outputs()}
    mtimes = {p: p.stat().st_mtime_ns for p in r.outputs()}
    with _file(path) as again:
        again.open(resume=True)
        again.finalize([("a", 1)])
    assert {p: p.read_bytes() for p in r.outputs()} == files
    assert {p: p.stat().st_mtime_ns for p in r.outputs()} == mtimes
    assert pd.read_csv(path, float_precision="round_trip")["value"].tolist() == rows["value"].tolist()


def test_overwrite_replaces_and_versions_are_recorded_not_compared(tmp_path):
    path = tmp_path / "r.csv"
    _finished(path)
    cfg = json.loads((tmp_path / "r.csv.config.json").read_text())
    assert cfg["library_versions"]["numpy"] and "library_versions" not in cfg["config"]
    cfg["library_versions"]["numpy"] = "0.0.1"
    (tmp_path / "r.csv.config.json").write_text(json.dumps(cfg))
    with _file(path) as r:  # other versions: resumed (with a warning), not refused
        assert r.open(resume=True) == {("a", "1"), ("b", "2")}
    with pytest.raises(ConfigMismatchError, match="--overwrite"):
        _file(path, seed=7).open(resume=True)
    with _file(path, seed=7) as r:
        assert r.open(resume=True, overwrite=True) == set()
    assert len(pd.read_csv(path)) == 0


def test_run_without_data_checksums_is_resumed_with_the_field_added(tmp_path):
    path = tmp_path / "r.csv"
    _finished(path)
    with ResultsFile(path, COLS, KEYS, {"preset": "x", "seed": 0, "data_files": {"f.csv": "ab"}}) as r:
        assert r.open(resume=True) == {("a", "1"), ("b", "2")}


def test_resume_under_other_library_versions_warns_once(tmp_path, caplog):
    r = _file(tmp_path / "r.csv")
    r.open(resume=False)
    r.append(("a", 1), _rows("a", 1))
    r.close()
    cfg = tmp_path / "r.csv.config.json"
    doc = json.loads(cfg.read_text())
    doc["library_versions"]["numpy"] = "0.0.1"
    cfg.write_text(json.dumps(doc))
    again = _file(tmp_path / "r.csv")
    with caplog.at_level("WARNING"):
        again.check(resume=True)  # what run_experiment does before the grid opens the same file
        assert again.open(resume=True) == {("a", "1")}
    again.close()
    warnings = [rec for rec in caplog.records if "other library versions" in rec.getMessage()]
    assert len(warnings) == 1 and "numpy" in warnings[0].getMessage()
