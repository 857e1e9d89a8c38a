"""The simulation grid: its configuration and presets, and seeded tasks (one per dataset, subset
size and std). The grid runs as an experiment of the shared contract
(:class:`simulation.experiment.SelectionSimulation`); :func:`run_simulation` and
:func:`run_preset` are thin wrappers of it."""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from nasbench_tools.datasets import DataStore
from nasbench_tools.dissertation import SIMULATION_STDS, SIMULATION_SUBSET_SIZES
from nasbench_tools.errors import ParameterError
from nasbench_tools.runner.config import ExperimentConfig, is_int

from .engine import simulate_cell
from .metrics import METRIC_COLUMNS
from .problem import HARD_DATASETS, MODES, SelectionProblem, load_problem

if TYPE_CHECKING:
    from nasbench_tools.runner import Executor

log = logging.getLogger(__name__)

RESULTS_NAME = "simulation.csv"
KEY_COLUMNS = ("dataset", "subset_size", "std")
COLUMNS = ("dataset", "accuracy_dataset", "subset_size", "std", "trial") + METRIC_COLUMNS
PAPER_SIZES = SIMULATION_SUBSET_SIZES
PAPER_STDS = SIMULATION_STDS
#: Digits the std is rounded to inside a seed (so 0.30000000000000004 and 0.3 seed alike).
STD_SEED_SCALE = 10**6



@dataclass(frozen=True)
class SimulationConfig(ExperimentConfig):
    """Everything that determines the rows of a simulation run (``name``: the preset's).

    Its fingerprint is the stored config of runs made before the experiment contract (the
    name as ``preset``, plus ``kind``), so their folders resume.
    """

    datasets: tuple[str, ...] = HARD_DATASETS
    sizes: tuple[int, ...] = PAPER_SIZES
    stds: tuple[float, ...] = PAPER_STDS
    trials: int = 1000
    seed: int = 0
    mode: str = "default"

    kind: ClassVar[str] = "simulation"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ParameterError(f"mode must be one of {MODES}, got {self.mode!r}")
        if not self.datasets or not self.sizes or not self.stds:
            raise ParameterError("need at least one dataset, subset size and std")
        bad = [s for s in self.stds if isinstance(s, bool) or not isinstance(s, (int, float)) or not np.isfinite(s) or s < 0]
        if bad:
            raise ParameterError(f"stds must be finite numbers >= 0, got {bad}")
        bad = [n for n in self.sizes if not is_int(n) or n < 1]
        if bad:
            raise ParameterError(f"subset sizes must be integers >= 1, got {bad}")
        for name, minimum in (("trials", 1), ("seed", 0)):
            value = getattr(self, name)
            if not is_int(value) or value < minimum:
                raise ParameterError(f"--{name} must be an integer >= {minimum}, got {value!r}")
        for what, values in (("datasets", self.datasets), ("sizes", self.sizes), ("stds", self.stds)):
            if len(set(values)) != len(values):
                raise ParameterError(f"{what} list a value twice: {list(values)}")
        # plain Python numbers: std 0 and 0.0 are one configuration (and one fingerprint)
        object.__setattr__(self, "sizes", tuple(int(n) for n in self.sizes))
        object.__setattr__(self, "stds", tuple(float(x) for x in self.stds))

    def fingerprint(self) -> dict[str, Any]:
        """The grid's fields, the preset name (``preset``) and ``kind``: what runs stored before."""
        return {**super().fingerprint(), "preset": self.name, "kind": self.kind}

    @property
    def n_selections(self) -> int:
        return len(self.datasets) * len(self.sizes) * len(self.stds) * self.trials


def _preset(name: str, what: str, **fields: Any) -> SimulationConfig:
    """A preset whose description states its grid (computed, so it cannot disagree)."""
    c = SimulationConfig(name=name, **fields)
    shape = (f"{len(c.datasets)} datasets x {len(c.sizes)} subset sizes x {len(c.stds)} deviation stds x "
             f"{c.trials} trials ({c.n_selections:,} selections)")
    return replace(c, description=f"{what}: {shape}")


