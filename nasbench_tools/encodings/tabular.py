"""Vector encodings: one-hot, ordinal, BANANAS path encoding and NAO token sequences."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..spaces import SearchSpace

FLOAT = np.float32


def onehot(space: SearchSpace, ops: np.ndarray) -> np.ndarray:
    """``(n, n_slots * n_ops)``: a one at ``slot * n_ops + op`` for every slot."""
    n = len(ops)
    out = np.zeros((n, space.n_slots * space.n_ops), dtype=FLOAT)
    cols = np.arange(space.n_slots) * space.n_ops + ops.astype(np.int64)
    out[np.arange(n)[:, None], cols] = 1.0
    return out


def ordinal(space: SearchSpace, ops: np.ndarray) -> np.ndarray:
    """``(n, n_slots)`` op codes as floats (for tree models)."""
    return ops.astype(FLOAT)


@lru_cache(maxsize=None)
def _routes(edges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, ...], ...]:
    last = 1 + max(max(e) for e in edges)

    def walk(node: int) -> list[tuple[int, ...]]:
        if node == last - 1:
            return [()]
        out = []
        for slot, (a, b) in enumerate(edges):
            if a == node:
                out += [(slot,) + rest for rest in walk(b)]
        return out

    return tuple(sorted(walk(0), key=lambda r: (len(r), r)))


def path_routes(space: SearchSpace) -> tuple[tuple[int, ...], ...]:
    """Every input->output route of the cell as a tuple of slots (edges)."""
    return _routes(space.edges)


def path_width(space: SearchSpace) -> int:
    lengths = {len(r) for r in path_routes(space)}
    return int(sum(space.n_ops**length for length in range(1, max(lengths) + 1)))


def path_encoding(space: SearchSpace, ops: np.ndarray) -> np.ndarray:
    """BANANAS path encoding: one-hot over (route length, op sequence).

    Features for length ``L`` start at ``sum(n_ops**l for l < L)``; the NB201 cell has
    5 + 25 + 125 = 155 features.  Two routes of equal length with the same op sequence share
    a feature, so a cell has 3 or 4 ones; the encoding is still injective on the cell.
    """
    n = len(ops)
    out = np.zeros((n, path_width(space)), dtype=FLOAT)
    rows = np.arange(n)
    ops64 = ops.astype(np.int64)
    for route in path_routes(space):
        offset = sum(space.n_ops**length for length in range(1, len(route)))
        code = np.zeros(n, dtype=np.int64)
        for slot in route:
            code = code * space.n_ops + ops64[:, slot]
        out[rows, offset + code] = 1.0
    return out


def nao_vocab_size(space: SearchSpace) -> int:
    """Token vocabulary of :func:`nao_tokens` (token 0 is reserved for start/padding)."""
    return 1 + space.n_nodes + space.n_ops if space.is_cell else 1 + space.n_ops


def nao_tokens(space: SearchSpace, ops: np.ndarray) -> np.ndarray:
    """NAO sequence: per edge ``(input node + 1, n_nodes + 1 + op)``; per layer ``op + 1``."""
    ops64 = ops.astype(np.int64)
    if not space.is_cell:
        return ops64 + 1
    src = np.array([a for a, _ in space.edges], dtype=np.int64) + 1
    out = np.empty((len(ops), 2 * space.n_slots), dtype=np.int64)
    out[:, 0::2] = src
    out[:, 1::2] = space.n_nodes + 1 + ops64
    return out
