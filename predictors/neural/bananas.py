"""BANANAS (White et al., 2019): an ensemble of MLPs on the path encoding.

Each member is the large MLP (20 layers x 20 units, L1 loss + 0.2 x L1 of the output
weights, Adam 1e-3, batch 32, 500 epochs) with its own initialisation and shuffling; the
prediction is the members' mean and the predictive std their spread (the ensemble
uncertainty BANANAS uses for its acquisition function).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import torch

from ..constraints import COUNT
from .mlp import LARGE_MLP_SPACE, _MLPPredictor

if TYPE_CHECKING:
    from nasbench_tools.spaces import SearchSpace


class Bananas(_MLPPredictor):
    """Ensemble of ``n_ensemble`` MLPs on the BANANAS path encoding."""

    name = "bananas"
    encoding = "path"
    probabilistic = True
    parameter_constraints = {"n_ensemble": COUNT}
    tuning_space = LARGE_MLP_SPACE

    def __init__(self, num_layers: int = 20, layer_width: int = 20, learning_rate: float = 1e-3,
                 n_ensemble: int = 3, batch_size: int = 32, epochs: int = 500,
                 regularization: float = 0.2, random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _members(self) -> int:
        return self.n_ensemble

    def _relaxed_encoding(self, space: "SearchSpace") -> Callable[[torch.Tensor], torch.Tensor]:
        from ..relaxed import relaxed_path

        return lambda w: relaxed_path(space, w)
