"""Selection and its scores for many trials at once: Pareto selection under predicted hardware
values, MRA_all, MRA_pareto, hypervolume and Kendall's tau, all on rows sorted by true hardware.

Objectives: accuracy (maximised, in %) and a hardware metric (minimised). The selection uses the
true accuracy and the *noisy* hardware values; every score uses the true values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kendall import kendall_tau_b_sorted
from .sorted_groups import group_bounds, non_dominated_sorted

#: Hypervolume uses accuracy as a fraction (as the published numbers do: ~4.2 for the full space).
HV_ACCURACY_SCALE = 0.01
#: Default multiplier of the hypervolume reference point's hardware coordinate.
REFERENCE_FACTOR = 1.1
#: Reference point rules: largest hardware value on the subset's true front ("front", the
#: dissertation text), or of the whole subset ("subset", the original code); a float is fixed.
REFERENCE_RULES = ("front", "subset")

METRIC_COLUMNS = ("kendall_tau", "n_selected", "mra_all", "mra_pareto", "hypervolume", "hypervolume_true_front")


@dataclass(frozen=True)
class SelectionScores:
    """Per-trial scores (1-D arrays) and, on request, per-point masks (rows sorted by true hardware)."""

    kendall_tau: np.ndarray
    n_selected: np.ndarray
    mra_all: np.ndarray
    mra_pareto: np.ndarray
    hypervolume: np.ndarray
    hypervolume_true_front: np.ndarray
    reference: np.ndarray
    selected: np.ndarray | None = None
    selected_pareto: np.ndarray | None = None
    true_front: np.ndarray | None = None

    def columns(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in METRIC_COLUMNS}


def reference_points(accuracy: np.ndarray, hardware: np.ndarray, rule: str | float,
                     factor: float = REFERENCE_FACTOR) -> np.ndarray:
    """Hardware coordinate of the hypervolume reference per row (rows sorted by ``hardware``)."""
    if isinstance(rule, str):
        if rule == "front":  # the front's largest hardware value: first point with the best accuracy
            base = np.take_along_axis(hardware, np.argmax(accuracy, axis=1)[:, None], axis=1)[:, 0]
        elif rule == "subset":
            base = hardware[:, -1]
        else:
            raise ValueError(f"reference rule must be one of {REFERENCE_RULES} or a number, got {rule!r}")
        return factor * base
    return np.full(hardware.shape[0], float(rule))


def hypervolume_sorted(accuracy: np.ndarray, hardware: np.ndarray, member: np.ndarray,
                       reference: np.ndarray) -> np.ndarray:
    """Area dominated by the member points (accuracy from 0, hardware up to ``reference``).

    Rows sorted by ``hardware``; accuracy scaled by :data:`HV_ACCURACY_SCALE`.
    """
    best = np.maximum.accumulate(np.where(member, np.maximum(accuracy, 0.0), 0.0), axis=1)
    clipped = np.minimum(hardware, reference[:, None])
    widths = np.diff(np.concatenate([clipped, reference[:, None]], axis=1), axis=1)
    return (widths * best).sum(axis=1) * HV_ACCURACY_SCALE


def _row_take(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[r, index[r, k]]`` for every row ``r`` (faster than take_along_axis)."""
    t, n = values.shape
    return np.take(values.ravel(), index + (np.arange(t) * n)[:, None])


def _pareto_unsorted_prefix(values_sorted: np.ndarray) -> np.ndarray:
    """Non-dominated mask when the cost has no ties: a value beating all before it."""
    before = np.empty_like(values_sorted)
    before[:, 0] = -np.inf
    np.maximum.accumulate(values_sorted[:, :-1], axis=1, out=before[:, 1:])
    return values_sorted > before


