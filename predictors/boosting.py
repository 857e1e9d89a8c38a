"""Gradient-boosted trees on the one-hot encoding: XGBoost, LightGBM and NGBoost."""

from __future__ import annotations

import numpy as np

from nasbench_tools.errors import require

from ._checks import check_float, check_int, check_seed, seed_int
from ._refit import RefitStateMixin
from .base import Predictor
from .space import IntUniform, Uniform


def _bytes_array(data: bytes | bytearray | str) -> np.ndarray:
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return np.frombuffer(raw, dtype=np.uint8).copy()


class XGBoost(Predictor):
    """XGBoost regression trees: 500 rounds, depth 6, learning rate 0.3, min_child_weight 1.

    Tuning space: Table A.1 lists the parameters but its ranges are not legible in the source;
    the ranges below are NASLib's XGBoost ranges, on which the study's code was based.
    Persistence: the booster's native UBJSON model (``save_raw``).
    """

    name = "xgboost"
    encoding = "onehot"
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
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.min_child_weight = min_child_weight
        self.colsample_bytree = colsample_bytree
        self.colsample_bylevel = colsample_bylevel
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _check_params(self) -> None:
        label = self._label()
        check_int(label, "n_estimators", self.n_estimators, 1)
        check_int(label, "max_depth", self.max_depth, 0)
        check_float(label, "learning_rate", self.learning_rate, 0.0, low_open=True)
        check_float(label, "min_child_weight", self.min_child_weight, 0.0)
        check_float(label, "colsample_bytree", self.colsample_bytree, 0.0, 1.0, low_open=True)
        check_float(label, "colsample_bylevel", self.colsample_bylevel, 0.0, 1.0, low_open=True)
        check_int(label, "n_jobs", self.n_jobs, 1)
        check_seed(label, self.random_state)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        xgb = require("xgboost", "predictor 'xgboost'")

        params = {
            "objective": "reg:squarederror", "max_depth": int(self.max_depth), "eta": float(self.learning_rate),
            "min_child_weight": float(self.min_child_weight), "colsample_bytree": float(self.colsample_bytree),
            "colsample_bylevel": float(self.colsample_bylevel), "nthread": int(self.n_jobs),
            "seed": seed_int(self.random_state), "tree_method": "hist", "verbosity": 0,
        }
        self.booster_ = xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round=int(self.n_estimators))

    def _predict(self, X: np.ndarray, return_std: bool) -> np.ndarray:
        xgb = require("xgboost", "predictor 'xgboost'")

        return self.booster_.predict(xgb.DMatrix(X)).astype(np.float64)

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"model_ubj": _bytes_array(self.booster_.save_raw(raw_format="ubj"))}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        xgb = require("xgboost", "predictor 'xgboost'")

        booster = xgb.Booster()
        booster.load_model(bytearray(state["model_ubj"].tobytes()))
        booster.set_param({"nthread": int(self.n_jobs)})
        self.booster_ = booster


class LightGBM(Predictor):
    """LightGBM: 500 rounds, 31 leaves, learning rate 0.05, feature fraction 0.9, bagging
    0.8 every 5 rounds, min_data_in_leaf 5 (deterministic mode, seeded).

    Persistence: the booster's native text model (``model_to_string``).
    """

    name = "lightgbm"
    encoding = "onehot"
    tuning_space = {
        "num_leaves": IntUniform(10, 100),
        "learning_rate": Uniform(0.001, 0.1, log=True),
        "feature_fraction": Uniform(0.1, 1.0),
    }

    def __init__(self, n_estimators: int = 500, num_leaves: int = 31, learning_rate: float = 0.05,
                 feature_fraction: float = 0.9, bagging_fraction: float = 0.8, bagging_freq: int = 5,
                 min_data_in_leaf: int = 5, n_jobs: int = 1, random_state: int | None = 0) -> None:
        self.n_estimators = n_estimators
        self.num_leaves = num_leaves
        self.learning_rate = learning_rate
        self.feature_fraction = feature_fraction
        self.bagging_fraction = bagging_fraction
        self.bagging_freq = bagging_freq
        self.min_data_in_leaf = min_data_in_leaf
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _check_params(self) -> None:
        label = self._label()
        check_int(label, "n_estimators", self.n_estimators, 1)
        check_int(label, "num_leaves", self.num_leaves, 2)
        check_float(label, "learning_rate", self.learning_rate, 0.0, low_open=True)
        check_float(label, "feature_fraction", self.feature_fraction, 0.0, 1.0, low_open=True)
        check_float(label, "bagging_fraction", self.bagging_fraction, 0.0, 1.0, low_open=True)
        check_int(label, "bagging_freq", self.bagging_freq, 0)
        check_int(label, "min_data_in_leaf", self.min_data_in_leaf, 1)
        check_int(label, "n_jobs", self.n_jobs, 1)
        check_seed(label, self.random_state)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        lgb = require("lightgbm", "predictor 'lightgbm'")

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
        lgb = require("lightgbm", "predictor 'lightgbm'")

        self.booster_ = lgb.Booster(model_str=state["model_txt"].tobytes().decode("utf-8"))


class NGBoost(RefitStateMixin, Predictor):
    """NGBoost with a Normal distribution: 505 estimators, learning rate 0.081, depth-6
    regression trees with max_features 0.79, minibatch fraction 0.5.

    ``return_std`` gives the std of the predicted Normal.  Persistence: ngboost's model is a
    list of scikit-learn trees per parameter with no pickle-free format, so the training data
    is saved and the seeded (deterministic) fit is repeated on load.
    """

    name = "ngboost"
    encoding = "onehot"
    probabilistic = True
    tuning_space = {
        "n_estimators": IntUniform(128, 512, log=True),
        "learning_rate": Uniform(0.001, 0.1, log=True),
        "max_depth": IntUniform(1, 25),
        "max_features": Uniform(0.1, 1.0),
    }

    def __init__(self, n_estimators: int = 505, learning_rate: float = 0.081, max_depth: int = 6,
                 max_features: float = 0.79, minibatch_frac: float = 0.5, random_state: int | None = 0) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.max_features = max_features
        self.minibatch_frac = minibatch_frac
        self.random_state = random_state

    def _check_params(self) -> None:
        label = self._label()
        check_int(label, "n_estimators", self.n_estimators, 1)
        check_float(label, "learning_rate", self.learning_rate, 0.0, low_open=True)
        check_int(label, "max_depth", self.max_depth, 1)
        check_float(label, "max_features", self.max_features, 0.0, 1.0, low_open=True)
        check_float(label, "minibatch_frac", self.minibatch_frac, 0.0, 1.0, low_open=True)
        check_seed(label, self.random_state)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        ngboost = require("ngboost", "predictor 'ngboost'")
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

    def _predict(self, X: np.ndarray, return_std: bool):
        if self.model_ is None:  # constant target
            zeros = np.zeros(len(X))
            return (zeros, zeros.copy()) if return_std else zeros
        dist = self.model_.pred_dist(X)
        mean = np.asarray(dist.params["loc"], dtype=np.float64)
        if not return_std:
            return mean
        return mean, np.asarray(dist.params["scale"], dtype=np.float64)
