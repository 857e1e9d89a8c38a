"""The shared contract every registered predictor passes (parametrised over the registry)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import predictors
from nasbench_tools.encodings import encode
from nasbench_tools.errors import UnknownNameError
from predictors import persistence
from predictors.metrics import kendall_tau
from predictors.space import Choice, IntUniform, Uniform

DATASET = "hwnas/cifar10/edgegpu_latency"
N_TRAIN, N_TEST = 200, 625
#: Small training set for the repeated-fit (same seed) check.
N_SEED_CHECK = 40
#: Shorter training for the repeated-fit check: determinism does not need the protocol's epochs.
SEED_CHECK_BUDGET = {"epochs": 20, "n_estimators": 50}
MIN_TAU = 0.5
EXPECTED_NAMES = {
    "linear_regression", "ridge", "bayesian_linear_regression", "svr", "gp", "sparse_gp", "random_forest",
    "xgboost", "ngboost", "lightgbm", "bohamiann", "bananas", "bonas", "gcn", "mlp_large", "mlp_small", "nao",
    "lookup_table",
}
#: The study's 18 predictors (the registry may hold more, e.g. transfer predictors that need a
#: source table to fit; they have their own tests).
NAMES = tuple(n for n in predictors.available() if n in EXPECTED_NAMES)


@pytest.fixture(scope="module")
def data(store):
    ds = store.load(DATASET)
    idx = np.random.default_rng(0).permutation(ds.space.size)
    test, train = idx[:N_TEST], idx[N_TEST:N_TEST + N_TRAIN]
    return ds, train, test


def _training_rows(name: str, ds, train: np.ndarray) -> np.ndarray:
    """Training indices: the 200 random ones, after the predictor's fixed training set if it has
    one (the lookup table's 25 neighbours)."""
    fixed = predictors.get_class(name).fixed_training_set(ds.space)
    return train if fixed is None else np.concatenate([fixed, train])


@pytest.fixture(scope="module")
def fitted(data):
    """Fit each predictor once on the shared split (lazily, per name)."""
    ds, train, test = data
    cache: dict[str, tuple] = {}

    def get(name: str):
        if name not in cache:
            p = predictors.make(name)
            rows = _training_rows(name, ds, train)
            p.fit(encode(ds.space, ds.space.arch(rows), p.encoding), ds.values[rows])
            X_test = encode(ds.space, ds.space.arch(test), p.encoding)
            cache[name] = (p, X_test, p.predict(X_test))
        return cache[name]

    return get


def test_registry_lists_the_18_predictors():
    assert set(NAMES) == EXPECTED_NAMES and len(NAMES) == 18
    assert predictors.available()[:18] == NAMES  # in the protocol's order, first


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="available: linear_regression, ridge"):
        predictors.make("ridge_regression")


@pytest.mark.parametrize("name", NAMES)
def test_info_and_unknown_parameter(name):
    info = predictors.info(name)
    cls = predictors.get_class(name)
    assert info["encoding"] in ("onehot", "ordinal", "path", "graph", "graph_bonas", "nao")
    assert info["defaults"] == cls().get_params()
    assert "random_state" in info["defaults"]
    assert set(info["tuning_space"]) <= set(info["defaults"])
    assert isinstance(info["differentiable"], bool) and isinstance(info["probabilistic"], bool)
    with pytest.raises(UnknownNameError, match="valid: .*random_state"):
        predictors.make(name, no_such_parameter=1)


@pytest.mark.parametrize("name", NAMES)
def test_clone_and_get_params_round_trip(name):
    p = predictors.make(name)
    params = p.get_params()
    c = clone(p)
    assert type(c) is type(p) and c.get_params() == params
    c.set_params(**params)
    assert c.get_params() == params
    assert predictors.make(name, **params).get_params() == params


def _bad_value(dist):
    if isinstance(dist, Choice):
        return "__not_an_option__"
    if isinstance(dist, (IntUniform, Uniform)):
        return -1
    raise AssertionError(dist)


@pytest.mark.parametrize("name", NAMES)
def test_out_of_range_parameters_are_rejected(name):
    cls = predictors.get_class(name)
    with pytest.raises(ValueError, match="random_state"):
        predictors.make(name, random_state=-3)
    for param, dist in cls.tuning_space.items():
        with pytest.raises(ValueError, match=param):
            predictors.make(name, **{param: _bad_value(dist)})


@pytest.mark.parametrize("name", [n for n in NAMES if n != "lookup_table"])
def test_kendall_tau_above_half_on_625_held_out(name, data, fitted):
    ds, _, test = data
    _, _, pred = fitted(name)
    assert pred.shape == (N_TEST,) and np.all(np.isfinite(pred))
    assert kendall_tau(ds.values[test], pred) > MIN_TAU


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_predictions(name, data):
    ds, train, test = data
    rows = _training_rows(name, ds, train[:N_SEED_CHECK])
    preds = []
    budget = {k: v for k, v in SEED_CHECK_BUDGET.items() if k in predictors.get_class(name)._get_param_names()}
    for _ in range(2):
        p = predictors.make(name, random_state=7, **budget)
        p.fit(encode(ds.space, ds.space.arch(rows), p.encoding), ds.values[rows])
        preds.append(p.predict(encode(ds.space, ds.space.arch(test[:100]), p.encoding)))
    np.testing.assert_array_equal(preds[0], preds[1])