PRESETS: dict[str, SimulationConfig] = {
    "paper": _preset("paper", "Figures 5.5-5.7 and A.5-A.7 of the dissertation"),
    "quick": _preset("quick", "a miniature of the paper grid", sizes=(100, 1000), stds=(0.0, 0.2, 0.5, 1.0), trials=20),
}


def preset_config(name: str, mode: str = "default", **overrides: Any) -> SimulationConfig:
    """Preset ``name`` (looked up now, so a replaced preset counts) in ``mode``, with ``overrides``."""
    from .experiment import SelectionSimulation

    return replace(SelectionSimulation.preset(name), mode=mode, **overrides)


def cell_rng(seed: int, dataset: str, size: int, std: float) -> np.random.Generator:
    """The generator of one cell: depends on the run seed and the cell only (not on order)."""
    key = (zlib.crc32(dataset.encode()), int(size), int(round(std * STD_SEED_SCALE)))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


@dataclass(frozen=True)
class SimulationTask:
    """One cell of the grid; picklable (carries its problem's arrays)."""

    problem: SelectionProblem = field(repr=False)
    size: int
    std: float
    trials: int
    seed: int

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.problem.hardware_id, self.size, self.std)


def run_task(task: SimulationTask) -> pd.DataFrame:
    """The rows of one cell."""
    p = task.problem
    scores = simulate_cell(p, task.size, task.std, task.trials, cell_rng(task.seed, p.hardware_id, task.size, task.std))
    frame = pd.DataFrame({
        "dataset": p.hardware_id, "accuracy_dataset": p.accuracy_id, "subset_size": task.size,
        "std": task.std, "trial": np.arange(task.trials), **scores,
    })
    return frame[list(COLUMNS)]


def task_weight(task: SimulationTask) -> float:
    """Relative cost of a cell (selections x subset size), for the progress bar's ETA."""
    return float(task.trials * task.size)


def make_tasks(config: SimulationConfig, store: DataStore | None = None) -> list[SimulationTask]:
    store = store or DataStore()
    problems = [load_problem(d, mode=config.mode, store=store) for d in config.datasets]
    for p in problems:
        too_big = [s for s in config.sizes if not 1 <= s <= p.size]
        if too_big:
            raise ParameterError(f"subset size(s) {too_big} for {p.hardware_id}: must be between 1 and {p.size}")
    return [SimulationTask(p, int(size), float(std), config.trials, config.seed)
            for p in problems for size in config.sizes for std in config.stds]


def run_simulation(config: SimulationConfig, out_dir: str | Path, *, executor: Executor | None = None,
                   resume: bool = True, overwrite: bool = False, progress: bool = True,
                   store: DataStore | None = None) -> Path:
    """Run (or resume) a grid into ``out_dir/simulation.csv`` (and ``config.toml``); returns the CSV.

    ``resume`` continues a run of the same configuration (another one is refused, naming the
    fields); ``overwrite`` deletes the previous results first.
    """
    from nasbench_tools.runner.experiment import run_experiment

    from .experiment import SelectionSimulation

    [summary] = run_experiment(SelectionSimulation(), config, out_dir, store=store, executor=executor,
                               resume=resume, overwrite=overwrite, progress=progress)
    return Path(summary.path)


def run_preset(preset: str, out_dir: str | Path, *, mode: str = "default", executor: Executor | None = None,
               resume: bool = True, overwrite: bool = False, progress: bool = True,
               data_dir: str | Path | None = None, report: bool = True) -> Path:
    """Run a preset and (by default) write its report to ``out_dir/report``; for
    ``nasbench-study reproduce``. Returns the results CSV."""
    store = DataStore(data_dir)
    path = run_simulation(preset_config(preset, mode), out_dir, executor=executor, resume=resume,
                          overwrite=overwrite, progress=progress, store=store)
    if report:
        from .report import write_report

        write_report(path, Path(out_dir) / "report", store=store)
    return path


__all__ = ["COLUMNS", "KEY_COLUMNS", "PRESETS", "SimulationConfig", "SimulationTask", "cell_rng", "make_tasks",
           "preset_config", "run_preset", "run_simulation", "run_task", "task_weight"]
