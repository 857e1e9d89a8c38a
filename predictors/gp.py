"""Gaussian processes on the one-hot encoding: exact GP and sparse variational GP (gpytorch).

gpytorch learns the hyper-parameters (exact marginal likelihood, respectively the variational
ELBO with learnt inducing points).  The posterior is then written out in closed form in
float64 torch (Cholesky factors, weight vectors), which gives fast numpy prediction, a
differentiable export with the same maths, and pickle-free persistence of a few arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, ClassVar

import numpy as np
import torch

from nasbench_tools.errors import require

from .base import Prediction, Predictor, seed_int
from .constraints import COUNT, POSITIVE
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


def _kernel_module(gpytorch):  # noqa: ANN001, ANN202 - gpytorch module passed in to keep the import lazy
    return gpytorch.kernels.ScaleKernel(gpytorch.kernels.RBFKernel())


def _minimise(optimizer: torch.optim.Optimizer, loss: Callable[[], torch.Tensor], steps: int) -> None:
    """``steps`` gradient steps of ``optimizer`` on ``loss()``."""
    for _ in range(steps):
        optimizer.zero_grad()
        value = loss()
        value.backward()
        optimizer.step()


class _GPBase(Predictor):
    """Shared parts: constraints, hyper-parameter read-out, prediction, differentiable mean and
    state I/O (subclasses add their posterior arrays, ``_state_arrays``, and the variance)."""

    encoding = "onehot"
    differentiable = True
    probabilistic = True
    extra = "neural"
    parameter_constraints = {"n_iter": COUNT, "lr": POSITIVE}
    #: Fitted arrays (attribute ``<key>_``) saved next to the hyper-parameters.
    _state_arrays: ClassVar[tuple[str, ...]] = ()

    def _gpytorch(self) -> Any:
        return require("gpytorch", f"predictor {self._label()!r}")

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

    def _variance(self, k: torch.Tensor) -> torch.Tensor:
        """Predictive variance of new measurements from their kernel rows ``k`` to the anchors."""
        raise NotImplementedError

    def _predict(self, X: np.ndarray, return_std: bool) -> Prediction:
        x = torch.as_tensor(X, dtype=DTYPE)
        k = rbf(x, self.anchors_t_, self.lengthscale_, self.outputscale_)
        mean = (self.constant_ + k @ self.weights_t_).numpy()
        if not return_std:
            return mean
        return mean, np.sqrt(np.clip(self._variance(k).numpy(), 0.0, None))

    def _get_state(self) -> dict[str, np.ndarray]:
        hypers = np.array([self.lengthscale_, self.outputscale_, self.noise_, self.constant_])
        return {"hypers": hypers, **{key: getattr(self, key + "_") for key in self._state_arrays}}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.lengthscale_, self.outputscale_, self.noise_, self.constant_ = (float(v) for v in state["hypers"])
        for key in self._state_arrays:
            setattr(self, key + "_", np.asarray(state[key], dtype=np.float64))


class GP(_GPBase):
    """Exact GP regression, RBF kernel with a scale, constant mean, Gaussian noise.

    Hyper-parameters maximise the exact marginal likelihood (Adam, ``n_iter`` steps of
    learning rate ``lr``, gpytorch).  ``return_std`` gives the predictive std of a new
    measurement (latent variance plus the learnt noise).
    """

    name = "gp"
    _state_arrays = ("anchors", "weights", "chol")

    def __init__(self, n_iter: int = 100, lr: float = 0.1, random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        gpytorch = self._gpytorch()

        x_t = torch.as_tensor(X, dtype=DTYPE)
        y_t = torch.as_tensor(y, dtype=DTYPE)

        class _Exact(gpytorch.models.ExactGP):
            def __init__(self, likelihood):  # noqa: ANN001, ANN204
                super().__init__(x_t, y_t, likelihood)
                self.mean_module = gpytorch.means.ConstantMean()
                self.covar_module = _kernel_module(gpytorch)

            def forward(self, x):  # noqa: ANN001, ANN202
                return gpytorch.distributions.MultivariateNormal(self.mean_module(x), self.covar_module(x))

        likelihood = gpytorch.likelihoods.GaussianLikelihood().to(DTYPE)
        model = _Exact(likelihood).to(DTYPE)
        model.train()
        likelihood.train()
        opt = torch.optim.Adam(model.parameters(), lr=float(self.lr))
        mll = gpytorch.mlls.ExactMarginalLogLikelihood(likelihood, model)
        with torch.random.fork_rng():  # gpytorch's stochastic log-det probes (n > 800) use torch's RNG
            torch.manual_seed(seed_int(self.random_state))
            _minimise(opt, lambda: -mll(model(x_t), y_t), int(self.n_iter))
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

    def _variance(self, k: torch.Tensor) -> torch.Tensor:
        v = torch.linalg.solve_triangular(torch.as_tensor(self.chol_), k.T, upper=False)
        return self.outputscale_ + self.noise_ - (v * v).sum(0)


class SparseGP(_GPBase):
    """Sparse variational GP (SVGP, Hensman et al.): ``n_inducing`` learnt inducing points,
    whitened Cholesky variational distribution, trained on the full-batch ELBO (gpytorch).

    Inducing points start at a seeded random subset of the training architectures.
    Predictive mean ``m(x) + K_xZ L^-T mu``; variance ``k_xx + K_xZ L^-T (S - I) L^-1 K_Zx``
    plus the noise, ``L`` the Cholesky factor of ``K_ZZ`` and ``(mu, S)`` the whitened posterior.
    """

    name = "sparse_gp"
    parameter_constraints = {"n_inducing": COUNT}
    _state_arrays = ("anchors", "weights", "middle")

    def __init__(self, n_inducing: int = 64, n_iter: int = 200, lr: float = 0.05,
                 random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        gpytorch = self._gpytorch()

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

            def forward(self, x):  # noqa: ANN001, ANN202
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
            _minimise(opt, lambda: -elbo(model(x_t), y_t), int(self.n_iter))
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

    def _variance(self, k: torch.Tensor) -> torch.Tensor:
        return self.outputscale_ + self.noise_ + ((k @ torch.as_tensor(self.middle_)) * k).sum(1)


__all__ = ["GP", "SparseGP", "rbf"]
