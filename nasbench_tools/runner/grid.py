"""Run the unfinished tasks of a grid into a :class:`ResultsFile`, with a progress bar."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

import pandas as pd
from tqdm import tqdm

from .executors import Executor
from .results import ResultsFile

log = logging.getLogger(__name__)


class GridTask(Protocol):
    """A picklable unit of work; ``key`` gives the values of the results file's key columns."""

    @property
    def key(self) -> tuple[Any, ...]: ...


@dataclass(frozen=True)
class RunSummary:
    total: int
    skipped: int
    ran: int
    seconds: float
    path: str


def run_grid(tasks: Sequence[GridTask], fn: Callable[[Any], pd.DataFrame], results: ResultsFile,
             executor: Executor, *, resume: bool = True, overwrite: bool = False, progress: bool = True,
             desc: str = "tasks", unit_weight: Callable[[Any], float] | None = None) -> RunSummary:
    """Run ``fn`` on every task whose key is not finished in ``results``; append rows as they come.

    ``fn(task)`` returns the task's rows (a DataFrame with the results file's columns). The file
    is finalised (sorted in task order) when every task is done. ``unit_weight`` gives the
    progress bar a cost per task (e.g. trials x subset size) for a meaningful ETA. ``resume``
    continues an existing run of the same configuration; ``overwrite`` deletes it first. The
    folder stays locked against other writers until the grid is finished or fails.
    """
    keys = [results.key_of(t.key) for t in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("grid tasks have duplicate keys")
    done = results.open(resume=resume, overwrite=overwrite)
    try:
        return _run_open(tasks, keys, done, fn, results, executor, progress, desc, unit_weight)
    finally:
        results.close()


def _run_open(tasks: Sequence[GridTask], keys: list[tuple[str, ...]], done: set[tuple[str, ...]],
              fn: Callable[[Any], pd.DataFrame], results: ResultsFile, executor: Executor, progress: bool,
              desc: str, unit_weight: Callable[[Any], float] | None) -> RunSummary:
    """The body of :func:`run_grid` once ``results`` is open (and locked)."""
    todo = [t for t, k in zip(tasks, keys) if k not in done]
    skipped = len(tasks) - len(todo)
    if skipped:
        log.info("%s: %d of %d tasks already finished, %d to run", results.path, skipped, len(tasks), len(todo))
    weight = unit_weight or (lambda t: 1.0)
    t0 = time.perf_counter()
    bar = tqdm(total=sum(weight(t) for t in todo), desc=desc, disable=not progress, unit="", unit_scale=True,
               bar_format="{l_bar}{bar}| {percentage:3.0f}% [{elapsed}<{remaining}]")
    try:
        for i, rows in executor.run(fn, todo):
            results.append(todo[i].key, rows)
            bar.update(weight(todo[i]))
    finally:
        bar.close()
    results.finalize([t.key for t in tasks])
    return RunSummary(len(tasks), skipped, len(todo), time.perf_counter() - t0, str(results.path))
