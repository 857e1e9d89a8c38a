"""GCN: the neural predictor of Wen et al. (2020), as in NASLib's ``GCNPredictor``.

Four directed graph-convolution layers: each averages a forward pass (row-normalised
``A + I``) and a backward pass (row-normalised ``(A + I)^T``) with separate weights and ReLU,
followed by dropout 0.1; mean pooling over nodes; two bias-free linear layers (hidden -> 128
-> 1) with dropout between.  MSE, Adam 1e-4 (weight decay 3e-4), cosine schedule over 300
epochs, batch 7 with the last incomplete batch dropped.  Graphs are dense batched tensors
(the cells have under ten nodes, so dense matmuls beat sparse message passing).

Original defects not copied: gradients are zeroed every step, ``hidden_size`` is honoured,
and at least one batch is trained even when ``n < batch_size``.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..constraints import COUNT, DROP_RATE, NON_NEGATIVE
from ..space import IntUniform, Uniform
from ._common import DTYPE, SEED_DROPOUT, GraphTorchPredictor, batch_slices, numpy_rng, reset_linear_, xavier_uniform_

#: Width of the first linear layer after pooling (fixed in the original).
LINEAR_HIDDEN = 128
N_GCN_LAYERS = 4


def row_normalise(adj: torch.Tensor) -> torch.Tensor:
    return adj / adj.sum(dim=-1, keepdim=True).clamp_min(torch.finfo(adj.dtype).tiny)


def propagation(adj: torch.Tensor) -> torch.Tensor:
    """Forward and backward propagation matrices of adjacency batch ``adj`` stacked as
    ``(n, 2, N, N)``: row-normalised ``A + I`` and the row-normalised transpose of that."""
    a = row_normalise(adj + torch.eye(adj.shape[-1], dtype=adj.dtype))
    return torch.stack([a, row_normalise(a.transpose(1, 2))], dim=1)


class NeuralPredictorNet(nn.Module):
    """Directed GCN -> mean pool -> fc(hidden, 128) -> dropout -> fc(128, 1).

    A layer's forward and backward weights sit side by side, ``(in, 2 * out)``, so both
    directions' feature transforms are one 2-D matrix product (a broadcast batched matmul
    was 3x slower on CPU).  ``masks`` are one step's dropout masks (see
    :func:`dropout_masks`); None means evaluation (no dropout)."""

    def __init__(self, n_features: int, hidden: int) -> None:
        super().__init__()
        dims = [n_features] + [hidden] * N_GCN_LAYERS
        self.gcn_weights = nn.ParameterList(
            [nn.Parameter(torch.empty(a, 2 * b, dtype=DTYPE)) for a, b in zip(dims[:-1], dims[1:])])
        self.fc1 = nn.Linear(hidden, LINEAR_HIDDEN, bias=False, dtype=DTYPE)
        self.fc2 = nn.Linear(LINEAR_HIDDEN, 1, bias=False, dtype=DTYPE)

    def reset_parameters(self, g: torch.Generator) -> None:
        for w in self.gcn_weights:
            fan_in, fan_out = w.shape[0], w.shape[1] // 2
            for half in (w[:, :fan_out], w[:, fan_out:]):
                xavier_uniform_(half, fan_in, fan_out, g)
        reset_linear_(self.fc1, g)
        reset_linear_(self.fc2, g)

    def forward(self, feats: torch.Tensor, prop: torch.Tensor,
                masks: list[torch.Tensor] | None = None) -> torch.Tensor:
        h = feats
        for i, w in enumerate(self.gcn_weights):
            h = F.relu(prop @ _transform(h, w)).sum(dim=1)  # (B, 2, N, H) -> (B, N, H)
            h = h * (0.5 if masks is None else masks[i])  # mean of the two directions
        h = self.fc1(h.mean(dim=1))
        if masks is not None:
            h = h * masks[-1]
        return self.fc2(h).squeeze(-1)


def _transform(h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``h (B, N, F)`` times both directions' weights ``w (F, 2H)`` -> ``(B, 2, N, H)``."""
    b, n, _ = h.shape
    return (h.reshape(b * n, -1) @ w).reshape(b, n, 2, -1).transpose(1, 2)


