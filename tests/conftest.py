"""Shared fixtures: the real benchmark data (NASBENCH_DATA, else ../shared/benchmarks), and the
finished runs the bad-input tests damage (made once per session)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nasbench_tools.datasets import DataStore

REPO = Path(__file__).resolve().parents[1]


def _data_dir() -> Path:
    env = os.environ.get("NASBENCH_DATA")
    return Path(env) if env else (REPO.parent / "shared" / "benchmarks")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = _data_dir()
    if not (d / "hw-nas-bench" / "hw_cifar10.csv").is_file():
        pytest.fail(f"benchmark data not found in {d}; set NASBENCH_DATA")
    return d


@pytest.fixture(scope="session")
def store(data_dir: Path) -> DataStore:
    """One DataStore for the whole session (tables are parsed once)."""
    return DataStore(data_dir)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict[str, Path]:
    """Finished runs of every command that writes results (``tests/bad_input_support.py``); tests copy
    what they damage, so one set serves every ``tests/test_bad_input_*.py`` file."""
    from bad_input_support import make_world

    return make_world(tmp_path_factory.mktemp("world"))
