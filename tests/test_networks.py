"""Networks of nasbench_tools.networks: exact sizes, weight sets, single path, extraction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench_tools.errors import InvalidArchitectureError
from nasbench_tools.networks import (
    DependencyError, MacroNetwork, NB201Network, build_standalone, build_supernet, parse_dependencies,
)
from nasbench_tools.spaces import get_space


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_table_b2_and_b3_parameter_counts():
    assert n_params(build_supernet("nb201")) == 782_938
    assert n_params(build_supernet("nb201", skip_linear=False)) == 718_426
    assert n_params(build_supernet("nbmacro")) == 4_221_386


@pytest.mark.parametrize("space, before, after", [
    ("nb201", (12, 6), (76, 38)),
    ("nb201-nozero", (12, 6), (54, 27)),
    ("nb201-onlyconv", (12, 0), (22, 0)),
    ("nbmacro", (16, 3), (44, 7)),
])
def test_weight_set_counts_before_and_after_split(space, before, after):
    net = build_supernet(space)
    assert tuple(net.weight_set_counts().values()) == before
    net.split()
    assert tuple(net.weight_set_counts().values()) == after
    with pytest.raises(RuntimeError, match="already split"):
        net.split()


def test_split_grows_parameters_by_the_copied_sets():
    net = build_supernet("nb201-onlyconv")
    base = n_params(net)
    net.split()
    # onlyconv: per normal cell, edges 2 and 4 gain 1 extra set, edge 5 gains 3 extra sets of each conv
    per_c = {16: 16 * 16 + 16 * 16 * 9, 32: 32 * 32 + 32 * 32 * 9, 64: 64 * 64 + 64 * 64 * 9}
    extra = sum(2 * (1 + 1 + 3) * w for w in per_c.values())
    assert n_params(net) == base + extra


def _randomise(net: torch.nn.Module, seed: int) -> None:
    """Distinct weights and BN statistics in every weight set, so a wrong set would show."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)


@pytest.mark.parametrize("space", ["nb201", "nb201-nozero", "nbmacro"])
@pytest.mark.parametrize("split", [False, True])
def test_extracted_network_matches_supernet(space, split):
    net = build_supernet(space)
    if split:
        net.split()
    _randomise(net, 1)
    net.eval()
    archs = get_space(space).enumerate()
    rng = np.random.default_rng(0)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    for row in archs[rng.choice(len(archs), 4, replace=False)]:
        net.set_arch(row)
        alone = net.extract(row).eval()
        assert n_params(alone) < n_params(net)
        with torch.no_grad():
            torch.testing.assert_close(alone(x), net(x), rtol=0, atol=0)


def test_different_prior_choice_selects_different_weights_after_split():
    net = build_supernet("nb201")
    net.split()
    _randomise(net, 3)
    net.eval()
    x = torch.randn(2, 3, 32, 32)
    a, b = [2, 3, 3, 3, 3, 3], [3, 3, 3, 3, 3, 3]  # only edge 0 differs; edges 2 and 4 depend on it
    net.set_arch(a)
    ya = net(x)
    # same ops but with edge 0's choice applied only to the dependency: outputs must differ from b
    net.set_arch(b)
    yb = net(x)
    assert not torch.allclose(ya, yb)
    assert net.active_sets(a) == [0, 0, 2, 0, 2, 3 * 5 + 3]
    assert net.active_sets(b) == [0, 0, 3, 0, 3, 3 * 5 + 3]


def test_only_the_sampled_path_runs():
    net = build_supernet("nb201")
    calls: list[str] = []
    for name, m in net.named_modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_hook(lambda mod, i, o, name=name: calls.append(name))
    # edges: 0->1 conv1x1, 0->2 none, 1->2 none, 0->3 skip, 1->3 conv3x3, 2->3 conv3x3 (node 2 dead)
    net.set_arch([2, 0, 0, 1, 3, 3])
    net(torch.randn(1, 3, 32, 32))
    cell_convs = {c.split(".ops.")[1].split(".")[0] for c in calls if ".ops." in c}
    assert cell_convs == {"0_2", "3_1", "4_3"}  # 2->3 is skipped: node 2 only ever holds zeros
    per_cell = [c for c in calls if c.startswith("cells.0.")]
    assert len(per_cell) == 3


def test_all_none_cell_gives_zeros_and_stays_trainable():
    net = build_supernet("nb201")
    net.set_arch([0] * 6)
    out = net(torch.randn(2, 3, 32, 32))
    out.sum().backward()
    assert net.classifier.weight.grad is not None


def test_standalone_evaluation_network_shapes():
    row = [3, 3, 3, 3, 3, 3]
    alone = build_standalone("nb201", row, cells_per_stage=5, affine=True, skip_linear=False, num_classes=100)
    assert alone(torch.randn(2, 3, 32, 32)).shape == (2, 100)
    assert isinstance(alone, NB201Network) and alone.arch == tuple(row)
    macro = build_standalone("nbmacro", [1, 2, 0, 0, 1, 2, 1, 0])
    assert isinstance(macro, MacroNetwork)
    assert macro(torch.randn(1, 3, 32, 32)).shape == (1, 10)
    with pytest.raises(InvalidArchitectureError, match="slot 0"):
        macro.set_arch([2, 2, 0, 0, 1, 2, 1, 0])


def test_bad_architectures_and_dependencies():
    net = build_supernet("nb201-onlyconv")
    with pytest.raises(InvalidArchitectureError, match="slot 1 has op 0"):
        net.set_arch([2, 0, 2, 2, 2, 2])
    with pytest.raises(InvalidArchitectureError, match="expected 6 op codes"):
        net.set_arch([2, 2])
    with pytest.raises(RuntimeError, match="set_arch"):
        build_supernet("nbmacro")(torch.randn(1, 3, 32, 32))
    assert parse_dependencies("2:0;5:1,2", 6) == ((), (), (0,), (), (), (1, 2))
    assert parse_dependencies("none", 6) == ((),) * 6
    with pytest.raises(DependencyError, match="earlier slots"):
        build_supernet("nb201", dependencies=((1,), (), (), (), (), ()))
    with pytest.raises(DependencyError, match="slot:dep"):
        parse_dependencies("5-1", 6)


def test_custom_dependencies_change_weight_set_counts():
    net = build_supernet("nbmacro", dependencies=((),) * 7 + ((6,),))
    net.split()
    assert net.weight_set_counts()["weight_sets"] == 14 + 2 * 3
