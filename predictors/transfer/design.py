"""What to measure first on a new device: a greedy Bayesian D-optimal design.

Under the transfer model's prior (a linear model on [standardised source values, one-hot, op
counts] with unit weights), the architecture whose prediction is most uncertain is measured
next; after each pick the posterior covariance is updated by one rank-one step, so a design of k
costs ``O(k * n * d)`` for n candidates and d features.  When k is at least the number of the
space's lookup-table architectures (times ``LUT_FIRST_FACTOR``) they are taken first (the
transfer model then uses the lookup table alone where it ranks the other measured architectures
as well: additive devices are then exactly as good as the lookup table).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench_tools.encodings import encode
from nasbench_tools.errors import ParameterError
from nasbench_tools.spaces import get_space

#: Prior noise variance of one measurement relative to the unit-weight prior (keeps the
#: design spreading after d picks instead of repeating the same directions).
DESIGN_NOISE = 0.05
#: The lookup-table architectures are measured first only when k is at least this many times
#: their number: with fewer, the rest of the design is too small to check the lookup table
#: against the GP (measured on TransNAS micro, 19 lookup-table architectures: taking them first
#: at k = 20 gave tau 0.40 against 0.58 for random sets; on HW-NAS-Bench latency, taking them
#: from k = 30 gave 0.77 against 0.87 at k = 30, as 5 others are too few to check the table by).
LUT_FIRST_FACTOR = 2
#: How the target device executes a cell: every edge (the benchmarks' devices), or only the live
#: edges (a runtime that skips edges that cannot reach the cell output).
CELL_EDGE_MODES = ("all", "live")
#: Size of the seeded tie-breaking jitter (relative to the variances).
_JITTER = 1e-9


def live_index(space: Any, who: str) -> np.ndarray:
    """``space.pruned_index()`` (``cell_edges="live"``); a one-line error naming ``who`` for a
    space without dead edges to prune."""
    if not hasattr(space, "pruned_index"):
        raise ParameterError(f"{who}: cell_edges='live' needs a cell space with dead edges; space {space.name} has none")
    return space.pruned_index()


def count_features(space: Any, pruned: np.ndarray | None = None) -> np.ndarray:
    """Op counts / slots of every architecture of the space (``space.op_counts``), or of its pruned
    form given ``pruned`` (:func:`live_index`): the few numbers a device whose op cost is the same
    on every edge of the cell sees (an architecture's squared norm is at most 1, as for the other
    groups)."""
    counts = space.op_counts(space.enumerate()) / space.n_slots
    return counts if pruned is None else counts[pruned]


def design_features(space_name: str, sources: Any, cell_edges: str = "all") -> np.ndarray:
    """[standardised sources / sqrt(m), one-hot / sqrt(slots), op counts / slots] of every
    architecture of the space; with ``cell_edges="live"`` the sources and one-hot of each
    architecture's pruned form are appended and the op counts are the pruned form's."""
    space = get_space(space_name)
    if cell_edges not in CELL_EDGE_MODES:
        raise ParameterError(f"suggest: cell_edges={cell_edges!r}; expected one of {', '.join(CELL_EDGE_MODES)}")
    S = np.asarray(sources, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] != space.size or not np.all(np.isfinite(S)):
        raise ParameterError(f"suggest: sources must be a finite ({space.size}, m) array for space {space.name}, "
                             f"got shape {S.shape}")
    sd = S.std(axis=0)
    S = (S - S.mean(axis=0)) / np.where(sd > 0, sd, 1.0) / np.sqrt(S.shape[1])
    onehot = encode(space, space.enumerate(), "onehot") / np.sqrt(space.n_slots)
    F = np.hstack([S, onehot])
    pruned = live_index(space, "suggest") if cell_edges == "live" else None
    if pruned is not None:
        F = np.hstack([F, F[pruned]])
    return np.hstack([F, count_features(space, pruned)])


def suggest(k: int, sources: Any, space: str = "nb201", candidates: Any = None, include_lut: bool = True,
            random_state: int | None = 0, cell_edges: str = "all") -> np.ndarray:
    """Canonical indices of the ``k`` architectures to measure first, in the order to measure them.

    ``sources``: ``(space.size, m)`` source values (canonical order); ``candidates``: indices to
    choose from (default: the whole space); ``include_lut``: start with the lookup-table
    architectures when ``k`` allows; ``cell_edges``: ``"live"`` for a device that skips dead edges
    (the design then also spreads over the pruned forms, and never starts with the lookup-table
    architectures, which such a device mostly runs as the empty cell).  Deterministic for a given
    ``random_state``.
    """
    sp = get_space(space)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError(f"suggest: k={k!r} is out of range; expected a positive integer")
    F = design_features(sp.name, sources, cell_edges)
    cand = np.arange(sp.size) if candidates is None else np.unique(np.asarray(candidates, dtype=np.int64))
    if len(cand) < k:
        raise ParameterError(f"suggest: k={k} exceeds the {len(cand)} candidate architectures")
    Fc = F[cand]
    var = np.einsum("ij,ij->i", Fc, Fc)
    var = var + _JITTER * np.random.default_rng(random_state).random(len(cand))
    cov = np.eye(F.shape[1])
    chosen: list[int] = []
    first: list[int] = []
    if include_lut and cell_edges == "all":
        lut = sp.index(sp.lut_architectures())
        pos = np.flatnonzero(np.isin(cand, lut))
        if k >= LUT_FIRST_FACTOR * len(lut) and len(pos) == len(lut):
            first = pos.tolist()
    taken = np.zeros(len(cand), dtype=bool)
    for step in range(k):
        if step < len(first):
            i = first[step]
        else:
            i = int(np.argmax(np.where(taken, -np.inf, var)))
        taken[i] = True
        chosen.append(i)
        f = Fc[i]
        cf = cov @ f
        u = cf / np.sqrt(DESIGN_NOISE + f @ cf)
        cov -= np.outer(u, u)
        var -= (Fc @ u) ** 2
    return cand[np.asarray(chosen, dtype=np.int64)]
