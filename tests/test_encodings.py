"""Encodings: widths, hand-checked values, injectivity, relaxed torch versions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench_tools.encodings import (
    available_encodings, encode, get_encoding, graph_layout, nao_vocab_size, unflatten_graph,
)
from nasbench_tools.errors import InvalidArchitectureError, UnknownNameError
from nasbench_tools.spaces import get_space
from predictors.relaxed import hard_weights, relaxed_graph, relaxed_onehot, relaxed_path

CELL_SPACES = ["nb201", "nb201-nozero", "transnas-micro"]
ALL_SPACES = CELL_SPACES + ["transnas-macro", "nbmacro"]


@pytest.mark.parametrize("space_name", ALL_SPACES)
def test_widths_and_registry(space_name: str) -> None:
    space = get_space(space_name)
    archs = space.enumerate()
    for name in available_encodings():
        enc = get_encoding(name)
        if not enc.applies(space):
            with pytest.raises(ValueError, match="does not apply"):
                encode(space, archs[:2], name)
            continue
        X = encode(space, archs, name)
        assert X.shape == (space.size, enc.width(space)), name
        assert np.all(np.isfinite(X))


def test_known_widths() -> None:
    nb = get_space("nb201")
    assert get_encoding("onehot").width(nb) == 30
    assert get_encoding("path").width(nb) == 155
    assert get_encoding("path").width(get_space("transnas-micro")) == 4 + 16 + 64
    assert get_encoding("onehot").width(get_space("transnas-macro")) == 30
    assert get_encoding("graph").width(nb) == 8 * 8 + 8 * 7
    assert get_encoding("graph_bonas").width(nb) == 9 * 9 + 9 * 8


@pytest.mark.parametrize("space_name", ALL_SPACES)
def test_onehot_is_one_per_slot_and_injective(space_name: str) -> None:
    space = get_space(space_name)
    X = encode(space, space.enumerate(), "onehot").reshape(space.size, space.n_slots, space.n_ops)
    assert np.all(X.sum(axis=2) == 1)
    assert np.array_equal(X.argmax(axis=2), space.enumerate())


def _naive_path(ops: np.ndarray, k: int) -> np.ndarray:
    """Path encoding written out for the NB201 cell's four routes."""
    out = np.zeros(k + k**2 + k**3)
    e = [int(v) for v in ops]
    out[e[3]] = 1  # 0->3
    out[k + e[0] * k + e[4]] = 1  # 0->1->3
    out[k + e[1] * k + e[5]] = 1  # 0->2->3
    out[k + k**2 + (e[0] * k + e[2]) * k + e[5]] = 1  # 0->1->2->3
    return out


@pytest.mark.parametrize("space_name", CELL_SPACES)
def test_path_encoding_matches_hand_written_routes(space_name: str) -> None:
    space = get_space(space_name)
    archs = space.enumerate()
    X = encode(space, archs, "path")
    rng = np.random.default_rng(1)
    for i in rng.choice(space.size, 200, replace=False):
        assert np.array_equal(X[i], _naive_path(archs[i], space.n_ops))
    # 3 or 4 ones (two length-2 routes may share an op sequence), still injective
    assert set(np.unique(X.sum(axis=1))) <= {3.0, 4.0}
    assert len(np.unique(X, axis=0)) == space.size


def test_graph_encoding_has_true_cell_topology() -> None:
    space = get_space("nb201")
    lay = graph_layout(space)
    A = lay.adjacency
    # nodes: 0 input, 1..6 edges e0..e5 (0->1, 0->2, 1->2, 0->3, 1->3, 2->3), 7 output
    expected = {(0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 6), (3, 6), (4, 7), (5, 7), (6, 7)}
    assert {tuple(map(int, ij)) for ij in zip(*np.nonzero(A))} == expected
    archs = space.enumerate()[:50]
    adj, feats = unflatten_graph(encode(space, archs, "graph"), lay)
    assert np.all(adj == A)
    assert np.array_equal(feats[:, 1:7, 1:6].argmax(axis=2), archs)
    assert np.all(feats.sum(axis=2) == 1)
    lay_b = graph_layout(space, global_node=True)
    adj_b, _ = unflatten_graph(encode(space, archs, "graph_bonas"), lay_b)
    assert np.all(adj_b[:, -1, :-1] == 1) and np.all(adj_b[:, :-1, -1] == 1)
    with pytest.raises(ValueError, match="width"):
        unflatten_graph(np.zeros((2, 5)), lay)


