"""Persistence by deterministic refit, for models whose fitted state has no pickle-free format.

The state saved is the (standardised) training data; loading refits with the same parameters
and seed, which reproduces the fitted model exactly because every random choice is seeded.
"""

from __future__ import annotations

import numpy as np


class RefitStateMixin:
    """``_get_state`` stores the training data, ``_set_state`` refits on it."""

    def _remember_training_data(self, X: np.ndarray, y: np.ndarray) -> None:
        self.X_train_ = np.array(X, dtype=np.float64)
        self.y_train_ = np.array(y, dtype=np.float64)

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"X_train": self.X_train_, "y_train": self.y_train_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.check_params()  # type: ignore[attr-defined]
        self._fit(np.asarray(state["X_train"], dtype=np.float64), np.asarray(state["y_train"], dtype=np.float64))  # type: ignore[attr-defined]
