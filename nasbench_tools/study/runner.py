"""The predictor study: one task per (dataset, predictor, seed, training size), tidy CSV rows.

Every task is self-contained and picklable (it carries the dataset's values), so the same code
runs serially, in a local process pool or on a Dask cluster. The study runs as an experiment of
the shared contract (:class:`~nasbench_tools.study.experiment.PredictorStudy`): its results
file (see :mod:`nasbench_tools.runner.results`) makes runs resumable and refuses mixing
configurations.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from ..datasets import DataStore
from ..encodings import get_encoding
from ..errors import DataFormatError
from ..spaces import get_space
from ..utils.report import read_results
from .metrics import METRIC_COLUMNS, prediction_metrics
from .spec import StudySpec
from .splits import make_split

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

    from ..runner import Executor, RunSummary

log = logging.getLogger(__name__)

RESULTS_NAME = "results.csv"
KEY_COLUMNS = ("dataset", "predictor", "seed", "train_size")
COLUMNS = KEY_COLUMNS + ("test_size",) + METRIC_COLUMNS + (
    "fit_time_s", "query_time_s", "tuned", "n_configs", "cv_score", "params", "status", "error",
)
#: Columns that depend on the machine's speed (left out when comparing runs).
TIMING_COLUMNS = ("fit_time_s", "query_time_s")
#: The baseline :mod:`.report` draws as a line (the runner itself treats no predictor by name).
LOOKUP_TABLE = "lookup_table"
#: Parameters of a predictor that ``uses_sources``, filled by the runner (not written to the params column).
SOURCE_PARAMS = ("sources", "source_names", "target")
#: Longest error message kept in the CSV.
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class StudyTask:
    """One fit and evaluation; carries everything a worker needs (no file access)."""

    dataset: str
    predictor: str
    seed: int
    train_size: int
    test_size: int
    space: str
    values: np.ndarray = field(repr=False, compare=False)
    params: Mapping[str, Any] = field(default_factory=dict)
    tune: bool = False
    n_configs: int = 1
    time_budget_s: float | None = None
    cv: int = 3
    min_tuning_samples: int = 10
    #: BLAS/OpenMP/torch threads of the fit: 1 by default, so that results do not depend on the
    #: machine's core count (summation order) and parallel workers do not oversubscribe.
    threads: int = 1
    #: transfer predictors: source values (space.size, m) and their dataset IDs (leakage guard
    #: applied by the predictor against ``dataset``); None for every other predictor.
    sources: np.ndarray | None = field(default=None, repr=False, compare=False)
    source_names: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.dataset, self.predictor, self.seed, self.train_size)


def _json(params: Mapping[str, Any]) -> str:
    def plain(v: Any) -> Any:
        if isinstance(v, (np.integer,)):
            return int(v)
        if isinstance(v, (np.floating,)):
            return float(v)
        if isinstance(v, (str, int, float, bool)) or v is None:
            return v
        return str(v)

    return json.dumps({k: plain(v) for k, v in sorted(params.items())}, sort_keys=True)


def training_indices(task: StudyTask, test: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """The architectures a task fits on: the predictor's fixed training set (e.g. the lookup
    table's neighbours of the baseline, see ``Predictor.fixed_training_set``) or a pool prefix."""
    from predictors import get_class

    fixed = get_class(task.predictor).fixed_training_set(get_space(task.space))
    return pool[: task.train_size] if fixed is None else fixed


def run_task(task: StudyTask) -> pd.DataFrame:
    """Fit and evaluate one predictor with ``task.threads`` threads (see :func:`_run_task`)."""
    try:
        import torch
    except ModuleNotFoundError:  # core install: no torch predictors, no torch threads to limit
        torch = None
    torch_threads = torch.get_num_threads() if torch is not None else 0
    if torch is not None:
        torch.set_num_threads(task.threads)
    try:
        with _thread_controller().limit(limits=task.threads):
            return _run_task(task)
    finally:
        if torch is not None:
            torch.set_num_threads(torch_threads)


