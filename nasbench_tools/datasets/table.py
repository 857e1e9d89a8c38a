"""In-memory results of the loaders: one table per benchmark, one vector per dataset."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from ..errors import DataFormatError
from ..spaces import SearchSpace

#: Units of known metrics (by the metric part of a dataset ID).
METRIC_UNITS = {
    "latency": "ms",
    "energy": "mJ",
    "arithmetic_intensity": "FLOPs/byte",
    "test_accuracy": "%",
    "params": "parameters",
    "flops": "FLOPs",
    "inference_time": "ms",
    "test_loss": "loss",
    "latency_ms": "ms",
}


#: Largest magnitude accepted in a table: beyond it the squares in a mean/std overflow float64
#: (sqrt(1.8e308) ~ 1.3e154), so standardisation and every error metric would be inf or NaN.
MAX_ABS_VALUE = 1e150


def check_values(values: np.ndarray, where: str, column: str, row_label: Callable[[int], str]) -> None:
    """Refuse infinite or overflowing values (NaN means missing and is allowed), naming the
    file (``where``), the row (``row_label(i)`` of the first bad position ``i``) and the column."""
    vals = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = np.isinf(vals) | (np.abs(vals) > MAX_ABS_VALUE)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataFormatError(
            f"{where}: {row_label(i)} column {column!r} holds {float(vals[i])!r}; expected a finite number of "
            f"magnitude <= {MAX_ABS_VALUE:g} (or an empty cell for a missing value)"
        )


def metric_unit(metric: str) -> str:
    for key, unit in METRIC_UNITS.items():
        if metric == key or metric.endswith("_" + key):
            return unit
    return ""


@dataclass(frozen=True)
class BenchmarkTable:
    """A benchmark in canonical form: one row per architecture of ``space`` (canonical order),
    one column per ``dataset/metric``; missing values are NaN."""

    benchmark: str
    space: SearchSpace
    values: pd.DataFrame
    sources: tuple[str, ...] = ()
    extra: pd.DataFrame | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if len(self.values) != self.space.size:
            raise DataFormatError(
                f"{self.benchmark}: table has {len(self.values)} rows, the space {self.space.name} "
                f"has {self.space.size} architectures"
            )

    @property
    def dataset_ids(self) -> list[str]:
        return [f"{self.benchmark}/{c}" for c in self.values.columns]

    def dataset(self, column: str) -> "Dataset":
        vals = self.values[column].to_numpy(dtype=np.float64)
        vals.setflags(write=False)
        metric = column.rsplit("/", 1)[-1]
        return Dataset(f"{self.benchmark}/{column}", self.space, vals, metric_unit(metric), self.sources)


@dataclass(frozen=True)
class Dataset:
    """One metric of one benchmark dataset over every architecture of ``space``.

    ``values[i]`` belongs to ``space.arch(i)``; NaN marks a missing measurement.
    """

    id: str
    space: SearchSpace
    values: np.ndarray
    unit: str = ""
    sources: tuple[str, ...] = ()

    @property
    def benchmark(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def metric(self) -> str:
        return self.id.rsplit("/", 1)[-1]

    @property
    def n_missing(self) -> int:
        return int(np.isnan(self.values).sum())

    @property
    def available(self) -> np.ndarray:
        """Canonical indices of architectures with a value."""
        return np.flatnonzero(~np.isnan(self.values))

    @property
    def is_complete(self) -> bool:
        return self.n_missing == 0

    def archs(self, index: np.ndarray | None = None) -> np.ndarray:
        """Op codes of all architectures (or of ``index``)."""
        return self.space.enumerate() if index is None else self.space.arch(index)

    def value_of(self, arch: str) -> float:
        """Value of one architecture given as a string in any detectable format."""
        return float(self.values[self.space.index(self.space.parse(arch))[0]])

    def __repr__(self) -> str:
        return f"<Dataset {self.id}: {len(self.values)} architectures, {self.n_missing} missing>"
