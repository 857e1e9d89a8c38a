"""BONAS predictor (Shi et al., 2020), as in NASLib's ``BonasPredictor``.

Four graph convolutions ``A' (H W) + b`` (hidden 64), each followed by batch norm over the
channels and ReLU; the prediction is a linear layer on the global node's embedding.  The
propagation matrix ``A'`` is BONAS': self-loops plus in-edges, with the global node
aggregating every node (``(A + I)^T`` with the global node's out-edges removed, so the
``graph_bonas`` encoding's symmetric global edges act in BONAS' direction only).  MSE,
Adam 1e-4 (no weight decay), cosine schedule over 100 epochs, batch 128.

Original defect not copied: gradients are zeroed every step.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..constraints import COUNT
from ._common import DTYPE, HIDDEN_BATCH_LR_SPACE, GraphTorchPredictor, uniform_

N_GCN_LAYERS = 4
#: Uniform initialisation bound of the graph-convolution weights in the original.
GC_INIT_BOUND = 0.05


def bonas_propagation(adj: torch.Tensor) -> torch.Tensor:
    """``(n, N, N)`` BONAS propagation from a ``graph_bonas`` adjacency batch (global node last)."""
    a = adj.clone()
    a[:, -1, :] = 0.0  # the global node receives from every node but sends to none
    a = a + torch.eye(a.shape[-1], dtype=a.dtype)
    return a.transpose(1, 2)


class BonasGCN(nn.Module):
    """4 x (graph conv -> batch norm -> ReLU) -> linear on the global (last) node."""

    def __init__(self, n_features: int, hidden: int) -> None:
        super().__init__()
        dims = [n_features] + [hidden] * N_GCN_LAYERS
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.empty(a, b, dtype=DTYPE)) for a, b in zip(dims[:-1], dims[1:])])
        self.biases = nn.ParameterList([nn.Parameter(torch.empty(b, dtype=DTYPE)) for b in dims[1:]])
        self.norms = nn.ModuleList([nn.BatchNorm1d(hidden, dtype=DTYPE) for _ in range(N_GCN_LAYERS)])
        self.fc = nn.Linear(hidden, 1, dtype=DTYPE)

    def reset_parameters(self, g: torch.Generator) -> None:
        for w, b in zip(self.weights, self.biases):
            uniform_(w, GC_INIT_BOUND, g)
            uniform_(b, 1.0 / w.shape[1] ** 0.5, g)
        for bn in self.norms:
            bn.reset_parameters()
        bound = 1.0 / self.fc.in_features ** 0.5
        uniform_(self.fc.weight, bound, g)
        uniform_(self.fc.bias, bound, g)

    def forward(self, feats: torch.Tensor, prop: torch.Tensor) -> torch.Tensor:
        h = feats
        for w, b, bn in zip(self.weights, self.biases, self.norms):
            h = prop @ (h @ w) + b
            h = F.relu(bn(h.transpose(1, 2)).transpose(1, 2))
        return self.fc(h[:, -1]).squeeze(-1)


class Bonas(GraphTorchPredictor):
    """BONAS graph-convolution predictor on the ``graph_bonas`` encoding."""

    name = "bonas"
    encoding = "graph_bonas"
    _global_node = True
    _propagation = staticmethod(bonas_propagation)
    parameter_constraints = {"hidden_size": COUNT}
    tuning_space = HIDDEN_BATCH_LR_SPACE

    def __init__(self, hidden_size: int = 64, batch_size: int = 128, learning_rate: float = 1e-4,
                 epochs: int = 100, random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _build(self, meta: dict[str, int]) -> BonasGCN:
        return BonasGCN(meta["n_node_features"], self.hidden_size)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        module, feats, prop, yt = self._start_fit(X, y)
        self._train_cosine(module, len(X), False, lambda i: F.mse_loss(module(feats[i], prop[i]), yt[i]))
