"""Single-path one-shot super-network training with optional weight splitting.

One uniformly sampled architecture per batch (all normal cells share it), SGD with cosine
learning rate per epoch, weight decay not on BatchNorm.  At ``split_epoch`` every candidate op
is split into its conditional weight sets (copies of weights, BatchNorm statistics and
momentum buffers) and the optimizer is rebuilt so each set trains separately.  A checkpoint
holding model, optimizer, scaler and every RNG state is written atomically after each epoch, so
``resume=True`` continues a killed run exactly.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import CheckpointError, RunExistsError
from ..runner.lock import OutputLock
from ..utils.versions import library_versions, warn_if_versions_differ
from ..networks.base import SlotNetwork
from ..spaces import get_space
from ..utils.io import write_csv_atomic
from .config import ConfigError, TrainConfig
from .data import ImageData, Normalizer, load_data, n_train_batches, train_batches

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
LOG_NAME = "train_log.csv"
CHECKPOINT_FORMAT = 1
_SET_NAME = re.compile(r"\.sets\.\d+\.")


def cosine_lr(cfg: TrainConfig, epoch: int) -> float:
    """Table B.4: cosine decay from ``lr`` to ``lr_min`` over the epochs (per-epoch steps)."""
    return cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1.0 + math.cos(math.pi * epoch / cfg.epochs))


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: BatchNorm parameters without weight decay, everything else with it."""
    bn_ids = {
        id(p) for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) for p in m.parameters(recurse=False)
    }
    params = list(model.parameters())
    return [
        {"params": [p for p in params if id(p) not in bn_ids], "weight_decay": weight_decay},
        {"params": [p for p in params if id(p) in bn_ids], "weight_decay": 0.0},
    ]


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.SGD:
    return torch.optim.SGD(param_groups(model, cfg.weight_decay), lr=cfg.lr, momentum=cfg.momentum)


def split_with_optimizer(model: SlotNetwork, opt: torch.optim.SGD, cfg: TrainConfig) -> torch.optim.SGD:
    """Split the model's weights and return a new optimizer whose state (momentum) is copied
    from each set's origin, so every set continues from the shared weights' trajectory."""
    old_state = {name: opt.state.get(p, {}) for name, p in model.named_parameters()}
    model.split()
    new_opt = make_optimizer(model, cfg)
    for g_new, g_old in zip(new_opt.param_groups, opt.param_groups):
        g_new["lr"] = g_old["lr"]
    for name, p in model.named_parameters():
        origin = _SET_NAME.sub(".sets.0.", name)
        st = old_state.get(name) or old_state.get(origin) or {}
        if st:
            new_opt.state[p] = {k: (v.clone() if torch.is_tensor(v) else v) for k, v in st.items()}
    return new_opt


