"""Stand-alone evaluation networks: published parameter counts, shapes, cell semantics, input sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench_tools.errors import InvalidArchitectureError, UnknownNameError
from nasbench_tools.networks import MacroNetwork, build_standalone
from nasbench_tools.networks.base import op_key
from nasbench_tools.networks.evaluation import (
    InputSizeError, check_input_size, evaluation_network, family, parameter_count,
)
from nasbench_tools.networks.transnas import MicroCell, TransNASEncoder
from nasbench_tools.spaces import get_space

#: NAS-Bench-201 evaluation networks' parameter counts (the benchmark's ``params`` in millions
#: for the smallest, all-``none``, and largest, all-conv3x3, architecture of each dataset).
NB201_PUBLISHED_PARAMS = {
    "cifar10": (0.073306, 1.531546), "cifar100": (0.079156, 1.537396), "ImageNet16-120": (0.080456, 1.538696),
}


@pytest.mark.parametrize("dataset", sorted(NB201_PUBLISHED_PARAMS))
def test_nb201_evaluation_network_matches_published_parameter_counts(dataset):
    smallest, largest = NB201_PUBLISHED_PARAMS[dataset]
    assert parameter_count(evaluation_network("nb201", [0] * 6, dataset=dataset)) == round(smallest * 1e6)
    assert parameter_count(evaluation_network("nb201", [3] * 6, dataset=dataset)) == round(largest * 1e6)


def test_nb201_parameters_lie_in_the_published_range_and_heads_differ():
    space = get_space("nb201")
    rng = np.random.default_rng(0)
    for row in space.arch(rng.choice(space.size, 10, replace=False)):
        counts = {d: parameter_count(evaluation_network("nb201", row, dataset=d)) for d in NB201_PUBLISHED_PARAMS}
        for d, (lo, hi) in NB201_PUBLISHED_PARAMS.items():
            assert round(lo * 1e6) <= counts[d] <= round(hi * 1e6)
        # only the classifier differs: 64 inputs + 1 bias per extra class
        assert counts["cifar100"] - counts["cifar10"] == 65 * 90


def test_nbmacro_parameter_counts_match_the_benchmark_for_every_architecture(store):
    """Each stand-alone Macro network = stem + chosen layer modules + head; the per-layer counts
    come from the super-network's modules, checked against real stand-alone networks below."""
    ds = store.load("nbmacro/cifar10/params")
    space = ds.space
    supernet = MacroNetwork()
    fixed = sum(parameter_count(m) for m in (supernet.stem, supernet.head, supernet.classifier))
    per_op = np.zeros((space.n_slots, space.n_ops), dtype=np.int64)
    for slot, layer in enumerate(supernet.layers):
        for op in range(space.n_ops):
            per_op[slot, op] = parameter_count(layer.ops[op_key(slot, op)])
    archs = space.enumerate()
    counts = fixed + per_op[np.arange(space.n_slots), archs.astype(np.int64)].sum(axis=1)
    bad = np.flatnonzero(counts != ds.values)
    assert bad.size == 0, f"{bad.size} architectures differ, e.g. {space.format(archs[bad[:3]])}"
    rng = np.random.default_rng(1)
    with torch.device("meta"):
        for i in rng.choice(space.size, 60, replace=False):
            net = evaluation_network("nbmacro", archs[i])
            assert parameter_count(net) == ds.values[i] == counts[i]
            assert parameter_count(build_standalone("nbmacro", archs[i])) == ds.values[i]


@pytest.mark.parametrize("dataset,classes", [("cifar10", 10), ("cifar100", 100), ("ImageNet16-120", 120)])
def test_nb201_forward_on_a_tiny_input(dataset, classes):
    net = evaluation_network("nb201", [1, 3, 0, 2, 4, 3], dataset=dataset).eval()
    with torch.no_grad():
        assert net(torch.randn(2, 3, 8, 8)).shape == (2, classes)
    assert family("nb201").input_size(dataset) == ((16, 16) if dataset == "ImageNet16-120" else (32, 32))


