"""Shared execution infrastructure for grid runs (simulation, predictor study).

- :mod:`.executors`: serial, local process pool and Dask executors that run picklable tasks
  and stream results back as they finish;
- :mod:`.results`: tidy CSV results with a stored run-config fingerprint, atomic appends and
  resume;
- :mod:`.grid`: runs the unfinished tasks of a grid into a results file with a progress bar.

Use from a grid runner (the simulator does exactly this, see ``simulation/grid.py``)::

    results = ResultsFile(out / "results.csv", COLUMNS, KEY_COLUMNS, config_dict)
    with executor_from_args(args) as executor:          # --jobs / --dask-local / --dask-scheduler
        run_grid(tasks, run_task, results, executor, resume=resume)

Tasks are picklable objects with a ``key`` (values of the key columns); ``run_task(task)``
returns that key's rows as a DataFrame. Seed each task from the run seed and its key (not from
its position), so results do not depend on order or worker count. ``resume=True`` continues an
existing file (refusing a different configuration); ``resume=False`` refuses to touch one and
``overwrite=True`` deletes it first. The output folder is locked (``DIR/.lock``) while a run writes.
"""

from .executors import DaskExecutor, Executor, ProcessExecutor, SerialExecutor, add_executor_options, executor_from_args, make_executor
from .grid import GridTask, RunSummary, run_grid
from .lock import OutputLock
from .results import ConfigMismatchError, ResultsCorruptedError, ResultsFile

__all__ = [
    "ConfigMismatchError", "DaskExecutor", "Executor", "GridTask", "OutputLock", "ProcessExecutor", "ResultsCorruptedError",
    "ResultsFile", "RunSummary", "SerialExecutor", "add_executor_options", "executor_from_args", "make_executor", "run_grid",
]
