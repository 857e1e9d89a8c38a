"""Uniformly random subsets of a search space for many trials at once, as sorted index rows."""

from __future__ import annotations

import numpy as np

#: Below this fraction of the space, subsets are drawn by sequential sampling (cheap for small
#: subsets); above it, by the smallest random keys over the whole space.
SMALL_FRACTION = 1 / 8
#: Extra draws per expected duplicate when sampling sequentially (redraws are then rare).
DUPLICATE_MARGIN = 3.0
EXTRA_DRAWS = 32


def draw_subsets(rng: np.random.Generator, population: int, size: int, trials: int) -> np.ndarray:
    """(trials, size) int64 array; each row a uniform random ``size``-subset of
    ``range(population)``, sorted ascending (rows are independent)."""
    if not 1 <= size <= population:
        raise ValueError(f"subset size {size} must be between 1 and the number of architectures ({population})")
    if size == population:
        return np.broadcast_to(np.arange(population, dtype=np.int64), (trials, population)).copy()
    if size > population * SMALL_FRACTION:
        keys = rng.random((trials, population))
        chosen = np.argpartition(keys, size - 1, axis=1)[:, :size]
        mask = np.zeros((trials, population), dtype=bool)
        np.put_along_axis(mask, chosen, True, axis=1)
        return np.nonzero(mask)[1].reshape(trials, size).astype(np.int64)
    return _sequential(rng, population, size, trials)


def _sequential(rng: np.random.Generator, population: int, size: int, trials: int) -> np.ndarray:
    """Draw with replacement, keep each value's first draw, take the first ``size`` kept ones:
    the same law as drawing without replacement one at a time."""
    expected_dups = size * size / (2 * population)
    draws = size + int(np.ceil(DUPLICATE_MARGIN * expected_dups)) + EXTRA_DRAWS
    out = np.empty((trials, size), dtype=np.int64)
    todo = np.arange(trials)
    while todo.size:
        values = rng.integers(0, population, (todo.size, draws))
        order = np.argsort(values, axis=1, kind="stable")
        in_order = np.take_along_axis(values, order, axis=1)
        first = np.ones_like(in_order, dtype=bool)
        first[:, 1:] = in_order[:, 1:] != in_order[:, :-1]
        keep = np.zeros_like(first)
        np.put_along_axis(keep, order, first, axis=1)
        taken = keep & (np.cumsum(keep, axis=1) <= size)
        ok = taken.sum(axis=1) == size
        rows = np.sort(np.where(taken, values, population), axis=1)[:, :size]
        out[todo[ok]] = rows[ok]
        todo = todo[~ok]
    return out
