"""Hypervolume against pymoo, Kendall's tau against scipy, the inversion counter by brute force."""

from __future__ import annotations

import numpy as np
import pytest
from pymoo.indicators.hv import HV
from scipy.stats import kendalltau

from simulation.kendall import kendall_tau_b_sorted, permutation_inversions
from simulation.metrics import HV_ACCURACY_SCALE, hypervolume_sorted, reference_points, score
from simulation.sorted_groups import group_bounds


def test_hypervolume_matches_pymoo_on_random_fronts():
    rng = np.random.default_rng(11)
    for _ in range(40):
        n = int(rng.integers(1, 60))
        acc = rng.integers(0, 30, n) * 3.0  # ties in accuracy
        hw = np.round(rng.normal(0, 1, n), 1)  # ties in hardware
        order = np.argsort(hw, kind="stable")
        acc, hw = acc[order], hw[order]
        ref = float(rng.uniform(-0.5, 2.5))
        ours = hypervolume_sorted(acc[None], hw[None], np.ones((1, n), dtype=bool), np.array([ref]))[0]
        F = np.column_stack([-acc * HV_ACCURACY_SCALE, hw])
        theirs = HV(ref_point=np.array([0.0, ref]))(F)
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12)


def test_selection_hypervolume_matches_pymoo_on_the_selected_points():
    rng = np.random.default_rng(5)
    acc = rng.uniform(10, 95, (8, 300))
    hw = rng.normal(0, 1, (8, 300))
    pred = hw + rng.normal(0, 0.5, (8, 300))
    got, order = score(acc, hw, pred, "front", with_masks=True)
    for t in range(8):
        a, h = acc[t][order[t]], hw[t][order[t]]
        sel = got.selected[t]
        F = np.column_stack([-a[sel] * HV_ACCURACY_SCALE, h[sel]])
        assert got.hypervolume[t] == pytest.approx(HV(ref_point=np.array([0.0, got.reference[t]]))(F), rel=1e-12)
        F_all = np.column_stack([-a * HV_ACCURACY_SCALE, h])
        assert got.hypervolume_true_front[t] == pytest.approx(HV(ref_point=np.array([0.0, got.reference[t]]))(F_all), rel=1e-12)
        assert got.hypervolume[t] <= got.hypervolume_true_front[t] + 1e-12


def test_reference_rules():
    acc = np.array([[50.0, 70.0, 70.0, 60.0]])
    hw = np.array([[0.0, 1.0, 2.0, 3.0]])
    assert reference_points(acc, hw, "front")[0] == pytest.approx(1.1)  # first point with the best accuracy
    assert reference_points(acc, hw, "subset")[0] == pytest.approx(3.3)
    assert reference_points(acc, hw, 5.0)[0] == 5.0
    with pytest.raises(ValueError, match="reference rule"):
        reference_points(acc, hw, "nonsense")


def test_permutation_inversions_brute_force():
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 5, 16, 17, 64, 100):
        perms = np.array([rng.permutation(n) for _ in range(5)])
        expected = [sum(int(p[i] > p[j]) for i in range(n) for j in range(i + 1, n)) for p in perms]
        assert permutation_inversions(perms).tolist() == expected


@pytest.mark.parametrize("levels", [3, 10, 1000])
def test_kendall_tau_b_matches_scipy_with_ties(levels):
    rng = np.random.default_rng(levels)
    for n in (2, 3, 10, 50, 257):
        x = np.sort(rng.integers(0, levels, (6, n)).astype(float), axis=1)
        y = rng.integers(0, levels, (6, n)).astype(float) + 0.5 * x
        starts, _ = group_bounds(x)
        tau = kendall_tau_b_sorted(x, y, starts if np.any(x[:, 1:] == x[:, :-1]) else None)
        for r in range(6):
            ref = kendalltau(x[r], y[r])[0]
            if np.isnan(ref):
                assert np.isnan(tau[r])
            else:
                assert tau[r] == pytest.approx(ref, abs=1e-12)
