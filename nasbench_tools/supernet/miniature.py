"""The self-contained Fashion-MNIST miniature of Chapter 6 as an experiment
(``nasbench-study supernet-miniature run --preset miniature-nozero --out DIR``).

1. Ground truth (``ground_truth_runs.csv``, one task per architecture and seed): architectures
   of an NB201 subset (all, or a seeded sample) trained stand-alone and measured on Fashion-MNIST
   test images; ``ground_truth.csv`` holds each seed's accuracy and their mean.
2. Super-networks (``supernets.csv``, one task per seed and split epoch): the baseline trained
   without splitting (optionally evaluated also at the split epochs: early stopping, Figure 6.6)
   and one run split at each epoch; each evaluates the ground-truth architectures on held-out
   validation images (BatchNorm recalibration per architecture) and is scored against the
   ground truth: Kendall's tau, top-1/5/10 mean ground truth and improvement value.
3. Report: ``summary.csv``, ``ground_truth_repeatability.json`` and ``improvement.png``.

Checkpoints go to ``work_dir`` (default: a temporary folder); a finished run found there is
evaluated again, not retrained. The results fingerprint holds the sha256 of the image files
read and of a given ground-truth file, so a resumed run refuses data that changed under it.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from ..datasets.files import sha256_file
from ..errors import DataFileNotFoundError
from ..runner.experiment import Experiment, Grid, RunContext
from ..runner.options import existing_dir, out_dir
from .miniature_config import PRESETS, MiniatureConfig
from .miniature_report import GT_RUNS_NAME, SUPERNETS_NAME, read_table, write_ground_truth, write_report
from .miniature_tasks import (GT_COLUMNS, GT_KEY, SUPERNET_COLUMNS, SUPERNET_KEY, ground_truth_tasks, image_files,
                              run_ground_truth, run_supernet, supernet_tasks)

if TYPE_CHECKING:
    from ..datasets import DataStore

#: Config field holding the checksums of the image files (and a given ground truth) a run reads.
INPUTS_FIELD = "input_files"


def run_inputs(config: MiniatureConfig) -> dict[str, Any]:
    """What the results files store: the config's fingerprint plus the sha256 of its inputs."""
    inputs = {"images": image_files(config.images)}
    if config.ground_truth is not None:
        path = Path(config.ground_truth)
        if not path.is_file():
            raise DataFileNotFoundError(f"ground_truth: {path} is not a file; expected a CSV with columns "
                                        "'arch' and 'accuracy' (paths are relative to the working folder)")
        inputs["ground_truth"] = sha256_file(path)
    return {**config.fingerprint(), INPUTS_FIELD: inputs}


class SupernetMiniature(Experiment[MiniatureConfig]):
    """Ground truth, super-networks with and without splitting, and their comparison."""

    name = "supernet-miniature"
    summary = "Fashion-MNIST miniature of Chapter 6: stand-alone ground truth vs split super-networks"
    config_type = MiniatureConfig
    presets = PRESETS
    timing_columns = ("train_s", "eval_time_s", "archs_per_s")
    results_name = SUPERNETS_NAME
    task_noun = "trainings"

    def grids(self, config: MiniatureConfig, ctx: RunContext) -> Iterator[Grid]:
        fingerprint = run_inputs(config)
        if config.ground_truth is None:
            yield Grid(GT_RUNS_NAME, GT_COLUMNS, GT_KEY, ground_truth_tasks(config), run_ground_truth, fingerprint,
                       desc="ground truth")
            truth = write_ground_truth(ctx.out)
        else:
            truth = Path(config.ground_truth)
        if not config.seeds:
            return
        work = Path(config.work_dir) if config.work_dir else Path(tempfile.mkdtemp(prefix="miniature-"))
        try:
            tasks = supernet_tasks(config, truth.resolve(), len(read_table(truth)), work.resolve(), ctx.out.resolve())
            yield Grid(SUPERNETS_NAME, SUPERNET_COLUMNS, SUPERNET_KEY, tasks, run_supernet, fingerprint,
                       desc="super-networks")
        finally:
            if not config.work_dir:
                shutil.rmtree(work, ignore_errors=True)

    def report(self, results: Path, report_dir: Path, store: "DataStore", **options: Any) -> list[Path]:
        """``summary.csv``, ``ground_truth_repeatability.json`` and ``improvement.png``."""
        return write_report(results, report_dir)

    @classmethod
    def add_run_options(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--image-dir", type=existing_dir, default=None, metavar="DIR",
                            help="folder of the Fashion-MNIST idx(.gz) files (overrides the config's images.data_dir)")
        parser.add_argument("--work", type=out_dir, default=None, metavar="DIR",
                            help="checkpoint folder (default: a temporary folder); finished runs found there are "
                                 "evaluated again, not retrained")
        parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (with CUDA keep --jobs 1)")

    @classmethod
    def apply_run_options(cls, config: MiniatureConfig, args: argparse.Namespace) -> MiniatureConfig:
        changes: dict[str, Any] = {}
        if getattr(args, "image_dir", None) is not None:
            changes["images"] = config.images.replace(data_dir=str(args.image_dir))
        if getattr(args, "work", None) is not None:
            changes["work_dir"] = str(args.work)
        if getattr(args, "device", None) is not None:
            changes["device"] = args.device
        return config.replace(**changes) if changes else config
