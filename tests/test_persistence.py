"""Pickle-free save/load of fitted predictors (predictors.persistence)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nasbench_tools
import predictors
from nasbench_tools.encodings import encode
from predictors import persistence
from predictors.base import Predictor
from predictors.persistence import META_KEY, PredictorFileError
from predictors.tuning import TunedPredictor


@pytest.fixture(scope="module")
def xy(store):
    ds = store.load("hwnas/cifar100/pixel3_latency")
    rows = np.random.default_rng(2).permutation(ds.space.size)[:80]
    return encode(ds.space, ds.space.arch(rows), "onehot"), ds.values[rows]


@pytest.fixture(scope="module")
def ridge_file(xy, tmp_path_factory):
    X, y = xy
    p = predictors.make("ridge", alpha=0.5).fit(X, y)
    return p, persistence.save(p, tmp_path_factory.mktemp("p") / "ridge.npz")


def _rewrite_meta(src, dst, **changes):
    with np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays[META_KEY][()]))
    meta.update(changes)
    arrays[META_KEY] = np.array(json.dumps(meta))
    np.savez(dst, **arrays)
    return dst


def test_metadata_records_name_params_stats_and_version(ridge_file):
    p, path = ridge_file
    meta = persistence.read_meta(path)
    assert meta["name"] == "ridge" and meta["class"] == "predictors.linear:Ridge"
    assert meta["params"] == {"alpha": 0.5, "random_state": 0}
    assert meta["toolkit_version"] == nasbench_tools.__version__
    assert meta["y_mean"] == p.y_mean_ and meta["y_scale"] == p.y_scale_ and meta["n_features_in"] == 30
    with np.load(path, allow_pickle=False) as z:
        assert set(z.files) == {META_KEY, "state/coef", "state/intercept"}


def test_other_major_version_is_rejected(ridge_file, tmp_path):
    _, path = ridge_file
    major = int(nasbench_tools.__version__.split(".")[0])
    bad = _rewrite_meta(path, tmp_path / "old.npz", toolkit_version=f"{major + 1}.0.0")
    with pytest.raises(PredictorFileError, match=f"nasbench-study {major + 1}.0.0.*major version"):
        persistence.load(bad)
    same_major = _rewrite_meta(path, tmp_path / "minor.npz", toolkit_version=f"{major}.99.0")
    assert persistence.load(same_major).alpha == 0.5


def test_wrong_class_is_rejected(ridge_file, tmp_path):
    _, path = ridge_file
    with pytest.raises(PredictorFileError, match="holds a 'ridge' predictor.*expected predictors.svr:SVR"):
        persistence.load(path, expected="svr")
    with pytest.raises(PredictorFileError, match="expected predictors.linear:LinearRegression"):
        persistence.load(path, expected=predictors.get_class("linear_regression"))
    tampered = _rewrite_meta(path, tmp_path / "t.npz", **{"class": "predictors.svr:SVR"})
    with pytest.raises(PredictorFileError, match="registry maps 'ridge' to predictors.linear:Ridge"):
        persistence.load(tampered)


def test_unreadable_files(tmp_path):
    with pytest.raises(PredictorFileError, match="no such predictor file"):
        persistence.load(tmp_path / "absent.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(PredictorFileError, match="not a predictor"):
        persistence.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(PredictorFileError, match="no __meta__"):
        persistence.load(tmp_path / "plain.npz")


def test_unfitted_and_unsupported_predictors_leave_no_file(xy, tmp_path):
    X, y = xy
    with pytest.raises(PredictorFileError, match="fit"):
        persistence.save(predictors.make("ridge"), tmp_path / "a.npz")

    class NoState(Predictor):
        name = "no_state"

        def __init__(self, random_state: int | None = 0) -> None:
            self.random_state = random_state

        def _fit(self, X, y):
            self.c_ = 0.0

        def _predict(self, X, return_std):
            return np.zeros(len(X))

    with pytest.raises(NotImplementedError, match="_get_state"):
        NoState().fit(X, y)._get_state()
    with pytest.raises(Exception, match="not a registered predictor"):
        persistence.save(NoState().fit(X, y), tmp_path / "b.npz")
    assert list(tmp_path.iterdir()) == []


def test_failed_save_keeps_the_previous_file(xy, tmp_path, monkeypatch):
    X, y = xy
    p = predictors.make("ridge").fit(X, y)
    path = persistence.save(p, tmp_path / "r.npz")
    before = path.read_bytes()

    def broken(**_):
        raise OSError("disk full")

    monkeypatch.setattr(persistence.np, "savez", lambda fh, **arrays: broken())
    with pytest.raises(OSError, match="disk full"):
        persistence.save(predictors.make("ridge", alpha=2.0).fit(X, y), path)
    assert path.read_bytes() == before and [f.name for f in tmp_path.iterdir()] == ["r.npz"]


@pytest.mark.parametrize("name", ["svr", "ngboost", "random_forest", "xgboost", "lightgbm", "gp", "sparse_gp",
                                  "bayesian_linear_regression"])
def test_state_restores_predictions_on_new_data(name, xy, tmp_path):
    """Each model's native / array / refit state reproduces predictions exactly."""
    X, y = xy
    params = {"n_estimators": 40} if name in ("ngboost", "xgboost", "lightgbm", "random_forest") else {}
    if name in ("gp", "sparse_gp"):
        params = {"n_iter": 20}
    p = predictors.make(name, **params).fit(X[:60], y[:60])
    q = persistence.load(persistence.save(p, tmp_path / "m.npz"))
    np.testing.assert_array_equal(q.predict(X[60:]), p.predict(X[60:]))


def test_tuned_predictor_is_saved_as_its_best_estimator(xy, tmp_path):
    X, y = xy
    tp = TunedPredictor("ridge", n_configs=8).fit(X, y)
    q = persistence.load(persistence.save(tp, tmp_path / "tuned.npz"), expected="ridge")
    assert q.alpha == tp.best_params_["alpha"]
    np.testing.assert_array_equal(q.predict(X), tp.predict(X))
