"""What the latency studies (:mod:`.lut_study`, :mod:`.live_study`) share: their inputs, their
configuration fields, their experiment base class and task type.

Both studies are computations on files measured before: a latency table of ``nasbench-study
latency measure`` (``latency_ms`` and the seconds each measurement took, ``measure_s``) and
isolated-op costs of ``nasbench-study latency isolated`` (``NAME.csv``: ``slot, op, cost_ms``,
slot -1 the fixed stem/reductions/head; ``NAME.json`` beside it: the measurement's
``isolated_wall_s`` and ``isolated_parts``). Paths are locations (not fingerprinted); the sha256
of every file read is, so a resumed run refuses inputs that changed under it.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator, NamedTuple, Sequence, TypeVar

import numpy as np
import pandas as pd

from ..datasets import DataStore
from ..datasets.files import sha256_file
from ..errors import ConfigError, DataFileNotFoundError, DataFormatError
from ..runner.config import ExperimentConfig, check_int_fields
from ..runner.experiment import Experiment, Grid, RunContext
from ..spaces import get_space
from ..utils.io import atomic_write, write_csv_atomic
from .isolated import IsolatedCosts

#: The committed NB201 CPU table and isolated-op costs (paths relative to the repository).
NB201_CPU_TABLE = "results/latency/nb201_cifar10_cpu.csv"
NB201_CPU_ISOLATED = "results/latency/nb201_isolated_ops.csv"
#: Slot of the fixed part (stem, reductions, head) in an isolated-op costs file.
FIXED_SLOT = -1
#: Label of the fixed part's row.
FIXED_LABEL = "fixed"
#: Config field holding the sha256 of the files a study reads.
INPUTS_FIELD = "input_files"
#: The preset of both studies: the committed NB201 CPU table and isolated-op costs.
NB201_CPU_PRESET = "nb201-cpu"
NB201_CPU_DESCRIPTION = "the committed NB201 CPU table and isolated-op costs (results/latency)"
C = TypeVar("C", bound="LatencyStudyConfig")


@dataclass(frozen=True)
class LatencyStudyConfig(ExperimentConfig):
    """Inputs and threads shared by the latency studies."""

    LOCATION_FIELDS: ClassVar[tuple[str, ...]] = ("table", "isolated_ops")

    #: Measured latency table (CSV of ``latency measure``).
    table: str = NB201_CPU_TABLE
    #: Isolated-op costs (CSV of ``latency isolated``, its meta JSON beside it); empty: none.
    isolated_ops: str = NB201_CPU_ISOLATED
    #: Torch and BLAS threads of each task (1: results do not depend on the machine).
    threads: int = 1
    #: Predictors fitted on measured architectures (registry names).
    predictors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_int_fields(self, 1, "threads")
        from predictors import available

        known = available()
        unknown = [p for p in self.predictors if p not in known]
        if unknown:
            raise ConfigError(f"predictors: unknown {', '.join(unknown)}; known: {', '.join(known)}")

    def fingerprint(self) -> dict[str, Any]:
        """The config without the locations (:meth:`run_fingerprint` adds the files' sha256)."""
        return {k: v for k, v in super().fingerprint().items() if k not in self.LOCATION_FIELDS}

    def run_fingerprint(self) -> dict[str, Any]:
        """What a results file stores: the fingerprint plus the sha256 of every file read."""
        paths = {"table": self.table}
        if self.isolated_ops:
            paths.update(isolated_ops=self.isolated_ops, isolated_meta=str(meta_path(self.isolated_ops)))
        files = {field: sha256_file(_existing(Path(path), field)) for field, path in paths.items()}
        return {**self.fingerprint(), INPUTS_FIELD: files}


class ResultsTable(NamedTuple):
    """A study's results file: its name, columns, key columns and the module-level function
    computing one task's rows."""

    name: str
    columns: tuple[str, ...]
    key_columns: tuple[str, ...]
    run_task: Callable[[Any], pd.DataFrame]


class LatencyStudy(Experiment[C]):
    """What the latency studies share: one grid of tasks on the inputs of the config (stored
    with the files' sha256), the committed NB201 CPU files as the default preset, ``cost_s`` as
    timing. A study declares its :attr:`table` and :meth:`tasks`."""

    default_preset = NB201_CPU_PRESET
    timing_columns = ("cost_s",)
    table: ClassVar[ResultsTable]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.results_name = cls.table.name
        cls.presets = {NB201_CPU_PRESET: partial(cls.config_type, name=NB201_CPU_PRESET,
                                                 description=NB201_CPU_DESCRIPTION)}

    @abstractmethod
    def tasks(self, config: C, ctx: RunContext) -> list[Any]:
        """The study's tasks (each with a ``key`` of the table's key-column values)."""

    def data_ids(self, config: C) -> tuple[str, ...]:
        """Benchmark datasets the tasks read besides the config's files (default: none)."""
        return ()

    def grids(self, config: C, ctx: RunContext) -> Iterator[Grid]:
        fingerprint = config.run_fingerprint()
        t = self.table
        yield Grid(t.name, t.columns, t.key_columns, self.tasks(config, ctx), t.run_task, fingerprint,
                   data_ids=self.data_ids(config), desc=f"{self.name} {self.task_noun}")


@dataclass(frozen=True)
class StudyTask:
    """A task of a latency study: the inputs every task shares and the threads it runs with."""

    inputs: Any
    threads: int

    #: The fields whose values are the task's key (the values of the results' key columns).
    key_fields: ClassVar[tuple[str, ...]] = ()

    @property
    def key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.key_fields)


