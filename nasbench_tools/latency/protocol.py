"""The measurement protocol: warm-up, repeated synchronised timings, robust summary.

One code path for CPU and CUDA: the model runs in eval + inference mode on a fixed seeded
input; ``warmup`` untimed runs come first (allocator, caches, lazy kernel selection), then
``repeats`` runs each timed on its own with the device synchronised before and after (CUDA
launches are asynchronous; on CPU the synchronisation is a no-op).  The summary is the median
and the interquartile range, which a few interrupted runs (scheduler, page faults) cannot move;
runs outside Tukey's fences are counted as outliers and reported, not silently dropped.
"""

from __future__ import annotations

import gc
import time
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ..errors import DeviceUnavailableError

#: Defaults of the protocol (batch 1 as in the hardware benchmarks).
DEFAULT_BATCH_SIZE = 1
DEFAULT_WARMUP = 10
DEFAULT_REPEATS = 30
#: Tukey's fence factor for counting outlying runs.
OUTLIER_FENCE = 1.5
NS_PER_MS = 1e6


def available_devices() -> list[str]:
    """Devices torch can run on here (``cpu`` and ``cuda:i`` for every visible GPU)."""
    out = ["cpu"]
    if torch.cuda.is_available():
        out += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return out


def resolve_device(name: str) -> torch.device:
    """``name`` as a torch device, or a clear error listing the devices that are available."""
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise DeviceUnavailableError(
            f"unknown device {name!r}; available here: {', '.join(available_devices())}"
        ) from None
    if device.type == "cpu":
        return device
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(
                f"device {name!r} is not available (torch {torch.__version__} sees no CUDA GPU); "
                f"available here: {', '.join(available_devices())}"
            )
        index = 0 if device.index is None else device.index
        if index >= torch.cuda.device_count():
            raise DeviceUnavailableError(
                f"device {name!r} does not exist; available here: {', '.join(available_devices())}"
            )
        return torch.device("cuda", index)
    raise DeviceUnavailableError(
        f"device type {device.type!r} is not supported; available here: {', '.join(available_devices())}"
    )


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass(frozen=True)
class MeasureConfig:
    """What one measurement does: batch size, warm-up and timed runs, device, input seed."""

    batch_size: int = DEFAULT_BATCH_SIZE
    warmup: int = DEFAULT_WARMUP
    repeats: int = DEFAULT_REPEATS
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        for name, low in (("batch_size", 1), ("warmup", 0), ("repeats", 3)):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"MeasureConfig.{name} must be an integer >= {low}, got {value!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Measurement:
    """Summary of the timed runs of one model (milliseconds) and the raw times."""

    median_ms: float
    iqr_ms: float
    mean_ms: float
    min_ms: float
    repeats: int
    outliers: int
    wall_s: float
    times_ms: np.ndarray

    @property
    def cv(self) -> float:
        """Robust spread: IQR / 1.349 (the normal std) over the median."""
        return self.iqr_ms / 1.349 / self.median_ms if self.median_ms > 0 else float("nan")


def summarize(times_ms: Sequence[float], wall_s: float = float("nan")) -> Measurement:
    """Median, IQR, mean, minimum and the number of runs outside Tukey's fences."""
    t = np.asarray(times_ms, dtype=np.float64)
    q1, med, q3 = np.percentile(t, [25, 50, 75])
    iqr = q3 - q1
    outside = (t < q1 - OUTLIER_FENCE * iqr) | (t > q3 + OUTLIER_FENCE * iqr)
    return Measurement(float(med), float(iqr), float(t.mean()), float(t.min()), int(t.size), int(outside.sum()),
                       float(wall_s), t)


def make_input(shape: Sequence[int], device: torch.device, seed: int) -> torch.Tensor:
    """A seeded standard-normal input of ``shape`` on ``device``."""
    gen = torch.Generator().manual_seed(int(seed))
    return torch.randn(tuple(int(s) for s in shape), generator=gen).to(device)


def measure_module(module: nn.Module, input_shape: Sequence[int], config: MeasureConfig,
                   device: torch.device | None = None) -> Measurement:
    """Time ``module`` on a seeded input of ``(batch, *input_shape)`` following the protocol.

    ``input_shape`` excludes the batch dimension (e.g. ``(3, 32, 32)``).  Garbage collection is
    paused during the timed runs so that it cannot land inside one.
    """
    start = time.perf_counter()
    device = device or resolve_device(config.device)
    module = module.to(device).eval()
    x = make_input((config.batch_size, *input_shape), device, config.seed)
    times = np.empty(config.repeats)
    gc_was_enabled = gc.isenabled()
    with torch.inference_mode():
        for _ in range(config.warmup):
            module(x)
        synchronize(device)
        gc.disable()
        try:
            for i in range(config.repeats):
                synchronize(device)
                t0 = time.perf_counter_ns()
                module(x)
                synchronize(device)
                times[i] = (time.perf_counter_ns() - t0) / NS_PER_MS
        finally:
            if gc_was_enabled:
                gc.enable()
    return summarize(times, time.perf_counter() - start)