@lru_cache(maxsize=1)
def _thread_controller() -> "ThreadpoolController":
    """One inspection of the process's BLAS/OpenMP libraries (it reads /proc, ~6 ms)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _run_task(task: StudyTask) -> pd.DataFrame:
    """Fit (tuning first when asked) and evaluate one predictor; never raises for model errors."""
    from predictors import make
    from predictors.tuning import tune

    space = get_space(task.space)
    avail = np.flatnonzero(~np.isnan(task.values))
    split = make_split(avail, task.seed, task.test_size)
    row: dict[str, Any] = dict(zip(KEY_COLUMNS, task.key))
    row.update(test_size=task.test_size, tuned=False, n_configs=0, cv_score=math.nan, params="",
               status="ok", error="", fit_time_s=math.nan, query_time_s=math.nan)
    row.update({m: math.nan for m in METRIC_COLUMNS})
    try:
        model = make(task.predictor, random_state=task.seed, **dict(task.params))
        if model.needs_space:
            model.set_params(space=task.space)
        if task.sources is not None:
            model.set_params(sources=task.sources, source_names=task.source_names, target=task.dataset)
        train = model.suggest_training(task.values, split.pool, task.train_size, task.seed)
        if train is None:
            train = training_indices(task, split.test, split.pool)
        enc = get_encoding(model.encoding)
        X_train = enc(space, space.arch(train))
        y_train = task.values[train]
        X_test = enc(space, space.arch(split.test))
        y_test = task.values[split.test]
        t0 = time.perf_counter()
        if task.tune and len(train) >= task.min_tuning_samples and model.tuning_space:
            result = tune(model, X_train, y_train, n_configs=task.n_configs, time_budget_s=task.time_budget_s,
                          cv=task.cv, random_state=task.seed)
            model.set_params(**result.best_params)
            row.update(tuned=True, n_configs=len(result.cv_results), cv_score=result.best_score)
        model.fit(X_train, y_train)
        row["fit_time_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        pred = model.predict(X_test)
        row["query_time_s"] = (time.perf_counter() - t1) / len(X_test)
        row.update(prediction_metrics(y_test, pred))
        row["params"] = _json({k: v for k, v in model.get_params().items() if k not in SOURCE_PARAMS})
    except Exception as exc:  # noqa: BLE001 - a failing predictor is recorded, the grid goes on
        log.warning("%s: %s failed: %s", task.key, type(exc).__name__, exc)
        row.update(status="error", error=f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS])
    return pd.DataFrame([row], columns=list(COLUMNS))


def build_tasks(spec: StudySpec, store: DataStore, threads: int = 1) -> list[StudyTask]:
    """Every task of ``spec``, after checking names and sizes (clear errors, nothing run)."""
    from predictors import get_class

    spec.check_predictors()
    from predictors.transfer.study import study_sources

    tasks = []
    for dataset_id in spec.datasets:
        ds = store.load(dataset_id)
        space = ds.space
        n_avail = len(ds.available)
        if spec.test_size >= n_avail:
            raise DataFormatError(
                f"{dataset_id}: test size {spec.test_size} needs more than the {n_avail} architectures with values"
            )
        for name in spec.predictors:
            cls = get_class(name)
            if not get_encoding(cls.encoding).applies(space):
                raise DataFormatError(
                    f"predictor {name!r} needs the {cls.encoding!r} encoding, which does not apply to "
                    f"{dataset_id} ({space.name} space); remove it from the study"
                )
            fixed = cls.fixed_training_set(space)
            if fixed is not None:
                missing = np.isnan(ds.values[fixed])
                if missing.any():
                    raise DataFormatError(
                        f"{dataset_id}: predictor {name!r} trains on {space.format(space.arch(fixed[missing]))[:3]} "
                        "which have no value"
                    )
                sizes: tuple[int, ...] = (len(fixed),)
            else:
                sizes = spec.sizes_for(name)
                too_big = [n for n in sizes if n + spec.test_size > n_avail]
                if too_big:
                    raise DataFormatError(
                        f"{dataset_id}: training size(s) {too_big} + test size {spec.test_size} exceed the "
                        f"{n_avail} architectures with values"
                    )
            tuned = name in spec.tuning.predictors
            src = study_sources(store, cls, dataset_id, space.name)
            for seed in spec.seeds:
                for n in sizes:
                    tasks.append(StudyTask(
                        dataset_id, name, seed, n, spec.test_size, space.name, ds.values,
                        dict(spec.params.get(name, {})), tuned, spec.tuning.max_configs,
                        spec.tuning.budget_s(n), spec.tuning.cv, spec.tuning.min_samples, threads,
                        None if src is None else src.values, () if src is None else src.names,
                    ))
    return tasks


def run_study(spec: StudySpec, out_dir: str | Path, *, store: DataStore | None = None,
              executor: Executor | None = None, resume: bool = True, overwrite: bool = False,
              progress: bool = True, threads: int = 1) -> RunSummary:
    """Run every unfinished task of ``spec`` into ``out_dir/results.csv`` (and ``config.toml``).

    ``resume`` continues a run of the same configuration in ``out_dir`` (a different one is
    refused, naming the fields); ``overwrite`` deletes that run's outputs first. The folder is
    locked against a second writer for the whole run; ``threads`` per fit. A thin wrapper of
    :func:`~nasbench_tools.runner.experiment.run_experiment` with the study experiment.
    """
    from ..runner.experiment import run_experiment
    from .experiment import PredictorStudy

    [summary] = run_experiment(PredictorStudy(), spec, out_dir, store=store, executor=executor, resume=resume,
                               overwrite=overwrite, progress=progress, options={"threads": threads})
    return summary


def task_weight(task: StudyTask) -> float:
    """Rough relative cost of a task, so the progress bar's ETA means something."""
    return 1.0 + task.train_size / 100.0 * (task.n_configs * task.cv if task.tune else 1)


def load_results(path: str | Path, *, require_rows: bool = False) -> pd.DataFrame:
    """A study's results CSV, checked for the expected columns (and, with ``require_rows``, for
    at least one row)."""
    return read_results(path, COLUMNS, "study", run_command="nasbench-study study run" if require_rows else None)
