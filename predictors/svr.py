"""Support vector regression (scikit-learn's libsvm wrapper) on the one-hot encoding."""

from __future__ import annotations

import numpy as np
from sklearn.svm import SVR as _SkSVR  # noqa: N811 - scikit-learn's class under our name's shadow

from ._refit import RefitStateMixin
from .base import Predictor
from .constraints import COUNT, NON_NEGATIVE, POSITIVE, AnyOf, Options
from .space import Choice, Uniform

SVR_KERNELS = ("linear", "poly", "rbf", "sigmoid")


class SVR(RefitStateMixin, Predictor):
    """epsilon-SVR, rbf kernel, C 1.0, epsilon 0.1 (tuned: kernel and C in [0.5, 1.5]).

    Persistence: libsvm's model has no pickle-free format in scikit-learn, so the training
    data is saved and the (deterministic) fit is repeated on load.
    """

    name = "svr"
    encoding = "onehot"
    parameter_constraints = {"kernel": Options(*SVR_KERNELS), "C": POSITIVE, "epsilon": NON_NEGATIVE, "degree": COUNT,
                             "gamma": AnyOf(Options("scale", "auto"), POSITIVE)}
    tuning_space = {"kernel": Choice(SVR_KERNELS), "C": Uniform(0.5, 1.5)}

    def __init__(self, kernel: str = "rbf", C: float = 1.0, epsilon: float = 0.1, degree: int = 3,
                 gamma: str | float = "scale", random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self._remember_training_data(X, y)
        self.model_ = _SkSVR(kernel=self.kernel, C=float(self.C), epsilon=float(self.epsilon),
                             degree=int(self.degree), gamma=self.gamma).fit(X, y)

    def _predict(self, X: np.ndarray, return_std: bool) -> np.ndarray:
        return self.model_.predict(X)
