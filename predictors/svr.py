"""Support vector regression (scikit-learn's libsvm wrapper) on the one-hot encoding."""

from __future__ import annotations

import numpy as np
from sklearn.svm import SVR as _SkSVR

from nasbench_tools.errors import ParameterError

from ._checks import check_choice, check_float, check_int, check_seed
from ._refit import RefitStateMixin
from .base import Predictor
from .space import Choice, Uniform

SVR_KERNELS = ("linear", "poly", "rbf", "sigmoid")


class SVR(RefitStateMixin, Predictor):
    """epsilon-SVR, rbf kernel, C 1.0, epsilon 0.1 (tuned: kernel and C in [0.5, 1.5]).

    Persistence: libsvm's model has no pickle-free format in scikit-learn, so the training
    data is saved and the (deterministic) fit is repeated on load.
    """

    name = "svr"
    encoding = "onehot"
    tuning_space = {"kernel": Choice(SVR_KERNELS), "C": Uniform(0.5, 1.5)}

    def __init__(self, kernel: str = "rbf", C: float = 1.0, epsilon: float = 0.1, degree: int = 3,
                 gamma: str | float = "scale", random_state: int | None = 0) -> None:
        self.kernel = kernel
        self.C = C
        self.epsilon = epsilon
        self.degree = degree
        self.gamma = gamma
        self.random_state = random_state

    def _check_params(self) -> None:
        label = self._label()
        check_choice(label, "kernel", self.kernel, SVR_KERNELS)
        check_float(label, "C", self.C, 0.0, low_open=True)
        check_float(label, "epsilon", self.epsilon, 0.0)
        check_int(label, "degree", self.degree, 1)
        if not (self.gamma in ("scale", "auto") or (isinstance(self.gamma, (int, float)) and self.gamma > 0)):
            raise ParameterError(f"{label}: parameter gamma={self.gamma!r} is out of range; expected 'scale', 'auto' or a number > 0")
        check_seed(label, self.random_state)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self._remember_training_data(X, y)
        self.model_ = _SkSVR(kernel=self.kernel, C=float(self.C), epsilon=float(self.epsilon),
                             degree=int(self.degree), gamma=self.gamma).fit(X, y)

    def _predict(self, X: np.ndarray, return_std: bool) -> np.ndarray:
        return self.model_.predict(X)
