"""What the toolkit can do with a search space beyond enumerating it, declared in one place.

Every space carries one :class:`SpaceCapabilities` (set where the space is defined, see
``cells.py`` and ``macro.py``): its torch networks, its evaluation-network family, super-network
training, isolated-op latency tables, the string style of measured tables and the benchmarks
whose tables are of this space. Torch objects are lazy :class:`Ref` s (``"module:attr"``) into
:mod:`nasbench_tools.networks`; what the application layer implements (latency decompositions,
super-network training) is declared as plain data that those modules read.
A space without a capability (the default for a new space) gets a one-line error from
:func:`nasbench_tools.spaces.capability` naming the space, the capability and the spaces
that have it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, fields
from typing import Any, Mapping

from ..errors import UnknownNameError


@dataclass(frozen=True)
class Ref:
    """A lazy reference ``"module:attr"`` to an object imported only when it is used."""

    path: str

    def __post_init__(self) -> None:
        module, _, attr = self.path.partition(":")
        if not module or not attr:
            raise ValueError(f"a reference must have the form 'module:attr', got {self.path!r}")

    def load(self) -> Any:
        module, _, attr = self.path.partition(":")
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj


@dataclass(frozen=True)
class SupernetSupport:
    """Super-network training of a space family (``nasbench-study supernet train --space``).

    ``epochs``: the default schedule (Table B.4); ``subsets``: ``--subset`` name -> registry name
    of the space trained; ``network_options``: :class:`~nasbench_tools.supernet.config.TrainConfig`
    fields passed on to the network class.
    """

    epochs: int
    subsets: Mapping[str, str]
    network_options: tuple[str, ...] = ()


@dataclass(frozen=True)
class SpaceCapabilities:
    """One space's declaration of what it supports (``None``/empty: not supported).

    network: ``Ref`` to the :class:`~nasbench_tools.networks.base.SlotNetwork` class built as
        super-network (every allowed op per slot) and as stand-alone network.
    dependencies: ``Ref`` to the super-network's default conditional-weight dependencies (§4).
    evaluation: ``Ref`` to the :class:`~nasbench_tools.networks.evaluation.NetworkFamily` of the
        benchmark's stand-alone evaluation networks (latency tables, parameter counts).
    supernet: super-network training support (only on the family's full space).
    ground_truth: dataset ID of the benchmark accuracy a trained super-network is compared with.
    isolated_latency: name of the isolated-op decomposition of the evaluation network (a key of
        ``nasbench_tools.latency.isolated.DECOMPOSITIONS``: the latency layer implements them, and
        core modules name no application module, not even by a string).
    table_style: architecture string format written in measured tables (None: the default).
    benchmarks: benchmark names (dataset-ID prefixes) whose tables are of this space.
    """

    network: Ref | None = None
    dependencies: Ref | None = None
    evaluation: Ref | None = None
    supernet: SupernetSupport | None = None
    ground_truth: str | None = None
    isolated_latency: str | None = None
    table_style: str | None = None
    benchmarks: tuple[str, ...] = ()

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def has(self, name: str) -> bool:
        """Whether the capability ``name`` is declared (a non-empty value)."""
        return bool(getattr(self, check_name(name)))

    def get(self, name: str) -> Any:
        """The declared value of ``name``, a :class:`Ref` loaded; None when not declared."""
        value = getattr(self, check_name(name))
        return value.load() if isinstance(value, Ref) else value


def check_name(name: str) -> str:
    """``name`` if it is a capability field; else a one-line error listing them."""
    if name not in SpaceCapabilities.names():
        raise UnknownNameError(f"unknown space capability {name!r}; known: {', '.join(SpaceCapabilities.names())}")
    return name


#: A space that declares nothing: encodings, predictors, studies and simulations still work.
NO_CAPABILITIES = SpaceCapabilities()

__all__ = ["NO_CAPABILITIES", "Ref", "SpaceCapabilities", "SupernetSupport", "check_name"]
