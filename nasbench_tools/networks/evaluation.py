"""Stand-alone evaluation networks of every architecture of the supported search spaces.

One entry point, :func:`evaluation_network`, builds the network a benchmark trained or timed
for an architecture: the NAS-Bench-201 evaluation network (5 cells per stage, C = 16, affine
BN, no skip transformers; CIFAR-10/100 and ImageNet16-120 class counts and input sizes), the
NAS-Bench-Macro network, and the TransNAS-Bench-101 micro/macro encoders (base width 64).
:func:`check_input_size` says up front whether a network can take an input resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Mapping, Sequence

import numpy as np
from torch import nn

from ..errors import InputSizeError, UnknownNameError
from ..spaces import capability, get_space, spaces_with
from .macro import MacroNetwork
from .nb201 import NB201Network
from .transnas import TRANSNAS_INPUT_SIZE, TRANSNAS_MICRO_SKELETON, TransNASEncoder

#: NAS-Bench-201 evaluation network: normal cells per stage.
NB201_EVAL_CELLS = 5
#: NB201 image datasets: (classes, input resolution).
NB201_DATASETS = {"cifar10": (10, 32), "cifar100": (100, 32), "ImageNet16-120": (120, 16)}
#: Each NB201 reduction halves the resolution with a 2x2 average pool next to a strided conv; the
#: two branches only agree on even sizes, so the input must be a multiple of 2 ** reductions.
NB201_SIZE_MULTIPLE = 4
NBMACRO_CLASSES, NBMACRO_INPUT = 10, 32


@dataclass(frozen=True)
class NetworkFamily:
    """How to build the evaluation networks of a space (declared by the space's capabilities).

    ``datasets``: image dataset -> (classes, input resolution) of the heads (empty: one network
    without a dataset-specific head, input ``default_input``); ``build(row, dataset)`` builds
    the network of op codes ``row``; ``size_multiple``/``size_rule``: inputs must be a multiple
    of it and why. ``space`` is filled in by :func:`family` for messages.
    """

    datasets: Mapping[str, tuple[int, int]]
    default_dataset: str | None
    default_input: tuple[int, int]
    build: Callable[[list[int], str | None], nn.Module]
    size_multiple: int = 1
    size_rule: str = ""
    space: str = ""

    def input_size(self, dataset: str | None) -> tuple[int, int]:
        dataset = self.resolve(dataset)
        if dataset is None:
            return self.default_input
        s = self.datasets[dataset][1]
        return s, s

    def resolve(self, dataset: str | None) -> str | None:
        if dataset is None:
            return self.default_dataset
        if dataset not in self.datasets:
            known = ", ".join(self.datasets) or "none (the network has no dataset-specific head)"
            raise UnknownNameError(f"space {self.space}: unknown dataset {dataset!r}; known: {known}")
        return dataset


def _nb201(row: list[int], dataset: str | None) -> nn.Module:
    return NB201Network([(o,) for o in row], [()] * len(row), cells_per_stage=NB201_EVAL_CELLS,
                        num_classes=NB201_DATASETS[dataset][0], affine=True, skip_linear=False, arch=row)


NB201_FAMILY = NetworkFamily(
    NB201_DATASETS, "cifar10", (32, 32), _nb201, NB201_SIZE_MULTIPLE,
    "NAS-Bench-201 networks need height and width divisible by {m} (two reductions whose pooled and strided "
    "branches must agree)",
)
NBMACRO_FAMILY = NetworkFamily(
    {"cifar10": (NBMACRO_CLASSES, NBMACRO_INPUT)}, "cifar10", (NBMACRO_INPUT, NBMACRO_INPUT),
    lambda row, _: MacroNetwork([(o,) for o in row], [()] * len(row), num_classes=NBMACRO_CLASSES, arch=row),
)
TRANSNAS_MICRO_FAMILY = NetworkFamily({}, None, TRANSNAS_INPUT_SIZE,
                                      lambda row, _: TransNASEncoder(TRANSNAS_MICRO_SKELETON, row))
TRANSNAS_MACRO_FAMILY = NetworkFamily({}, None, TRANSNAS_INPUT_SIZE, lambda row, _: TransNASEncoder(row, "basic"))
#: Built-in spaces with evaluation networks.
EVALUATION_SPACES = spaces_with("evaluation")


def family(space: str) -> NetworkFamily:
    """The evaluation-network family ``space`` declares (one-line error if it has none)."""
    return replace(capability(space, "evaluation", "evaluation networks"), space=space)


def check_input_size(space: str, size: Sequence[int]) -> tuple[int, int]:
    """``(height, width)`` if the networks of ``space`` can take it; else :class:`InputSizeError`."""
    fam = family(space)
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        raise InputSizeError(f"input size must be two integers (height, width), got {size!r}") from None
    if h < 1 or w < 1:
        raise InputSizeError(f"input size {h}x{w}: height and width must be positive")
    m = fam.size_multiple
    if h % m or w % m:
        raise InputSizeError(f"input size {h}x{w}: {fam.size_rule.format(m=m)}, e.g. {max(m, h - h % m)}")
    return h, w


def evaluation_network(space: str, ops: Sequence[int] | np.ndarray, *, dataset: str | None = None) -> nn.Module:
    """The stand-alone evaluation network of architecture ``ops`` (op codes) of ``space``.

    ``dataset`` picks the head (NB201: classes); the input resolution is free (see
    :func:`check_input_size`; defaults in :meth:`NetworkFamily.input_size`).
    """
    fam = family(space)
    dataset = fam.resolve(dataset)
    row = [int(v) for v in get_space(space).validate(np.asarray(ops).reshape(1, -1))[0]]
    return fam.build(row, dataset)


def parameter_count(module: nn.Module) -> int:
    """Number of parameters (the benchmarks' ``params``: BN statistics are buffers, not counted)."""
    return int(sum(p.numel() for p in module.parameters()))
