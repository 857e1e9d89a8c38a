"""The experiment contract: what the predictor study, the selection simulator, the super-network
miniature and the latency studies have in common, written once.

An experiment is a class with

- ``config_type``: its :class:`~.config.ExperimentConfig` (read from TOML, written back,
  fingerprinted);
- ``presets``: named zero-argument factories of configs (the registry in
  :mod:`nasbench_tools.experiments` lists every experiment's presets);
- :meth:`Experiment.grids`: the experiment as one or more :class:`Grid` s, each a table of
  independent, picklable tasks whose rows go to one resumable results CSV (later grids may read
  the finished tables of earlier ones, e.g. a ground truth before the super-networks);
- :meth:`Experiment.report`: tables and figures from the finished results (atomic writes, see
  :mod:`nasbench_tools.utils.report`).

:func:`run_experiment` runs them: the output folder is locked, every grid resumes what a previous
run of the same configuration finished (another configuration is refused, naming the fields),
tasks run serially, in a process pool or on Dask, and the configuration is written beside the
results as an editable TOML file. The command line gets ``run``/``report``/``presets``/``config``
for free (see :mod:`nasbench_tools.cli.experiment`); the option hooks below add an experiment's
own options, declared with the argument types of :mod:`.options`.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Generic, Iterator, Mapping, Sequence, TypeVar

from ..errors import UnknownNameError
from .config import ExperimentConfig, write_config_toml
from .executors import Executor, SerialExecutor
from .lock import OutputLock

if TYPE_CHECKING:
    import argparse

    import pandas as pd

    from ..datasets import DataStore
    from .grid import GridTask, RunSummary

log = logging.getLogger(__name__)

C = TypeVar("C", bound=ExperimentConfig)

#: The configuration of a run, beside its results (editable; ``--config`` reads it back).
CONFIG_NAME = "config.toml"
#: Folder of the report inside a run's output folder (``run --report``, ``reproduce``).
REPORT_DIR = "report"


@dataclass(frozen=True)
class Grid:
    """One resumable table of an experiment: ``run_task(task)`` gives each task's rows.

    ``config`` is what the results file stores and a resumed run must match (usually the
    experiment config's fingerprint); ``data_ids`` are the benchmark datasets the tasks read,
    whose files' sha256 join the config. ``run_task`` must be a module-level function (pickled
    to worker processes); ``weight`` gives the progress bar a relative cost per task.
    """

    results_name: str
    columns: Sequence[str]
    key_columns: Sequence[str]
    tasks: Sequence["GridTask"]
    run_task: Callable[[Any], "pd.DataFrame"]
    config: Mapping[str, Any]
    data_ids: Sequence[str] = ()
    weight: Callable[[Any], float] | None = None
    desc: str = "tasks"


@dataclass
class RunContext:
    """What :meth:`Experiment.grids` may use: the output folder, the benchmark data and the
    caller's run options (e.g. ``threads`` per task)."""

    out: Path
    store: "DataStore"
    options: Mapping[str, Any] = field(default_factory=dict)


