"""A prior on a new device's per-op costs, learned across the source devices (empirical Bayes).

Each source column, standardised over the whole space, is fitted on the one-hot encoding by
least squares (all architectures, so the fit is exact up to the non-additive part); the
coefficient vectors of the sources are samples of "a device's per-op costs".  Their mean is a
typical device's cost pattern and their covariance says in which directions devices differ, so
a few measurements of a new device only have to place it inside that spread.  Only the (already
guarded) source columns enter: nothing of the target device is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Ridge added to the coefficient covariance (relative to its mean diagonal): keeps it positive
#: definite with fewer sources than one-hot columns and leaves every direction some prior mass.
PRIOR_RIDGE = 1e-2


@dataclass(frozen=True)
class OpCostPrior:
    """Mean ``mu`` (d,) and Cholesky factor ``chol`` (d, d) of the per-op coefficient prior."""

    mu: np.ndarray
    chol: np.ndarray

    def mean_feature(self, onehot: np.ndarray) -> np.ndarray:
        """The typical device's standardised cost of each architecture, shape ``(n, 1)``."""
        return (onehot @ self.mu)[:, None]

    def cov_features(self, onehot: np.ndarray) -> np.ndarray:
        """Features whose linear kernel is ``onehot @ Sigma @ onehot.T``."""
        return onehot @ self.chol


def op_cost_prior(sources: np.ndarray, onehot: np.ndarray) -> OpCostPrior:
    """Learn the prior from ``sources`` ``(n, m)`` and the one-hot encoding ``(n, d)`` of the same rows."""
    S = np.asarray(sources, dtype=np.float64)
    sd = S.std(axis=0)
    Z = (S - S.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    W = np.linalg.lstsq(onehot, Z, rcond=None)[0]  # (d, m): one coefficient vector per source
    mu = W.mean(axis=1)
    C = np.cov(W) if W.shape[1] > 1 else np.zeros((W.shape[0], W.shape[0]))
    C = np.atleast_2d(C)
    ridge = PRIOR_RIDGE * max(float(np.trace(C)) / C.shape[0], 1e-3)
    return OpCostPrior(mu, np.linalg.cholesky(C + ridge * np.eye(C.shape[0])))