def score_sorted(accuracy: np.ndarray, hardware: np.ndarray, predicted: np.ndarray,
                 reference: str | float = "front", *, factor: float = REFERENCE_FACTOR,
                 with_masks: bool = False) -> SelectionScores:
    """Select and score, for rows sorted by true ``hardware`` (shape (trials, n) each).

    Only the selected points (tens per trial) are gathered into small padded arrays for the
    verified front and the hypervolume; the O(n) work is one argsort of the predictions, a
    cumulative maximum and Kendall's tau.
    """
    t, n = accuracy.shape
    rows = np.arange(t)[:, None]
    hw_ties = bool(np.any(hardware[:, 1:] == hardware[:, :-1]))
    if hw_ties:
        hs, he = group_bounds(hardware)
    # selection: non-dominated under (true accuracy, predicted hardware)
    by_pred = np.argsort(predicted, axis=1)
    pred_sorted = _row_take(predicted, by_pred)
    pred_ties = bool(np.any(pred_sorted[:, 1:] == pred_sorted[:, :-1]))
    if pred_ties:  # Kendall's tau needs ties in position order: sort stably
        by_pred = np.argsort(predicted, axis=1, kind="stable")
    acc_by_pred = _row_take(accuracy, by_pred)
    if pred_ties:
        chosen = non_dominated_sorted(acc_by_pred, *group_bounds(pred_sorted))
    else:
        chosen = _pareto_unsorted_prefix(acc_by_pred)
    n_sel = chosen.sum(axis=1)
    # the selected points in true-hardware order, padded with position n (no point)
    width = int(n_sel.max())
    sel_rows, sel_cols = np.nonzero(chosen)
    slot = np.arange(sel_rows.size) - np.repeat(np.cumsum(n_sel) - n_sel, n_sel)
    pos = np.full((t, width), n, dtype=np.int64)
    pos[sel_rows, slot] = by_pred[sel_rows, sel_cols]
    pos.sort(axis=1)
    valid = pos < n
    safe = np.where(valid, pos, 0)
    acc_sel = np.where(valid, accuracy[rows, safe], -np.inf)
    hw_sel = np.where(valid, hardware[rows, safe], np.inf)
    # regret: best accuracy among points with true hardware <= the point's, minus its accuracy
    best_upto = np.maximum.accumulate(accuracy, axis=1)
    group_end = he[rows, safe] if hw_ties else safe
    regret = np.where(valid, best_upto[rows, group_end] - acc_sel, 0.0)
    verified = non_dominated_sorted(acc_sel, *group_bounds(hw_sel))
    ref = reference_points(accuracy, hardware, reference, factor)
    tau = kendall_tau_b_sorted(hardware, predicted, hs if hw_ties else None, by_y=by_pred)
    masks = {}
    if with_masks:
        selected = np.zeros((t, n), dtype=bool)
        selected[sel_rows, by_pred[sel_rows, sel_cols]] = True
        ver_full = np.zeros((t, n), dtype=bool)
        vr, vc = np.nonzero(verified)
        ver_full[vr, pos[vr, vc]] = True
        front = non_dominated_sorted(accuracy, hs, he) if hw_ties else _pareto_unsorted_prefix(accuracy)
        masks = {"selected": selected, "selected_pareto": ver_full, "true_front": front}
    return SelectionScores(
        kendall_tau=tau,
        n_selected=n_sel,
        mra_all=regret.sum(axis=1) / n_sel,
        mra_pareto=(regret * verified).sum(axis=1) / verified.sum(axis=1),
        hypervolume=hypervolume_sorted(np.where(valid, acc_sel, 0.0), np.where(valid, hw_sel, ref[:, None]), valid, ref),
        hypervolume_true_front=hypervolume_sorted(accuracy, hardware, np.ones((t, n), dtype=bool), ref),
        reference=ref,
        **masks,
    )


def score(accuracy: np.ndarray, hardware: np.ndarray, predicted: np.ndarray,
          reference: str | float = "front", *, factor: float = REFERENCE_FACTOR,
          with_masks: bool = False) -> tuple[SelectionScores, np.ndarray]:
    """:func:`score_sorted` for rows in any order (1-D inputs are one trial).

    Returns the scores and the per-row order that sorts by true hardware (masks follow it).
    """
    acc, hw, pred = (np.atleast_2d(np.asarray(v, dtype=np.float64)) for v in (accuracy, hardware, predicted))
    if not acc.shape == hw.shape == pred.shape:
        raise ValueError(f"accuracy, hardware and predicted shapes differ: {acc.shape}, {hw.shape}, {pred.shape}")
    for name, v in (("accuracy", acc), ("hardware", hw), ("predicted", pred)):
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} values must be finite; {int((~np.isfinite(v)).sum())} are not")
    order = np.argsort(hw, axis=1, kind="stable")
    take = lambda v: np.take_along_axis(v, order, axis=1)  # noqa: E731
    return score_sorted(take(acc), take(hw), take(pred), reference, factor=factor, with_masks=with_masks), order
