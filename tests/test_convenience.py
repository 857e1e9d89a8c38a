"""Fitting and predicting directly on architectures (predictors.convenience)."""

from __future__ import annotations

import numpy as np
import pytest

import predictors
from nasbench_tools.encodings import encode
from nasbench_tools.errors import InvalidArchitectureError
from predictors.convenience import ArchitecturePredictor, fit_architectures


@pytest.fixture(scope="module")
def data(store):
    ds = store.load("hwnas/ImageNet16-120/raspi4_latency")
    rows = np.random.default_rng(5).permutation(ds.space.size)[:120]
    return ds, rows


def test_strings_and_op_codes_give_the_same_fit(data):
    ds, rows = data
    ops = ds.space.arch(rows)
    strings = ds.space.format(ops)
    a = fit_architectures("svr", "nb201", ops[:80], ds.values[rows[:80]])
    b = fit_architectures("svr", ds.space, strings[:80], ds.values[rows[:80]])
    np.testing.assert_array_equal(a.predict(ops[80:]), b.predict(strings[80:]))
    direct = predictors.make("svr").fit(encode(ds.space, ops[:80]), ds.values[rows[:80]])
    np.testing.assert_array_equal(a.predict(ops[80:]), direct.predict(encode(ds.space, ops[80:])))


def test_tuple_strings_need_their_style(data):
    ds, rows = data
    naslib = ds.space.format(ds.space.arch(rows[:30]), "naslib")
    p = ArchitecturePredictor("ridge", "nb201", style="naslib", alpha=0.5).fit(naslib, ds.values[rows[:30]])
    assert p.predictor.alpha == 0.5
    np.testing.assert_array_equal(p.predict(naslib), p.predict(ds.space.arch(rows[:30])))


def test_lookup_table_gets_the_space(store):
    ds = store.load("nbmacro/cifar10/flops")
    needed = ds.space.lut_architectures()
    p = fit_architectures("lookup_table", "nbmacro", needed, ds.values[ds.space.index(needed)])
    assert p.predictor.space == "nbmacro"
    np.testing.assert_allclose(p.predict(ds.space.enumerate()), ds.values, rtol=1e-6)
    with pytest.raises(ValueError, match="built for space 'nb201'"):
        ArchitecturePredictor(predictors.make("lookup_table"), "nbmacro")


def test_invalid_architectures_are_rejected(data):
    ds, rows = data
    p = fit_architectures("ridge", "nb201", ds.space.arch(rows[:20]), ds.values[rows[:20]])
    with pytest.raises(InvalidArchitectureError, match="op code 7"):
        p.predict([[0, 1, 2, 3, 4, 7]])
    with pytest.raises(InvalidArchitectureError, match="cannot tell the format"):
        p.predict(["(0, 1, 2, 3, 4, 4)"])
