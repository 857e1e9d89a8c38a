"""BOHAMIANN (Springenberg et al., 2016): a Bayesian neural network sampled with adaptive
stochastic-gradient Hamiltonian Monte Carlo, re-implemented in torch after ``pybnn``
(which NASLib wraps) with the study's settings.

Model: pybnn's default network, two tanh hidden layers of ``n_units`` (50) and a linear
output, plus one learned log noise variance (initialised at log 1e-3); float64.  Potential
per step: the Gaussian NLL of a mini-batch (batch 20) minus the log priors (noise
log-variance N(log 1e-6, 0.01); weights N(0, 1), averaged over the weights) divided by the
number of training points.

Sampler (adaptive SGHMC, pybnn's ``AdaptiveSGHMC``): gradients scaled by the number of
training points; during burn-in the per-weight moving averages of the gradient and its
square adapt the preconditioner; ``lr`` 1e-2, ``mdecay`` 0.05, epsilon 1e-10.

"Steps" follow pybnn's ``Bohamiann.train`` as NASLib calls it (``num_steps=100,
num_burn_in_steps=10, keep_every=5``): ``num_steps`` is the *total* number of sampler steps
(one mini-batch each), burn-in included -- pybnn's docstring says "after burn-in", but its
loop is ``islice(enumerate(loader), num_steps)``.  A sample is kept after step ``s``
(0-based) when ``s > num_burn_in_steps`` and ``(s - num_burn_in_steps) % keep_every == 0``:
steps 15, 20, ..., 95, i.e. 17 samples.  Mini-batches cycle through reshuffled epochs.

Prediction: mean of the samples' outputs; variance = spread of the sample means plus the
mean noise variance (pybnn's "total variance").

Difference from pybnn: its weight prior is built with ``torch.tensor([...])`` and so never
had a gradient; here the N(0, 1) weight prior contributes its (tiny) gradient as intended.
All parameters live in one flat vector, so each sampler step is a handful of tensor ops and
all kept samples predict in one batched matmul.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from nasbench_tools.errors import PredictorFileError

from ..base import Prediction, Predictor
from ..constraints import COUNT, POSITIVE, Int, Real
from ._common import SEED_DROPOUT, SEED_INIT, SEED_SHUFFLE, numpy_rng, state_int, torch_generator

DTYPE = torch.float64
#: pybnn constants: initial noise variance, log-variance prior, numerical epsilons.
NOISE_INIT = 1e-3
LOGVAR_PRIOR_MEAN, LOGVAR_PRIOR_VAR = 1e-6, 0.01
WEIGHT_DECAY = 1.0
SAMPLER_EPS = 1e-10
VAR_EPS = 1e-16
#: The sampler's noise uses the third random stream (the one dropout uses elsewhere).
SEED_NOISE = SEED_DROPOUT


class _FlatNet:
    """Shapes of the 2-hidden-layer tanh network packed into a flat parameter vector
    ``[W1, b1, W2, b2, W3, b3, log_var]``; evaluates ``S`` vectors at once."""

    def __init__(self, n_in: int, units: int) -> None:
        self.shapes = [(n_in, units), (units,), (units, units), (units,), (units, 1), (1,), (1,)]
        sizes = [math.prod(s) for s in self.shapes]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        self.size = self.offsets[-1]
        self.n_weights = self.size - 1  # everything but the noise log-variance

    def unpack(self, theta: torch.Tensor) -> list[torch.Tensor]:
        """``theta (S, P)`` -> tensors with a leading sample dimension."""
        return [theta[:, a:b].reshape(theta.shape[0], *s)
                for a, b, s in zip(self.offsets[:-1], self.offsets[1:], self.shapes)]

    def forward(self, theta: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Means ``(S, n)`` and log noise variances ``(S,)`` of ``S`` weight vectors on ``x (n, D)``."""
        w1, b1, w2, b2, w3, b3, log_var = self.unpack(theta)
        h = torch.tanh(torch.matmul(x, w1) + b1.unsqueeze(1))
        h = torch.tanh(torch.bmm(h, w2) + b2.unsqueeze(1))
        return (torch.bmm(h, w3) + b3.unsqueeze(1)).squeeze(-1), log_var.squeeze(-1)

    def init(self, g: torch.Generator) -> torch.Tensor:
        """PyTorch's default ``nn.Linear`` initialisation; log-variance at log(1e-3)."""
        parts = []
        for i, shape in enumerate(self.shapes[:-1]):
            fan_in = self.shapes[i - (i % 2)][0]
            bound = 1.0 / math.sqrt(fan_in)
            parts.append((torch.rand(math.prod(shape), generator=g, dtype=DTYPE) * 2 - 1) * bound)
        parts.append(torch.tensor([math.log(NOISE_INIT)], dtype=DTYPE))
        return torch.cat(parts)


