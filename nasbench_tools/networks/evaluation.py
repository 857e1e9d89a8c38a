"""Stand-alone evaluation networks of every architecture of the supported search spaces.

One entry point, :func:`evaluation_network`, builds the network a benchmark trained or timed
for an architecture: the NAS-Bench-201 evaluation network (5 cells per stage, C = 16, affine
BN, no skip transformers; CIFAR-10/100 and ImageNet16-120 class counts and input sizes), the
NAS-Bench-Macro network, and the TransNAS-Bench-101 micro/macro encoders (base width 64).
:func:`check_input_size` says up front whether a network can take an input resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from torch import nn

from ..errors import InvalidArchitectureError, NasbenchError, UnknownNameError
from ..spaces import get_space
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


class InputSizeError(NasbenchError, ValueError):
    """A network cannot take the requested input resolution."""


@dataclass(frozen=True)
class NetworkFamily:
    """How to build the networks of one space: its image datasets and default input size."""

    space: str
    datasets: tuple[str, ...]
    default_dataset: str | None

    def input_size(self, dataset: str | None) -> tuple[int, int]:
        dataset = self.resolve(dataset)
        if self.space.startswith("nb201"):
            s = NB201_DATASETS[dataset][1]
            return s, s
        if self.space == "nbmacro":
            return NBMACRO_INPUT, NBMACRO_INPUT
        return TRANSNAS_INPUT_SIZE

    def resolve(self, dataset: str | None) -> str | None:
        if dataset is None:
            return self.default_dataset
        if dataset not in self.datasets:
            known = ", ".join(self.datasets) or "none (the network has no dataset-specific head)"
            raise UnknownNameError(f"space {self.space}: unknown dataset {dataset!r}; known: {known}")
        return dataset


FAMILIES = {
    "nb201": NetworkFamily("nb201", tuple(NB201_DATASETS), "cifar10"),
    "nb201-nozero": NetworkFamily("nb201-nozero", tuple(NB201_DATASETS), "cifar10"),
    "nb201-onlyconv": NetworkFamily("nb201-onlyconv", tuple(NB201_DATASETS), "cifar10"),
    "nbmacro": NetworkFamily("nbmacro", ("cifar10",), "cifar10"),
    "transnas-micro": NetworkFamily("transnas-micro", (), None),
    "transnas-macro": NetworkFamily("transnas-macro", (), None),
}
#: Spaces with evaluation networks.
EVALUATION_SPACES = tuple(FAMILIES)


def family(space: str) -> NetworkFamily:
    try:
        return FAMILIES[space]
    except KeyError:
        raise UnknownNameError(
            f"no evaluation networks for search space {space!r}; known: {', '.join(FAMILIES)}"
        ) from None


def check_input_size(space: str, size: Sequence[int]) -> tuple[int, int]:
    """``(height, width)`` if the networks of ``space`` can take it; else :class:`InputSizeError`."""
    fam = family(space)
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        raise InputSizeError(f"input size must be two integers (height, width), got {size!r}") from None
    if h < 1 or w < 1:
        raise InputSizeError(f"input size {h}x{w}: height and width must be positive")
    if fam.space.startswith("nb201") and (h % NB201_SIZE_MULTIPLE or w % NB201_SIZE_MULTIPLE):
        raise InputSizeError(
            f"input size {h}x{w}: NAS-Bench-201 networks need height and width divisible by "
            f"{NB201_SIZE_MULTIPLE} (two reductions whose pooled and strided branches must agree), "
            f"e.g. {max(NB201_SIZE_MULTIPLE, h - h % NB201_SIZE_MULTIPLE)}"
        )
    return h, w


def evaluation_network(space: str, ops: Sequence[int] | np.ndarray, *, dataset: str | None = None) -> nn.Module:
    """The stand-alone evaluation network of architecture ``ops`` (op codes) of ``space``.

    ``dataset`` picks the NB201 head (classes); the input resolution is free (see
    :func:`check_input_size`; defaults in :meth:`NetworkFamily.input_size`).
    """
    fam = family(space)
    dataset = fam.resolve(dataset)
    space_obj = get_space(space)
    row = [int(v) for v in space_obj.validate(np.asarray(ops).reshape(1, -1))[0]]
    if fam.space.startswith("nb201"):
        classes = NB201_DATASETS[dataset][0]
        return NB201Network([(o,) for o in row], [()] * len(row), cells_per_stage=NB201_EVAL_CELLS,
                            num_classes=classes, affine=True, skip_linear=False, arch=row)
    if fam.space == "nbmacro":
        return MacroNetwork([(o,) for o in row], [()] * len(row), num_classes=NBMACRO_CLASSES, arch=row)
    if fam.space == "transnas-micro":
        return TransNASEncoder(TRANSNAS_MICRO_SKELETON, row)
    if fam.space == "transnas-macro":
        return TransNASEncoder(row, "basic")
    raise InvalidArchitectureError(f"no network builder for {space}")  # pragma: no cover - FAMILIES is exhaustive


def parameter_count(module: nn.Module) -> int:
    """Number of parameters (the benchmarks' ``params``: BN statistics are buffers, not counted)."""
    return int(sum(p.numel() for p in module.parameters()))
