"""The selection simulator as an experiment of the shared contract
(:mod:`nasbench_tools.runner.experiment`): one grid of cells into ``simulation.csv``, the report of
Figures 5.5-5.7 and A.5-A.7, and the simulator's own command-line options (``--compat``,
``--trials``, ``--seed``; ``report --real``)."""

from __future__ import annotations

import argparse
import dataclasses
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from nasbench_tools.runner.experiment import Experiment, Grid, RunContext
from nasbench_tools.runner.options import existing_file, non_negative_int, positive_int

from .grid import COLUMNS, KEY_COLUMNS, PRESETS, RESULTS_NAME, SimulationConfig, make_tasks, run_task, task_weight

if TYPE_CHECKING:
    from nasbench_tools.datasets import DataStore

#: ``--compat``: the one non-default mode and what it does.
COMPAT_MODE = "original-code"
COMPAT_HELP = "reproduce the original experiments' behaviour (broken pairing, noise variant, reference point)"


def add_compat_option(parser: argparse.ArgumentParser) -> None:
    """``--compat original-code`` (``simulate run`` and ``simulate plan``)."""
    parser.add_argument("--compat", choices=[COMPAT_MODE], default=None, help=COMPAT_HELP)


class SelectionSimulation(Experiment[SimulationConfig]):
    """Monte-Carlo predictor-guided Pareto selection: one cell per dataset, subset size and std."""

    name = "simulate"
    summary = "simulate predictor-guided Pareto selection (MRA, hypervolume)"
    config_type = SimulationConfig
    #: Looked up in :data:`simulation.grid.PRESETS` when called (a replaced preset counts).
    presets = {name: partial(PRESETS.__getitem__, name) for name in PRESETS}
    default_preset = "quick"
    results_name = RESULTS_NAME
    task_noun = "cells"
    report_option_names = ("real",)

    def grids(self, config: SimulationConfig, ctx: RunContext) -> Iterator[Grid]:
        """One grid; its stored config is the config's fingerprint plus the checksums of the
        hardware and accuracy tables it pairs."""
        tasks = make_tasks(config, ctx.store)
        ids = sorted({i for t in tasks for i in (t.problem.hardware_id, t.problem.accuracy_id)})
        yield Grid(RESULTS_NAME, COLUMNS, KEY_COLUMNS, tasks, run_task, config.fingerprint(), data_ids=ids,
                   weight=task_weight, desc=f"simulate {config.name} ({config.mode})")

    def report(self, results: Path, report_dir: Path, store: "DataStore", **options: Any) -> list[Path]:
        """Every figure and table of :func:`simulation.report.write_report`."""
        from .report import write_report

        return write_report(results, report_dir, store=store, **options)

    # ------------------------------------------------------------------ command line
    @classmethod
    def add_run_options(cls, parser: argparse.ArgumentParser) -> None:
        add_compat_option(parser)
        parser.add_argument("--trials", type=positive_int, default=None, metavar="N",
                            help="override the preset's trials per cell")
        parser.add_argument("--seed", type=non_negative_int, default=None, help="override the preset's run seed")

    @classmethod
    def apply_run_options(cls, config: SimulationConfig, args: argparse.Namespace) -> SimulationConfig:
        overrides = {k: getattr(args, k) for k in ("trials", "seed") if getattr(args, k, None) is not None}
        if getattr(args, "compat", None):
            overrides["mode"] = args.compat
        return dataclasses.replace(config, **overrides) if overrides else config

    @classmethod
    def add_report_options(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--real", type=existing_file, default=None, metavar="FILE",
                            help="real.csv of 'simulate real' (real-predictor scores) for Figure A.7")