def _rng_state(arch_rng: np.random.Generator, data_gen: torch.Generator) -> dict:
    state = {
        "numpy_arch": json.dumps(arch_rng.bit_generator.state),
        "torch_data": data_gen.get_state(),
        "torch_global": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["torch_cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict, arch_rng: np.random.Generator, data_gen: torch.Generator) -> None:
    arch_rng.bit_generator.state = json.loads(state["numpy_arch"])
    data_gen.set_state(state["torch_data"])
    torch.set_rng_state(state["torch_global"])
    if "torch_cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["torch_cuda"])


def save_checkpoint(path: Path, cfg: TrainConfig, model: SlotNetwork, opt: torch.optim.Optimizer,
                    scaler: torch.amp.GradScaler, epoch: int, log_rows: list[dict], rng: dict,
                    data_meta: dict) -> None:
    """Atomic write (temp file + os.replace) of everything needed to continue the run."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "config": cfg.to_json(),
        "epoch": epoch,
        "is_split": model.is_split,
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "scaler": scaler.state_dict(),
        "rng": rng,
        "log": json.dumps(log_rows),
        "data_meta": json.dumps(data_meta),
        "weight_sets": json.dumps(model.weight_set_counts()),
        "versions": json.dumps(library_versions()),
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (tensors only; no code is unpickled)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found")
    try:
        ck = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a corrupt file
        raise CheckpointError(f"{path}: not a readable super-network checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT or "config" not in ck:
        raise CheckpointError(f"{path}: not a super-network checkpoint of format {CHECKPOINT_FORMAT}")
    try:
        ck["config"] = TrainConfig.from_json(ck["config"])
        ck["log"] = json.loads(ck["log"])
        ck["data_meta"] = json.loads(ck["data_meta"])
        ck["weight_sets"] = json.loads(ck["weight_sets"])
        ck["versions"] = json.loads(ck["versions"]) if "versions" in ck else None
        int(ck["epoch"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: malformed super-network checkpoint ({type(exc).__name__}: {exc})") from None
    return ck


def check_same_config(cfg: TrainConfig, ck: dict, path: str | Path) -> None:
    """Refuse a checkpoint written with another configuration, naming the differing options."""
    diff = cfg.differences(ck["config"])
    if diff:
        raise CheckpointError(f"{path} was written by a different configuration: " + "; ".join(diff)
                              + ". Pass --overwrite to delete it and start again, or choose another --out")


def model_from_checkpoint(ck: dict, device: torch.device | str = "cpu") -> SlotNetwork:
    """Rebuild the (possibly split) network of a loaded checkpoint and load its weights."""
    cfg: TrainConfig = ck["config"]
    meta = ck["data_meta"]
    model = cfg.build_network(meta["in_channels"], meta["num_classes"])
    if ck["is_split"]:
        model.split()
    model.load_state_dict(ck["model"])
    return model.to(device)


def pick_device(name: str | None) -> torch.device:
    """``cuda`` when available unless a device is named; unknown/unavailable names are errors."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} requested but CUDA is not available; available: cpu")
    if name not in ("cpu",) and not name.startswith("cuda"):
        raise ConfigError(f"unknown device {name!r}; expected cpu, cuda, cuda:N or auto")
    return torch.device(name)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@dataclass
class TrainResult:
    model: SlotNetwork
    log: pd.DataFrame
    checkpoint: Path
    weight_sets: dict[str, int]


def evaluate_sampled(model: SlotNetwork, data: ImageData, norm: Normalizer, arch_rng: np.random.Generator,
                     archs: np.ndarray, batch_size: int) -> tuple[float, float]:
    """Validation loss/accuracy with one uniformly sampled architecture per batch (no BN recalibration)."""
    model.eval()
    loss_sum = torch.zeros((), device=data.val_x.device)
    correct = torch.zeros((), device=data.val_x.device)
    with torch.no_grad():
        for start in range(0, len(data.val_x), batch_size):
            model.set_arch(archs[arch_rng.integers(len(archs))])
            x = norm(data.val_x[start:start + batch_size])
            y = data.val_y[start:start + batch_size]
            out = model(x).float()
            loss_sum += F.cross_entropy(out, y, reduction="sum")
            correct += (out.argmax(1) == y).sum()
    n = len(data.val_x)
    return float(loss_sum) / n, float(correct) / n


def train_supernet(
    cfg: TrainConfig,
    out_dir: str | Path,
    *,
    data_dir: str | Path | None = None,
    device: str | None = None,
    resume: bool = True,
    overwrite: bool = False,
    keep_epochs: tuple[int, ...] = (),
    progress: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
    data: ImageData | None = None,
) -> TrainResult:
    """Train a super-network as configured; checkpoint every epoch in ``out_dir``.

    A folder holding a checkpoint is never silently restarted: ``resume`` continues it when its
    configuration is the same (a finished run is returned unchanged), another configuration is
    refused with the checkpoint untouched, ``resume=False`` refuses any existing run, and
    ``overwrite`` deletes the run's files and starts again. The folder is locked while training.
    ``keep_epochs``: also keep a copy of the checkpoint after these epochs (early-stopping
    ablation).  ``on_batch(epoch, batch)`` is called before every step (tests use it to kill a run).
    """
    cfg.validate()
    out = Path(out_dir)
    with OutputLock(out):
        return _train_locked(cfg, out, data_dir=data_dir, device=device, resume=resume, overwrite=overwrite,
                             keep_epochs=keep_epochs, progress=progress, on_batch=on_batch, data=data)


def _run_files(out: Path) -> list[Path]:
    """The files a training run writes into its folder."""
    return [out / CHECKPOINT_NAME, out / LOG_NAME, *sorted(out.glob("checkpoint_epoch*.pt"))]


def _existing_run(cfg: TrainConfig, out: Path, resume: bool, overwrite: bool) -> dict | None:
    """The checkpoint to continue, or None to start afresh (after ``overwrite`` deleted the run)."""
    ck_path = out / CHECKPOINT_NAME
    if overwrite:
        for p in _run_files(out):
            if p.exists():
                p.unlink()
                log.info("removed %s (--overwrite)", p)
        return None
    if not ck_path.exists():
        return None
    if not resume:
        raise RunExistsError(f"{out} already holds a training run ({ck_path.name}); resume it (the default), "
                             "pass --overwrite to delete it and start again, or choose another --out")
    ck = load_checkpoint(ck_path)
    check_same_config(cfg, ck, ck_path)
    warn_if_versions_differ(ck.get("versions"), str(ck_path))
    return ck


def _train_locked(cfg: TrainConfig, out: Path, *, data_dir: str | Path | None, device: str | None, resume: bool,
                  overwrite: bool, keep_epochs: tuple[int, ...], progress: bool,
                  on_batch: Callable[[int, int], None] | None, data: ImageData | None) -> TrainResult:
    """:func:`train_supernet` with the folder locked."""
    ck_path = out / CHECKPOINT_NAME
    ck = _existing_run(cfg, out, resume, overwrite)
    if ck is not None and int(ck["epoch"]) >= cfg.epochs:  # finished: nothing is rewritten
        log.info("%s already holds all %d epochs; nothing to train", ck_path, cfg.epochs)
        model = model_from_checkpoint(ck)
        return TrainResult(model, pd.DataFrame(ck["log"]), ck_path, model.weight_set_counts())
    dev = pick_device(device)
    if cfg.amp and dev.type != "cuda":
        log.warning("--amp needs a CUDA device; training in float32 on %s", dev)
    use_amp = cfg.amp and dev.type == "cuda"
    channels_last = cfg.channels_last and dev.type == "cuda"

    if data is None:
        data = load_data(cfg.data, data_dir, val_images=cfg.val_images, train_images=cfg.train_images,
                         synthetic_size=cfg.synthetic_size, seed=cfg.seed)
    data = data.to(dev)
    data_meta = {"in_channels": data.in_channels, "num_classes": data.num_classes, "name": data.name,
                 "data_dir": None if data_dir is None else str(data_dir), "mean": data.mean, "std": data.std}
    norm = Normalizer(data.mean, data.std, dev, channels_last)
    archs = get_space(cfg.space_name).enumerate()

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = cfg.build_network(data.in_channels, data.num_classes)
    arch_rng = np.random.default_rng(cfg.seed)
    data_gen = torch.Generator().manual_seed(cfg.seed)
    start_epoch, log_rows = 0, []
    if ck is not None:
        if ck["is_split"]:
            model.split()
        model.load_state_dict(ck["model"])
        start_epoch, log_rows = int(ck["epoch"]), list(ck["log"])
        log.info("resuming %s after epoch %d", ck_path, start_epoch)
    model.to(dev)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    opt = make_optimizer(model, cfg)
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    if ck is not None:
        opt.load_state_dict(ck["optimizer"])
        scaler.load_state_dict(ck["scaler"])
        _set_rng_state(ck["rng"], arch_rng, data_gen)

    n_batches = n_train_batches(data, cfg.batch_size)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=cfg.epochs, initial=start_epoch, desc="epochs", unit="ep")
    for epoch in range(start_epoch, cfg.epochs):
        if cfg.is_split_run and epoch == cfg.split_epoch and not model.is_split:
            opt = split_with_optimizer(model, opt, cfg)
            log.info("split weights at epoch %d: %s", epoch, model.weight_set_counts())
        lr = cosine_lr(cfg, epoch)
        for g in opt.param_groups:
            g["lr"] = lr
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(dev)
        t0 = time.perf_counter()
        model.train()
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros((), device=dev)
        seen = 0
        for b, (x, y) in enumerate(train_batches(data, cfg.batch_size, data_gen, padding=cfg.crop_padding)):
            if on_batch is not None:
                on_batch(epoch, b)
            model.set_arch(archs[arch_rng.integers(len(archs))])
            with torch.autocast(dev.type, enabled=use_amp):
                logits = model(norm(x))
                loss = F.cross_entropy(logits.float(), y)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            loss_sum += loss.detach() * len(y)
            correct += (logits.detach().argmax(1) == y).sum()
            seen += len(y)
        val_loss, val_acc = evaluate_sampled(model, data, norm, arch_rng, archs, cfg.batch_size)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        elapsed = time.perf_counter() - t0
        counts = model.weight_set_counts()
        log_rows.append({
            "epoch": epoch + 1, "lr": lr, "train_loss": float(loss_sum) / seen, "train_acc": float(correct) / seen,
            "val_loss": val_loss, "val_acc": val_acc, "time_s": elapsed, "batches": n_batches,
            "peak_gpu_mb": torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == "cuda" else float("nan"),
            "peak_rss_mb": _peak_rss_mb(), "split": model.is_split, **counts,
        })
        save_checkpoint(ck_path, cfg, model, opt, scaler, epoch + 1, log_rows, _rng_state(arch_rng, data_gen), data_meta)
        if epoch + 1 in keep_epochs:
            save_checkpoint(out / f"checkpoint_epoch{epoch + 1}.pt", cfg, model, opt, scaler, epoch + 1, log_rows,
                            _rng_state(arch_rng, data_gen), data_meta)
        write_csv_atomic(pd.DataFrame(log_rows), out / LOG_NAME)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{log_rows[-1]['train_loss']:.3f}", val_acc=f"{val_acc:.3f}")
        log.info("epoch %d: %s", epoch + 1, log_rows[-1])
    if bar is not None:
        bar.close()
    return TrainResult(model, pd.DataFrame(log_rows), ck_path, model.weight_set_counts())
