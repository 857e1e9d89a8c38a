"""BANANAS (White et al., 2019): an ensemble of MLPs on the path encoding.

Each member is the large MLP (20 layers x 20 units, L1 loss + 0.2 x L1 of the output
weights, Adam 1e-3, batch 32, 500 epochs) with its own initialisation and shuffling; the
prediction is the members' mean and the predictive std their spread (the ensemble
uncertainty BANANAS uses for its acquisition function).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import torch

from .._checks import check_int
from .mlp import LARGE_MLP_SPACE, _MLPPredictor

if TYPE_CHECKING:
    from nasbench_tools.spaces import SearchSpace


class Bananas(_MLPPredictor):
    """Ensemble of ``n_ensemble`` MLPs on the BANANAS path encoding."""

    name = "bananas"
    encoding = "path"
    probabilistic = True
    tuning_space = LARGE_MLP_SPACE

    def __init__(self, num_layers: int = 20, layer_width: int = 20, learning_rate: float = 1e-3,
                 n_ensemble: int = 3, batch_size: int = 32, epochs: int = 500,
                 regularization: float = 0.2, random_state: int | None = 0) -> None:
        self.num_layers = num_layers
        self.layer_width = layer_width
        self.learning_rate = learning_rate
        self.n_ensemble = n_ensemble
        self.batch_size = batch_size
        self.epochs = epochs
        self.regularization = regularization
        self.random_state = random_state

    def _members(self) -> int:
        return self.n_ensemble

    def _check_params(self) -> None:
        super()._check_params()
        check_int(self._label(), "n_ensemble", self.n_ensemble, 1)

    def _relaxed_encoding(self, space: "SearchSpace") -> Callable[[torch.Tensor], torch.Tensor]:
        from ..relaxed import relaxed_path

        return lambda w: relaxed_path(space, w)
