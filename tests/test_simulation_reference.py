"""The vectorised engine agrees exactly (selection sets, scores) with the plain per-point
reference of ``simulation/reference.py`` on random inputs with ties, and small cases by hand."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.metrics import score
from simulation.reference import reference_scores

N_CASES = 60


def _random_case(rng: np.random.Generator):
    trials = int(rng.integers(1, 5))
    n = int(rng.integers(1, 40))
    levels = int(rng.integers(2, 12))  # few levels: many ties and exact duplicates
    acc = rng.integers(0, levels, (trials, n)).astype(float) * 7.5
    hw = rng.integers(0, levels, (trials, n)).astype(float) * 0.25 - 1.0
    pred = hw + rng.integers(-2, 3, (trials, n)) * 0.25 if rng.random() < 0.5 else hw + rng.normal(0, 0.3, (trials, n))
    return acc, hw, pred


@pytest.mark.parametrize("rule", ["front", "subset", 2.0])
def test_engine_agrees_with_reference_on_random_ties(rule):
    rng = np.random.default_rng(7)
    for _ in range(N_CASES):
        acc, hw, pred = _random_case(rng)
        got, order = score(acc, hw, pred, rule, with_masks=True)
        for t in range(acc.shape[0]):
            ref = reference_scores(acc[t], hw[t], pred[t], rule)
            o = order[t]
            # selection sets are identical (masks of the engine follow the sorted order)
            assert np.array_equal(got.selected[t], ref["selected"][o])
            assert np.array_equal(got.selected_pareto[t], ref["verified"][o])
            assert np.array_equal(got.true_front[t], ref["front"][o])
            assert got.n_selected[t] == ref["n_selected"]
            for k in ("mra_all", "mra_pareto", "hypervolume", "hypervolume_true_front", "reference"):
                assert getattr(got, k)[t] == pytest.approx(ref[k], rel=1e-12, abs=1e-12), k
            if np.isnan(ref["kendall_tau"]):
                assert np.isnan(got.kendall_tau[t])
            else:
                assert got.kendall_tau[t] == pytest.approx(ref["kendall_tau"], abs=1e-12)


def test_fast_reference_matches_plain_reference():
    rng = np.random.default_rng(3)
    for _ in range(20):
        acc, hw, pred = _random_case(rng)
        a = reference_scores(acc[0], hw[0], pred[0])
        b = reference_scores(acc[0], hw[0], pred[0], fast=True)
        for k in ("n_selected", "mra_all", "mra_pareto", "hypervolume"):
            assert a[k] == pytest.approx(b[k], rel=1e-12, abs=1e-12)


def test_duplicates_are_all_selected_and_dominated_points_are_not():
    acc = np.array([[90.0, 90.0, 80.0, 95.0, 95.0]])
    hw = np.array([[1.0, 1.0, 1.0, 2.0, 3.0]])
    got, order = score(acc, hw, hw, "front", with_masks=True)
    sel = np.zeros(5, dtype=bool)
    sel[order[0]] = got.selected[0]
    # the two identical (90, 1.0) points and the (95, 2.0) point; (80, 1.0) and (95, 3.0) are dominated
    assert sel.tolist() == [True, True, False, True, False]
    assert got.mra_all[0] == 0.0
    # reference: 1.1 x 2.0 (front's largest hardware); area = 0.9 * (2.0 - 1.0) + 0.95 * (2.2 - 2.0)
    assert got.hypervolume[0] == pytest.approx(0.9 * 1.0 + 0.95 * 0.2)


def test_mra_example_by_hand():
    # true front: (hw 1, 90 %), (hw 2, 95 %); the prediction also selects (hw 1.5, 85 %)
    acc = np.array([90.0, 95.0, 85.0])
    hw = np.array([1.0, 2.0, 1.5])
    pred = np.array([1.8, 2.0, 0.5])
    got, _ = score(acc, hw, pred)
    assert got.n_selected[0] == 3  # nothing dominates anything under the predicted values
    assert got.mra_all[0] == pytest.approx(5.0 / 3.0)  # 85 % vs 90 % available at lower hardware
    assert got.mra_pareto[0] == 0.0  # measuring drops the (1.5, 85 %) point
    assert got.kendall_tau[0] == pytest.approx(1.0 / 3.0)
