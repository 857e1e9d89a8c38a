"""Differentiable export of the classical predictors: exact at one-hot corners, gradients
checked against finite differences (torch.autograd.gradcheck in float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import predictors
from nasbench_tools.encodings import encode
from nasbench_tools.spaces import get_space
from predictors.relaxed import hard_weights

DIFFERENTIABLE = ["linear_regression", "ridge", "bayesian_linear_regression", "gp", "sparse_gp", "lookup_table"]
FAST = {"gp": {"n_iter": 30}, "sparse_gp": {"n_iter": 50, "n_inducing": 16}}


@pytest.fixture(scope="module")
def space():
    return get_space("nb201")


@pytest.fixture(scope="module")
def fitted(store, space):
    ds = store.load("hwnas/cifar100/edgegpu_energy")
    rows = np.concatenate([space.index(space.lut_architectures()),
                           np.random.default_rng(4).choice(space.size, 60, replace=False)])
    X = encode(space, space.arch(rows), "onehot")
    return {n: predictors.make(n, **FAST.get(n, {})).fit(X, ds.values[rows]) for n in DIFFERENTIABLE}


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_equals_predict_at_one_hot_corners(name, fitted, space):
    p = fitted[name]
    archs = space.arch(np.arange(0, space.size, 311))
    out = p.torch_function(space)(hard_weights(space, archs))
    np.testing.assert_allclose(out.detach().numpy(), p.predict(encode(space, archs, "onehot")), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_gradients_match_finite_differences(name, fitted, space):
    fn = fitted[name].torch_function(space)
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, space.n_slots, space.n_ops, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: fn(torch.softmax(z, dim=-1)), (logits,), eps=1e-6, atol=1e-5)
    w = torch.softmax(logits, dim=-1).detach().requires_grad_(True)
    fn(w).sum().backward()
    assert torch.isfinite(w.grad).all() and w.grad.abs().sum() > 0


def test_linear_gradient_is_the_coefficient_table(fitted, space):
    p = fitted["ridge"]
    w = hard_weights(space, space.arch([7])).requires_grad_(True)
    p.torch_function(space)(w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy().ravel(), p.coef_ * p.y_scale_, rtol=1e-12)


def test_wrong_space_and_non_differentiable(fitted, space, store):
    with pytest.raises(ValueError, match="one-hot width of 24"):
        fitted["gp"].torch_function(get_space("transnas-micro"))
    with pytest.raises(ValueError, match="fitted for space 'nb201'"):
        fitted["lookup_table"].torch_function(get_space("nb201-nozero"))
    with pytest.raises(ValueError, match=r"shape \(n, 6, 5\)"):
        fitted["ridge"].torch_function(space)(torch.zeros(2, 6, 4, dtype=torch.float64))
    svr = predictors.make("svr")
    assert not svr.differentiable
    with pytest.raises(NotImplementedError, match="not differentiable"):
        svr.torch_function(space)
