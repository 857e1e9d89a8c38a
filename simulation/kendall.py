"""Kendall's tau-b of many pairs of vectors at once, without a loop per row.

Discordant pairs are counted as the inversions of a permutation (Knight's reduction with a
consistent tie order), and those with a most-significant-bit-first radix scheme: at each bit the
elements are stably partitioned inside their prefix group by pure arithmetic (a permutation of
0..n-1 has known group sizes), so no sorting is needed beyond the two orders the caller has.
"""

from __future__ import annotations

import numpy as np

from .sorted_groups import bounds_from_starts, tied_pairs


def permutation_inversions(perm: np.ndarray) -> np.ndarray:
    """Pairs ``i < j`` with ``perm[i] > perm[j]`` per row; each row a permutation of 0..n-1."""
    t, n = perm.shape
    inversions = np.zeros(t, dtype=np.int64)
    if n < 2:
        return inversions
    cur = np.ascontiguousarray(perm, dtype=np.int32 if perm.size < 2**31 else np.int64)
    offsets = (np.arange(t, dtype=cur.dtype) * n)[:, None]
    idx = np.arange(n, dtype=cur.dtype)
    for level in range((n - 1).bit_length() - 1, -1, -1):
        bit = (cur >> level) & 1
        start = cur & -(1 << (level + 1))  # group start: all smaller prefixes are present
        ones = np.cumsum(bit, axis=1) - bit
        ones_before = ones - np.take(ones, start + offsets)
        inversions += ones_before.sum(axis=1, dtype=np.int64) - (bit * ones_before).sum(axis=1, dtype=np.int64)
        if level == 0:
            break
        zeros_in_group = np.minimum(n - start, 1 << level)
        as_zero = idx - start - ones_before
        new_pos = start + as_zero + bit * (zeros_in_group + ones_before - as_zero)
        nxt = np.empty_like(cur)
        nxt.ravel()[(new_pos + offsets).ravel()] = cur.ravel()
        cur = nxt
    return inversions


def kendall_tau_b_sorted(x_sorted: np.ndarray, y: np.ndarray, x_group_start: np.ndarray | None = None,
                         by_y: np.ndarray | None = None) -> np.ndarray:
    """Kendall's tau-b per row for rows sorted by ``x`` (ascending), as ``scipy.stats.kendalltau``.

    ``x_group_start`` (index of the first equal x, per element) is needed when x has ties;
    ``by_y`` may pass a *stable* argsort of ``y`` the caller already has. NaN where a row is constant.
    """
    t, n = x_sorted.shape
    total = n * (n - 1) // 2
    rows = np.arange(t)[:, None]
    if by_y is None:
        by_y = np.argsort(y, axis=1, kind="stable")  # order (y, position) = (y, x, position)
    y_sorted = np.take_along_axis(y, by_y, axis=1)
    y_new = np.ones((t, n), dtype=bool)
    y_new[:, 1:] = y_sorted[:, 1:] != y_sorted[:, :-1]
    y_ties = tied_pairs(*bounds_from_starts(y_new)) if not y_new.all() else np.zeros(t, dtype=np.int64)
    if x_group_start is None:
        x_ties = np.zeros(t, dtype=np.int64)
        perm = by_y  # the (x, y, position) order is the position order itself
        both_ties = np.zeros(t, dtype=np.int64)
    else:
        x_end = _ends_from_starts(x_group_start)
        x_ties = tied_pairs(x_group_start, x_end)
        key = x_group_start[rows, by_y]
        lex_xy = by_y[rows, np.argsort(key.astype(np.int16 if n < 2**15 else np.int32), axis=1, kind="stable")]
        rank_xy = np.empty_like(lex_xy)
        rank_xy[rows, lex_xy] = np.arange(n)
        perm = rank_xy[rows, by_y]
        if y_new.all():
            both_ties = np.zeros(t, dtype=np.int64)
        else:
            y_lex = y[rows, lex_xy]
            g_lex = x_group_start[rows, lex_xy]
            new = np.ones((t, n), dtype=bool)
            new[:, 1:] = (g_lex[:, 1:] != g_lex[:, :-1]) | (y_lex[:, 1:] != y_lex[:, :-1])
            both_ties = tied_pairs(*bounds_from_starts(new))
    discordant = permutation_inversions(perm)
    numerator = (total - x_ties - y_ties + both_ties - 2 * discordant).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = numerator / np.sqrt((total - x_ties).astype(np.float64)) / np.sqrt((total - y_ties).astype(np.float64))
    return np.clip(tau, -1.0, 1.0)  # rounding may exceed 1 by an ulp (scipy clips too)


def _ends_from_starts(start: np.ndarray) -> np.ndarray:
    t, n = start.shape
    new = np.ones((t, n), dtype=bool)
    new[:, 1:] = start[:, 1:] != start[:, :-1]
    return bounds_from_starts(new)[1]
