"""Deviation model statistics (Appendix A.5) and uniform subset drawing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulation.deviations import REPEATS, sample_deviations
from simulation.subsets import draw_subsets


@pytest.mark.parametrize("std", [0.1, 0.5, 1.0])
def test_text_variant_has_zero_mean_and_requested_std_per_row(std):
    d = sample_deviations(np.random.default_rng(0), 50, 1000, std, "text")
    assert d.shape == (50, 1000)
    np.testing.assert_allclose(d.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(d.std(axis=1), std, rtol=1e-12)


def test_values_repeat_in_blocks_of_15():
    d = sample_deviations(np.random.default_rng(1), 20, 1000, 0.5, "text")
    for row in d:
        values, counts = np.unique(row, return_counts=True)
        assert len(values) == -(-1000 // REPEATS)
        assert counts.max() == REPEATS
    o = sample_deviations(np.random.default_rng(1), 20, 1000, 0.5, "original-code")
    assert all(len(np.unique(r)) == 1000 // REPEATS for r in o)


def test_repeated_values_are_scattered_randomly_over_the_architectures():
    d = sample_deviations(np.random.default_rng(2), 200, 150, 1.0, "text")
    # neighbours share a value only by chance (~14/149), not in blocks
    same_as_next = (d[:, 1:] == d[:, :-1]).mean()
    assert same_as_next < 0.2


def test_mixture_is_heavy_tailed_and_peaked():
    d = sample_deviations(np.random.default_rng(3), 1, 300_000, 1.0, "text")[0]
    # outliers of the uniform part: far more mass beyond 4 std than a normal distribution has
    assert (np.abs(d) > 4).mean() > 20 * 2 * stats.norm.sf(4)
    assert stats.kurtosis(d) > 1.0


def test_original_code_variant_keeps_the_mean_and_scales_only_the_shift():
    rng = np.random.default_rng(4)
    d = sample_deviations(rng, 400, 1500, 1.0, "original-code")
    np.testing.assert_allclose(d.std(axis=1), 1.0, rtol=1e-12)
    assert d.mean() > 0.05  # N1 (+c, 72.5 %) outweighs N2 (-c, 26.5 %); the mean is not removed
    t = sample_deviations(np.random.default_rng(4), 400, 1500, 1.0, "text")
    assert abs(t.mean()) < 1e-12


def test_zero_std_gives_zeros_and_bad_input_fails():
    assert not sample_deviations(np.random.default_rng(0), 3, 10, 0.0).any()
    with pytest.raises(ValueError, match="std must be"):
        sample_deviations(np.random.default_rng(0), 3, 10, -0.1)
    with pytest.raises(ValueError, match="variant"):
        sample_deviations(np.random.default_rng(0), 3, 10, 0.1, "nonsense")


@pytest.mark.parametrize("size", [1, 5, 100, 3000, 9999])
def test_subsets_are_sorted_unique_and_uniform(size):
    population = 10_000
    rows = draw_subsets(np.random.default_rng(size), population, size, 200)
    assert rows.shape == (200, size)
    assert np.all(np.diff(rows, axis=1) > 0)
    assert rows.min() >= 0 and rows.max() < population
    counts = np.bincount(rows.ravel(), minlength=population)
    expected = 200 * size / population
    # coarse uniformity: deciles of the index range get the same share
    deciles = counts.reshape(10, -1).sum(axis=1)
    np.testing.assert_allclose(deciles, expected * population / 10, rtol=0.1 if size >= 100 else 0.5)


def test_subset_errors():
    with pytest.raises(ValueError, match="subset size"):
        draw_subsets(np.random.default_rng(0), 10, 11, 1)
    full = draw_subsets(np.random.default_rng(0), 10, 10, 2)
    assert (full == np.arange(10)).all()