@pytest.mark.parametrize("name", NAMES)
def test_save_load_gives_identical_predictions(name, fitted, tmp_path):
    p, X_test, pred = fitted(name)
    path = persistence.save(p, tmp_path / f"{name}.npz")
    with np.load(path, allow_pickle=False) as z:  # no pickles anywhere in the file
        assert all(not z[k].dtype.hasobject for k in z.files)
    q = persistence.load(path, expected=name)
    assert type(q) is type(p) and q.get_params() == p.get_params()
    np.testing.assert_array_equal(q.predict(X_test), pred)
    if p.probabilistic:
        np.testing.assert_array_equal(q.predict(X_test, return_std=True)[1], p.predict(X_test, return_std=True)[1])


@pytest.mark.parametrize("name", NAMES)
def test_predictive_std(name, fitted):
    p, X_test, pred = fitted(name)
    if not p.probabilistic:
        with pytest.raises(ValueError, match="no predictive std"):
            p.predict(X_test, return_std=True)
        return
    mean, std = p.predict(X_test, return_std=True)
    np.testing.assert_allclose(mean, pred)
    assert std.shape == mean.shape and np.all(np.isfinite(std)) and np.all(std > 0)


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_errors(name, data, fitted):
    ds, train, _ = data
    p, X_test, _ = fitted(name)
    fresh = predictors.make(name)
    rows = _training_rows(name, ds, train[:30])
    X = encode(ds.space, ds.space.arch(rows), fresh.encoding)
    y = ds.values[rows].copy()
    with pytest.raises(NotFittedError, match="fit"):
        fresh.predict(X)
    y_nan = y.copy()
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fresh.fit(X, y_nan)
    y_inf = y.copy()
    y_inf[0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        fresh.fit(X, y_inf)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fresh.fit(X, y[:-1])
    with pytest.raises(ValueError, match="features"):
        p.predict(X_test[:, :-1])
    few = fresh.min_train_samples - 1
    with pytest.raises(ValueError, match="at least|minimum of"):
        fresh.fit(X[:few], y[:few])


@pytest.mark.parametrize("name", NAMES)
def test_constant_target_gives_exactly_that_constant(name, data, tmp_path):
    ds, train, test = data
    rows = _training_rows(name, ds, train[:N_SEED_CHECK])
    p = predictors.make(name)
    y = np.full(len(rows), 3.25)
    p.fit(encode(ds.space, ds.space.arch(rows), p.encoding), y)
    X_test = encode(ds.space, ds.space.arch(test[:50]), p.encoding)
    np.testing.assert_array_equal(p.predict(X_test), 3.25)
    if p.probabilistic:
        np.testing.assert_array_equal(p.predict(X_test, return_std=True)[0], 3.25)
    loaded = persistence.load(persistence.save(p, tmp_path / f"{name}.npz"), expected=name)
    np.testing.assert_array_equal(loaded.predict(X_test), 3.25)


#: Scale that makes the targets' sum (and so a naive mean/std) overflow float64 while every value
#: stays finite (latencies up to ~30 ms -> up to ~3e307).
HUGE = 1e306


@pytest.mark.parametrize("name", NAMES)
def test_huge_finite_targets_give_finite_predictions(name, data):
    ds, train, test = data
    rows = _training_rows(name, ds, train[:N_SEED_CHECK])
    y = ds.values[rows] * HUGE
    with np.errstate(over="ignore"):
        assert not np.isfinite(y.sum())  # the naive statistics would overflow
    p = predictors.make(name)
    p.fit(encode(ds.space, ds.space.arch(rows), p.encoding), y)
    assert np.isfinite(p.y_mean_) and np.isfinite(p.y_scale_) and p.y_scale_ > 0
    pred = p.predict(encode(ds.space, ds.space.arch(test[:50]), p.encoding))
    assert np.all(np.isfinite(pred))
    if name == "ridge":  # a linear model's predictions scale with the targets
        ref = predictors.make(name).fit(encode(ds.space, ds.space.arch(rows)), ds.values[rows])
        np.testing.assert_allclose(pred, ref.predict(encode(ds.space, ds.space.arch(test[:50]))) * HUGE, rtol=1e-9)


def test_ordinary_targets_keep_the_plain_statistics(data):
    ds, train, _ = data
    y = ds.values[train]
    p = predictors.make("ridge").fit(encode(ds.space, ds.space.arch(train)), y)
    assert p.y_mean_ == float(y.mean()) and p.y_scale_ == float(y.std())  # bit-identical to before


#: Predictors whose X has a structure fixed by the encoding: a wrong width is refused at fit.
STRUCTURED = ("gcn", "bonas", "lookup_table")


@pytest.mark.parametrize("name", STRUCTURED)
def test_wrong_width_is_refused_at_fit(name, data):
    from nasbench_tools.errors import InputDataError

    ds, train, _ = data
    p = predictors.make(name)
    rows = _training_rows(name, ds, train[:N_SEED_CHECK])
    X = encode(ds.space, ds.space.arch(rows), p.encoding)
    with pytest.raises(InputDataError, match="n_features=" + str(X.shape[1] - 1)):
        p.fit(X[:, :-1], ds.values[rows])
