"""Differentiable (relaxed) encodings in torch, for gradient-based NAS.

Input everywhere: architecture weights ``w`` of shape ``(n, n_slots, n_ops)`` (a soft one-hot
per slot, e.g. a softmax over DARTS-style architecture parameters).  At hard one-hot ``w`` each
function equals the numpy encoding of ``nasbench_tools.encodings`` exactly.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from nasbench_tools.encodings import graph_layout, path_routes
from nasbench_tools.encodings.tabular import path_width
from nasbench_tools.errors import InputDataError
from nasbench_tools.spaces import SearchSpace


def check_weights(space: SearchSpace, w: torch.Tensor) -> torch.Tensor:
    if w.ndim == 2:
        w = w.unsqueeze(0)
    if w.ndim != 3 or tuple(w.shape[1:]) != (space.n_slots, space.n_ops):
        raise InputDataError(
            f"architecture weights for {space.name} must have shape (n, {space.n_slots}, {space.n_ops}), "
            f"got {tuple(w.shape)}"
        )
    return w


def relaxed_onehot(space: SearchSpace, w: torch.Tensor) -> torch.Tensor:
    """``(n, n_slots * n_ops)``, the adjacency one-hot layout."""
    w = check_weights(space, w)
    return w.reshape(w.shape[0], -1)


def affine_onehot(space: SearchSpace, weights: Any, offset: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """``relaxed_onehot(space, w) @ weights + offset``: the differentiable form of a model that is
    affine in the one-hot encoding (linear models, the lookup table)."""
    coef = torch.as_tensor(weights, dtype=torch.float64)

    def fn(w: torch.Tensor) -> torch.Tensor:
        x = relaxed_onehot(space, w)
        return x @ coef.to(x.dtype) + offset

    return fn


def relaxed_path(space: SearchSpace, w: torch.Tensor) -> torch.Tensor:
    """Path encoding: per route the outer product of its slots' weights; routes sharing a
    feature are combined with a probabilistic OR (exact at one-hot corners)."""
    w = check_weights(space, w)
    n, k = w.shape[0], space.n_ops
    miss = torch.ones(n, path_width(space), dtype=w.dtype, device=w.device)
    for route in path_routes(space):
        offset = sum(k**length for length in range(1, len(route)))
        prob = w[:, route[0]]
        for slot in route[1:]:
            prob = (prob.unsqueeze(-1) * w[:, slot].unsqueeze(1)).reshape(n, -1)
        block = miss[:, offset:offset + prob.shape[1]] * (1 - prob)
        miss = torch.cat([miss[:, :offset], block, miss[:, offset + prob.shape[1]:]], dim=1)
    return 1 - miss


def relaxed_graph(space: SearchSpace, w: torch.Tensor, global_node: bool = False) -> torch.Tensor:
    """Flattened graph encoding (fixed adjacency, soft op features on the edge nodes)."""
    w = check_weights(space, w)
    lay = graph_layout(space, global_node)
    n, e, k = w.shape[0], space.n_slots, space.n_ops
    feats = torch.zeros(n, lay.n_nodes, lay.n_features, dtype=w.dtype, device=w.device)
    feats[:, 0, 0] = 1.0
    feats[:, e + 1, k + 1] = 1.0
    if global_node:
        feats[:, -1, -1] = 1.0
    edge_feats = torch.cat(
        [torch.zeros(n, e, 1, dtype=w.dtype, device=w.device), w,
         torch.zeros(n, e, lay.n_features - k - 1, dtype=w.dtype, device=w.device)], dim=2)
    feats = torch.cat([feats[:, :1], edge_feats, feats[:, e + 1:]], dim=1)
    adj = torch.tensor(lay.adjacency.copy(), dtype=w.dtype, device=w.device).reshape(1, -1).expand(n, -1)
    return torch.cat([adj, feats.reshape(n, -1)], dim=1)


def hard_weights(space: SearchSpace, ops: Any) -> torch.Tensor:
    """One-hot architecture weights ``(n, n_slots, n_ops)`` of op-code rows (float64)."""
    ops_t = torch.as_tensor(space.validate(ops), dtype=torch.long)
    return torch.nn.functional.one_hot(ops_t, space.n_ops).to(torch.float64)
