"""Linear models on the one-hot encoding: least squares, ridge and Bayesian linear regression.

All three are linear in the one-hot features, so their differentiable export is the same
affine map applied to the relaxed one-hot encoding (:func:`predictors.relaxed.relaxed_onehot`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

import numpy as np
from sklearn.linear_model import LinearRegression as _SkLinear
from sklearn.linear_model import Ridge as _SkRidge

from nasbench_tools.errors import ParameterError

from .base import Prediction, Predictor
from .constraints import COUNT, NON_NEGATIVE, POSITIVE
from .space import Choice

if TYPE_CHECKING:
    import torch

    from nasbench_tools.spaces import SearchSpace

log = logging.getLogger(__name__)

#: Ridge penalties searched by the tuner (protocol §2, Appendix A.2).
RIDGE_ALPHAS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5)
#: Bounds keeping the evidence-maximised precisions finite on (near) noise-free data.
_PRECISION_MIN, _PRECISION_MAX = 1e-10, 1e10


def check_onehot_space(label: str, space: "SearchSpace", n_features: int) -> None:
    """The one-hot width of ``space`` must equal the width the predictor was fitted on."""
    width = space.n_slots * space.n_ops
    if width != n_features:
        raise ParameterError(
            f"{label}: search space {space.name} has a one-hot width of {width}, "
            f"but the predictor was fitted on {n_features} features"
        )


class _AffineOnehot(Predictor):
    """Shared part of the linear models: prediction ``X @ coef_ + intercept_`` (standardised)."""

    encoding = "onehot"
    differentiable = True

    def _predict_mean(self, X: np.ndarray) -> np.ndarray:
        return X @ self.coef_ + self.intercept_

    def _predict(self, X: np.ndarray, return_std: bool) -> Prediction:
        return self._predict_mean(X)

    def _torch_function(self, space: "SearchSpace") -> "Callable[[torch.Tensor], torch.Tensor]":
        from .relaxed import affine_onehot

        check_onehot_space(self._label(), space, self.n_features_in_)
        return affine_onehot(space, self.coef_, float(self.intercept_))

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"coef": np.asarray(self.coef_, dtype=np.float64),
                "intercept": np.asarray(self.intercept_, dtype=np.float64)}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.coef_ = np.asarray(state["coef"], dtype=np.float64)
        self.intercept_ = float(state["intercept"])


class LinearRegression(_AffineOnehot):
    """Ordinary least squares with an intercept (scikit-learn).

    On a rank-deficient one-hot design (every slot's block sums to one, and ops missing from
    the training data give zero columns) this is the minimum-norm least-squares solution, as
    ``numpy.linalg.lstsq`` gives; that causes the known error peak near n = slots x ops
    (protocol §2), which the toolkit keeps because it is the published model.
    """

    name = "linear_regression"

    def __init__(self, random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        model = _SkLinear(fit_intercept=True).fit(X, y)
        self.coef_ = np.asarray(model.coef_, dtype=np.float64)
        self.intercept_ = float(model.intercept_)


class Ridge(_AffineOnehot):
    """Ridge regression with an (unpenalised) intercept, scikit-learn's solver."""

    name = "ridge"
    parameter_constraints = {"alpha": NON_NEGATIVE}
    tuning_space = {"alpha": Choice(RIDGE_ALPHAS)}

    def __init__(self, alpha: float = 1.0, random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        model = _SkRidge(alpha=float(self.alpha), fit_intercept=True).fit(X, y)
        self.coef_ = np.asarray(model.coef_, dtype=np.float64)
        self.intercept_ = float(model.intercept_)


class BayesianLinearRegression(_AffineOnehot):
    """Bayesian linear regression with evidence maximisation (MacKay; Bishop PRML 3.5.2).

    Prior ``w ~ N(0, alpha^-1 I)`` over the one-hot weights and a bias, Gaussian noise of
    precision ``beta``; both are set by fixed-point iterations that maximise the marginal
    likelihood.  One eigendecomposition of ``Phi^T Phi`` makes every iteration cheap.
    ``predict(X, return_std=True)`` gives the predictive std ``sqrt(1/beta + phi^T S phi)``.
    """

    name = "bayesian_linear_regression"
    probabilistic = True
    parameter_constraints = {"alpha_init": POSITIVE, "beta_init": POSITIVE, "max_iter": COUNT, "tol": POSITIVE}

    def __init__(self, alpha_init: float = 1.0, beta_init: float = 1.0, max_iter: int = 300,
                 tol: float = 1e-6, random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        phi = np.hstack([X, np.ones((len(X), 1))])
        n = len(y)
        eig, vecs = np.linalg.eigh(phi.T @ phi)
        eig = np.clip(eig, 0.0, None)
        proj = vecs.T @ (phi.T @ y)  # Phi^T t in the eigenbasis
        alpha, beta = float(self.alpha_init), float(self.beta_init)
        for it in range(int(self.max_iter)):  # noqa: B007 - it is read after the loop
            inv = 1.0 / (alpha + beta * eig)
            mean = vecs @ (beta * inv * proj)
            gamma = float(np.sum(beta * eig * inv))
            resid = float(np.sum((y - phi @ mean) ** 2))
            new_alpha = np.clip(gamma / max(float(mean @ mean), 1.0 / _PRECISION_MAX), _PRECISION_MIN, _PRECISION_MAX)
            new_beta = np.clip((n - gamma) / max(resid, 1.0 / _PRECISION_MAX), _PRECISION_MIN, _PRECISION_MAX)
            done = abs(new_alpha - alpha) <= self.tol * alpha and abs(new_beta - beta) <= self.tol * beta
            alpha, beta = float(new_alpha), float(new_beta)
            if done:
                break
        else:
            log.debug("%s: evidence maximisation stopped after %d iterations", self._label(), it + 1)
        inv = 1.0 / (alpha + beta * eig)
        mean = vecs @ (beta * inv * proj)
        self.alpha_, self.beta_ = alpha, beta
        self.n_iter_ = it + 1
        self.coef_ = mean[:-1].copy()
        self.intercept_ = float(mean[-1])
        self.sigma_ = (vecs * inv) @ vecs.T  # posterior covariance of (coef, bias)

    def _predict(self, X: np.ndarray, return_std: bool) -> Prediction:
        mean = self._predict_mean(X)
        if not return_std:
            return mean
        phi = np.hstack([X, np.ones((len(X), 1))])
        var = 1.0 / self.beta_ + np.einsum("ij,jk,ik->i", phi, self.sigma_, phi)
        return mean, np.sqrt(np.clip(var, 0.0, None))

    def _get_state(self) -> dict[str, np.ndarray]:
        state = super()._get_state()
        state.update(alpha=np.asarray(self.alpha_), beta=np.asarray(self.beta_), sigma=self.sigma_)
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        super()._set_state(state)
        self.alpha_, self.beta_ = float(state["alpha"]), float(state["beta"])
        self.sigma_ = np.asarray(state["sigma"], dtype=np.float64)
