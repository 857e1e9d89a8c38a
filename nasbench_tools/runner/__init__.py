"""Shared execution infrastructure of every experiment (study, simulator, super-networks, latency).

- :mod:`.config`: experiment configurations (frozen dataclasses read from TOML, written back,
  fingerprinted for resume);
- :mod:`.experiment`: the experiment contract (:class:`Experiment`, :class:`Grid`) and
  :func:`run_experiment`, which runs an experiment's grids into one locked output folder;
- :mod:`.executors`: serial, local process pool and Dask executors that run picklable tasks
  and stream results back as they finish;
- :mod:`.results`: tidy CSV results with a stored run-config fingerprint, atomic appends and
  resume; :mod:`.grid`: runs the unfinished tasks of one grid into a results file;
- :mod:`.options`: the command-line options of runs (argument types, run mode, executors).

Tasks are picklable objects with a ``key`` (values of the key columns); ``run_task(task)``
returns that key's rows as a DataFrame. Seed each task from the run seed and its key (not from
its position), so results do not depend on order or worker count. ``resume=True`` continues an
existing file (refusing a different configuration); ``resume=False`` refuses to touch one and
``overwrite=True`` deletes it first. The output folder is locked (``DIR/.lock``) while a run writes.

The names below are imported on first use, so that the command line's option module
(:mod:`.options`) loads without pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Exported name -> the submodule that defines it.
_EXPORTS = {
    "DaskExecutor": "executors", "Executor": "executors", "ProcessExecutor": "executors",
    "SerialExecutor": "executors", "make_executor": "executors",
    "add_executor_options": "options", "executor_from_args": "options",
    "GridTask": "grid", "RunSummary": "grid", "run_grid": "grid",
    "OutputLock": "lock",
    "ConfigMismatchError": "results", "ResultsCorruptedError": "results", "ResultsFile": "results",
    "ConfigSection": "config", "ExperimentConfig": "config", "load_config": "config",
    "Experiment": "experiment", "Grid": "experiment", "RunContext": "experiment", "run_experiment": "experiment",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the submodule of an exported name on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
