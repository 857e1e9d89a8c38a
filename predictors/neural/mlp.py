"""Fully connected predictors: the large and small MLP of the study (NASLib's ``MLPPredictor``).

Both train with the L1 loss plus ``regularization`` x the L1 norm of the output layer's
weights, Adam (betas 0.9/0.99), batch 32, 500 epochs, on the one-hot encoding.  The network
is implemented as a stack of ``members`` independent MLPs evaluated with batched matrix
products, so BANANAS' ensemble of three trains in the same loop at nearly the cost of one
(each member has its own initialisation, shuffling and loss; Adam is element-wise, so the
members' updates are exactly those of separate training runs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench_tools.errors import ParameterError

from ..base import Prediction
from ..constraints import COUNT, NON_NEGATIVE, Options
from ..space import Choice, IntUniform, Uniform
from ._common import DTYPE, PREDICT_DTYPE, TorchPredictor, make_adam, optimiser_step, predict_in_chunks, xavier_uniform_

if TYPE_CHECKING:
    from nasbench_tools.spaces import SearchSpace

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu, "tanh": torch.tanh, "hardswish": F.hardswish,
}
#: Adam's betas in the original MLP predictor.
ADAM_BETAS = (0.9, 0.99)


class EnsembleMLP(nn.Module):
    """``members`` MLPs of ``num_layers`` hidden layers of ``width`` units, batched.

    Input ``(members, batch, in)`` or ``(batch, in)`` (shared by all members); output
    ``(members, batch)``.  Weights use Xavier-uniform and zero biases (as the original)."""

    def __init__(self, n_in: int, num_layers: int, width: int, members: int, activation: str) -> None:
        super().__init__()
        self.members, self.activation = members, activation
        dims = [n_in] + [width] * num_layers
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.empty(members, a, b, dtype=DTYPE)) for a, b in zip(dims[:-1], dims[1:])])
        self.biases = nn.ParameterList(
            [nn.Parameter(torch.zeros(members, 1, b, dtype=DTYPE)) for b in dims[1:]])
        self.out_weight = nn.Parameter(torch.empty(members, width, 1, dtype=DTYPE))
        self.out_bias = nn.Parameter(torch.zeros(members, 1, 1, dtype=DTYPE))

    def reset_parameters(self, generator: torch.Generator) -> None:
        for w in list(self.weights) + [self.out_weight]:
            for m in range(self.members):
                xavier_uniform_(w[m], w.shape[1], w.shape[2], generator)
        with torch.no_grad():
            for b in list(self.biases) + [self.out_bias]:
                b.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = ACTIVATIONS[self.activation]
        if x.ndim == 2:
            x = x.unsqueeze(0).expand(self.members, -1, -1)
        for w, b in zip(self.weights, self.biases):
            x = act(torch.baddbmm(b, x, w))
        return torch.baddbmm(self.out_bias, x, self.out_weight).squeeze(-1)


class _MLPPredictor(TorchPredictor):
    """Shared fit/predict of the MLP family; subclasses fix the defaults and the encoding."""

    n_members: ClassVar[int] = 1
    parameter_constraints = {"num_layers": COUNT, "layer_width": COUNT, "regularization": NON_NEGATIVE}

    # parameters every subclass declares in __init__
    num_layers: int
    layer_width: int
    regularization: float

    def _activation(self) -> str:
        return "relu"

    def _members(self) -> int:
        return self.n_members

    def _build(self, meta: dict[str, int]) -> EnsembleMLP:
        return EnsembleMLP(meta["n_in"], self.num_layers, self.layer_width, meta["members"], self._activation())

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        module = self._initial_module({"n_in": X.shape[1], "members": self._members()})
        Xt = torch.as_tensor(X, dtype=DTYPE)
        yt = torch.as_tensor(y, dtype=DTYPE)
        batches = self._batches(len(X), drop_last=False, members=module.members)
        optimizer = make_adam(module.parameters(), self.learning_rate, betas=ADAM_BETAS)
        module.train()
        for _, idx in batches:
            pred = module(Xt[idx])
            # per member: mean L1 error + regularization * |output weights|_1; summing members
            # keeps their gradients independent
            loss = (pred - yt[idx]).abs().mean(dim=1).sum() + self.regularization * module.out_weight.abs().sum()
            optimiser_step(optimizer, loss)
        self._set_module(module)

    def _member_predictions(self, X: np.ndarray) -> np.ndarray:
        return predict_in_chunks(self._predictor_module(), torch.as_tensor(X, dtype=PREDICT_DTYPE))

    def _predict(self, X: np.ndarray, return_std: bool) -> Prediction:
        preds = self._member_predictions(X)
        mean = preds.mean(axis=0)
        if return_std:
            return mean, preds.std(axis=0)
        return mean

    def _relaxed_encoding(self, space: "SearchSpace") -> Callable[[torch.Tensor], torch.Tensor]:
        from ..relaxed import relaxed_onehot

        return lambda w: relaxed_onehot(space, w)

    def _torch_function(self, space: "SearchSpace") -> Callable[[torch.Tensor], torch.Tensor]:
        from nasbench_tools.encodings import get_encoding

        enc = get_encoding(self.encoding)
        if not enc.applies(space) or enc.width(space) != self.n_features_in_:
            raise ParameterError(f"{self._label()}: the {self.encoding} encoding of {space.name} does not "
                             f"have the {self.n_features_in_} features the predictor was fitted on")
        encode, net = self._relaxed_encoding(space), self._relaxed_modules()

        def fn(w: torch.Tensor) -> torch.Tensor:
            x = encode(w)
            return net(x.dtype)(x).mean(dim=0)

        return fn


#: Tuning ranges of the large MLP and of BANANAS' members (Table A.1).
LARGE_MLP_SPACE = {
    "num_layers": IntUniform(5, 25),
    "layer_width": IntUniform(5, 25),
    "learning_rate": Uniform(1e-4, 1e-1, log=True),
}


class MLPLarge(_MLPPredictor):
    """MLP of 20 hidden ReLU layers x 20 units (NASLib's MLP predictor defaults)."""

    name = "mlp_large"
    encoding = "onehot"
    tuning_space = LARGE_MLP_SPACE

    def __init__(self, num_layers: int = 20, layer_width: int = 20, learning_rate: float = 1e-3,
                 batch_size: int = 32, epochs: int = 500, regularization: float = 0.2,
                 random_state: int | None = 0) -> None:
        self._store_params(locals())


class MLPSmall(_MLPPredictor):
    """MLP of 3 hidden layers x 32 units with a tunable activation (relu, tanh, hardswish)."""

    name = "mlp_small"
    encoding = "onehot"
    parameter_constraints = {"activation": Options(*ACTIVATIONS)}
    tuning_space = {
        "num_layers": IntUniform(2, 5),
        "layer_width": IntUniform(16, 128, log=True),
        "learning_rate": Uniform(1e-4, 1e-1, log=True),
        "activation": Choice(tuple(ACTIVATIONS)),
    }

    def __init__(self, num_layers: int = 3, layer_width: int = 32, learning_rate: float = 1e-3,
                 activation: str = "relu", batch_size: int = 32, epochs: int = 500,
                 regularization: float = 0.2, random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _activation(self) -> str:
        return self.activation
