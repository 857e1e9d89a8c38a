"""Source tables of a transfer predictor: which dataset IDs, the leakage guard, the matrix.

A source matrix has one row per architecture of a search space (canonical order) and one column
per source dataset; columns are kept only when complete (a transfer predictor must know every
source value of every architecture it predicts).  The *device* of a dataset ID decides leakage:
HW-NAS-Bench measured each device under three image datasets and up to three metrics, and all
of them are the same hardware, so a target's device removes every one of those columns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from nasbench_tools.errors import ParameterError

if TYPE_CHECKING:
    from nasbench_tools.datasets import DataStore

log = logging.getLogger(__name__)

#: Source presets by name: benchmark -> how its dataset IDs are listed.
SOURCE_PRESETS = ("hwnas", "transnas-micro")
#: Benchmarks whose metric names start with the device (``<device>_<metric>``).
_DEVICE_IN_METRIC = ("hwnas",)


def device_of(dataset_id: str) -> str:
    """The hardware (or task) a dataset ID was measured on, e.g. ``hwnas:edgegpu``.

    HW-NAS-Bench: the metric's prefix (``edgegpu_energy`` -> ``edgegpu``), whatever the image
    dataset; TransNAS-Bench-101 and custom tables: the task / table name.
    """
    parts = str(dataset_id).split("/")
    if len(parts) != 3:
        raise ParameterError(f"dataset ID {dataset_id!r} should have the form benchmark/dataset/metric")
    bench, dataset, metric = parts
    if bench in _DEVICE_IN_METRIC:
        return f"{bench}:{metric.split('_')[0]}"
    return f"{bench}:{dataset}"


def guard(source_ids: Sequence[str], target: str | None) -> tuple[str, ...]:
    """``source_ids`` without those measured on ``target``'s device (the leakage guard)."""
    if target is None:
        return tuple(source_ids)
    dev = device_of(target)
    kept = tuple(s for s in source_ids if device_of(s) != dev)
    dropped = len(source_ids) - len(kept)
    if dropped:
        log.debug("leakage guard: %d source column(s) of device %s dropped", dropped, dev)
    return kept


def guard_mask(source_ids: Sequence[str], target: str | None) -> np.ndarray:
    """Boolean mask over ``source_ids``: the columns the leakage guard keeps for ``target``."""
    kept = set(guard(source_ids, target))
    return np.array([s in kept for s in source_ids], dtype=bool)


def default_source_ids(store: "DataStore", spec: str) -> tuple[str, ...]:
    """Dataset IDs of a source preset (``hwnas``, ``transnas-micro``) or a comma-separated list.

    Only metrics that measure cost are used (no accuracies or losses).
    """
    from nasbench_tools.datasets import HWNAS_DATASETS, HWNAS_METRICS, TRANSNAS_TASKS

    if spec == "hwnas":
        return tuple(f"hwnas/{d}/{m}" for d in HWNAS_DATASETS for m in HWNAS_METRICS)
    if spec == "transnas-micro":
        return tuple(f"transnas-micro/{t}/inference_time" for t in TRANSNAS_TASKS)
    ids = tuple(s.strip() for s in str(spec).split(",") if s.strip())
    if not ids or any(s.count("/") != 2 for s in ids):
        raise ParameterError(
            f"sources {spec!r}: expected one of {', '.join(SOURCE_PRESETS)} or comma-separated dataset IDs "
            "benchmark/dataset/metric"
        )
    return ids


@dataclass(frozen=True)
class SourceMatrix:
    """Complete source columns of one search space: ``values[i, j]`` = source j of architecture i."""

    space: str
    names: tuple[str, ...]
    values: np.ndarray


def load_sources(store: "DataStore", source_ids: Sequence[str], target: str | None = None,
                 space: str | None = None) -> SourceMatrix:
    """Load ``source_ids`` (minus the target device's columns) into a :class:`SourceMatrix`.

    Columns with missing or non-positive values are dropped (logged); all must share one space.
    """
    kept = guard(source_ids, target)
    names, cols, space_name = [], [], space
    for sid in kept:
        ds = store.load(sid)
        if space_name is None:
            space_name = ds.space.name
        if ds.space.name != space_name:
            raise ParameterError(f"source {sid} is in space {ds.space.name}, expected {space_name}")
        vals = np.asarray(ds.values, dtype=np.float64)
        if not np.all(np.isfinite(vals)) or np.any(vals <= 0):
            log.info("source %s dropped: it has missing or non-positive values", sid)
            continue
        names.append(sid)
        cols.append(vals)
    if not cols:
        raise ParameterError(
            f"no usable source column among {list(source_ids)} after the leakage guard for target {target!r}"
        )
    return SourceMatrix(str(space_name), tuple(names), np.stack(cols, axis=1))
