"""The independent tasks of the miniature: one stand-alone training per ground-truth architecture
and seed, one super-network run per seed and split epoch (the baseline with its early stops).

Tasks are frozen dataclasses run by module-level functions, so they pickle to worker processes.
Each loads the images once per process (:func:`load_images`), trains with one torch thread, and
depends only on its own seeds: the rows do not depend on the executor.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import torch

from ..datasets.files import sha256_file
from ..errors import DataFileNotFoundError
from ..networks import build_standalone
from ..spaces import get_space
from ..utils.io import write_csv_atomic
from .config import TrainConfig
from .data import ImageData, Normalizer, fashion_mnist_files, load_data, read_fashion_mnist, shrink
from .evaluate import evaluate_checkpoint
from .miniature_config import ImageSettings, MiniatureConfig
from .standalone import accuracy, train_standalone
from .trainer import CHECKPOINT_NAME, check_same_config, load_checkpoint, pick_device, train_supernet

log = logging.getLogger(__name__)

#: Torch threads of one task (results then do not depend on the machine's core count).
TASK_THREADS = 1
#: ``split`` of the baseline run (never split), as in :class:`~.config.TrainConfig`.
BASELINE = -1
#: Folder of the per-run training logs and per-architecture evaluations, inside the output.
RUNS_DIR = "runs"
GT_COLUMNS = ("arch", "index", "seed", "accuracy", "final_train_loss", "train_s")
GT_KEY = ("index", "seed")
SUPERNET_COLUMNS = (
    "seed", "kind", "epoch", "train_s", "final_val_acc", "space", "split_epoch", "epochs_trained", "population",
    "bn_reset", "eval_time_s", "archs_per_s", "weight_sets", "extra_weight_sets", "n_evaluated", "kendall_tau",
    "kendall_tau_top50", "top1_truth", "top1_improvement", "top5_truth", "top5_improvement", "top10_truth",
    "top10_improvement", "population_mean_truth", "population_best_truth",
)
SUPERNET_KEY = ("seed", "split_epoch")
#: Dataset name recorded in the super-networks' checkpoints (as the first script did, so that
#: its checkpoints are re-evaluated, not retrained).
CHECKPOINT_DATA = "fashion-mnist"


def image_files(images: ImageSettings) -> dict[str, str]:
    """``{file name: sha256}`` of the image files a run reads (none for synthetic images)."""
    if images.data == "synthetic":
        return {}
    try:
        files = fashion_mnist_files(images.data_dir)
    except DataFileNotFoundError as exc:
        raise DataFileNotFoundError(f"images.data_dir (--image-dir): {exc}") from None
    return {p.name: sha256_file(p) for p in files}


@lru_cache(maxsize=1)
def load_images(images: ImageSettings) -> tuple[ImageData, torch.Tensor, torch.Tensor]:
    """Training/validation data and the ground truth's test images (cached per process)."""
    size = images.size
    if images.data == "synthetic":  # the same pipeline where Fashion-MNIST is not installed
        n_val = images.val_images
        full = load_data("synthetic", synthetic_size=images.train_images + n_val + images.test_images,
                         val_images=n_val + images.test_images)
        data = ImageData(full.name, shrink(full.train_x[:, :1], size), full.train_y,
                         shrink(full.val_x[:n_val, :1], size), full.val_y[:n_val], full.mean[:1], full.std[:1])
        return data, shrink(full.val_x[n_val:, :1], size), full.val_y[n_val:]
    data = load_data("fashion-mnist", images.data_dir, val_images=images.val_images, train_images=images.train_images)
    data = ImageData(data.name, shrink(data.train_x, size), data.train_y, shrink(data.val_x, size), data.val_y,
                     data.mean, data.std)
    tx, ty = read_fashion_mnist(images.data_dir, "test")
    test_x = shrink(torch.from_numpy(np.ascontiguousarray(tx[: images.test_images])), size)
    return data, test_x, torch.from_numpy(ty[: images.test_images])


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch threads (restored afterwards: serial runs share the process)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train_config(config: MiniatureConfig, **changes: object) -> TrainConfig:
    """The recipe of ``config`` as a :class:`TrainConfig` (epochs, seeds etc. in ``changes``)."""
    return TrainConfig(space="nb201", subset=config.subset, batch_size=config.batch, lr=config.lr,
                       crop_padding=config.crop_padding, channels=config.channels, skip_linear=config.skip_linear,
                       **changes)


def gt_architectures(config: MiniatureConfig) -> np.ndarray:
    """Canonical indices of the ground-truth architectures (all, or a seeded sample)."""
    space = get_space(config.space)
    if not config.archs or config.archs >= space.size:
        idx = np.arange(space.size)
    else:
        idx = np.sort(np.random.default_rng(config.arch_seed).choice(space.size, config.archs, replace=False))
    return idx[: config.gt_limit] if config.gt_limit else idx


@dataclass(frozen=True)
class GroundTruthTask:
    """Train architecture ``index`` stand-alone with ``seed``; its test accuracy is one row."""

    config: MiniatureConfig
    index: int
    seed: int

    @property
    def key(self) -> tuple[int, int]:
        return self.index, self.seed


def ground_truth_tasks(config: MiniatureConfig) -> list[GroundTruthTask]:
    """Every (seed, architecture) pair, seed by seed."""
    return [GroundTruthTask(config, int(i), s) for s in config.gt_seeds for i in gt_architectures(config)]


