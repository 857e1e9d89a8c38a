"""Evaluate every architecture of a population with a trained super-network.

Per architecture: restore the trained BatchNorm statistics (only these buffers change during
evaluation, so weights are never copied), recalibrate with 20 fixed training batches (forward
only; by default the running statistics are not reset, as in Appendix B.3; with ``bn_reset``
they start from zero and become the plain average over the calibration batches), then measure
validation accuracy.  Calibration and validation batches are normalised once and kept on the
device.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..datasets import DataStore
from ..errors import DataFormatError, PopulationError
from ..networks.base import SlotNetwork, bn_buffers, bn_modules
from ..spaces import SearchSpace, capability, get_space
from .config import TrainConfig
from .data import ImageData, Normalizer, augment, load_data
from .metrics import selection_metrics
from .trainer import load_checkpoint, model_from_checkpoint, pick_device

log = logging.getLogger(__name__)

#: Appendix B.3: BatchNorm recalibration batches per architecture.
CALIBRATION_BATCHES = 20


def ground_truth(space: SearchSpace, source: str, data_dir: str | Path | None = None, column: str = "accuracy") -> np.ndarray | None:
    """Ground-truth accuracy of every architecture of ``space`` (canonical order), or None.

    ``source``: ``benchmark`` (NB201 / NAS-Bench-Macro CIFAR-10 test accuracy), ``none``, or the
    path of a custom CSV with columns ``arch`` and ``column``.
    """
    if source == "none":
        return None
    if source == "benchmark":
        store = DataStore(data_dir)
        ds = store.load(capability(space, "ground_truth", "benchmark ground truth"))
    else:
        path = Path(source)
        if not path.is_file():
            raise DataFormatError(f"ground-truth file {path} not found; expected a CSV with columns 'arch' and {column!r}")
        store = DataStore(data_dir, custom={"supernet_truth": path})
        ds = store.load(f"custom/supernet_truth/{column}")
    values = np.full(space.size, np.nan)
    rows = space.enumerate()
    values[:] = ds.values[ds.space.index(rows)]
    return values


def population(space: SearchSpace, spec: str, truth: np.ndarray | None, seed: int) -> np.ndarray:
    """Canonical indices for ``random:N``, ``top:N`` (best N by ground truth) or ``all``."""
    kind, _, num = spec.partition(":")
    if kind == "all" and not num:
        return np.arange(space.size)
    try:
        n = int(num)
    except ValueError:
        raise PopulationError(f"population {spec!r}: expected random:N, top:N or all") from None
    if n < 1:
        raise PopulationError(f"population {spec!r}: N must be positive")
    n = min(n, space.size)
    if kind == "random":
        return np.sort(space.sample(n, np.random.default_rng(seed)))
    if kind == "top":
        if truth is None:
            raise PopulationError(f"population {spec!r} needs ground truth (not --ground-truth none)")
        return np.argsort(-np.nan_to_num(truth, nan=-np.inf), kind="stable")[:n]
    raise PopulationError(f"population {spec!r}: expected random:N, top:N or all")


class ArchEvaluator:
    """Accuracy of single architectures inside a trained super-network (batched on-device data)."""

    def __init__(self, model: SlotNetwork, data: ImageData, device: torch.device, batch_size: int = 256,
                 calibration_batches: int = CALIBRATION_BATCHES, seed: int = 0, channels_last: bool = False,
                 padding: int = 4, bn_reset: bool = False) -> None:
        self.model = model
        self.bn_reset = bn_reset
        self.bn_modules = bn_modules(model)
        self.device = device
        data = data.to(device)
        norm = Normalizer(data.mean, data.std, device, channels_last)
        gen = torch.Generator().manual_seed(seed)
        n = min(len(data.train_x), batch_size * calibration_batches)
        idx = torch.randperm(len(data.train_x), generator=gen)[:n].to(device)
        calib = norm(augment(data.train_x[idx], gen, padding))
        self.calib = [calib[i:i + batch_size] for i in range(0, n, batch_size)][:calibration_batches]
        val = norm(data.val_x)
        self.val = [(val[i:i + batch_size], data.val_y[i:i + batch_size]) for i in range(0, len(val), batch_size)]
        self.n_val = len(val)
        self.buffers = bn_buffers(model)
        self.trained = [b.clone() for b in self.buffers]

    @torch.no_grad()
    def accuracy(self, ops: np.ndarray) -> float:
        torch._foreach_copy_(self.buffers, self.trained)
        self.model.set_arch(ops)
        self.model.train()
        momenta = [m.momentum for m in self.bn_modules]
        if self.bn_reset:
            for m in self.bn_modules:
                m.reset_running_stats()
                m.momentum = None  # cumulative average over the calibration batches
        try:
            for x in self.calib:
                self.model(x)
        finally:
            for m, mom in zip(self.bn_modules, momenta):
                m.momentum = mom
        self.model.eval()
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        for x, y in self.val:
            correct += (self.model(x).argmax(1) == y).sum()
        return float(correct) / self.n_val

    def restore(self) -> None:
        torch._foreach_copy_(self.buffers, self.trained)


@dataclass
class EvalResult:
    per_arch: pd.DataFrame
    summary: pd.DataFrame


def evaluate_checkpoint(
    checkpoint: str | Path,
    population_spec: str = "random:1000",
    *,
    truth_source: str = "benchmark",
    truth_column: str = "accuracy",
    benchmark_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    device: str | None = None,
    batch_size: int = 256,
    calibration_batches: int = CALIBRATION_BATCHES,
    seed: int = 0,
    progress: bool = False,
    data: ImageData | None = None,
    bn_reset: bool = False,
) -> EvalResult:
    """Evaluate a population of architectures of a trained super-network against ground truth."""
    dev = pick_device(device)
    ck = load_checkpoint(checkpoint, map_location=dev)
    cfg: TrainConfig = ck["config"]
    space = get_space(cfg.space_name)
    truth = ground_truth(space, truth_source, benchmark_dir, truth_column)
    idx = population(space, population_spec, truth, seed)
    model = model_from_checkpoint(ck, dev)
    if data is None:
        ddir = data_dir if data_dir is not None else ck["data_meta"].get("data_dir")
        data = load_data(cfg.data, ddir, val_images=cfg.val_images, train_images=cfg.train_images,
                         synthetic_size=cfg.synthetic_size, seed=cfg.seed)
    ev = ArchEvaluator(model, data, dev, batch_size, calibration_batches, seed, padding=cfg.crop_padding,
                       bn_reset=bn_reset)
    rows = space.arch(idx)
    accs = np.empty(len(idx))
    t0 = time.perf_counter()
    iterator = range(len(idx))
    if progress:
        from tqdm import tqdm
        iterator = tqdm(iterator, desc="architectures", unit="arch")
    for i in iterator:
        accs[i] = ev.accuracy(rows[i])
    ev.restore()
    elapsed = time.perf_counter() - t0
    per_arch = pd.DataFrame({
        "index": idx, "arch": space.format(rows), "supernet_val_acc": accs,
        "ground_truth": truth[idx] if truth is not None else np.nan,
    })
    summary = {"space": cfg.space_name, "split_epoch": cfg.split_epoch, "epochs_trained": ck["epoch"],
               "seed": cfg.seed, "population": population_spec, "bn_reset": bn_reset, "eval_time_s": elapsed,
               "archs_per_s": len(idx) / elapsed if elapsed > 0 else float("nan"),
               **ck["weight_sets"]}
    if truth is not None:
        summary.update(selection_metrics(accs, truth[idx]))
    return EvalResult(per_arch, pd.DataFrame([summary]))
