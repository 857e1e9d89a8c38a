"""The environment a measurement ran in, recorded next to every result row."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Sequence

import torch

CPUINFO = Path("/proc/cpuinfo")


def cpu_name() -> str:
    """The CPU model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``)."""
    try:
        for line in CPUINFO.read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def cpu_affinity() -> str:
    """The CPUs this process may run on, e.g. ``"1"`` or ``"0-3"`` (``"n/a"`` where unknown)."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return "n/a"
    parts, start = [], None
    for i, c in enumerate(cpus):
        if start is None:
            start = c
        if i + 1 == len(cpus) or cpus[i + 1] != c + 1:
            parts.append(str(start) if start == c else f"{start}-{c}")
            start = None
    return ";".join(parts)


def set_cpu_affinity(cpus: Sequence[int]) -> None:
    """Pin this process to ``cpus`` (Linux); a clear error where that is impossible."""
    try:
        os.sched_setaffinity(0, {int(c) for c in cpus})
    except AttributeError:
        raise OSError("CPU pinning needs os.sched_setaffinity (Linux)") from None
    except OSError as exc:
        raise OSError(f"cannot pin to CPUs {list(cpus)}: {exc}") from None


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return cpu_name()


def environment(device: torch.device, input_shape: Sequence[int], batch_size: int) -> dict[str, object]:
    """Device, its name, torch version, intra-op threads, CPU affinity, input shape, batch size."""
    return {
        "device": str(device),
        "device_name": device_name(device),
        "torch_version": torch.__version__,
        "threads": int(torch.get_num_threads()),
        "cpu_affinity": cpu_affinity(),
        "input_shape": "x".join(str(int(s)) for s in (batch_size, *input_shape)),
        "batch_size": int(batch_size),
    }
