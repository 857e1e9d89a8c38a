"""Torch networks of the NB201 and NAS-Bench-Macro spaces: super-networks with conditional
(split) weights and stand-alone networks built from the same modules."""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import UnknownNameError, require

require("torch", "nasbench_tools.networks (torch networks)")

from ..spaces import SearchSpace, get_space
from .base import SlotNetwork, bn_buffers
from .conditional import (
    MACRO_DEPENDENCIES, NB201_DEPENDENCIES, ConditionalOp, Dependencies, DependencyError, parse_dependencies,
)
from .evaluation import EVALUATION_SPACES, InputSizeError, check_input_size, evaluation_network, parameter_count
from .macro import MacroNetwork
from .nb201 import NB201Cell, NB201Network
from .transnas import TransNASEncoder

#: Search spaces that have networks here, and their default dependencies (protocol §4).
NETWORK_SPACES = {
    "nb201": (NB201Network, NB201_DEPENDENCIES),
    "nb201-nozero": (NB201Network, NB201_DEPENDENCIES),
    "nb201-onlyconv": (NB201Network, NB201_DEPENDENCIES),
    "nbmacro": (MacroNetwork, MACRO_DEPENDENCIES),
}


def build_supernet(space: str | SearchSpace, dependencies: Sequence[Sequence[int]] | None = None, **kwargs: Any) -> SlotNetwork:
    """The super-network of ``space`` (all of its allowed ops per slot); ``kwargs`` go to the class."""
    name = space if isinstance(space, str) else space.name
    if name not in NETWORK_SPACES:
        raise UnknownNameError(f"no super-network for search space {name!r}; known: {', '.join(NETWORK_SPACES)}")
    space_obj = get_space(name)
    cls, default_deps = NETWORK_SPACES[name]
    return cls(space_obj.allowed_ops, default_deps if dependencies is None else dependencies, **kwargs)


def build_standalone(space: str | SearchSpace, ops: Sequence[int], **kwargs: Any) -> SlotNetwork:
    """A stand-alone network of architecture ``ops`` (validated against ``space``)."""
    name = space if isinstance(space, str) else space.name
    if name not in NETWORK_SPACES:
        raise UnknownNameError(f"no networks for search space {name!r}; known: {', '.join(NETWORK_SPACES)}")
    row = [int(v) for v in get_space(name).validate(ops)[0]]
    cls, _ = NETWORK_SPACES[name]
    return cls([(o,) for o in row], [()] * len(row), arch=row, **kwargs)


__all__ = [
    "SlotNetwork", "NB201Network", "NB201Cell", "MacroNetwork", "ConditionalOp", "Dependencies", "DependencyError",
    "NB201_DEPENDENCIES", "MACRO_DEPENDENCIES", "NETWORK_SPACES", "build_supernet", "build_standalone",
    "parse_dependencies", "bn_buffers", "EVALUATION_SPACES", "InputSizeError", "TransNASEncoder",
    "check_input_size", "evaluation_network", "parameter_count",
]