class Bohamiann(Predictor):
    """Bayesian neural network sampled with adaptive SGHMC (predictive mean and std)."""

    name = "bohamiann"
    encoding = "onehot"
    probabilistic = True
    extra = "neural"
    parameter_constraints = {
        "n_units": COUNT, "learning_rate": POSITIVE, "mdecay": Real(0.0, 1.0, closed="right"),
        "num_steps": Int(1, above=("num_burn_in_steps", "keep_every")), "num_burn_in_steps": Int(0),
        "keep_every": COUNT, "batch_size": COUNT,
    }
    tuning_space: dict = {}  # the study always ran BOHAMIANN with its defaults

    def __init__(self, n_units: int = 50, learning_rate: float = 1e-2, mdecay: float = 0.05,
                 num_steps: int = 100, num_burn_in_steps: int = 10, keep_every: int = 5,
                 batch_size: int = 20, random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _kept_steps(self) -> set[int]:
        b, k = self.num_burn_in_steps, self.keep_every
        return {s for s in range(self.num_steps) if s > b and (s - b) % k == 0}

    def _batches(self, n: int) -> list[np.ndarray]:
        """The first ``num_steps`` mini-batches of an endless reshuffled loader (no drop_last)."""
        b = min(self.batch_size, n)
        per_epoch = -(-n // b)
        epochs = -(-self.num_steps // per_epoch)
        perms = np.argsort(numpy_rng(self.random_state, SEED_SHUFFLE).random((epochs, n)), axis=1)
        batches = [perm[i:i + b] for perm in perms for i in range(0, n, b)]
        return batches[:self.num_steps]

    def _potential(self, net: _FlatNet, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                   n_total: int) -> torch.Tensor:
        mean, log_var = net.forward(theta.unsqueeze(0), x)
        mean, log_var = mean[0], log_var[0]
        nll = (0.5 * (y - mean) ** 2 / (torch.exp(log_var) + VAR_EPS) + 0.5 * log_var).mean()
        log_prior_var = (-(log_var - math.log(LOGVAR_PRIOR_MEAN)) ** 2 / (2 * LOGVAR_PRIOR_VAR)
                         - 0.5 * math.log(LOGVAR_PRIOR_VAR))
        log_prior_w = (-WEIGHT_DECAY * 0.5 * theta[:net.n_weights] ** 2).sum() / net.n_weights
        return nll - (log_prior_var + log_prior_w) / n_total

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        n = len(X)
        net = _FlatNet(X.shape[1], self.n_units)
        theta = net.init(torch_generator(self.random_state, SEED_INIT)).requires_grad_(True)
        noise_gen = torch_generator(self.random_state, SEED_NOISE)
        xt, yt = torch.as_tensor(X, dtype=DTYPE), torch.as_tensor(y, dtype=DTYPE)
        lr, mdecay = self.learning_rate, self.mdecay
        tau, g_avg, v_hat = (torch.ones(net.size, dtype=DTYPE) for _ in range(3))
        momentum = torch.zeros(net.size, dtype=DTYPE)
        kept, samples = self._kept_steps(), []
        for step, idx in enumerate(self._batches(n)):
            i = torch.from_numpy(idx)
            (grad,) = torch.autograd.grad(self._potential(net, theta, xt[i], yt[i], n), theta)
            grad = grad * n
            with torch.no_grad():
                if step < self.num_burn_in_steps:  # pybnn: iteration (1-based) <= burn-in
                    tau_inv = 1.0 / (tau + 1.0)
                    tau.add_(-tau * (g_avg * g_avg / (v_hat + SAMPLER_EPS)) + 1.0)
                    g_avg.add_(-g_avg * tau_inv + tau_inv * grad)
                    v_hat.add_(-v_hat * tau_inv + tau_inv * grad ** 2)
                minv = 1.0 / (torch.sqrt(v_hat) + SAMPLER_EPS)
                sigma = torch.sqrt(torch.clamp(2.0 * lr ** 2 * mdecay * minv - lr ** 4, min=1e-16))
                noise = torch.randn(net.size, generator=noise_gen, dtype=DTYPE) * sigma
                momentum.add_(-(lr ** 2) * minv * grad - mdecay * momentum + noise)
                theta.add_(momentum)
            if step in kept:
                samples.append(theta.detach().clone())
        self.samples_ = torch.stack(samples).numpy()
        self.n_in_ = X.shape[1]

    def _predict(self, X: np.ndarray, return_std: bool) -> Prediction:
        net = _FlatNet(self.n_in_, self.n_units)
        with torch.no_grad():
            means, log_vars = net.forward(torch.from_numpy(self.samples_), torch.as_tensor(X, dtype=DTYPE))
        mean = means.mean(dim=0)
        if not return_std:
            return mean.numpy()
        var = ((means - mean) ** 2 + torch.exp(log_vars).unsqueeze(1)).mean(dim=0)
        return mean.numpy(), torch.sqrt(var).numpy()

    def _get_state(self) -> dict[str, np.ndarray]:
        if not hasattr(self, "samples_"):
            raise PredictorFileError(f"{self._label()}: not fitted, nothing to save")
        return {"samples": self.samples_.copy(), "meta.n_in": np.asarray(self.n_in_, dtype=np.int64)}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        n_in = state_int(state, "meta.n_in", self._label())
        samples = np.asarray(state.get("samples"), dtype=np.float64)
        expected = _FlatNet(n_in, self.n_units).size
        if samples.ndim != 2 or samples.shape[1] != expected:
            raise PredictorFileError(f"{self._label()}: saved samples have shape {samples.shape}, "
                             f"expected (n_samples, {expected}) for n_units={self.n_units}")
        self.samples_, self.n_in_ = samples, n_in