def test_every_space_builds_and_runs_on_a_tiny_input():
    rng = np.random.default_rng(2)
    expected_out = {"nbmacro": (1, 10)}
    for name in ("nbmacro", "transnas-micro", "transnas-macro", "nb201-nozero"):
        space = get_space(name)
        for row in space.arch(rng.choice(space.size, 3, replace=False)):
            net = evaluation_network(name, row).eval()
            with torch.no_grad():
                y = net(torch.randn(1, 3, 16, 16))
            if name in expected_out:
                assert y.shape == expected_out[name]
            elif name.startswith("transnas"):
                widen = 3 if name == "transnas-micro" else int(np.isin(row, (2, 4)).sum())
                assert y.shape[:2] == (1, 64 * 2 ** widen)
            assert torch.isfinite(y).all()


def test_transnas_macro_parameter_count_by_hand():
    """64-1114-basic: stem (3x3 conv to 32 + BN, ReLU-conv3x3-BN to 64), 6 basic blocks of two
    64->64 3x3 convs (affine BN), then a 64->128 stride-2 block with a 1x1 conv + BN shortcut and
    a 128->128 block."""
    conv_bn = lambda c_in, c_out, k: c_in * c_out * k * k + 2 * c_out  # noqa: E731
    stem = 3 * 32 * 9 + 2 * 32 + conv_bn(32, 64, 3)
    plain = 2 * conv_bn(64, 64, 3)
    widen = conv_bn(64, 128, 3) + conv_bn(128, 128, 3) + conv_bn(64, 128, 1) + 2 * conv_bn(128, 128, 3)
    net = evaluation_network("transnas-macro", get_space("transnas-macro").parse(["64-1114-basic"])[0])
    assert parameter_count(net) == stem + 6 * plain + widen


def _reference_cell(cell: MicroCell, x: torch.Tensor) -> torch.Tensor:
    """The benchmark's semantics: every edge runs, ``none`` edges contribute zeros."""
    edges = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
    nodes = [x]
    for dst in (1, 2, 3):
        total = 0
        for slot, (src, d) in enumerate(edges):
            if d == dst and str(slot) in cell.edges:
                total = total + cell.edges[str(slot)](nodes[src])
        if isinstance(total, int):
            h, w = (x.shape[2] + cell.stride - 1) // cell.stride, (x.shape[3] + cell.stride - 1) // cell.stride
            total = x.new_zeros((x.shape[0], cell.c_out, h, w))
        nodes.append(total)
    return nodes[-1]


@pytest.mark.parametrize("row", [(0, 3, 3, 0, 2, 0), (3, 0, 0, 0, 2, 1), (0, 0, 0, 0, 0, 0), (1, 2, 3, 1, 2, 3)])
@pytest.mark.parametrize("stride,c_out", [(1, 8), (2, 16)])
def test_micro_cell_skips_only_edges_that_cannot_matter(row, stride, c_out):
    torch.manual_seed(0)
    cell = MicroCell(row, 8, c_out, stride).eval()
    x = torch.randn(1, 8, 7, 7)
    with torch.no_grad():
        torch.testing.assert_close(cell(x), _reference_cell(cell, x))


def test_input_sizes_and_names_are_checked():
    assert check_input_size("nb201", (32, 32)) == (32, 32)
    with pytest.raises(InputSizeError, match="divisible by 4"):
        check_input_size("nb201", (30, 32))
    with pytest.raises(InputSizeError, match="positive"):
        check_input_size("transnas-micro", (0, 5))
    with pytest.raises(UnknownNameError, match="nb201"):
        evaluation_network("nb301", [0] * 6)
    with pytest.raises(UnknownNameError, match="cifar100"):
        evaluation_network("nb201", [0] * 6, dataset="imagenet")
    with pytest.raises(InvalidArchitectureError):
        evaluation_network("transnas-macro", [1, 1, 1, 1, 0, 3])


def test_encoder_is_configurable():
    enc = TransNASEncoder((4, 1, 3, 1), "basic", base_channels=16).eval()
    with torch.no_grad():
        assert enc(torch.randn(1, 3, 32, 48)).shape == (1, 32, 2, 3)
