"""scikit-learn's own estimator checks on every registered predictor and on TunedPredictor.

The only failures allowed are listed, with their reasons, in ``predictors._conformance``; the
handling is strict: a listed check must still fail (then it is reported as xfail with its
reason), an unlisted one must pass.  Checked instances use small training budgets (see
``predictors._conformance.CHECKED_PARAMS``) so the module stays fast.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

import predictors
from nasbench_tools.errors import InputDataError, NasbenchError
from predictors._conformance import (EXPECTED_FAILED_CHECKS, TUNED, TUNED_PARAMS, checked_estimators,
                                     checked_name)
from predictors.tuning import TunedPredictor

ESTIMATORS = checked_estimators()


def _check_name(check) -> str:
    return getattr(check, "func", check).__name__


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    name, check_name = checked_name(estimator), _check_name(check)
    reason = EXPECTED_FAILED_CHECKS.get(name, {}).get(check_name)
    if reason is None:
        check(estimator)
        return
    try:
        check(estimator)
        failed = False
    except Exception:  # noqa: BLE001 - any failure of a listed check is the expected one
        failed = True
    if failed:  # outside the handler: pytest then need not render the check's traceback (slow)
        pytest.xfail(reason)
    pytest.fail(f"{check_name} now passes for {name}: remove it from predictors._conformance.EXPECTED_FAILED_CHECKS")


def test_every_registered_predictor_and_the_tuner_are_checked():
    assert [checked_name(e) for e in ESTIMATORS] == [*predictors.available(), TUNED]
    assert set(EXPECTED_FAILED_CHECKS) <= set(predictors.available())
    assert all(reason for checks in EXPECTED_FAILED_CHECKS.values() for reason in checks.values())


# Direct checks of the validation contract (one-line messages naming the problem).
RNG = np.random.default_rng(0)
X = RNG.random((30, 4))
Y = X @ np.arange(1.0, 5.0)


@pytest.mark.parametrize("bad_X, bad_y, match", [
    (X + 1j, Y, "Complex data not supported"),
    (X, np.c_[Y, Y], "y should be a 1d array"),
    (sp.csr_matrix(X), Y, "sparse input is not supported"),
    (X[:, :0], Y, "0 feature"),
    (X[:, 0], Y, "Reshape your data"),
    (X, None, "requires y"),
])
def test_bad_input_is_one_line_input_error(bad_X, bad_y, match):
    with pytest.raises(InputDataError, match=match) as err:
        predictors.make("ridge").fit(bad_X, bad_y)
    assert "\n" not in str(err.value) and str(err.value).startswith("ridge: ")
    assert isinstance(err.value, (NasbenchError, ValueError))


def test_column_vector_y_is_accepted_with_a_warning():
    with pytest.warns(DataConversionWarning):
        p = predictors.make("ridge").fit(X, Y[:, None])
    np.testing.assert_array_equal(p.predict(X), predictors.make("ridge").fit(X, Y).predict(X))


def test_wrong_width_at_predict_and_n_features_in():
    p = predictors.make("ridge").fit(X, Y)
    assert p.n_features_in_ == 4
    with pytest.raises(InputDataError, match="X has 3 features, but Ridge is expecting 4 features"):
        p.predict(X[:, :3])


def test_tuned_predictor_sets_n_features_in_and_refuses_wrong_width():
    t = TunedPredictor(**TUNED_PARAMS).fit(X, Y)
    assert t.n_features_in_ == 4 == t.best_estimator_.n_features_in_
    with pytest.raises(ValueError, match="X has 5 features"):
        t.predict(np.c_[X, X[:, 0]])
