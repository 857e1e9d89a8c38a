"""Graph encodings exported as torch_geometric batches, and the GCN predictor's dense layers
checked against a message-passing implementation built on torch_geometric (real NB201 data)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.nn import MessagePassing, global_mean_pool
from torch_geometric.utils import add_self_loops, degree, scatter

import predictors
from nasbench_tools.encodings import encode, graph_layout, unflatten_graph
from nasbench_tools.encodings.pyg import edge_index, to_pyg

DATASET = "hwnas/cifar10/edgegpu_latency"


@pytest.fixture(scope="module")
def data(store):
    ds = store.load(DATASET)
    rows = np.random.default_rng(11).permutation(ds.space.size)[:60]
    return ds, ds.space.arch(rows), ds.values[rows]


@pytest.mark.parametrize("global_node", [False, True])
def test_batch_holds_the_dense_encoding(data, global_node):
    ds, ops, y = data
    batch = to_pyg(ds.space, ops[:7], global_node=global_node, y=y[:7])
    lay = graph_layout(ds.space, global_node)
    adj, feats = unflatten_graph(encode(ds.space, ops[:7], "graph_bonas" if global_node else "graph"), lay)
    assert batch.num_graphs == 7
    np.testing.assert_array_equal(batch.x.numpy().reshape(7, lay.n_nodes, lay.n_features), feats)
    dense = np.zeros((7, lay.n_nodes, lay.n_nodes), dtype=np.float32)
    ei = batch.edge_index.numpy()
    g = batch.batch.numpy()[ei[0]]
    dense[g, ei[0] % lay.n_nodes, ei[1] % lay.n_nodes] = 1.0  # every graph has n_nodes nodes
    np.testing.assert_array_equal(dense, adj)
    np.testing.assert_array_equal(batch.y.numpy(), y[:7])
    strings = ds.space.format(ops[:7])
    np.testing.assert_array_equal(to_pyg(ds.space, strings, global_node).x.numpy(), batch.x.numpy())
    assert edge_index(ds.space, global_node).shape == (2, int(lay.adjacency.sum()))


class WeightedSum(MessagePassing):
    """``out_target = sum_edges w * x_source`` in the given flow direction."""

    def __init__(self, flow: str) -> None:
        super().__init__(aggr="add", flow=flow)

    def forward(self, x, edge_index, w):
        return self.propagate(edge_index, x=x, w=w)

    def message(self, x_j, w):
        return w.unsqueeze(-1) * x_j


def gcn_by_message_passing(net, batch) -> torch.Tensor:
    """The GCN predictor's forward pass written as message passing: forward direction = mean over
    the node and its successors, backward direction = weighted mean over the node and its
    predecessors (weights 1 / out-degree of the sender), as the row-normalised dense matrices."""
    n = batch.num_nodes
    ei, _ = add_self_loops(batch.edge_index, num_nodes=n)
    out_deg = degree(ei[0], n, dtype=torch.float64)
    w_fwd = 1.0 / out_deg[ei[0]]  # received at the source from its successors
    raw = 1.0 / out_deg[ei[0]]
    w_bwd = raw / scatter(raw, ei[1], dim=0, dim_size=n, reduce="sum")[ei[1]]
    fwd, bwd = WeightedSum("target_to_source"), WeightedSum("source_to_target")
    h = batch.x.to(torch.float64)
    for w in net.gcn_weights:
        hidden = w.shape[1] // 2
        hw = h @ w
        h = 0.5 * (torch.relu(fwd(hw[:, :hidden], ei, w_fwd)) + torch.relu(bwd(hw[:, hidden:], ei, w_bwd)))
    pooled = global_mean_pool(h, batch.batch)
    return net.fc2(net.fc1(pooled)).squeeze(-1)


def test_dense_gcn_equals_message_passing(data):
    ds, ops, y = data
    gcn = predictors.make("gcn", epochs=5, hidden_size=16).fit(encode(ds.space, ops[:40], "graph"), y[:40])
    want = gcn.predict(encode(ds.space, ops[40:], "graph"))
    with torch.no_grad():
        z = gcn_by_message_passing(gcn._predictor_module(), to_pyg(ds.space, ops[40:]))
    got = z.numpy() * gcn.y_scale_ + gcn.y_mean_
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10 * gcn.y_scale_)
    assert np.std(want) > 0  # a non-trivial comparison
