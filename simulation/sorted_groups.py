"""Tie groups of row-wise sorted values: where each run of equal values starts and ends.

Every batched routine of the simulator works on arrays of shape ``(trials, points)`` whose rows
are sorted by one key; equal keys form a *group* and must be treated alike (ties, duplicates).
"""

from __future__ import annotations

import numpy as np


def group_bounds(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first and last member of each element's tie group, per row.

    ``sorted_keys`` has shape (trials, n) and is non-decreasing along each row.
    Returns ``(start, end)``, both int64 arrays of the same shape.
    """
    new = np.ones(sorted_keys.shape, dtype=bool)
    new[:, 1:] = sorted_keys[:, 1:] != sorted_keys[:, :-1]
    return bounds_from_starts(new)


def bounds_from_starts(new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`group_bounds`, from a mask that is True where a new group begins."""
    t, n = new.shape
    idx = np.broadcast_to(np.arange(n, dtype=np.int64), (t, n))
    start = np.maximum.accumulate(np.where(new, idx, 0), axis=1)
    last = np.ones((t, n), dtype=bool)
    last[:, :-1] = new[:, 1:]
    end = np.minimum.accumulate(np.where(last, idx, n - 1)[:, ::-1], axis=1)[:, ::-1]
    return start, end


def tied_pairs(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Number of tied pairs per row (sum over groups of size * (size - 1) / 2)."""
    return (end - start).sum(axis=1) // 2


def non_dominated_sorted(values: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Mask of the non-dominated points when rows are sorted by a cost to minimise.

    ``values`` is the objective to maximise (``-inf`` excludes a point); ``start``/``end`` are
    the tie groups of the cost. A point is non-dominated when its value beats every point of
    strictly lower cost and equals the best value among points of equal cost (exact duplicates
    are all kept, as neither dominates the other).
    """
    best_so_far = np.maximum.accumulate(values, axis=1)
    before = np.take_along_axis(best_so_far, np.maximum(start - 1, 0), axis=1)
    before = np.where(start > 0, before, -np.inf)
    upto_group_end = np.take_along_axis(best_so_far, end, axis=1)
    return (values > before) & (values == upto_group_end)