def test_nao_tokens() -> None:
    space = get_space("nb201")
    row = np.array([[0, 1, 2, 3, 4, 0]])
    tokens = encode(space, row, "nao")
    assert tokens.tolist() == [[1, 5, 1, 6, 2, 7, 1, 8, 2, 9, 3, 5]]
    assert nao_vocab_size(space) == 10 and tokens.max() < nao_vocab_size(space)
    macro = get_space("nbmacro")
    assert encode(macro, [[0, 1, 2, 0, 1, 2, 0, 1]], "nao").tolist() == [[1, 2, 3, 1, 2, 3, 1, 2]]


def test_bad_input() -> None:
    space = get_space("nb201")
    with pytest.raises(InvalidArchitectureError):
        encode(space, [[0, 0, 0, 0, 0, 9]], "onehot")
    with pytest.raises(UnknownNameError, match="unknown encoding"):
        get_encoding("adjacency")


@pytest.mark.parametrize("space_name", CELL_SPACES)
def test_relaxed_encodings_equal_numpy_at_one_hot_corners(space_name: str) -> None:
    space = get_space(space_name)
    archs = space.enumerate()
    w = hard_weights(space, archs)
    assert np.array_equal(relaxed_onehot(space, w).numpy(), encode(space, archs, "onehot"))
    assert np.array_equal(relaxed_path(space, w).numpy(), encode(space, archs, "path"))
    assert np.array_equal(relaxed_graph(space, w).numpy(), encode(space, archs, "graph"))
    assert np.array_equal(relaxed_graph(space, w, True).numpy(), encode(space, archs, "graph_bonas"))


def test_relaxed_path_gradients_match_finite_differences() -> None:
    space = get_space("nb201")
    gen = torch.Generator().manual_seed(0)
    w = torch.softmax(torch.randn(2, 6, 5, generator=gen, dtype=torch.float64), dim=2).requires_grad_(True)
    proj = torch.randn(155, generator=gen, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: relaxed_path(space, x) @ proj, (w,))
    with pytest.raises(ValueError, match=r"shape \(n, 6, 5\)"):
        relaxed_onehot(space, torch.zeros(2, 6, 4))


# ------------------------------------------------------- the study's predictor groups (dissertation)
def test_the_papers_predictor_lists_follow_the_registry() -> None:
    """The lists ``nasbench_tools.dissertation`` keeps agree with what the predictors declare."""
    from nasbench_tools.dissertation import CONNECTIVITY_PREDICTORS, PAPER_PREDICTORS, PAPER_TUNED
    from predictors import available, get_class

    assert len(PAPER_PREDICTORS) == 18 and list(PAPER_PREDICTORS) == [p for p in available() if p in PAPER_PREDICTORS]
    encodings = {p: get_encoding(get_class(p).encoding) for p in PAPER_PREDICTORS}
    assert set(CONNECTIVITY_PREDICTORS) == {p for p, e in encodings.items() if e.connectivity}
    assert all(encodings[p].applies(get_space("transnas-macro")) for p in PAPER_PREDICTORS
               if p not in CONNECTIVITY_PREDICTORS)  # Figure 5.3b's 14 run on the sequential space
    assert set(PAPER_TUNED) <= set(PAPER_PREDICTORS) and all(get_class(p).tuning_space for p in PAPER_TUNED)
