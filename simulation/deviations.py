"""Simulated predictor deviations (Appendix A.5): a peaked, skewed mixture with rare outliers.

Mixture: N1(c, v) with weight 72.5 %, N2(-c, 3v) 26.5 %, U(-15v, 15v) 1 %, shift c ~ U[0, 2v]
drawn once per sample. Values are drawn 15 times fewer than needed and each repeated 15 times
(predictor errors are not smooth), then randomly assigned to the architectures.

Variants:
- ``"text"`` (default): the dissertation text — standardise the sample (subtract its mean,
  divide by its std) and scale it to the requested std ``s``; ``ceil(n / 15)`` values.
- ``"original-code"``: the published code — fixed widths (v = 1), only the shift scales with s
  (c ~ U[0, 2s]), ``n // 15`` values repeated and the missing tail filled with the first values,
  scaled to std ``s`` without removing the mean.
"""

from __future__ import annotations

import numpy as np

WEIGHT_N1 = 0.725
WEIGHT_N2 = 0.265  # the remaining 1 % is uniform
WIDTH_N2 = 3.0
WIDTH_UNIFORM = 15.0
SHIFT_MAX = 2.0
REPEATS = 15
VARIANTS = ("text", "original-code")


def _mixture(rng: np.random.Generator, shift: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Unit-width mixture values; ``shift`` has one value per row."""
    pick = rng.random(shape)
    n1 = rng.standard_normal(shape) + shift
    n2 = WIDTH_N2 * rng.standard_normal(shape) - shift
    uni = rng.uniform(-WIDTH_UNIFORM, WIDTH_UNIFORM, shape)
    return np.where(pick < WEIGHT_N1, n1, np.where(pick < WEIGHT_N1 + WEIGHT_N2, n2, uni))


def sample_deviations(rng: np.random.Generator, trials: int, size: int, std: float,
                      variant: str = "text") -> np.ndarray:
    """Deviations of shape (trials, size) with (per row) standard deviation ``std``."""
    if variant not in VARIANTS:
        raise ValueError(f"deviation variant must be one of {VARIANTS}, got {variant!r}")
    if not np.isfinite(std) or std < 0:
        raise ValueError(f"std must be a finite number >= 0, got {std!r}")
    if size < 1 or trials < 0:
        raise ValueError(f"need size >= 1 and trials >= 0, got size={size}, trials={trials}")
    if std == 0:
        return np.zeros((trials, size))
    if variant == "text":
        distinct = -(-size // REPEATS)
        shift = rng.uniform(0.0, SHIFT_MAX, (trials, 1))
        values = np.repeat(_mixture(rng, shift, (trials, distinct)), REPEATS, axis=1)[:, :size]
        values = values - values.mean(axis=1, keepdims=True)
    else:
        distinct = max(size // REPEATS, 1)
        shift = rng.uniform(0.0, SHIFT_MAX * std, (trials, 1))
        values = np.repeat(_mixture(rng, shift, (trials, distinct)), REPEATS, axis=1)
        if values.shape[1] < size:
            values = np.concatenate([values, values[:, : size - values.shape[1]]], axis=1)
        values = values[:, :size]
    scale = values.std(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(scale > 0, values * (std / scale), 0.0)
    return rng.permuted(values, axis=1)
