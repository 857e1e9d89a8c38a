"""The estimator contract every predictor follows (scikit-learn compatible).

A predictor maps an encoded architecture ``X`` (2-D float array, the encoding named by the
class attribute ``encoding``) to a hardware metric.  :class:`Predictor` validates inputs,
standardises targets with the *training* statistics (the protocol's choice: no test leakage)
and un-standardises predictions, so subclasses implement only ``_fit`` / ``_predict`` on
standardised targets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError

from .space import Distribution

if TYPE_CHECKING:
    import torch

    from nasbench_tools.spaces import SearchSpace

#: Below this many samples a target's std is not estimated (scale 1 is used instead).
_MIN_SCALE_SAMPLES = 2
_EPS_SCALE = 1e-12


class Predictor(RegressorMixin, BaseEstimator):
    """Base class: subclasses declare parameters in ``__init__`` and implement ``_fit``/``_predict``.

    Class attributes declare what the toolkit needs to know without fitting:

    ``name``             registry name;
    ``encoding``         the encoding ``X`` must be in (see ``nasbench_tools.encodings``);
    ``differentiable``   whether :meth:`torch_function` exists;
    ``probabilistic``    whether ``predict(X, return_std=True)`` gives a predictive std;
    ``min_train_samples`` fewest samples ``fit`` accepts;
    ``tuning_space``     ``{param: Distribution}`` searched by the tuner.
    """

    name: ClassVar[str] = ""
    encoding: ClassVar[str] = "onehot"
    differentiable: ClassVar[bool] = False
    probabilistic: ClassVar[bool] = False
    min_train_samples: ClassVar[int] = 2
    tuning_space: ClassVar[Mapping[str, Distribution]] = {}

    # ---------------------------------------------------------------- subclass hooks
    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        raise NotImplementedError

    def _predict(self, X: np.ndarray, return_std: bool) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _check_params(self) -> None:
        """Raise ``ValueError`` naming a parameter whose value is out of its allowed range."""

    # ------------------------------------------------------------------- public API
    def fit(self, X: Any, y: Any) -> "Predictor":
        X = self._check_X(X, fitting=True)
        y = np.asarray(y, dtype=np.float64).ravel()
        if len(y) != len(X):
            raise ValueError(f"{self._label()}: X has {len(X)} rows but y has {len(y)} values")
        if not np.all(np.isfinite(y)):
            bad = np.flatnonzero(~np.isfinite(y))
            raise ValueError(f"{self._label()}: y holds {bad.size} NaN/infinite value(s), e.g. at row {int(bad[0])}")
        if len(y) < self.min_train_samples:
            raise ValueError(
                f"{self._label()}: needs at least {self.min_train_samples} training samples, got {len(y)}"
            )
        self._check_params()
        self.y_mean_ = float(y.mean())
        scale = float(y.std()) if len(y) >= _MIN_SCALE_SAMPLES else 1.0
        self.y_scale_ = scale if scale > _EPS_SCALE else 1.0
        self.n_features_in_ = X.shape[1]
        self._fit(X, (y - self.y_mean_) / self.y_scale_)
        return self

    def predict(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "y_mean_"):
            raise NotFittedError(f"{self._label()}: call fit() before predict()")
        if return_std and not self.probabilistic:
            raise ValueError(f"{self._label()}: this predictor gives no predictive std (probabilistic=False)")
        X = self._check_X(X, fitting=False)
        out = self._predict(X, return_std)
        if return_std:
            mean, std = out  # type: ignore[misc]
            return (np.asarray(mean, dtype=np.float64) * self.y_scale_ + self.y_mean_,
                    np.asarray(std, dtype=np.float64) * self.y_scale_)
        return np.asarray(out, dtype=np.float64) * self.y_scale_ + self.y_mean_

    def torch_function(self, space: "SearchSpace") -> "Callable[[torch.Tensor], torch.Tensor]":
        """A differentiable function from architecture weights ``(n, n_slots, n_ops)`` (soft
        one-hot per slot) to predictions in the target's units, for gradient-based NAS."""
        if not self.differentiable:
            raise NotImplementedError(f"{self._label()} is not differentiable")
        if not hasattr(self, "y_mean_"):
            raise NotFittedError(f"{self._label()}: call fit() before torch_function()")
        core = self._torch_function(space)
        mean, scale = self.y_mean_, self.y_scale_

        def fn(w: "torch.Tensor") -> "torch.Tensor":
            return core(w) * scale + mean

        return fn

    def _torch_function(self, space: "SearchSpace") -> "Callable[[torch.Tensor], torch.Tensor]":
        """Subclass hook: weights -> standardised prediction (see :meth:`torch_function`)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> dict[str, np.ndarray]:
        """Subclass hook: the fitted state as named numpy arrays (see predictors.persistence)."""
        raise NotImplementedError(
            f"{self._label()} ({type(self).__module__}.{type(self).__qualname__}) does not implement "
            "_get_state(), so it cannot be saved; implement _get_state/_set_state to support persistence"
        )

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        """Subclass hook: restore the fitted state written by :meth:`_get_state`."""
        raise NotImplementedError(
            f"{self._label()} ({type(self).__module__}.{type(self).__qualname__}) does not implement "
            "_set_state(), so it cannot be loaded; implement _get_state/_set_state to support persistence"
        )

    # ---------------------------------------------------------------------- helpers
    def _label(self) -> str:
        return self.name or type(self).__name__

    def _check_X(self, X: Any, fitting: bool) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"{self._label()}: X must be 2-D (n_samples, n_features), got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError(f"{self._label()}: X holds NaN or infinite values")
        if not fitting and X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{self._label()}: X has {X.shape[1]} features, but the predictor was fitted on "
                f"{self.n_features_in_} ({self.encoding} encoding)"
            )
        return X

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.random_state)  # type: ignore[attr-defined]

    def __sklearn_tags__(self):  # noqa: D105 - scikit-learn >= 1.6 tag protocol
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
