"""Graph encodings of cells: nodes = [input, one node per edge-op, output] (+ BONAS global node).

The adjacency is the true cell topology: the node of edge ``a->b`` feeds the nodes of every
edge leaving ``b``; the input feeds the edges leaving node 0, the edges entering the last
node feed the output.  Node features are one-hot over ``[input, op_0 .. op_k, output]``
(plus a ``global`` column for BONAS).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..spaces import SearchSpace

FLOAT = np.float32


@dataclass(frozen=True)
class GraphLayout:
    """Shape of a flattened graph encoding: ``n_nodes**2`` adjacency then node features."""

    n_nodes: int
    n_features: int
    adjacency: np.ndarray  # (n_nodes, n_nodes), fixed for the space

    @property
    def width(self) -> int:
        return self.n_nodes * self.n_nodes + self.n_nodes * self.n_features


@lru_cache(maxsize=None)
def _layout(edges: tuple[tuple[int, int], ...], n_ops: int, global_node: bool) -> GraphLayout:
    n_edges = len(edges)
    last = 1 + max(max(e) for e in edges)
    n_nodes = n_edges + 2 + int(global_node)
    adj = np.zeros((n_nodes, n_nodes), dtype=FLOAT)
    out_node = n_edges + 1
    for i, (a, b) in enumerate(edges):
        if a == 0:
            adj[0, 1 + i] = 1.0
        if b == last - 1:
            adj[1 + i, out_node] = 1.0
        for j, (c, _) in enumerate(edges):
            if c == b:
                adj[1 + i, 1 + j] = 1.0
    if global_node:
        g = n_nodes - 1
        adj[g, :g] = 1.0
        adj[:g, g] = 1.0
    adj.setflags(write=False)
    return GraphLayout(n_nodes, n_ops + 2 + int(global_node), adj)


def graph_layout(space: SearchSpace, global_node: bool = False) -> GraphLayout:
    if not space.is_cell:
        raise ValueError(f"graph encodings need a cell space; {space.name!r} is sequential")
    return _layout(space.edges, space.n_ops, global_node)


def graph_encoding(space: SearchSpace, ops: np.ndarray, global_node: bool = False) -> np.ndarray:
    """Flattened ``[adjacency.ravel(), features.ravel()]`` per architecture."""
    lay = graph_layout(space, global_node)
    n, n_edges = len(ops), space.n_slots
    feats = np.zeros((n, lay.n_nodes, lay.n_features), dtype=FLOAT)
    feats[:, 0, 0] = 1.0
    rows = np.arange(n)[:, None]
    feats[rows, np.arange(1, n_edges + 1), 1 + ops.astype(np.int64)] = 1.0
    feats[:, n_edges + 1, space.n_ops + 1] = 1.0
    if global_node:
        feats[:, -1, -1] = 1.0
    adj = np.broadcast_to(lay.adjacency.ravel(), (n, lay.n_nodes * lay.n_nodes))
    return np.concatenate([adj, feats.reshape(n, -1)], axis=1)


def unflatten_graph(x: np.ndarray, layout: GraphLayout) -> tuple[np.ndarray, np.ndarray]:
    """Split a flattened graph encoding into ``(adjacency (n,N,N), features (n,N,F))``."""
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != layout.width:
        raise ValueError(f"expected a graph encoding of width {layout.width}, got shape {x.shape}")
    nn = layout.n_nodes * layout.n_nodes
    return (x[:, :nn].reshape(-1, layout.n_nodes, layout.n_nodes),
            x[:, nn:].reshape(-1, layout.n_nodes, layout.n_features))
