"""Random-search tuning with held-out K-fold Kendall's tau (predictors.tuning)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.base import clone

import predictors
from nasbench_tools.encodings import encode
from predictors.linear import RIDGE_ALPHAS
from predictors.metrics import kendall_tau, tuning_score
from predictors.tuning import MIN_TUNING_SAMPLES, TunedPredictor, tune

N_TRAIN = 100


@pytest.fixture(scope="module")
def split(store):
    ds = store.load("hwnas/cifar10/edgegpu_latency")
    idx = np.random.default_rng(1).permutation(ds.space.size)
    test, train = idx[:625], idx[625:625 + N_TRAIN]
    enc = lambda rows: encode(ds.space, ds.space.arch(rows), "onehot")  # noqa: E731
    return enc(train), ds.values[train], enc(test), ds.values[test]


def test_fold_score_counts_nan_and_negative_as_zero():
    y = np.arange(10.0)
    assert tuning_score(y, -y) == 0.0
    assert tuning_score(y, np.ones(10)) == 0.0  # constant prediction: tau is NaN
    assert tuning_score(y, y) == pytest.approx(1.0)


def test_tuner_improves_over_poor_defaults(split):
    X, y, Xt, yt = split
    poor = predictors.make("svr", kernel="sigmoid", C=1.5)
    tuned = TunedPredictor(poor, n_configs=25, random_state=0).fit(X, y)
    table = tuned.cv_results_
    assert table["is_current"].iloc[0] and table["param_kernel"].iloc[0] == "sigmoid"
    default_cv = table["mean_test_score"].iloc[0]
    assert tuned.best_score_ > default_cv + 0.05
    default_tau = kendall_tau(yt, clone(poor).fit(X, y).predict(Xt))
    assert kendall_tau(yt, tuned.predict(Xt)) > default_tau + 0.05


def test_current_configuration_first_and_config_budget(split):
    X, y, _, _ = split
    est = predictors.make("random_forest", n_estimators=20)
    res = tune(est, X, y, n_configs=4, random_state=3)
    table = res.cv_results
    assert len(table) == 4 and res.tuned
    assert table["is_current"].tolist() == [True, False, False, False]
    first = table["params"].iloc[0]
    assert first == {k: est.get_params()[k] for k in est.tuning_space}
    assert {f"split{k}_test_score" for k in range(3)} <= set(table.columns)
    assert res.best_score == table["mean_test_score"].max()
    assert table["rank_test_score"].min() == 1


def test_folds_are_held_out(split):
    """A forest that memorises its training data scores tau 1 in-sample; held-out it cannot."""
    X, y, _, _ = split
    memoriser = predictors.make("random_forest", n_estimators=16, max_features=0.9, min_samples_leaf=1)
    assert kendall_tau(y, clone(memoriser).fit(X, y).predict(X)) > 0.99
    res = tune(memoriser, X, y, n_configs=1)
    assert 0.3 < res.best_score < 0.95


def test_respects_time_budget_within_one_configuration(split):
    X, y, _, _ = split
    budget = 1.0
    t0 = time.perf_counter()
    tp = TunedPredictor(predictors.make("random_forest"), n_configs=100_000, time_budget_s=budget).fit(X, y)
    elapsed = time.perf_counter() - t0
    table = tp.cv_results_
    assert 1 < len(table) < 100_000
    # tuning stops at the first check past the budget: one configuration's time at most
    tuning_time = table["fit_time_s"].sum()
    assert tuning_time <= budget + table["fit_time_s"].max() + 0.2
    assert tuning_time - table["fit_time_s"].iloc[-1] < budget + 0.2
    assert elapsed < budget + 2 * table["fit_time_s"].max() + 1.0


def test_zero_budget_still_evaluates_the_current_configuration(split):
    X, y, _, _ = split
    res = tune(predictors.make("ridge", alpha=0.5), X, y, time_budget_s=0.0)
    assert len(res.cv_results) == 1 and res.best_params == {"alpha": 0.5}


def test_finite_space_is_not_sampled_twice(split):
    X, y, _, _ = split
    tp = TunedPredictor("ridge", n_configs=100).fit(X, y)
    assert sorted(tp.cv_results_["param_alpha"]) == sorted(RIDGE_ALPHAS)
    assert tp.best_params_["alpha"] in RIDGE_ALPHAS
    assert tp.best_estimator_.alpha == tp.best_params_["alpha"]


def test_seeded_and_parallel_folds_agree(split):
    X, y, _, _ = split
    est = predictors.make("lightgbm", n_estimators=30)
    a = tune(est, X, y, n_configs=3, random_state=5)
    b = tune(est, X, y, n_configs=3, random_state=5, n_jobs=2)
    c = tune(est, X, y, n_configs=3, random_state=6)
    cols = ["param_feature_fraction", "param_learning_rate", "param_num_leaves", "mean_test_score"]
    assert a.cv_results[cols].equals(b.cv_results[cols])
    assert not a.cv_results[cols].equals(c.cv_results[cols])


def test_no_tuning_below_ten_samples(split):
    X, y, Xt, _ = split
    n = MIN_TUNING_SAMPLES - 1
    tp = TunedPredictor(predictors.make("svr", C=0.7), n_configs=50).fit(X[:n], y[:n])
    assert not tp.tuned_ and tp.cv_results_.empty
    assert tp.best_params_ == {"C": 0.7, "kernel": "rbf"}
    np.testing.assert_array_equal(tp.predict(Xt), predictors.make("svr", C=0.7).fit(X[:n], y[:n]).predict(Xt))


def test_wrapper_follows_the_estimator_contract(split):
    X, y, Xt, _ = split
    tp = TunedPredictor("bayesian_linear_regression", n_configs=5)
    assert clone(tp).get_params() == tp.get_params()
    assert tp.encoding == "onehot" and tp.probabilistic and tp.differentiable
    with pytest.raises(Exception, match="fit"):
        tp.predict(Xt)
    mean, std = tp.fit(X, y).predict(Xt, return_std=True)
    assert len(tp.cv_results_) == 1  # empty tuning space: only the current configuration
    assert mean.shape == std.shape == (len(Xt),)


def test_bad_tuning_input(split):
    X, y, _, _ = split
    with pytest.raises(ValueError, match="n_configs"):
        tune("ridge", X, y, n_configs=0)
    with pytest.raises(ValueError, match="cv"):
        tune("ridge", X, y, cv=1)
    with pytest.raises(ValueError, match="time_budget_s"):
        tune("ridge", X, y, time_budget_s=-1)
    with pytest.raises(ValueError, match="NaN"):
        tune("ridge", X, np.where(np.arange(len(y)) == 2, np.nan, y))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        tune("ridge", X, y[:-1])
    with pytest.raises(TypeError, match="Predictor"):
        tune(object(), X, y)
