"""ArchEncoder pipelines on architecture strings (real NB201 data): clone, cross-validation and
randomised search work, and the pipeline equals encoding by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import KFold, RandomizedSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

import predictors
from nasbench_tools.encodings import encode
from nasbench_tools.errors import InvalidArchitectureError, ParameterError
from predictors import ArchEncoder, arch_pipeline
from predictors.convenience import ArchitecturePredictor

DATASET = "hwnas/cifar10/edgegpu_latency"
N = 60
#: A small GCN so that cross-validation stays fast (the study's default trains 300 epochs).
GCN_SMALL = {"epochs": 20, "hidden_size": 16}


@pytest.fixture(scope="module")
def data(store):
    ds = store.load(DATASET)
    rows = np.random.default_rng(3).permutation(ds.space.size)[:N]
    return ds, np.array(ds.space.format(ds.space.arch(rows)), dtype=object), ds.values[rows]


def test_encoder_accepts_lists_1d_and_column_arrays_and_op_codes(data):
    ds, archs, _ = data
    enc = ArchEncoder("nb201", "graph")
    want = encode(ds.space, ds.space.parse(list(archs[:5])), "graph")
    for form in (list(archs[:5]), archs[:5], archs[:5, None], ds.space.parse(list(archs[:5]))):
        np.testing.assert_array_equal(enc.fit_transform(form), want)
    assert enc.fit(archs).n_features_out_ == want.shape[1] == len(enc.get_feature_names_out())


def test_encoder_refuses_bad_parameters_and_architectures(data):
    _, archs, _ = data
    with pytest.raises(ParameterError, match="encoding='nope'"):
        ArchEncoder("nb201", "nope").fit(archs)
    with pytest.raises(ParameterError, match="space='nope'"):
        ArchEncoder("nope").transform(archs)
    with pytest.raises(ParameterError, match="does not apply"):
        ArchEncoder("nbmacro", "graph").fit(None)
    with pytest.raises(InvalidArchitectureError):
        ArchEncoder("nb201").transform(["|conv~0|+|x~0|"])


def test_gcn_pipeline_on_strings_equals_encoding_by_hand(data):
    ds, archs, y = data
    pipe = make_pipeline(ArchEncoder("nb201", "graph"), predictors.make("gcn", **GCN_SMALL))
    pipe.fit(archs[:40], y[:40])
    direct = predictors.make("gcn", **GCN_SMALL).fit(encode(ds.space, ds.space.parse(list(archs[:40])), "graph"), y[:40])
    want = direct.predict(encode(ds.space, ds.space.parse(list(archs[40:])), "graph"))
    np.testing.assert_array_equal(pipe.predict(archs[40:]), want)
    twin = clone(pipe)
    assert twin is not pipe and twin.get_params()["gcn__epochs"] == GCN_SMALL["epochs"]
    assert not hasattr(twin[-1], "y_mean_")  # clone is unfitted
    np.testing.assert_array_equal(twin.fit(archs[:40], y[:40]).predict(archs[40:]), want)


def test_cross_val_score_and_randomized_search(data):
    _, archs, y = data
    pipe = make_pipeline(ArchEncoder("nb201", "graph"), predictors.make("gcn", **GCN_SMALL))
    scores = cross_val_score(pipe, archs, y, cv=KFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    search = RandomizedSearchCV(pipe, {"gcn__hidden_size": [8, 16], "gcn__learning_rate": [1e-3, 1e-2]},
                                n_iter=2, cv=2, random_state=0).fit(archs, y)
    assert set(search.best_params_) == {"gcn__hidden_size", "gcn__learning_rate"}
    assert np.all(np.isfinite(search.predict(archs[:5])))


def test_arch_pipeline_is_the_convenience_api(data):
    ds, archs, y = data
    p = ArchitecturePredictor("ridge", "nb201", alpha=0.5).fit(archs, y)
    assert p.predictor.alpha == 0.5 and p.space.name == "nb201"
    assert clone(p).get_params()["predictor__alpha"] == 0.5
    np.testing.assert_array_equal(p.predict(archs), predictors.make("ridge", alpha=0.5).fit(
        encode(ds.space, ds.space.parse(list(archs))), y).predict(encode(ds.space, ds.space.parse(list(archs)))))
    lut = arch_pipeline("lookup_table", "nbmacro")
    assert lut.predictor.space == "nbmacro" and lut.encoder.encoding == "onehot"
    mean, std = arch_pipeline("bayesian_linear_regression", "nb201").fit(archs, y).predict(archs, return_std=True)
    assert mean.shape == std.shape == (N,) and np.all(std > 0)
