"""Seeded train/test splits: one test set and a disjoint training pool per seed, nested prefixes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..datasets import Dataset


@dataclass(frozen=True)
class Split:
    """Canonical indices: ``test`` and the ordered ``pool`` whose prefixes are the training sets."""

    seed: int
    test: np.ndarray
    pool: np.ndarray

    def train(self, n: int) -> np.ndarray:
        if n > len(self.pool):
            raise ValueError(f"training size {n} exceeds the pool of {len(self.pool)} architectures")
        return self.pool[:n]


def make_split(available: np.ndarray | Dataset, seed: int, test_size: int) -> Split:
    """Draw the test set and the training pool from the architectures with a value.

    ``available`` are canonical indices (or a Dataset, whose available ones are used).  The
    permutation depends only on ``seed`` and these indices, so every complete dataset of a
    space gets the same test set for a seed (comparable across datasets).
    """
    name = available.id if isinstance(available, Dataset) else "dataset"
    avail = available.available if isinstance(available, Dataset) else np.asarray(available)
    if test_size >= len(avail):
        raise ValueError(
            f"{name}: test size {test_size} leaves no training pool ({len(avail)} architectures with values)"
        )
    perm = np.random.default_rng(seed).permutation(avail)
    return Split(seed, np.sort(perm[:test_size]), perm[test_size:])


def log_spaced_sizes(low: float, high: int, n: int) -> tuple[int, ...]:
    """The protocol's training sizes: ``int(x)`` for ``n`` log-spaced points from ``low`` to ``high``.

    Computed as ``exp(linspace(ln low, ln high))``, which reproduces both published grids exactly
    (HW-NAS: 5 .. 15000; TransNAS: 5 .. 2999, where rounding down loses the last unit).
    """
    return tuple(int(x) for x in np.exp(np.linspace(np.log(low), np.log(high), n)))
