"""Gradient-boosted trees on the one-hot encoding: XGBoost, LightGBM and NGBoost."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from nasbench_tools.errors import require

from ._refit import RefitStateMixin
from .base import Prediction, Predictor, seed_int
from .constraints import COUNT, FRACTION, NON_NEGATIVE, POSITIVE, Int
from .space import IntUniform, Uniform


def _bytes_array(data: bytes | bytearray | str) -> np.ndarray:
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return np.frombuffer(raw, dtype=np.uint8).copy()


class _Boosting(Predictor):
    """Shared part of the boosting predictors: the optional library, the round count and rate."""

    encoding = "onehot"
    extra = "boosting"
    #: Import name of the library (imported on first use: the boosting extra is optional).
    library: ClassVar[str] = ""
    parameter_constraints = {"n_estimators": COUNT, "learning_rate": POSITIVE}

    def _library(self) -> Any:
        return require(self.library, f"predictor {self._label()!r}")


class XGBoost(_Boosting):
    """XGBoost regression trees: 500 rounds, depth 6, learning rate 0.3, min_child_weight 1.

    Tuning space: Table A.1 lists the parameters but its ranges are not legible in the source;
    the ranges below are NASLib's XGBoost ranges, on which the study's code was based.
    Persistence: the booster's native UBJSON model (``save_raw``).
    """

    name = "xgboost"
    library = "xgboost"
    parameter_constraints = {"max_depth": Int(0), "min_child_weight": NON_NEGATIVE, "colsample_bytree": FRACTION,
                             "colsample_bylevel": FRACTION, "n_jobs": COUNT}
    tuning_space = {
        "max_depth": IntUniform(1, 15),
        "min_child_weight": IntUniform(1, 10),
        "colsample_bytree": Uniform(0.1, 1.0),
        "learning_rate": Uniform(0.001, 0.5, log=True),
        "colsample_bylevel": Uniform(0.1, 1.0),
    }

    def __init__(self, n_estimators: int = 500, max_depth: int = 6, learning_rate: float = 0.3,
                 min_child_weight: float = 1, colsample_bytree: float = 1.0, colsample_bylevel: float = 1.0,
                 n_jobs: int = 1, random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        xgb = self._library()
        params = {
            "objective": "reg:squarederror", "max_depth": int(self.max_depth), "eta": float(self.learning_rate),
            "min_child_weight": float(self.min_child_weight), "colsample_bytree": float(self.colsample_bytree),
            "colsample_bylevel": float(self.colsample_bylevel), "nthread": int(self.n_jobs),
            "seed": seed_int(self.random_state), "tree_method": "hist", "verbosity": 0,
        }
        self.booster_ = xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round=int(self.n_estimators))

    def _predict(self, X: np.ndarray, return_std: bool) -> np.ndarray:
        return self.booster_.predict(self._library().DMatrix(X)).astype(np.float64)

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"model_ubj": _bytes_array(self.booster_.save_raw(raw_format="ubj"))}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        booster = self._library().Booster()
        booster.load_model(bytearray(state["model_ubj"].tobytes()))
        booster.set_param({"nthread": int(self.n_jobs)})
        self.booster_ = booster


class LightGBM(_Boosting):
    """LightGBM: 500 rounds, 31 leaves, learning rate 0.05, feature fraction 0.9, bagging
    0.8 every 5 rounds, min_data_in_leaf 5 (deterministic mode, seeded).

    Persistence: the booster's native text model (``model_to_string``).
    """

    name = "lightgbm"
    library = "lightgbm"
    parameter_constraints = {"num_leaves": Int(2), "feature_fraction": FRACTION, "bagging_fraction": FRACTION,
                             "bagging_freq": Int(0), "min_data_in_leaf": COUNT, "n_jobs": COUNT}
    tuning_space = {
        "num_leaves": IntUniform(10, 100),
        "learning_rate": Uniform(0.001, 0.1, log=True),
        "feature_fraction": Uniform(0.1, 1.0),
    }

    def __init__(self, n_estimators: int = 500, num_leaves: int = 31, learning_rate: float = 0.05,
                 feature_fraction: float = 0.9, bagging_fraction: float = 0.8, bagging_freq: int = 5,
                 min_data_in_leaf: int = 5, n_jobs: int = 1, random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        lgb = self._library()
        params = {
            "objective": "regression", "num_leaves": int(self.num_leaves),
            "learning_rate": float(self.learning_rate), "feature_fraction": float(self.feature_fraction),
            "bagging_fraction": float(self.bagging_fraction), "bagging_freq": int(self.bagging_freq),
            "min_data_in_leaf": int(self.min_data_in_leaf), "num_threads": int(self.n_jobs),
            "seed": seed_int(self.random_state), "deterministic": True, "force_row_wise": True,
            "feature_pre_filter": False, "verbose": -1,
        }
        data = lgb.Dataset(X, label=y, params={"verbose": -1, "feature_pre_filter": False})
        self.booster_ = lgb.train(params, data, num_boost_round=int(self.n_estimators))

    def _predict(self, X: np.ndarray, return_std: bool) -> np.ndarray:
        return np.asarray(self.booster_.predict(X, num_threads=int(self.n_jobs)), dtype=np.float64)

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"model_txt": _bytes_array(self.booster_.model_to_string())}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.booster_ = self._library().Booster(model_str=state["model_txt"].tobytes().decode("utf-8"))


class NGBoost(RefitStateMixin, _Boosting):
    """NGBoost with a Normal distribution: 505 estimators, learning rate 0.081, depth-6
    regression trees with max_features 0.79, minibatch fraction 0.5.

    ``return_std`` gives the std of the predicted Normal.  Persistence: ngboost's model is a
    list of scikit-learn trees per parameter with no pickle-free format, so the training data
    is saved and the seeded (deterministic) fit is repeated on load.
    """

    name = "ngboost"
    library = "ngboost"
    probabilistic = True
    parameter_constraints = {"max_depth": COUNT, "max_features": FRACTION, "minibatch_frac": FRACTION}
    tuning_space = {
        "n_estimators": IntUniform(128, 512, log=True),
        "learning_rate": Uniform(0.001, 0.1, log=True),
        "max_depth": IntUniform(1, 25),
        "max_features": Uniform(0.1, 1.0),
    }

    def __init__(self, n_estimators: int = 505, learning_rate: float = 0.081, max_depth: int = 6,
                 max_features: float = 0.79, minibatch_frac: float = 0.5, random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        ngboost = self._library()
        from sklearn.tree import DecisionTreeRegressor

        self._remember_training_data(X, y)
        if np.all(y == y[0]):
            # a constant target (standardised to zeros): a Normal of scale 0 cannot be fitted,
            # and the prediction is that constant anyway (Predictor.fit sets y_scale_ = 0)
            self.model_ = None
            return
        base = DecisionTreeRegressor(criterion="friedman_mse", max_depth=int(self.max_depth),
                                     max_features=float(self.max_features),
                                     random_state=seed_int(self.random_state, 1))
        self.model_ = ngboost.NGBRegressor(Dist=ngboost.distns.Normal, Base=base, n_estimators=int(self.n_estimators),
                                   learning_rate=float(self.learning_rate),
                                   minibatch_frac=float(self.minibatch_frac), verbose=False,
                                   random_state=seed_int(self.random_state)).fit(X, y)

    def _predict(self, X: np.ndarray, return_std: bool) -> Prediction:
        if self.model_ is None:  # constant target
            zeros = np.zeros(len(X))
            return (zeros, zeros.copy()) if return_std else zeros
        dist = self.model_.pred_dist(X)
        mean = np.asarray(dist.params["loc"], dtype=np.float64)
        if not return_std:
            return mean
        return mean, np.asarray(dist.params["scale"], dtype=np.float64)
