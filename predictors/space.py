"""Declared hyper-parameter tuning spaces: ranges (linear or log) and choices."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np


class Distribution:
    """A hyper-parameter's search range; ``sample`` draws from it with a numpy Generator."""

    def sample(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Uniform(Distribution):
    """Real value in ``[low, high]``; ``log=True`` samples uniformly in log space."""

    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        if not self.low <= self.high or (self.log and self.low <= 0):
            raise ValueError(f"invalid range [{self.low}, {self.high}] (log={self.log})")

    def sample(self, rng: np.random.Generator) -> float:
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    def contains(self, value: Any) -> bool:
        return isinstance(value, (int, float, np.integer, np.floating)) and self.low <= float(value) <= self.high

    def describe(self) -> str:
        return f"[{self.low}, {self.high}]" + (" log" if self.log else "")


@dataclass(frozen=True)
class IntUniform(Distribution):
    """Integer in ``[low, high]`` (inclusive); ``log=True`` samples in log space then rounds."""

    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        if not self.low <= self.high or (self.log and self.low <= 0):
            raise ValueError(f"invalid range [{self.low}, {self.high}] (log={self.log})")

    def sample(self, rng: np.random.Generator) -> int:
        if self.log:
            v = math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1)))
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


def sample_config(space: Mapping[str, Distribution], rng: np.random.Generator) -> dict[str, Any]:
    """One random configuration (parameters in sorted order so draws are reproducible)."""
    return {k: space[k].sample(rng) for k in sorted(space)}