def _existing(path: Path, field: str) -> Path:
    if not path.is_file():
        raise DataFileNotFoundError(f"{field}: {path} is not a file (paths are relative to the working folder)")
    return path


@dataclass(frozen=True)
class MeasuredTable:
    """The measured architectures of a latency table: canonical indices, latency (ms) and the
    seconds each measurement took."""

    space: str
    have: np.ndarray
    latency: np.ndarray
    measure_s: np.ndarray

    def positions(self, index: np.ndarray) -> np.ndarray | None:
        """Positions of canonical ``index`` among the measured ones (None if any is missing)."""
        pos = {int(a): i for i, a in enumerate(self.have)}
        if not all(int(i) in pos for i in index):
            return None
        return np.array([pos[int(i)] for i in index], dtype=np.int64)


def load_measured(path: str | Path) -> MeasuredTable:
    """The measured architectures of the latency table at ``path``."""
    path = _existing(Path(path), "table")
    name = path.stem
    store = DataStore(custom={name: path})
    lat = store.load(f"custom/{name}/latency_ms")
    cost = store.load(f"custom/{name}/measure_s")
    have = lat.available
    return MeasuredTable(lat.space.name, have, lat.values[have], cost.values[have])


def isolated_costs_frame(costs: IsolatedCosts) -> pd.DataFrame:
    """``slot, op, cost_ms`` of every allowed op of every slot, then the fixed part (slot -1)."""
    space = get_space(costs.space)
    rows = [{"slot": s, "op": space.op_names[o], "cost_ms": costs.op_costs[s, o]}
            for s in range(space.n_slots) for o in space.allowed_ops[s]]
    rows.append({"slot": FIXED_SLOT, "op": FIXED_LABEL, "cost_ms": costs.base_cost})
    return pd.DataFrame(rows)


def meta_path(costs_path: str | Path) -> Path:
    """The meta JSON beside an isolated-op costs CSV (``NAME.csv`` -> ``NAME.json``)."""
    return Path(costs_path).with_suffix(".json")


def isolated_meta(costs: IsolatedCosts) -> dict[str, Any]:
    """The measurement's meta written beside the costs (read back by :func:`read_isolated`)."""
    return {"isolated_wall_s": costs.wall_s, "isolated_parts": costs.parts, "base_cost_ms": costs.base_cost}


def write_isolated(costs: IsolatedCosts, path: str | Path) -> list[Path]:
    """The costs CSV at ``path`` and its meta JSON beside it (atomically)."""
    path = write_csv_atomic(isolated_costs_frame(costs), path)
    with atomic_write(meta_path(path)) as fh:
        json.dump(isolated_meta(costs), fh, indent=2)
    return [path, meta_path(path)]


def read_isolated(costs_path: str | Path, space_name: str) -> IsolatedCosts:
    """Isolated-op costs of ``space_name`` from a costs CSV and its meta JSON (exact floats)."""
    costs_path = _existing(Path(costs_path), "isolated_ops")
    meta = _existing(meta_path(costs_path), "isolated_ops (its meta JSON)")
    try:
        df = pd.read_csv(costs_path, float_precision="round_trip")
        meta = json.loads(meta.read_text())
        wall_s, parts = float(meta["isolated_wall_s"]), int(meta["isolated_parts"])
    except (OSError, pd.errors.ParserError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DataFormatError(f"{costs_path} and its .json: not isolated-op costs and their meta ({exc})") from None
    if not {"slot", "op", "cost_ms"} <= set(df.columns) or not (df["slot"] == FIXED_SLOT).any():
        raise DataFormatError(f"{costs_path}: expected columns slot, op, cost_ms and a fixed row (slot {FIXED_SLOT})")
    space = get_space(space_name)
    table = np.full((space.n_slots, space.n_ops), np.nan)
    ops = df[df["slot"] != FIXED_SLOT]
    try:
        table[ops["slot"].to_numpy(int), [space.op_names.index(o) for o in ops["op"]]] = ops["cost_ms"].to_numpy()
    except (ValueError, IndexError) as exc:
        raise DataFormatError(f"{costs_path}: slots or ops outside {space_name} ({exc})") from None
    base = float(df.loc[df["slot"] == FIXED_SLOT, "cost_ms"].iloc[0])
    return IsolatedCosts(space_name, base, table, wall_s, parts)


@contextmanager
def task_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch and BLAS/OpenMP threads (restored afterwards)."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(before)


def read_rows(path: str | Path, columns: Sequence[str], experiment: str) -> pd.DataFrame:
    """A study's results CSV (exact floats), with ``columns`` and at least one row."""
    path = Path(path)
    try:
        df = pd.read_csv(path, float_precision="round_trip")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFormatError(f"{path}: cannot read {experiment} results ({exc})") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataFormatError(f"{path}: not a {experiment} results file; missing column(s) {', '.join(missing)}")
    if not len(df):
        raise DataFormatError(f"{path}: no result rows (only a header); run 'nasbench-study {experiment} run' first")
    return df


def mape(y: np.ndarray, p: np.ndarray) -> float:
    """Mean absolute percentage error of ``p`` against ``y``."""
    return float(np.mean(np.abs(p - y) / y) * 100)
