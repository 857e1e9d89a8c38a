"""scikit-learn conformance: the estimator instances the test suite checks with
``sklearn.utils.estimator_checks.parametrize_with_checks`` and the ONE list of checks each is
allowed to fail, with the reason.

scikit-learn's checks fit on generic numeric ``X`` (random floats, 1 to 10 columns).  Most
predictors are generic regressors on any numeric table and pass every check.  Some cannot take
such ``X`` by design, and refuse it at ``fit`` with a one-line error instead of fitting garbage:

* ``gcn`` / ``bonas``: ``X`` must be a flattened graph encoding (``n_nodes**2`` 0/1 adjacency
  values, then one-hot node features; BONAS with its global node);
* ``nao``: ``X`` must be non-negative integer tokens (the ``nao`` encoding);
* ``lookup_table``: ``X`` must be exact one-hot rows of its search space (30 columns for NB201),
  and fitting needs the space's lookup-table architectures among them;
* the transfer predictors (``transfer_gp``, ``transfer_gp_suggested``, ``transfer_gp_live``): one-hot rows of their
  space, and a ``sources`` table over the whole space must be set.

Checked instances use small training budgets (fewer epochs, iterations or trees) so that the
whole conformance module runs in well under a minute and a half on two cores; the defaults of the
study are unchanged.
"""

from __future__ import annotations

from typing import Any, Mapping

from sklearn.base import BaseEstimator

from .registry import available, make
from .tuning import TunedPredictor

#: Parameter overrides of the checked instances (CI speed); every value still lets the model
#: reach scikit-learn's training-score threshold (``check_regressors_train``).
CHECKED_PARAMS: dict[str, dict[str, Any]] = {
    "gp": {"n_iter": 5},
    "sparse_gp": {"n_iter": 40, "n_inducing": 16},
    "random_forest": {"n_estimators": 8},
    "xgboost": {"n_estimators": 10},
    "ngboost": {"n_estimators": 10},
    "lightgbm": {"n_estimators": 10},
    "bohamiann": {"num_steps": 30},
    "bananas": {"epochs": 25, "n_ensemble": 2, "num_layers": 3},
    "bonas": {"epochs": 2},
    "gcn": {"epochs": 2},
    "mlp_large": {"epochs": 25, "num_layers": 3},
    "mlp_small": {"epochs": 25},
    "nao": {"epochs": 2, "hidden_size": 8},
}
#: Name under which :class:`~predictors.tuning.TunedPredictor` is checked.
TUNED = "tuned_predictor"
#: The checked TunedPredictor: a real random search (2 configurations of ridge, 3 folds).
TUNED_PARAMS: dict[str, Any] = {"estimator": "ridge", "n_configs": 2, "cv": 3}

#: Checks that fit (or predict) on generic numeric X, which a structured encoding refuses.
_GENERIC_X_CHECKS = (
    "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self", "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit", "check_estimators_dtypes", "check_dtype_object",
    "check_pipeline_consistency", "check_estimators_nan_inf", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_regressors_train", "check_regressor_data_not_an_array",
    "check_regressors_no_decision_function", "check_supervised_y_2d", "check_regressors_int",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_dict_unchanged",
    "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in", "check_fit2d_predict1d",
)
_GRAPH = ("X must be a flattened graph encoding (0/1 adjacency, one-hot node features); generic numeric X "
          "is refused at fit")
_TOKENS = "X must be non-negative integer tokens (nao encoding); generic numeric X is refused at fit"
_LUT = ("X must be exact one-hot rows of the search space (30 columns for nb201) including its lookup-table "
        "architectures; generic numeric X is refused at fit")
_TRANSFER = ("X must be one-hot rows of the search space and the parameter sources (a source table over the "
             "whole space) must be set; generic numeric X is refused at fit")

#: {predictor: {check_name: reason}}: the only scikit-learn checks allowed to fail.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "gcn": dict.fromkeys(_GENERIC_X_CHECKS, _GRAPH),
    "bonas": dict.fromkeys(_GENERIC_X_CHECKS, _GRAPH),
    "nao": {**dict.fromkeys(_GENERIC_X_CHECKS, _TOKENS), "check_fit2d_1feature": _TOKENS},
    "lookup_table": {**dict.fromkeys(_GENERIC_X_CHECKS, _LUT), "check_fit2d_1sample": _LUT},
    "transfer_gp": {**dict.fromkeys(_GENERIC_X_CHECKS, _TRANSFER), "check_fit2d_1feature": _TRANSFER},
    "transfer_gp_suggested": {**dict.fromkeys(_GENERIC_X_CHECKS, _TRANSFER), "check_fit2d_1feature": _TRANSFER},
    "transfer_gp_live": {**dict.fromkeys(_GENERIC_X_CHECKS, _TRANSFER), "check_fit2d_1feature": _TRANSFER},
}


def checked_name(estimator: BaseEstimator) -> str:
    """The key of ``estimator`` in :data:`EXPECTED_FAILED_CHECKS` (registry name or :data:`TUNED`)."""
    return TUNED if isinstance(estimator, TunedPredictor) else str(getattr(estimator, "name", type(estimator).__name__))


def expected_failed_checks(estimator: BaseEstimator) -> Mapping[str, str]:
    """``{check_name: reason}`` for ``estimator`` (the callable ``parametrize_with_checks`` takes)."""
    return EXPECTED_FAILED_CHECKS.get(checked_name(estimator), {})


def checked_estimators() -> list[BaseEstimator]:
    """One instance of every registered predictor (small budgets) plus a TunedPredictor."""
    return [make(name, **CHECKED_PARAMS.get(name, {})) for name in available()] + [TunedPredictor(**TUNED_PARAMS)]
