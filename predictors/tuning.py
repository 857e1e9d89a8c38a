"""Hyper-parameter tuning: random search scored by K-fold cross-validated Kendall's tau.

Protocol (Appendix A.2, with the original defect fixed): the estimator's current
configuration is evaluated first, then random configurations from its ``tuning_space``;
each is scored by the mean Kendall's tau over ``cv`` *held-out* folds (NaN or negative taus
count as 0).  The search stops after ``n_configs`` configurations or when ``time_budget_s``
has elapsed (checked before each configuration, so it overshoots by at most one
configuration's fit time).  Below :data:`MIN_TUNING_SAMPLES` samples nothing is tuned.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import KFold

from nasbench_tools.errors import ParameterError

from .base import Prediction, Predictor, seed_int
from .constraints import COUNT, AnyOf, Int, NoneOr, Options, Real, Seed, check_values
from .metrics import tuning_score
from .space import sample_config

log = logging.getLogger(__name__)

#: Fewer training samples than this: the given configuration is used untuned (protocol).
MIN_TUNING_SAMPLES = 10
DEFAULT_FOLDS = 3
DEFAULT_N_CONFIGS = 100
#: Random draws per wanted configuration before a (small, finite) space counts as exhausted.
_DRAWS_PER_CONFIG = 20
#: Errors a configuration may raise while fitting a fold; it then scores 0.
_FIT_ERRORS = (ValueError, ArithmeticError, RuntimeError, np.linalg.LinAlgError)
#: What :func:`tune` accepts for its own options (n_jobs -1: all cores).
TUNE_CONSTRAINTS = {"n_configs": COUNT, "cv": Int(2), "n_jobs": AnyOf(COUNT, Options(-1)), "random_state": Seed(),
                    "time_budget_s": NoneOr(Real(0.0))}


@dataclass(frozen=True)
class TuningResult:
    """Outcome of :func:`tune`: the chosen parameters, their CV score and the full table."""

    best_params: dict[str, Any]
    best_score: float
    cv_results: pd.DataFrame
    tuned: bool


def _as_predictor(estimator: Predictor | str) -> Predictor:
    if isinstance(estimator, str):
        from .registry import make

        return make(estimator)
    if not isinstance(estimator, Predictor):
        raise TypeError(f"tuning needs a Predictor or a registry name, got {type(estimator).__name__}")
    return estimator


def _validate(est: Predictor, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` validated as ``est.fit`` would (on a clone: the caller's estimator is not touched)."""
    X, y = clone(est)._validate_fit(X, y)
    est.check_params()
    return X, y


def _fold_score(est: Predictor, params: dict[str, Any], X: np.ndarray, y: np.ndarray,
                train: np.ndarray, test: np.ndarray) -> tuple[float, str]:
    model = clone(est).set_params(**params)
    try:
        model.fit(X[train], y[train])
        return tuning_score(y[test], model.predict(X[test])), ""
    except _FIT_ERRORS as exc:
        return 0.0, f"{type(exc).__name__}: {exc}"


