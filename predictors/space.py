"""Declared hyper-parameter tuning spaces: ranges (linear or log) and choices."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from nasbench_tools.errors import ParameterError


class Distribution:
    """A hyper-parameter's search range; ``sample`` draws from it with a numpy Generator."""

    def sample(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def extremes(self) -> tuple[Any, ...]:
        """Values that bound what :meth:`sample` returns (range ends, every option): checked
        against the parameter's constraint (see ``predictors.constraints``)."""
        raise NotImplementedError


@dataclass(frozen=True)
class _Range(Distribution):
    """Shared part of the ranges: ``[low, high]``, optionally sampled in log space."""

    low: Any
    high: Any
    log: bool = False

    def __post_init__(self) -> None:
        if not self.low <= self.high or (self.log and self.low <= 0):
            raise ParameterError(f"invalid range [{self.low}, {self.high}] (log={self.log})")

    def _log_uniform(self, rng: np.random.Generator, high: float) -> float:
        return math.exp(rng.uniform(math.log(self.low), math.log(high)))

    def extremes(self) -> tuple[Any, ...]:
        return (self.low, self.high)


class Uniform(_Range):
    """Real value in ``[low, high]``; ``log=True`` samples uniformly in log space."""

    def sample(self, rng: np.random.Generator) -> float:
        if self.log:
            return float(self._log_uniform(rng, self.high))
        return float(rng.uniform(self.low, self.high))

    def contains(self, value: Any) -> bool:
        return isinstance(value, (int, float, np.integer, np.floating)) and self.low <= float(value) <= self.high

    def describe(self) -> str:
        return f"[{self.low}, {self.high}]" + (" log" if self.log else "")


class IntUniform(_Range):
    """Integer in ``[low, high]`` (inclusive); ``log=True`` samples in log space then rounds."""

    def sample(self, rng: np.random.Generator) -> int:
        if self.log:
            v = self._log_uniform(rng, self.high + 1)
            return int(min(self.high, max(self.low, math.floor(v))))
        return int(rng.integers(self.low, self.high + 1))

    def contains(self, value: Any) -> bool:
        return isinstance(value, (int, np.integer)) and self.low <= int(value) <= self.high

    def describe(self) -> str:
        return f"{{{self.low}..{self.high}}}" + (" log" if self.log else "")


@dataclass(frozen=True)
class Choice(Distribution):
    """One of a fixed set of options."""

    options: Sequence[Any]

    def sample(self, rng: np.random.Generator) -> Any:
        return self.options[int(rng.integers(len(self.options)))]

    def contains(self, value: Any) -> bool:
        return value in self.options

    def describe(self) -> str:
        return "{" + ", ".join(map(str, self.options)) + "}"

    def extremes(self) -> tuple[Any, ...]:
        return tuple(self.options)


def sample_config(space: Mapping[str, Distribution], rng: np.random.Generator) -> dict[str, Any]:
    """One random configuration (parameters in sorted order so draws are reproducible)."""
    return {k: space[k].sample(rng) for k in sorted(space)}