class Experiment(ABC, Generic[C]):
    """Base class of every experiment (see the module docstring)."""

    #: Registry and command-line name (``nasbench-study <name> run ...``).
    name: ClassVar[str] = ""
    #: One line for ``--help`` (the registry repeats it, so that ``--help`` imports nothing).
    summary: ClassVar[str] = ""
    config_type: ClassVar[type[ExperimentConfig]] = ExperimentConfig
    #: Preset name -> factory of its config.
    presets: ClassVar[Mapping[str, Callable[[], ExperimentConfig]]] = {}
    #: The preset ``run`` uses without ``--preset``/``--config`` (None: one of them is required).
    default_preset: ClassVar[str | None] = None
    #: Columns of the results that depend on the machine's speed (ignored when comparing runs).
    timing_columns: ClassVar[tuple[str, ...]] = ()
    #: Name of the results file ``report`` reads by default (the last grid's, usually).
    results_name: ClassVar[str] = "results.csv"
    #: What one task is, for the run summary ("fits", "cells", ...).
    task_noun: ClassVar[str] = "tasks"
    #: Keyword arguments of :meth:`report` that :meth:`add_report_options` adds as options
    #: (``--drop-dev-std`` -> ``drop_dev_std``).
    report_option_names: ClassVar[tuple[str, ...]] = ()

    # ----------------------------------------------------------------- the contract
    @abstractmethod
    def grids(self, config: C, ctx: RunContext) -> Iterator[Grid]:
        """The experiment's grids, in order; a grid may read earlier grids' finished results."""

    def report(self, results: Path, report_dir: Path, store: "DataStore", **options: Any) -> list[Path]:
        """Tables and figures from ``results`` (the ``results_name`` file of a run; the other
        grids' files lie beside it) into ``report_dir``; returns the files written. A results
        file without rows is a :class:`~nasbench_tools.errors.DataFormatError`, raised before
        ``report_dir`` is created. ``options`` come from :meth:`report_options`."""
        return []

    def resolve(self, config: C, store: "DataStore") -> C:
        """The config adapted to the available data before it runs (default: unchanged). It
        must be idempotent (:func:`run_experiment` resolves what it is given)."""
        return config

    # ------------------------------------------------------- command-line extension hooks
    @classmethod
    def add_run_options(cls, parser: "argparse.ArgumentParser") -> None:
        """Extra ``run`` options that override config fields (default: none)."""

    @classmethod
    def apply_run_options(cls, config: C, args: "argparse.Namespace") -> C:
        """``config`` with the extra ``run`` options applied (default: unchanged)."""
        return config

    @classmethod
    def add_report_options(cls, parser: "argparse.ArgumentParser") -> None:
        """Extra ``report`` options (default: none)."""

    @classmethod
    def report_options(cls, args: "argparse.Namespace") -> dict[str, Any]:
        """The keyword arguments of :meth:`report` from the extra ``report`` options (default:
        the options named in :attr:`report_option_names`)."""
        return {name: getattr(args, name) for name in cls.report_option_names}

    @classmethod
    def add_commands(cls, actions: "argparse._SubParsersAction") -> None:
        """Extra actions beside run/report/presets/config (default: none)."""

    # ----------------------------------------------------------------------- presets
    @classmethod
    def preset(cls, name: str) -> ExperimentConfig:
        """The config of preset ``name``."""
        try:
            factory = cls.presets[name]
        except KeyError:
            raise UnknownNameError(
                f"unknown {cls.config_type.kind} preset {name!r}; known: {', '.join(cls.presets)}"
            ) from None
        return factory()

    @classmethod
    def preset_rows(cls) -> list[tuple[str, str]]:
        """``(preset, description)`` of every preset, in registration order."""
        return [(name, cls.preset(name).description) for name in cls.presets]


def run_experiment(experiment: Experiment, config: ExperimentConfig, out_dir: str | Path, *,
                   store: "DataStore | None" = None, executor: Executor | None = None, resume: bool = True,
                   overwrite: bool = False, progress: bool = True,
                   options: Mapping[str, Any] | None = None) -> list["RunSummary"]:
    """Run every unfinished task of ``experiment`` under ``config`` into ``out_dir``.

    ``resume`` continues a run of the same configuration (the default); ``overwrite`` deletes
    each grid's previous results first; without either an existing run is refused. The folder
    is locked against a second writer for the whole run. Returns one summary per grid.
    """
    from ..datasets import DataStore
    from .grid import run_grid
    from .results import DATA_FIELD, ResultsFile

    store = store or DataStore()
    out = Path(out_dir)
    config = experiment.resolve(config, store)
    ctx = RunContext(out, store, dict(options or {}))
    summaries = []
    with OutputLock(out):
        for grid in experiment.grids(config, ctx):
            stored = dict(grid.config)
            if grid.data_ids:
                stored[DATA_FIELD] = store.data_checksums(sorted(set(grid.data_ids)))
            results = ResultsFile(out / grid.results_name, grid.columns, grid.key_columns, stored, lock=False)
            if not summaries:  # the config file is written once the first grid is known to match
                if not overwrite:  # refuse a mismatching or unwanted run before the folder changes
                    results.check(resume)
                write_config_toml(out / CONFIG_NAME, config,
                                  header=f"{experiment.name} configuration (nasbench-study {experiment.name} run "
                                         f"--config {CONFIG_NAME})")
            summary = run_grid(grid.tasks, grid.run_task, results, executor or SerialExecutor(), resume=resume,
                               overwrite=overwrite, progress=progress, desc=grid.desc, unit_weight=grid.weight)
            log.info("%s: %d tasks (%d resumed) in %.1f s", summary.path, summary.total, summary.skipped,
                     summary.seconds)
            summaries.append(summary)
    return summaries

