"""Random forest (scikit-learn) on the one-hot encoding, persisted as plain tree arrays."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.tree._tree import Tree

from .base import Predictor, seed_int
from .constraints import COUNT, FRACTION, Bool, Int
from .space import IntUniform, Uniform

#: ``sklearn.tree._tree.Tree`` state fields saved per tree (node records are a plain
#: structured array, so they load with ``allow_pickle=False``).
_NODE_FIELDS = ("nodes", "values")


class RandomForest(Predictor):
    """Random forest regressor: 116 trees, max_features 0.17, min_samples_leaf 2, no bootstrap.

    Prediction is the mean over the trees (as scikit-learn computes it); the trees are kept as
    their node arrays, so a saved forest predicts identically after loading.
    """

    name = "random_forest"
    encoding = "onehot"
    parameter_constraints = {"n_estimators": COUNT, "max_features": FRACTION, "min_samples_leaf": COUNT,
                             "min_samples_split": Int(2), "bootstrap": Bool(), "n_jobs": COUNT}
    tuning_space = {
        "n_estimators": IntUniform(16, 128, log=True),
        "max_features": Uniform(0.1, 0.9, log=True),
        "min_samples_leaf": IntUniform(1, 20),
        "min_samples_split": IntUniform(2, 20, log=True),
    }

    def __init__(self, n_estimators: int = 116, max_features: float = 0.17, min_samples_leaf: int = 2,
                 min_samples_split: int = 2, bootstrap: bool = False, n_jobs: int = 1,
                 random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        model = RandomForestRegressor(
            n_estimators=int(self.n_estimators), max_features=float(self.max_features),
            min_samples_leaf=int(self.min_samples_leaf), min_samples_split=int(self.min_samples_split),
            bootstrap=bool(self.bootstrap), n_jobs=int(self.n_jobs),
            random_state=seed_int(self.random_state),
        ).fit(X, y)
        self.trees_ = [est.tree_ for est in model.estimators_]

    def _predict(self, X: np.ndarray, return_std: bool) -> np.ndarray:
        x32 = np.ascontiguousarray(X, dtype=np.float32)
        out = np.zeros(len(X), dtype=np.float64)
        for tree in self.trees_:
            out += tree.predict(x32).reshape(len(X), -1)[:, 0]
        return out / len(self.trees_)

    def _get_state(self) -> dict[str, np.ndarray]:
        states = [t.__getstate__() for t in self.trees_]
        return {
            "node_count": np.array([s["node_count"] for s in states], dtype=np.int64),
            "max_depth": np.array([s["max_depth"] for s in states], dtype=np.int64),
            "nodes": np.concatenate([s["nodes"] for s in states]),
            "values": np.concatenate([s["values"] for s in states]),
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        counts = state["node_count"]
        bounds = np.concatenate([[0], np.cumsum(counts)])
        trees = []
        for i, (count, depth) in enumerate(zip(counts, state["max_depth"])):
            tree = Tree(int(self.n_features_in_), np.array([1], dtype=np.intp), 1)
            lo, hi = int(bounds[i]), int(bounds[i + 1])
            tree.__setstate__({
                "max_depth": int(depth), "node_count": int(count),
                "nodes": np.ascontiguousarray(state["nodes"][lo:hi]),
                "values": np.ascontiguousarray(state["values"][lo:hi]),
            })
            trees.append(tree)
        self.trees_ = trees
