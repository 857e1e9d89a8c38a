"""The maths of the closed-form models: minimum-norm least squares, evidence maximisation,
and the exact GP posterior against gpytorch's own prediction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import predictors
from nasbench_tools.encodings import encode
from nasbench_tools.spaces import get_space


@pytest.fixture(scope="module")
def rank_deficient():
    """20 NB201 architectures one-hot encoded: 30 columns, rank < 20 + 1."""
    space = get_space("nb201")
    ops = space.arch(np.random.default_rng(0).choice(space.size, 20, replace=False))
    X = encode(space, ops).astype(np.float64)
    y = np.random.default_rng(1).normal(size=20) + X[:, 3] * 2
    return X, y


def test_linear_regression_is_minimum_norm_least_squares(rank_deficient):
    X, y = rank_deficient
    assert np.linalg.matrix_rank(X) < X.shape[1]
    p = predictors.make("linear_regression").fit(X, y)
    ys = (y - y.mean()) / y.std()
    Xc = X - X.mean(axis=0)
    coef = np.linalg.lstsq(Xc, ys - ys.mean(), rcond=None)[0]
    np.testing.assert_allclose(p.coef_, coef, atol=1e-8)
    np.testing.assert_allclose(p.predict(X), (Xc @ coef + ys.mean()) * y.std() + y.mean(), atol=1e-8)


def _log_evidence(phi, t, alpha, beta):
    n, m = phi.shape
    A = alpha * np.eye(m) + beta * phi.T @ phi
    mean = beta * np.linalg.solve(A, phi.T @ t)
    e = beta / 2 * np.sum((t - phi @ mean) ** 2) + alpha / 2 * mean @ mean
    return m / 2 * np.log(alpha) + n / 2 * np.log(beta) - e - 0.5 * np.linalg.slogdet(A)[1] - n / 2 * np.log(2 * np.pi)


def test_bayesian_linear_regression_maximises_the_evidence(store):
    ds = store.load("hwnas/cifar10/pixel3_latency")
    rows = np.random.default_rng(3).choice(ds.space.size, 150, replace=False)
    X = encode(ds.space, ds.space.arch(rows)).astype(np.float64)
    p = predictors.make("bayesian_linear_regression").fit(X, ds.values[rows])
    t = (ds.values[rows] - p.y_mean_) / p.y_scale_
    phi = np.hstack([X, np.ones((len(X), 1))])
    best = _log_evidence(phi, t, p.alpha_, p.beta_)
    for fa, fb in [(1.2, 1), (1 / 1.2, 1), (1, 1.2), (1, 1 / 1.2)]:
        assert best > _log_evidence(phi, t, p.alpha_ * fa, p.beta_ * fb)
    # posterior variance formula: 1/beta + phi S phi^T with S = A^-1
    A = p.alpha_ * np.eye(phi.shape[1]) + p.beta_ * phi.T @ phi
    var = 1 / p.beta_ + np.einsum("ij,jk,ik->i", phi[:5], np.linalg.inv(A), phi[:5])
    np.testing.assert_allclose(p.predict(X[:5], return_std=True)[1], np.sqrt(var) * p.y_scale_, rtol=1e-6)


def test_exact_gp_posterior_matches_gpytorch(rank_deficient):
    import gpytorch

    X, y = rank_deficient
    g = predictors.make("gp", n_iter=30).fit(X, y)
    x_t = torch.as_tensor(X)
    y_t = torch.as_tensor((y - g.y_mean_) / g.y_scale_)

    class Exact(gpytorch.models.ExactGP):
        def __init__(self, lik):
            super().__init__(x_t, y_t, lik)
            self.mean_module = gpytorch.means.ConstantMean()
            self.covar_module = gpytorch.kernels.ScaleKernel(gpytorch.kernels.RBFKernel())

        def forward(self, x):
            return gpytorch.distributions.MultivariateNormal(self.mean_module(x), self.covar_module(x))

    lik = gpytorch.likelihoods.GaussianLikelihood().double()
    model = Exact(lik).double()
    model.covar_module.base_kernel.lengthscale = g.lengthscale_
    model.covar_module.outputscale = g.outputscale_
    lik.noise = g.noise_
    model.mean_module.constant.data.fill_(g.constant_)
    model.eval()
    lik.eval()
    Xq = encode(get_space("nb201"), get_space("nb201").arch(np.arange(0, 15625, 700))).astype(np.float64)
    with torch.no_grad():
        ref = lik(model(torch.as_tensor(Xq)))
    mean, std = g.predict(Xq, return_std=True)
    np.testing.assert_allclose(mean, ref.mean.numpy() * g.y_scale_ + g.y_mean_, atol=1e-3 * g.y_scale_)
    np.testing.assert_allclose(std, ref.stddev.numpy() * g.y_scale_, atol=1e-3 * g.y_scale_)