def run_ground_truth(task: GroundTruthTask) -> pd.DataFrame:
    """One stand-alone training (:data:`GT_COLUMNS`)."""
    config = task.config
    with _torch_threads(TASK_THREADS):
        data, test_x, test_y = load_images(config.images)
        space = get_space(config.space)
        row = space.arch(np.array([task.index]))[0]
        t0 = time.perf_counter()
        dev = pick_device(config.device)  # a one-line error where CUDA is missing
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(task.seed)
            net = build_standalone(config.space, row, channels=config.channels, in_channels=1,
                                   skip_linear=config.skip_linear).to(dev)
        losses = train_standalone(net, data, train_config(config, epochs=config.gt_epochs), seed=task.seed)
        acc = accuracy(net, test_x.to(dev), test_y.to(dev), Normalizer(data.mean, data.std, dev))
    result = {"arch": space.format(row[None])[0], "index": task.index, "seed": task.seed, "accuracy": 100.0 * acc,
              "final_train_loss": losses[-1], "train_s": time.perf_counter() - t0}
    log.info("ground truth %s seed %d: %.2f%%", result["arch"], task.seed, result["accuracy"])
    return pd.DataFrame([result], columns=list(GT_COLUMNS))


@dataclass(frozen=True)
class SupernetTask:
    """Train one super-network (the baseline if ``split`` is :data:`BASELINE`) in
    ``work/seed<S>_<kind>``, then evaluate it (and its early stops) on the ground truth."""

    config: MiniatureConfig
    seed: int
    split: int
    truth: str
    n_truth: int
    work: str
    out: str

    @property
    def key(self) -> tuple[int, int]:
        return self.seed, self.split

    @property
    def kind(self) -> str:
        return "baseline" if self.split == BASELINE else "split"

    @property
    def run_name(self) -> str:
        return f"seed{self.seed}_{self.kind}{'' if self.split == BASELINE else self.split}"


def supernet_tasks(config: MiniatureConfig, truth: Path, n_truth: int, work: Path, out: Path) -> list[SupernetTask]:
    """The baseline and every split run, seed by seed."""
    return [SupernetTask(config, seed, split, str(truth), n_truth, str(work), str(out))
            for seed in config.seeds for split in (BASELINE, *config.splits)]


def _train(task: SupernetTask, data: ImageData) -> pd.DataFrame:
    """The run's training log: a finished run found in the work folder is not retrained."""
    config = task.config
    cfg = train_config(config, epochs=config.epochs, split_epoch=task.split, data=CHECKPOINT_DATA, seed=task.seed,
                       val_images=config.images.val_images, train_images=config.images.train_images)
    run = Path(task.work) / task.run_name
    keep = _kept_epochs(task)
    ck_path = run / CHECKPOINT_NAME
    ck = load_checkpoint(ck_path) if ck_path.is_file() else None
    if ck is not None and ck["epoch"] == cfg.epochs and all((run / f"checkpoint_epoch{e}.pt").is_file() for e in keep):
        check_same_config(cfg, ck, ck_path)
        return pd.DataFrame(ck["log"])
    return train_supernet(cfg, run, data=data, keep_epochs=keep, device=config.device, resume=True).log


def _kept_epochs(task: SupernetTask) -> tuple[int, ...]:
    """Epochs whose checkpoints the baseline keeps for the early-stop ablation."""
    return tuple(task.config.splits) if task.split == BASELINE and task.config.early_stop else ()


def run_supernet(task: SupernetTask) -> pd.DataFrame:
    """Rows (:data:`SUPERNET_COLUMNS`) of the final super-network and of each early stop."""
    config = task.config
    runs = Path(task.out) / RUNS_DIR
    with _torch_threads(TASK_THREADS):
        data, _, _ = load_images(config.images)
        train_log = _train(task, data)
        write_csv_atomic(train_log, runs / f"{task.run_name}_train_log.csv")
        run = Path(task.work) / task.run_name
        evals = [(task.kind, task.split, run / CHECKPOINT_NAME)]
        evals += [("early_stop", e, run / f"checkpoint_epoch{e}.pt") for e in _kept_epochs(task)]
        rows = []
        for kind, epoch, path in evals:
            ev = evaluate_checkpoint(path, f"top:{task.n_truth}", truth_source=task.truth, data=data,
                                     device=config.device, batch_size=config.batch,
                                     calibration_batches=config.calib_batches, seed=task.seed,
                                     bn_reset=config.bn_reset)
            write_csv_atomic(ev.per_arch, runs / f"seed{task.seed}_{kind}{'' if epoch < 0 else epoch}_eval.csv")
            upto = train_log if kind != "early_stop" else train_log[train_log["epoch"] <= epoch]
            rows.append({"seed": task.seed, "kind": kind, "epoch": epoch, "train_s": float(upto["time_s"].sum()),
                         "final_val_acc": float(upto["val_acc"].iloc[-1]), **ev.summary.iloc[0].to_dict()})
            log.info("%s seed %d epoch %d: tau %.3f", kind, task.seed, epoch, rows[-1].get("kendall_tau", np.nan))
    return pd.DataFrame(rows).reindex(columns=list(SUPERNET_COLUMNS))
