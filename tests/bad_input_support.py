"""What the bad-input tests share (issue 12): the contract of a refusal, small file writers and
the finished runs they damage.

The contract: a refused command ends with exit status 2, exactly one line ``nasbench-study: error:
...`` naming the value (no traceback), and no existing result or input file changed (every file is
hashed before and after). The command line runs in-process (``nasbench_tools.cli.main``) except
where a second process is the point (concurrent writers). The cases are in
``tests/test_bad_input_*.py``; the finished runs (:func:`make_world`) are made once per session by
the ``world`` fixture of ``tests/conftest.py``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasbench_tools.cli import main
from nasbench_tools.spaces import get_space

DATASET = "hwnas/cifar10/edgegpu_latency"
ERROR_PREFIX = "nasbench-study: error:"
#: A tiny but complete study: one dataset, ridge, two seeds (two fits).
STUDY = {"datasets": [DATASET], "predictors": ["ridge"], "train_sizes": [20], "test_size": 50, "seeds": 2}
#: Fast options of the commands that write runs.
SIM_FAST = ["--preset", "quick", "--trials", "2", "--no-progress"]
SUPERNET_FAST = ["--data", "synthetic", "--synthetic-size", "64", "--val-images", "16", "--batch-size", "32",
                 "--epochs", "1", "--channels", "4", "--subset", "onlyconv", "--device", "cpu", "--no-progress"]
LATENCY_FAST = ["--space", "nb201", "--archs", "random:2:0", "--warmup", "1", "--repeats", "3", "--device", "cpu",
                "--no-progress"]


def toml(doc: dict[str, Any]) -> str:
    """A small TOML writer: scalars and lists at the top, then one level of tables."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    lines = [f"{k} = {value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for k, v in doc.items():
        if isinstance(v, dict):
            flat = {kk: vv for kk, vv in v.items() if not isinstance(vv, dict)}
            if flat or not v:
                lines += [f"[{k}]"] + [f"{kk} = {value(vv)}" for kk, vv in flat.items()]
            for kk, vv in v.items():
                if isinstance(vv, dict):
                    lines += [f"[{k}.{kk}]"] + [f"{a} = {value(b)}" for a, b in vv.items()]
    return "\n".join(lines) + "\n"


def snapshot(*roots: Path) -> dict[str, str]:
    """sha256 of every file under ``roots`` (lock files, which only name their holder, excluded)."""
    out = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.name != ".lock":
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def assert_one_line_error(rc: int, err: str) -> str:
    """Exit status 2, no traceback, exactly one error line (returned)."""
    assert rc == 2, f"exit status {rc}, stderr: {err}"
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(errors) == 1, err
    return errors[0]


def refused(argv: list[str], capsys: pytest.CaptureFixture, *watch: Path) -> str:
    """Run the CLI; assert exit 2, one error line, and that no watched file changed. Returns the line."""
    before = snapshot(*watch)
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err
    line = assert_one_line_error(rc, err)
    after = snapshot(*watch)
    changed = [p for p in before if after.get(p) != before[p]]
    assert not changed, f"files changed by a refused command: {changed}"
    return line


def with_options(base: list[str], changes: list[str]) -> list[str]:
    """``base`` options with ``changes`` (flag, value pairs) replacing or adding values."""
    argv = list(base)
    for flag, value in zip(changes[::2], changes[1::2]):
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    return argv


def arch_names(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct NB201 architectures (text form), drawn with ``seed``."""
    space = get_space("nb201")
    idx = np.random.default_rng(seed).choice(space.size, n, replace=False)
    return space.format(space.arch(np.sort(idx)))


def custom_csv(cells: dict[int, str] | None = None, n: int = 120, extra: str = "") -> str:
    """A custom NB201 table ``arch,latency_ms`` with some cells replaced by text."""
    names = arch_names(n)
    vals = [f"{1.0 + 0.01 * i:.3f}" for i in range(n)]
    for i, text in (cells or {}).items():
        vals[i] = text
    return "arch,latency_ms\n" + "".join(f"{a},{v}\n" for a, v in zip(names, vals)) + extra


# ----------------------------------------------------------------------------------------- finished runs
def make_world(root: Path) -> dict[str, Path]:
    """Finished runs of every command that writes results (a study, a simulation, a super-network, a
    latency table, three fitted models) under ``root``; tests copy what they damage."""
    cfg = root / "study.toml"
    cfg.write_text(toml(STUDY))
    assert main(["study", "run", "--config", str(cfg), "--out", str(root / "study"), "--no-progress"]) == 0
    assert main(["simulate", "run", *SIM_FAST, "--out", str(root / "sim")]) == 0
    assert main(["supernet", "train", *SUPERNET_FAST, "--out", str(root / "supernet")]) == 0
    assert main(["latency", "measure", *LATENCY_FAST, "--out", str(root / "latency")]) == 0
    train = root / "train.csv"
    names = arch_names(60, seed=1)
    train.write_text("arch,value\n" + "".join(f"{a},{1 + 0.1 * i}\n" for i, a in enumerate(names)))
    for name in ("ridge", "lightgbm", "ngboost"):
        params = ["--param", "n_estimators=20"] if name != "ridge" else []
        assert main(["predictors", "fit", name, "--space", "nb201", "--train", str(train), "--out",
                     str(root / f"model-{name}"), *params]) == 0
    return {"root": root, "study_cfg": cfg, "study": root / "study", "sim": root / "sim",
            "supernet": root / "supernet", "latency": root / "latency", "train": train}


def copy_run(world: dict[str, Path], name: str, tmp_path: Path) -> Path:
    """A copy of the finished run ``name`` in ``tmp_path`` (to damage or resume)."""
    dst = tmp_path / name
    shutil.copytree(world[name], dst, ignore=shutil.ignore_patterns(".lock"))
    return dst


def assert_rerun_changes_nothing(world: dict[str, Path], name: str, tmp_path: Path, argv: list[Any]) -> None:
    """The same command again on a finished run exits 0 and leaves every byte as it was."""
    run = copy_run(world, name, tmp_path)
    before = snapshot(run)
    assert main([str(a) for a in argv] + ["--out", str(run)]) == 0
    assert snapshot(run) == before
