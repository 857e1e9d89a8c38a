"""Measure architectures into a resumable latency table in the ``custom/`` format.

The table has the custom-table columns (``arch``, ``space``, numeric metrics such as
``latency_ms``) plus the environment of the run, so that it loads as
``custom/<name>/latency_ms`` without conversion.  Rows are appended through
:class:`~nasbench_tools.runner.results.ResultsFile` (one fsynced write per architecture and a
journal), so an interrupted measurement keeps every finished row and a restart skips them; a
restart under a different configuration or environment (device, threads, input, torch) is
refused, naming what differs, so one table never mixes two set-ups.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from ..errors import NasbenchError
from ..networks.evaluation import InputSizeError, check_input_size, evaluation_network, family, parameter_count
from ..runner.results import ResultsFile
from ..spaces import get_space
from .environment import environment
from .protocol import MeasureConfig, measure_module, resolve_device

log = logging.getLogger(__name__)

#: Columns of a latency table, in order (custom format: ``arch``, ``space``, then values).
COLUMNS = (
    "arch", "space", "latency_ms", "latency_iqr_ms", "repeats", "latency_mean_ms", "latency_min_ms",
    "outliers", "params", "measure_s", "dataset", "device", "device_name", "torch_version", "threads",
    "cpu_affinity", "input_shape", "batch_size", "warmup",
)
KEY_COLUMNS = ("arch",)


@dataclass(frozen=True)
class TableSpec:
    """What a latency table holds: space, dataset head, input resolution and the protocol."""

    space: str
    measure: MeasureConfig
    input_size: tuple[int, int] | None = None
    dataset: str | None = None

    def resolved_input_size(self) -> tuple[int, int]:
        size = self.input_size or family(self.space).input_size(self.dataset)
        return check_input_size(self.space, size)

    def input_shape(self) -> tuple[int, int, int]:
        return (3, *self.resolved_input_size())


@dataclass(frozen=True)
class MeasureSummary:
    path: Path
    measured: int
    skipped: int
    total: int


def arch_strings(space_name: str, ops: np.ndarray) -> list[str]:
    """Architecture strings in the style the space declares for tables (its benchmark's names)."""
    space = get_space(space_name)
    return space.format(ops, space.capabilities.table_style)


def check_network_input(spec: TableSpec, ops: Sequence[int]) -> None:
    """Run one architecture's network once on a meta input so a bad resolution fails before any timing."""
    shape = spec.input_shape()
    with torch.device("meta"):
        net = evaluation_network(spec.space, ops, dataset=spec.dataset)
        try:
            net.eval()(torch.empty((1, *shape)))
        except RuntimeError as exc:
            raise InputSizeError(
                f"space {spec.space}: the network of {arch_strings(spec.space, np.asarray([ops]))[0]} cannot take "
                f"input {shape[1]}x{shape[2]} ({str(exc).splitlines()[0]})"
            ) from None


def measure_architecture(spec: TableSpec, ops: Sequence[int], device: torch.device) -> dict[str, object]:
    """Build the evaluation network of ``ops``, measure it, and return its table row."""
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[]):  # seeded weights, caller's RNG state untouched
        torch.manual_seed(spec.measure.seed)
        net = evaluation_network(spec.space, ops, dataset=spec.dataset)
    m = measure_module(net, spec.input_shape(), spec.measure, device)
    row = {
        "arch": arch_strings(spec.space, np.asarray([ops]))[0], "space": spec.space,
        "latency_ms": m.median_ms, "latency_iqr_ms": m.iqr_ms, "repeats": m.repeats,
        "latency_mean_ms": m.mean_ms, "latency_min_ms": m.min_ms, "outliers": m.outliers,
        "params": parameter_count(net), "measure_s": time.perf_counter() - t0,
        "dataset": spec.dataset or family(spec.space).default_dataset or "",
        "warmup": spec.measure.warmup,
    }
    row.update(environment(device, spec.input_shape(), spec.measure.batch_size))
    return row


def run_config(spec: TableSpec, device: torch.device) -> dict[str, object]:
    """Everything that must match for rows to belong in one table (checked on resume)."""
    env = environment(device, spec.input_shape(), spec.measure.batch_size)
    return {"space": spec.space, "dataset": spec.dataset, "input_shape": env["input_shape"],
            "measure": spec.measure.to_dict(), **{k: env[k] for k in
                                                  ("device", "device_name", "torch_version", "threads", "cpu_affinity")}}


def measure_table(spec: TableSpec, ops: np.ndarray, out: str | Path, *, resume: bool = True,
                  overwrite: bool = False, progress: bool = True) -> MeasureSummary:
    """Measure every architecture of ``ops`` not yet in ``out``; rows end in ``ops`` order.

    ``resume`` continues a table of the same set-up (another set-up is refused, naming what
    differs); ``resume=False`` refuses an existing table; ``overwrite`` deletes it first. The
    table's folder is locked against a second writer while measuring.
    """
    space = get_space(spec.space)
    ops = space.validate(ops)
    if len(ops) == 0:
        raise NasbenchError("no architectures to measure")
    device = resolve_device(spec.measure.device)
    check_network_input(spec, ops[0])
    results = ResultsFile(out, COLUMNS, KEY_COLUMNS, run_config(spec, device))
    done = {k[0] for k in results.open(resume=resume, overwrite=overwrite)}
    try:
        names = arch_strings(spec.space, ops)
        todo = [i for i, n in enumerate(names) if n not in done]
        log.info("%s: %d of %d architectures already measured", out, len(names) - len(todo), len(names))
        for i in tqdm(todo, desc=f"latency {spec.space}", unit="arch", disable=not progress):
            row = measure_architecture(spec, ops[i], device)
            results.append((row["arch"],), pd.DataFrame([row], columns=list(COLUMNS)))
        results.finalize([(n,) for n in names])
    finally:
        results.close()
    return MeasureSummary(Path(out), len(todo), len(names) - len(todo), len(names))