def dropout_masks(rng: np.random.Generator, p: float, steps: int, batch: int, n_nodes: int,
                  hidden: int) -> torch.Tensor:
    """Dropout masks of ``steps`` training steps drawn in one numpy call: per step four
    ``(batch, n_nodes, hidden)`` layer masks (scaled by 0.5 / (1 - p), folding in the mean of
    the two directions) and one ``(batch, 128)`` mask (scaled by 1 / (1 - p)), concatenated
    flat as ``(steps, batch, width)``."""
    width = N_GCN_LAYERS * n_nodes * hidden + LINEAR_HIDDEN
    keep = rng.random((steps, batch, width), dtype=np.float32) >= p
    scale = np.full(width, 0.5 / (1.0 - p), dtype=np.float32)
    scale[-LINEAR_HIDDEN:] = 1.0 / (1.0 - p)
    return torch.from_numpy(keep * scale)


def split_masks(flat: torch.Tensor, n_nodes: int, hidden: int) -> list[torch.Tensor]:
    """One step's ``(batch, width)`` masks -> the list :meth:`NeuralPredictorNet.forward` takes."""
    layer = n_nodes * hidden
    b = flat.shape[0]
    out = [flat[:, i * layer:(i + 1) * layer].reshape(b, n_nodes, hidden) for i in range(N_GCN_LAYERS)]
    return out + [flat[:, N_GCN_LAYERS * layer:]]


#: Training steps whose dropout masks are drawn per numpy call (bounds memory).
MASK_CHUNK = 64


def step_masks(rng: np.random.Generator, p: float, batch: int, n_nodes: int, hidden: int) -> Iterator[list[torch.Tensor]]:
    """Each training step's dropout masks (as :meth:`NeuralPredictorNet.forward` takes them), drawn
    :data:`MASK_CHUNK` steps per numpy call."""
    while True:
        for flat in dropout_masks(rng, p, MASK_CHUNK, batch, n_nodes, hidden):
            yield split_masks(flat, n_nodes, hidden)


class GCN(GraphTorchPredictor):
    """Neural predictor (Wen et al.) on the ``graph`` encoding."""

    name = "gcn"
    encoding = "graph"
    _propagation = staticmethod(propagation)
    parameter_constraints = {"hidden_size": COUNT, "weight_decay": NON_NEGATIVE, "dropout": DROP_RATE}
    tuning_space = {
        "hidden_size": IntUniform(64, 200, log=True),
        "batch_size": IntUniform(5, 32, log=True),
        "learning_rate": Uniform(1e-5, 1e-1, log=True),
        "weight_decay": Uniform(1e-5, 1e-1, log=True),
    }

    def __init__(self, hidden_size: int = 144, batch_size: int = 7, learning_rate: float = 1e-4,
                 weight_decay: float = 3e-4, epochs: int = 300, dropout: float = 0.1,
                 random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _build(self, meta: dict[str, int]) -> NeuralPredictorNet:
        return NeuralPredictorNet(meta["n_node_features"], self.hidden_size)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        module, feats, prop, yt = self._start_fit(X, y)
        first = batch_slices(len(X), self.batch_size, drop_last=True)[0]
        batch = first.stop - first.start  # drop_last: every batch has this size
        masks = step_masks(numpy_rng(self.random_state, SEED_DROPOUT), self.dropout, batch, self.meta_["n_nodes"],
                           self.hidden_size)
        self._train_cosine(module, len(X), True, lambda i: F.mse_loss(module(feats[i], prop[i], next(masks)), yt[i]),
                           weight_decay=self.weight_decay)
