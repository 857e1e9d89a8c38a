"""The predictor study as an experiment of the shared contract
(:mod:`nasbench_tools.runner.experiment`): one grid of fits into ``results.csv``, the report of
Section 5.5 and Appendix A, and the study's own command-line options (``--n-seeds``,
``--drop-dev-std``)."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from ..errors import NasbenchError
from ..runner.experiment import Experiment, Grid, RunContext
from ..runner.options import positive_float, positive_int
from .runner import COLUMNS, KEY_COLUMNS, RESULTS_NAME, TIMING_COLUMNS, build_tasks, run_task, task_weight
from .spec import PRESETS, StudySpec, preset

if TYPE_CHECKING:
    from ..datasets import DataStore

log = logging.getLogger(__name__)

#: The preset that falls back to the TransNAS-Bench-101 micro space without the official macro file.
PAPER_TRANSNAS = "paper-transnas"
#: The space the official file provides, and the one of the fallback.
TRANSNAS_OFFICIAL_SPACE = "transnas-macro"
TRANSNAS_FALLBACK_SPACE = "transnas-micro"


class PredictorStudy(Experiment[StudySpec]):
    """Datasets x predictors x seeds x training sizes: one fit and evaluation per task."""

    name = "study"
    summary = "the predictor study: run the grid, write the report"
    config_type = StudySpec
    presets = PRESETS
    timing_columns = TIMING_COLUMNS
    results_name = RESULTS_NAME
    task_noun = "fits"
    report_option_names = ("drop_dev_std",)

    def grids(self, config: StudySpec, ctx: RunContext) -> Iterator[Grid]:
        """One grid; its stored config is the spec's fingerprint plus the checksums of the
        datasets and of the transfer predictors' source tables."""
        tasks = build_tasks(config, ctx.store, int(ctx.options.get("threads", 1)))
        sources = {name for task in tasks for name in task.source_names}
        yield Grid(RESULTS_NAME, COLUMNS, KEY_COLUMNS, tasks, run_task, config.fingerprint(),
                   data_ids=sorted(set(config.datasets) | sources), weight=task_weight, desc=f"study {config.name}")

    def report(self, results: Path, report_dir: Path, store: "DataStore", **options: Any) -> list[Path]:
        """Every table and figure of :func:`~nasbench_tools.study.report.write_report`."""
        from .report import write_report

        return write_report(results, report_dir, store=store, **options)

    def resolve(self, config: StudySpec, store: "DataStore") -> StudySpec:
        """``paper-transnas`` runs on the micro space when the official macro file is missing
        (renamed and described as such; other fields, e.g. ``--n-seeds``, are kept)."""
        if config.name != PAPER_TRANSNAS or not any(d.startswith(f"{TRANSNAS_OFFICIAL_SPACE}/") for d in config.datasets):
            return config
        try:
            store.table(TRANSNAS_OFFICIAL_SPACE)
            return config
        except NasbenchError as exc:
            log.warning("%s: %s; running the same study on the %s space", PAPER_TRANSNAS,
                        str(exc).splitlines()[0], TRANSNAS_FALLBACK_SPACE)
        fallback = preset(PAPER_TRANSNAS, space=TRANSNAS_FALLBACK_SPACE)
        datasets = tuple(d.replace(f"{TRANSNAS_OFFICIAL_SPACE}/", f"{TRANSNAS_FALLBACK_SPACE}/", 1)
                         for d in config.datasets)
        return dataclasses.replace(config, name=fallback.name, datasets=datasets, description=fallback.description)

    # ------------------------------------------------------------------ command line
    @classmethod
    def add_run_options(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--n-seeds", type=positive_int, default=None, metavar="N",
                            help="override the study's seeds with 0..N-1")

    @classmethod
    def apply_run_options(cls, config: StudySpec, args: argparse.Namespace) -> StudySpec:
        if getattr(args, "n_seeds", None) is None:
            return config
        return dataclasses.replace(config, seeds=tuple(range(args.n_seeds)))

    @classmethod
    def add_report_options(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--drop-dev-std", type=positive_float, default=None, metavar="X",
                            help="leave out fits whose deviation std exceeds X (the original plots used 2)")