def _key(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def tune(estimator: Predictor | str, X: Any, y: Any, *, n_configs: int = DEFAULT_N_CONFIGS,
         time_budget_s: float | None = None, cv: int = DEFAULT_FOLDS, random_state: int | None = 0,
         n_jobs: int = 1, clock: Callable[[], float] = time.perf_counter) -> TuningResult:
    """Random-search ``estimator``'s ``tuning_space`` on ``(X, y)``; see the module docstring.

    Returns the chosen parameters (only those of the tuning space), their mean fold score and a
    ``cv_results_``-style table (one row per configuration, the current one first).
    """
    est = _as_predictor(estimator)
    X, y = _validate(est, X, y)
    check_values("tune", TUNE_CONSTRAINTS, {"n_configs": n_configs, "cv": cv, "n_jobs": n_jobs,
                                            "random_state": random_state, "time_budget_s": time_budget_s})
    space = dict(est.tuning_space)
    current = {k: est.get_params()[k] for k in sorted(space)}
    if len(y) < MIN_TUNING_SAMPLES:
        log.debug("%s: %d samples < %d, not tuned", est._label(), len(y), MIN_TUNING_SAMPLES)
        return TuningResult(current, float("nan"), _table([]), tuned=False)
    if cv > len(y):
        raise ParameterError(f"tune: cv={cv} folds need at least {cv} samples, got {len(y)}")

    folds = list(KFold(cv, shuffle=True, random_state=seed_int(random_state)).split(X))
    rng = np.random.default_rng(seed_int(random_state, 1))
    start = clock()
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    draws_left = _DRAWS_PER_CONFIG * n_configs
    params: dict[str, Any] | None = current
    with Parallel(n_jobs=n_jobs) as parallel:
        while params is not None:
            seen.add(_key(params))
            t0 = clock()
            out = parallel(delayed(_fold_score)(est, params, X, y, tr, te) for tr, te in folds)
            scores = [s for s, _ in out]
            errors = "; ".join(sorted({e for _, e in out if e}))
            rows.append({"params": dict(params), "scores": scores, "fit_time_s": clock() - t0,
                         "is_current": not rows, "error": errors})
            params = None
            if not space or len(rows) >= n_configs:
                break
            if time_budget_s is not None and clock() - start >= time_budget_s:
                log.debug("%s: time budget %.1fs used after %d configurations", est._label(), time_budget_s, len(rows))
                break
            while draws_left > 0:
                draws_left -= 1
                cand = sample_config(space, rng)
                if _key(cand) not in seen:
                    params = cand
                    break
    table = _table(rows, cv)
    best = int(table["mean_test_score"].to_numpy().argmax())  # first maximum: the current config wins ties
    return TuningResult(dict(table["params"].iloc[best]), float(table["mean_test_score"].iloc[best]), table, True)


def _table(rows: list[dict[str, Any]], cv: int = DEFAULT_FOLDS) -> pd.DataFrame:
    cols: dict[str, list[Any]] = {"params": [r["params"] for r in rows]}
    names = sorted({k for r in rows for k in r["params"]})
    for name in names:
        cols[f"param_{name}"] = [r["params"].get(name) for r in rows]
    for k in range(cv):
        cols[f"split{k}_test_score"] = [r["scores"][k] for r in rows]
    scores = np.array([r["scores"] for r in rows], dtype=np.float64).reshape(len(rows), cv)
    cols["mean_test_score"] = list(scores.mean(axis=1)) if rows else []
    cols["std_test_score"] = list(scores.std(axis=1)) if rows else []
    cols["fit_time_s"] = [r["fit_time_s"] for r in rows]
    cols["is_current"] = [r["is_current"] for r in rows]
    cols["error"] = [r["error"] for r in rows]
    table = pd.DataFrame(cols)
    table["rank_test_score"] = table["mean_test_score"].rank(ascending=False, method="min").astype("Int64")
    return table


class TunedPredictor(RegressorMixin, BaseEstimator):
    """Wraps a predictor: ``fit`` tunes it with :func:`tune`, then refits the chosen
    configuration on all the data (``best_estimator_``), which ``predict`` uses.

    ``estimator`` is a predictor instance or a registry name.  Attributes after ``fit``:
    ``best_params_``, ``best_score_``, ``cv_results_`` (a DataFrame), ``tuned_`` (False below
    10 samples), ``best_estimator_``.
    """

    def __init__(self, estimator: Predictor | str = "ridge", n_configs: int = DEFAULT_N_CONFIGS,
                 time_budget_s: float | None = None, cv: int = DEFAULT_FOLDS, random_state: int | None = 0,
                 n_jobs: int = 1) -> None:
        self.estimator = estimator
        self.n_configs = n_configs
        self.time_budget_s = time_budget_s
        self.cv = cv
        self.random_state = random_state
        self.n_jobs = n_jobs

    # what the wrapped predictor declares
    @property
    def encoding(self) -> str:
        return _as_predictor(self.estimator).encoding

    @property
    def probabilistic(self) -> bool:
        return _as_predictor(self.estimator).probabilistic

    @property
    def differentiable(self) -> bool:
        return _as_predictor(self.estimator).differentiable

    def fit(self, X: Any, y: Any) -> "TunedPredictor":
        est = _as_predictor(self.estimator)
        result = tune(est, X, y, n_configs=self.n_configs, time_budget_s=self.time_budget_s, cv=self.cv,
                      random_state=self.random_state, n_jobs=self.n_jobs)
        self.best_params_ = result.best_params
        self.best_score_ = result.best_score
        self.cv_results_ = result.cv_results
        self.tuned_ = result.tuned
        self.best_estimator_ = clone(est).set_params(**result.best_params).fit(X, y)
        self.n_features_in_ = self.best_estimator_.n_features_in_
        if hasattr(self.best_estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.best_estimator_.feature_names_in_
        return self

    def _fitted(self) -> Predictor:
        if not hasattr(self, "best_estimator_"):
            raise NotFittedError("TunedPredictor: call fit() before predict()")
        return self.best_estimator_

    def predict(self, X: Any, return_std: bool = False) -> Prediction:
        return self._fitted().predict(X, return_std=return_std)

    def torch_function(self, space):  # noqa: ANN001, ANN201 - same signature as Predictor.torch_function
        return self._fitted().torch_function(space)
