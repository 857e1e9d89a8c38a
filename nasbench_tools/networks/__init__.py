"""Torch networks of the NB201 and NAS-Bench-Macro spaces: super-networks with conditional
(split) weights and stand-alone networks built from the same modules."""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import require

require("torch", "nasbench_tools.networks (torch networks)")

from ..spaces import SearchSpace, capability, get_space, spaces_with
from .base import SlotNetwork, bn_buffers
from .conditional import (
    MACRO_DEPENDENCIES, NB201_DEPENDENCIES, ConditionalOp, Dependencies, DependencyError, parse_dependencies,
)
from .evaluation import EVALUATION_SPACES, InputSizeError, check_input_size, evaluation_network, parameter_count
from .macro import MacroNetwork
from .nb201 import NB201Cell, NB201Network
from .transnas import TransNASEncoder

#: Built-in spaces with networks here (each declares its class and default dependencies, protocol
#: §4, in its :class:`~nasbench_tools.spaces.SpaceCapabilities`).
NETWORK_SPACES = spaces_with("network")


def build_supernet(space: str | SearchSpace, dependencies: Sequence[Sequence[int]] | None = None, **kwargs: Any) -> SlotNetwork:
    """The super-network of ``space`` (all of its allowed ops per slot); ``kwargs`` go to the class."""
    space_obj = get_space(space) if isinstance(space, str) else space
    cls = capability(space_obj, "network", "super-network")
    default_deps = capability(space_obj, "dependencies", "default super-network dependencies")
    return cls(space_obj.allowed_ops, default_deps if dependencies is None else dependencies, **kwargs)


def build_standalone(space: str | SearchSpace, ops: Sequence[int], **kwargs: Any) -> SlotNetwork:
    """A stand-alone network of architecture ``ops`` (validated against ``space``)."""
    space_obj = get_space(space) if isinstance(space, str) else space
    cls = capability(space_obj, "network", "networks")
    row = [int(v) for v in space_obj.validate(ops)[0]]
    return cls([(o,) for o in row], [()] * len(row), arch=row, **kwargs)


__all__ = [
    "SlotNetwork", "NB201Network", "NB201Cell", "MacroNetwork", "ConditionalOp", "Dependencies", "DependencyError",
    "NB201_DEPENDENCIES", "MACRO_DEPENDENCIES", "NETWORK_SPACES", "build_supernet", "build_standalone",
    "parse_dependencies", "bn_buffers", "EVALUATION_SPACES", "InputSizeError", "TransNASEncoder",
    "check_input_size", "evaluation_network", "parameter_count",
]
