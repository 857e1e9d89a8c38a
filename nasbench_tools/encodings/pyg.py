"""Graph encodings as torch_geometric objects, for your own graph neural networks.

``to_pyg(space, archs)`` gives one ``torch_geometric.data.Data`` per architecture, batched: node
features ``x`` are the graph encoding's one-hot node rows (``[input, op_0 .. op_k, output]``,
plus the ``global`` column and node with ``global_node=True``), ``edge_index`` the cell's true
topology in PyG's ``(source, target)`` convention: ``adjacency[i, j] = 1`` (node ``i`` feeds node
``j``) is the edge ``i -> j``.  The dense flattened encoding (:func:`graph_encoding`) and this
export describe the same graphs; ``tests/test_pyg_export.py`` checks the GCN predictor's dense
layers against a message-passing implementation on these objects.

Needs the ``graph`` extra (torch-geometric): ``pip install 'nasbench-study[graph]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..errors import require
from ..spaces import SearchSpace
from .graph import graph_encoding, graph_layout, unflatten_graph

if TYPE_CHECKING:
    from torch_geometric.data import Batch


def _ops(space: SearchSpace, archs: Any) -> np.ndarray:
    """Op-code rows of ``archs`` (op-code rows or architecture strings in any format of the space)."""
    if isinstance(archs, str):
        archs = [archs]
    if isinstance(archs, (list, tuple)) and archs and isinstance(archs[0], str):
        return space.parse(list(archs))
    return space.validate(archs)


def edge_index(space: SearchSpace, global_node: bool = False) -> np.ndarray:
    """``(2, n_edges)`` int64 ``(source, target)`` pairs of the space's cell graph."""
    src, dst = np.nonzero(graph_layout(space, global_node).adjacency)
    return np.stack([src, dst]).astype(np.int64)


def to_pyg(space: SearchSpace, archs: Any, global_node: bool = False,
           y: Sequence[float] | np.ndarray | None = None) -> "Batch":
    """A ``torch_geometric.data.Batch`` of the architectures' graphs (``y``: optional targets,
    one per architecture, stored as ``data.y``)."""
    torch = require("torch", "exporting graph encodings to torch_geometric")
    require("torch_geometric", "exporting graph encodings to torch_geometric")
    from torch_geometric.data import Batch, Data

    ops = _ops(space, archs)
    lay = graph_layout(space, global_node)
    _, feats = unflatten_graph(graph_encoding(space, ops, global_node), lay)
    targets = None
    if y is not None:
        targets = np.asarray(y, dtype=np.float64)
        if targets.shape != (len(ops),):
            raise ValueError(f"to_pyg: y must hold one value per architecture ({len(ops)}), got shape {targets.shape}")
    edges = torch.from_numpy(edge_index(space, global_node))
    graphs = []
    for k in range(len(ops)):
        data = Data(x=torch.from_numpy(np.ascontiguousarray(feats[k])), edge_index=edges)
        if targets is not None:
            data.y = torch.tensor([targets[k]], dtype=torch.float64)
        graphs.append(data)
    return Batch.from_data_list(graphs)
