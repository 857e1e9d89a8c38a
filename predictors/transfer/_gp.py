"""A Gaussian process whose kernel is a weighted sum of linear kernels on feature groups.

``k(a, b) = sum_g theta_g <f_g(a), f_g(b)> + noise * [a == b]``; the weights and the noise are
fitted by maximising the log marginal likelihood (type-II maximum likelihood), restarted from a
few fixed starting points.  Kept separate from the predictor so that the design code and tests
can use the same algebra.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.linalg import cho_solve, solve_triangular
from scipy.optimize import minimize

#: Bounds of the log kernel weights and of the log noise variance (standardised targets); the
#: noise floor e^-6 stops tiny-weight groups from interpolating residuals (measured: +0.03 tau
#: at k = 20 on the HW-NAS-Bench latency targets, and the lookup-table group is not diluted).
LOG_WEIGHT_BOUNDS = (-10.0, 8.0)
LOG_NOISE_BOUNDS = (-6.0, 2.0)
#: Starting points of the optimiser: (log weight of every group, log noise).
STARTS = ((0.0, -4.0), (1.0, -2.0))
#: Jitter added to the noise so the Cholesky factorisation stays stable.
JITTER = 1e-8
#: Value returned for a kernel matrix that is not positive definite (optimiser backs off).
_BAD_NLL = 1e10


@dataclass
class SumLinearGP:
    """Fitted state: log weights ``theta`` (groups then noise), Cholesky factor, ``alpha``."""

    theta: np.ndarray
    chol: np.ndarray
    alpha: np.ndarray

    @staticmethod
    def _kernel(grams: Sequence[np.ndarray], theta: np.ndarray) -> np.ndarray:
        n = grams[0].shape[0]
        K = sum(np.exp(t) * G for t, G in zip(theta[:-1], grams))
        return K + (np.exp(theta[-1]) + JITTER) * np.eye(n)

    @classmethod
    def fit(cls, feats: Sequence[np.ndarray], y: np.ndarray) -> "SumLinearGP":
        """Fit on feature groups ``feats`` (each ``(n, d_g)``) and standardised targets ``y``."""
        grams = [F @ F.T for F in feats]

        def nll(theta: np.ndarray) -> float:
            try:
                L = np.linalg.cholesky(cls._kernel(grams, theta))
            except np.linalg.LinAlgError:
                return _BAD_NLL
            a = cho_solve((L, True), y)
            return float(0.5 * y @ a + np.log(np.diag(L)).sum())

        bounds = [LOG_WEIGHT_BOUNDS] * len(grams) + [LOG_NOISE_BOUNDS]
        best = None
        for w0, n0 in STARTS:
            res = minimize(nll, np.array([w0] * len(grams) + [n0]), method="L-BFGS-B", bounds=bounds)
            if best is None or res.fun < best.fun:
                best = res
        theta = np.asarray(best.x, dtype=np.float64)
        L = np.linalg.cholesky(cls._kernel(grams, theta))
        return cls(theta, L, cho_solve((L, True), y))

    def loo_mean(self, y: np.ndarray) -> np.ndarray:
        """Leave-one-out predictive means of the training targets ``y`` (closed form, fixed
        hyperparameters): ``y_i - alpha_i / [K^-1]_ii``."""
        Kinv = cho_solve((self.chol, True), np.eye(len(y)))
        return y - self.alpha / np.diag(Kinv)

    def predict(self, cross: Sequence[np.ndarray], diag: Sequence[np.ndarray] | None = None
                ) -> tuple[np.ndarray, np.ndarray | None]:
        """Mean from cross-feature products ``cross[g] = f_g(X) @ f_g(train).T``; std when
        ``diag[g]`` (the squared norms ``|f_g(x)|^2``) are given."""
        Ks = sum(np.exp(t) * C for t, C in zip(self.theta[:-1], cross))
        mean = Ks @ self.alpha
        if diag is None:
            return mean, None
        prior = sum(np.exp(t) * d for t, d in zip(self.theta[:-1], diag)) + np.exp(self.theta[-1])
        V = solve_triangular(self.chol, Ks.T, lower=True)
        var = prior - np.einsum("ij,ij->j", V, V)
        return mean, np.sqrt(np.clip(var, 0.0, None))
