"""Rank-quality scores of predictions (the study's primary metric is Kendall's tau-b)."""

from __future__ import annotations

import numpy as np
from scipy.stats import kendalltau

from nasbench_tools.errors import InputDataError


def kendall_tau(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Kendall's tau-b between truth and prediction (NaN when either side is constant)."""
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if len(y_true) != len(y_pred):
        raise InputDataError(f"kendall_tau: {len(y_true)} true values but {len(y_pred)} predictions")
    if len(y_true) < 2:
        return float("nan")
    return float(kendalltau(y_true, y_pred).statistic)


def tuning_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The tuner's fold score: Kendall's tau with NaN and negative values counted as 0."""
    tau = kendall_tau(y_true, y_pred)
    return tau if tau > 0 else 0.0
