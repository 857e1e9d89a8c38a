"""The predictor study: one task per (dataset, predictor, seed, training size), tidy CSV rows.

Every task is self-contained and picklable (it carries the dataset's values), so the same code
runs serially, in a local process pool or on a Dask cluster; the results file (see
:mod:`nasbench_tools.runner.results`) makes runs resumable and refuses mixing configurations.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..datasets import DataStore
from ..encodings import get_encoding
from ..errors import DataFormatError
from ..runner import Executor, OutputLock, ResultsFile, RunSummary, SerialExecutor, run_grid
from ..runner.results import DATA_FIELD
from ..spaces import get_space
from ..utils.io import atomic_write
from .metrics import METRIC_COLUMNS, prediction_metrics
from .spec import StudySpec
from .splits import make_split

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

log = logging.getLogger(__name__)

RESULTS_NAME = "results.csv"
SPEC_NAME = "spec.json"
KEY_COLUMNS = ("dataset", "predictor", "seed", "train_size")
COLUMNS = KEY_COLUMNS + ("test_size",) + METRIC_COLUMNS + (
    "fit_time_s", "query_time_s", "tuned", "n_configs", "cv_score", "params", "status", "error",
)
#: Columns that depend on the machine's speed (left out when comparing runs).
TIMING_COLUMNS = ("fit_time_s", "query_time_s")
LOOKUP_TABLE = "lookup_table"
#: Transfer-predictor parameters filled by the runner (not written to the params column).
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
    """The architectures a task fits on: a pool prefix, or the lookup table's neighbours."""
    if task.predictor == LOOKUP_TABLE:
        space = get_space(task.space)
        return space.index(space.lut_architectures())
    return pool[: task.train_size]


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
        if task.predictor == LOOKUP_TABLE and "space" in model.get_params():
            model.set_params(space=task.space)
        if task.sources is not None:
            model.set_params(sources=task.sources, source_names=task.source_names, target=task.dataset,
                             space=task.space)
        train = training_indices(task, split.test, split.pool)
        if getattr(model, "design", "random") == "suggested":
            from predictors.transfer.study import suggested_training
            train = suggested_training(model, task.values, split.pool, task.train_size, task.seed)
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
            if name == LOOKUP_TABLE:
                lut = space.index(space.lut_architectures())
                missing = np.isnan(ds.values[lut])
                if missing.any():
                    raise DataFormatError(
                        f"{dataset_id}: the lookup table needs {space.format(space.arch(lut[missing]))[:3]} "
                        "which have no value"
                    )
                sizes: tuple[int, ...] = (len(lut),)
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


def run_config(spec: StudySpec, store: DataStore, tasks: Sequence[StudyTask] = ()) -> dict[str, Any]:
    """The results file's configuration: the spec's fingerprint plus the sha256 of every data
    file the study reads (its datasets and the tasks' transfer sources), so a resumed run
    refuses a table that changed under it."""
    ids = set(spec.datasets) | {n for t in tasks for n in t.source_names}
    return {**spec.fingerprint(), DATA_FIELD: store.data_checksums(sorted(ids))}


def results_file(out_dir: str | Path, spec: StudySpec, store: DataStore | None = None, *,
                 lock: bool = True, tasks: Sequence[StudyTask] = ()) -> ResultsFile:
    config = spec.fingerprint() if store is None else run_config(spec, store, tasks)
    return ResultsFile(Path(out_dir) / RESULTS_NAME, COLUMNS, KEY_COLUMNS, config, lock=lock)


def run_study(spec: StudySpec, out_dir: str | Path, *, store: DataStore | None = None,
              executor: Executor | None = None, resume: bool = True, overwrite: bool = False,
              progress: bool = True, threads: int = 1) -> RunSummary:
    """Run every unfinished task of ``spec`` into ``out_dir/results.csv``.

    ``resume`` continues a run of the same configuration in ``out_dir`` (a different one is
    refused, naming the fields); ``overwrite`` deletes that run's outputs first. The folder is
    locked against a second writer for the whole run; ``threads`` per fit.
    """
    store = store or DataStore()
    out = Path(out_dir)
    tasks = build_tasks(spec, store, threads)
    with OutputLock(out):
        results = results_file(out, spec, store, lock=False, tasks=tasks)
        if overwrite:
            results.remove()
        elif results.exists and not resume:
            results.open(resume=False)  # raises RunExistsError naming the flags
        if results.exists:  # check the configuration before spec.json is replaced
            results.open(resume=True)
        with atomic_write(out / SPEC_NAME) as fh:
            json.dump(spec.to_dict(), fh, indent=2)
        return run_grid(tasks, run_task, results, executor or SerialExecutor(), resume=True,
                        progress=progress, desc=f"study {spec.name}", unit_weight=_task_weight)


def _task_weight(task: StudyTask) -> float:
    """Rough relative cost of a task, so the progress bar's ETA means something."""
    return 1.0 + task.train_size / 100.0 * (task.n_configs * task.cv if task.tune else 1)


def load_results(path: str | Path) -> pd.DataFrame:
    """A study's results CSV, checked for the expected columns."""
    path = Path(path)
    try:
        df = pd.read_csv(path, keep_default_na=True)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFormatError(f"{path}: cannot read study results ({exc})") from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise DataFormatError(f"{path}: not a study results file; missing column(s) {', '.join(missing)}")
    return df
