"""Per-fit quality metrics of a predictor on a test set."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

#: Metric columns of a study's results, in order.
METRIC_COLUMNS = ("kendall_tau", "spearman", "pearson", "mae", "rmse", "dev_mean", "dev_std")


def _corr(fn: Callable[..., Any], a: np.ndarray, b: np.ndarray) -> float:
    """A correlation that is NaN (not an exception or a warning) for constant inputs."""
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(fn(a, b)[0])


def prediction_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Kendall's tau-b, Spearman, Pearson, and errors in standardised units.

    Errors are standardised with the *test* truth's mean and std (evaluation only, so no
    leakage into the fit), which makes them comparable across training sizes and datasets;
    ``dev_*`` are of ``prediction - truth`` and ``dev_std`` is the noise level the selection
    simulator's ``std`` means.
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    scale = float(y_true.std())
    scale = scale if scale > 0 else 1.0
    dev = (y_pred - y_true) / scale
    from scipy import stats  # here, not at import: the study's command-line help needs no scipy

    from predictors.metrics import kendall_tau

    finite = np.all(np.isfinite(y_pred))
    constant = np.ptp(y_true) == 0 or (finite and np.ptp(y_pred) == 0)
    return {
        "kendall_tau": kendall_tau(y_true, y_pred) if finite and not constant else math.nan,
        "spearman": _corr(stats.spearmanr, y_true, y_pred) if finite else math.nan,
        "pearson": _corr(stats.pearsonr, y_true, y_pred) if finite else math.nan,
        "mae": float(np.mean(np.abs(dev))),
        "rmse": float(np.sqrt(np.mean(dev**2))),
        "dev_mean": float(np.mean(dev)),
        "dev_std": float(np.std(dev)),
    }
