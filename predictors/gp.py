"""Gaussian processes on the one-hot encoding: exact GP and sparse variational GP (gpytorch).

gpytorch learns the hyper-parameters (exact marginal likelihood, respectively the variational
ELBO with learnt inducing points).  The posterior is then written out in closed form in
float64 torch (Cholesky factors, weight vectors), which gives fast numpy prediction, a
differentiable export with the same maths, and pickle-free persistence of a few arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np
import torch

from nasbench_tools.errors import require

from ._checks import check_float, check_int, check_seed, seed_int
from .base import Predictor
from .linear import check_onehot_space

if TYPE_CHECKING:
    from nasbench_tools.spaces import SearchSpace

DTYPE = torch.float64
#: Diagonal jitter added to kernel matrices before Cholesky (standardised targets).
_JITTER = 1e-6


def rbf(x1: torch.Tensor, x2: torch.Tensor, lengthscale: float, outputscale: float) -> torch.Tensor:
    """``outputscale * exp(-|x1 - x2|^2 / (2 lengthscale^2))`` (gpytorch's ScaleKernel(RBF))."""
    a = x1 / lengthscale
    b = x2 / lengthscale
    sq = (a * a).sum(-1, keepdim=True) - 2 * a @ b.T + (b * b).sum(-1)
    return outputscale * torch.exp(-0.5 * sq.clamp_min(0.0))


def _kernel_module(gpytorch):  # noqa: ANN001 - gpytorch module passed in to keep the import lazy
    return gpytorch.kernels.ScaleKernel(gpytorch.kernels.RBFKernel())


class _GPBase(Predictor):
    """Shared parts: parameter checks, hyper-parameter read-out, differentiable mean."""

    encoding = "onehot"
    differentiable = True
    probabilistic = True

    def _check_common(self) -> None:
        label = self._label()
        check_int(label, "n_iter", self.n_iter, 1)
        check_float(label, "lr", self.lr, 0.0, low_open=True)
        check_seed(label, self.random_state)

    def _read_hypers(self, model, likelihood) -> None:  # noqa: ANN001
        self.lengthscale_ = float(model.covar_module.base_kernel.lengthscale.detach().reshape(-1)[0])
        self.outputscale_ = float(model.covar_module.outputscale.detach())
        self.noise_ = float(likelihood.noise.detach().reshape(-1)[0])
        self.constant_ = float(model.mean_module.constant.detach().reshape(-1)[0])

    def _mean_torch(self, x: torch.Tensor) -> torch.Tensor:
        k = rbf(x, self.anchors_t_, self.lengthscale_, self.outputscale_)
        return self.constant_ + k @ self.weights_t_

    def _torch_function(self, space: "SearchSpace") -> "Callable[[torch.Tensor], torch.Tensor]":
        from .relaxed import relaxed_onehot

        check_onehot_space(self._label(), space, self.n_features_in_)

        def fn(w: torch.Tensor) -> torch.Tensor:
            return self._mean_torch(relaxed_onehot(space, w).to(DTYPE))

        return fn

    @property
    def anchors_t_(self) -> torch.Tensor:
        return torch.as_tensor(self.anchors_, dtype=DTYPE)

    @property
    def weights_t_(self) -> torch.Tensor:
        return torch.as_tensor(self.weights_, dtype=DTYPE)

    def _hyper_state(self) -> dict[str, np.ndarray]:
        return {"hypers": np.array([self.lengthscale_, self.outputscale_, self.noise_, self.constant_])}

    def _set_hypers(self, state: dict[str, np.ndarray]) -> None:
        self.lengthscale_, self.outputscale_, self.noise_, self.constant_ = (float(v) for v in state["hypers"])


class GP(_GPBase):
    """Exact GP regression, RBF kernel with a scale, constant mean, Gaussian noise.

    Hyper-parameters maximise the exact marginal likelihood (Adam, ``n_iter`` steps of
    learning rate ``lr``, gpytorch).  ``return_std`` gives the predictive std of a new
    measurement (latent variance plus the learnt noise).
    """

    name = "gp"
    min_train_samples = 2

    def __init__(self, n_iter: int = 100, lr: float = 0.1, random_state: int | None = 0) -> None:
        self.n_iter = n_iter
        self.lr = lr
        self.random_state = random_state

    def _check_params(self) -> None:
        self._check_common()

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        gpytorch = require("gpytorch", f"predictor {self._label()!r}")

        x_t = torch.as_tensor(X, dtype=DTYPE)
        y_t = torch.as_tensor(y, dtype=DTYPE)

        class _Exact(gpytorch.models.ExactGP):
            def __init__(self, likelihood):  # noqa: ANN001
                super().__init__(x_t, y_t, likelihood)
                self.mean_module = gpytorch.means.ConstantMean()
                self.covar_module = _kernel_module(gpytorch)

            def forward(self, x):  # noqa: ANN001
                return gpytorch.distributions.MultivariateNormal(self.mean_module(x), self.covar_module(x))

        likelihood = gpytorch.likelihoods.GaussianLikelihood().to(DTYPE)
        model = _Exact(likelihood).to(DTYPE)
        model.train()
        likelihood.train()
        opt = torch.optim.Adam(model.parameters(), lr=float(self.lr))
        mll = gpytorch.mlls.ExactMarginalLogLikelihood(likelihood, model)
        with torch.random.fork_rng():  # gpytorch's stochastic log-det probes (n > 800) use torch's RNG
            torch.manual_seed(seed_int(self.random_state))
            for _ in range(int(self.n_iter)):
                opt.zero_grad()
                loss = -mll(model(x_t), y_t)
                loss.backward()
                opt.step()
        self._read_hypers(model, likelihood)
        self._posterior(x_t, y_t)

    def _posterior(self, x_t: torch.Tensor, y_t: torch.Tensor) -> None:
        k = rbf(x_t, x_t, self.lengthscale_, self.outputscale_)
        k = k + (self.noise_ + _JITTER) * torch.eye(len(x_t), dtype=DTYPE)
        chol = torch.linalg.cholesky(k)
        weights = torch.cholesky_solve((y_t - self.constant_).unsqueeze(-1), chol).squeeze(-1)
        self.anchors_ = x_t.numpy().copy()
        self.weights_ = weights.numpy().copy()
        self.chol_ = chol.numpy().copy()

    def _predict(self, X: np.ndarray, return_std: bool):
        x = torch.as_tensor(X, dtype=DTYPE)
        k = rbf(x, self.anchors_t_, self.lengthscale_, self.outputscale_)
        mean = (self.constant_ + k @ self.weights_t_).numpy()
        if not return_std:
            return mean
        v = torch.linalg.solve_triangular(torch.as_tensor(self.chol_), k.T, upper=False)
        var = self.outputscale_ + self.noise_ - (v * v).sum(0)
        return mean, np.sqrt(np.clip(var.numpy(), 0.0, None))

    def _get_state(self) -> dict[str, np.ndarray]:
        return {**self._hyper_state(), "anchors": self.anchors_, "weights": self.weights_, "chol": self.chol_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self._set_hypers(state)
        self.anchors_ = np.asarray(state["anchors"], dtype=np.float64)
        self.weights_ = np.asarray(state["weights"], dtype=np.float64)
        self.chol_ = np.asarray(state["chol"], dtype=np.float64)


class SparseGP(_GPBase):
    """Sparse variational GP (SVGP, Hensman et al.): ``n_inducing`` learnt inducing points,
    whitened Cholesky variational distribution, trained on the full-batch ELBO (gpytorch).

    Inducing points start at a seeded random subset of the training architectures.
    Predictive mean ``m(x) + K_xZ L^-T mu``; variance ``k_xx + K_xZ L^-T (S - I) L^-1 K_Zx``
    plus the noise, ``L`` the Cholesky factor of ``K_ZZ`` and ``(mu, S)`` the whitened posterior.
    """

    name = "sparse_gp"
    min_train_samples = 2

    def __init__(self, n_inducing: int = 64, n_iter: int = 200, lr: float = 0.05,
                 random_state: int | None = 0) -> None:
        self.n_inducing = n_inducing
        self.n_iter = n_iter
        self.lr = lr
        self.random_state = random_state

    def _check_params(self) -> None:
        self._check_common()
        check_int(self._label(), "n_inducing", self.n_inducing, 1)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        gpytorch = require("gpytorch", f"predictor {self._label()!r}")

        x_t = torch.as_tensor(X, dtype=DTYPE)
        y_t = torch.as_tensor(y, dtype=DTYPE)
        m = min(int(self.n_inducing), len(X))
        start = x_t[np.sort(self._rng().choice(len(X), size=m, replace=False))].clone()

        class _SVGP(gpytorch.models.ApproximateGP):
            def __init__(self) -> None:
                dist = gpytorch.variational.CholeskyVariationalDistribution(m)
                strat = gpytorch.variational.VariationalStrategy(self, start, dist, learn_inducing_locations=True)
                super().__init__(strat)
                self.mean_module = gpytorch.means.ConstantMean()
                self.covar_module = _kernel_module(gpytorch)

            def forward(self, x):  # noqa: ANN001
                return gpytorch.distributions.MultivariateNormal(self.mean_module(x), self.covar_module(x))

        # gpytorch draws the initial variational mean from torch's global RNG: seed a forked one
        with torch.random.fork_rng():
            torch.manual_seed(seed_int(self.random_state))
            model = _SVGP().to(DTYPE)
            likelihood = gpytorch.likelihoods.GaussianLikelihood().to(DTYPE)
            model.train()
            likelihood.train()
            opt = torch.optim.Adam(list(model.parameters()) + list(likelihood.parameters()), lr=float(self.lr))
            elbo = gpytorch.mlls.VariationalELBO(likelihood, model, num_data=len(y_t))
            for _ in range(int(self.n_iter)):
                opt.zero_grad()
                loss = -elbo(model(x_t), y_t)
                loss.backward()
                opt.step()
        self._read_hypers(model, likelihood)
        strat = model.variational_strategy
        z = strat.inducing_points.detach().clone()
        mu = strat._variational_distribution.variational_mean.detach().clone()
        s_chol = strat._variational_distribution.chol_variational_covar.detach().tril().clone()
        self._posterior(z, mu, s_chol)

    def _posterior(self, z: torch.Tensor, mu: torch.Tensor, s_chol: torch.Tensor) -> None:
        kzz = rbf(z, z, self.lengthscale_, self.outputscale_) + _JITTER * torch.eye(len(z), dtype=DTYPE)
        chol = torch.linalg.cholesky(kzz)
        # weights w with K_xZ w = K_xZ L^-T mu
        weights = torch.linalg.solve_triangular(chol.T, mu.unsqueeze(-1), upper=True).squeeze(-1)
        s = s_chol @ s_chol.T
        # middle = L^-T (S - I) L^-1, so var = k_xx + k_xZ middle k_Zx
        linv = torch.linalg.solve_triangular(chol, torch.eye(len(z), dtype=DTYPE), upper=False)
        middle = linv.T @ (s - torch.eye(len(z), dtype=DTYPE)) @ linv
        self.anchors_ = z.numpy().copy()
        self.weights_ = weights.numpy().copy()
        self.middle_ = middle.numpy().copy()

    def _predict(self, X: np.ndarray, return_std: bool):
        x = torch.as_tensor(X, dtype=DTYPE)
        k = rbf(x, self.anchors_t_, self.lengthscale_, self.outputscale_)
        mean = (self.constant_ + k @ self.weights_t_).numpy()
        if not return_std:
            return mean
        var = self.outputscale_ + self.noise_ + ((k @ torch.as_tensor(self.middle_)) * k).sum(1)
        return mean, np.sqrt(np.clip(var.numpy(), 0.0, None))

    def _get_state(self) -> dict[str, np.ndarray]:
        return {**self._hyper_state(), "anchors": self.anchors_, "weights": self.weights_, "middle": self.middle_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self._set_hypers(state)
        self.anchors_ = np.asarray(state["anchors"], dtype=np.float64)
        self.weights_ = np.asarray(state["weights"], dtype=np.float64)
        self.middle_ = np.asarray(state["middle"], dtype=np.float64)


__all__ = ["GP", "SparseGP", "rbf"]
