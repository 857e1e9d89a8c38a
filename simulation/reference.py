"""The selection scores of one trial, point by point: the readable specification of
:mod:`simulation.metrics`.

Each score follows its definition literally (dominance checked against every other point, MRA as
a maximum over the cheaper points, hypervolume as the area under a staircase), with none of the
sorting, tie groups and batching that make the engine fast. ``tests/test_simulation_reference.py``
checks that the engine selects exactly the same points and gets the same scores on random inputs
full of ties; ``scripts/bench_simulation.py`` times it as the per-selection baseline. It is slow
(quadratic in the subset size) and meant for checking, not for runs.

Objectives: accuracy (maximised, in %) and a hardware metric (minimised). The selection uses the
true accuracy and the predicted hardware values; every score uses the true values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import kendalltau

from .metrics import HV_ACCURACY_SCALE, REFERENCE_FACTOR


def dominated_by_any(acc: np.ndarray, cost: np.ndarray, i: int, members: np.ndarray) -> bool:
    """Is point ``i`` dominated by a member (accuracy >= and cost <=, one of them strictly)?"""
    for j in np.flatnonzero(members):
        if acc[j] >= acc[i] and cost[j] <= cost[i] and (acc[j] > acc[i] or cost[j] < cost[i]):
            return True
    return False


def pareto_mask(acc: np.ndarray, cost: np.ndarray, members: np.ndarray | None = None) -> np.ndarray:
    """The members that no other member dominates (all points when ``members`` is None)."""
    members = np.ones(len(acc), dtype=bool) if members is None else members
    return np.array([bool(members[i]) and not dominated_by_any(acc, cost, i, members) for i in range(len(acc))],
                    dtype=bool)


def pareto_mask_fast(acc: np.ndarray, cost: np.ndarray, members: np.ndarray | None = None) -> np.ndarray:
    """Same as :func:`pareto_mask`, the other points compared at once (for subsets of thousands)."""
    members = np.ones(len(acc), dtype=bool) if members is None else members
    a, c = acc[members], cost[members]
    out = np.zeros(len(acc), dtype=bool)
    for i in np.flatnonzero(members):
        dominators = (a >= acc[i]) & (c <= cost[i]) & ((a > acc[i]) | (c < cost[i]))
        out[i] = not dominators.any()
    return out


def hypervolume_plain(acc: np.ndarray, hw: np.ndarray, reference: float) -> float:
    """Area under the staircase of the points (accuracy from 0, hardware up to ``reference``), accuracy scaled."""
    total = 0.0
    pts = sorted(zip(hw, acc))
    for k, (h, _) in enumerate(pts):
        if h >= reference:
            break
        nxt = min(pts[k + 1][0], reference) if k + 1 < len(pts) else reference
        best = max(max(a for _, a in pts[: k + 1]), 0.0)
        total += (nxt - h) * best
    return total * HV_ACCURACY_SCALE


def regret(acc: np.ndarray, hw: np.ndarray, points: np.ndarray, fast: bool = False) -> np.ndarray:
    """Per point in ``points`` (a mask): the best accuracy at no more hardware cost, minus its own (0 elsewhere).

    ``fast`` takes each maximum with numpy instead of a Python loop over the points (same values).
    """
    n = len(acc)
    if fast:
        return np.array([acc[hw <= hw[i]].max() - acc[i] if points[i] else 0.0 for i in range(n)])
    return np.array([max(acc[j] for j in range(n) if hw[j] <= hw[i]) - acc[i] if points[i] else 0.0
                     for i in range(n)])


def reference_point(hw: np.ndarray, front: np.ndarray, rule: str | float, factor: float = REFERENCE_FACTOR) -> float:
    """Hardware coordinate of the hypervolume reference: ``factor`` x the front's ("front") or the
    subset's ("subset") largest hardware value, or the number ``rule`` itself."""
    if rule == "front":
        return factor * max(hw[front])
    if rule == "subset":
        return factor * max(hw)
    return float(rule)


def reference_scores(acc: np.ndarray, hw: np.ndarray, pred: np.ndarray, rule: str | float = "front",
                     factor: float = REFERENCE_FACTOR, fast: bool = False) -> dict[str, Any]:
    """Scores of one selection from accuracy ``acc``, true hardware ``hw`` and predicted ``pred``.

    Returns the masks ``selected`` (Pareto under the prediction), ``verified`` (the selected points
    still Pareto once measured) and ``front`` (the true front), and the scores ``n_selected``,
    ``mra_all`` / ``mra_pareto`` (mean regret of the selected / verified points), ``hypervolume``
    (of the selected points), ``hypervolume_true_front``, ``kendall_tau`` (true vs predicted
    hardware, NaN for one point) and ``reference``. ``fast`` uses :func:`pareto_mask_fast` and the
    numpy form of :func:`regret` (same results, for large subsets).
    """
    mask = pareto_mask_fast if fast else pareto_mask
    selected = mask(acc, pred)
    verified = mask(acc, hw, selected)
    front = mask(acc, hw)
    regrets = regret(acc, hw, selected, fast)  # the verified points are selected points
    ref = reference_point(hw, front, rule, factor)
    tau = kendalltau(hw, pred)[0] if len(acc) > 1 else np.nan
    return {
        "selected": selected, "verified": verified, "front": front,
        "n_selected": int(selected.sum()),
        "mra_all": float(np.mean(regrets[selected])),
        "mra_pareto": float(np.mean(regrets[verified])),
        "hypervolume": hypervolume_plain(acc[selected], hw[selected], ref),
        "hypervolume_true_front": hypervolume_plain(acc, hw, ref),
        "kendall_tau": tau, "reference": ref,
    }
