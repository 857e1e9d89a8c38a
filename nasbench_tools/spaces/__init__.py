"""Search spaces by name: canonical representation, string formats, enumeration, neighbours,
and each space's declared capabilities (:class:`SpaceCapabilities`).

The built-in spaces are always known. A space of your own (a :class:`SearchSpace` or subclass)
becomes known by name inside ``with use_spaces(space): ...``, so that custom tables with a
``space`` column, predictors bound to a space by name (``lookup_table``, ``ArchEncoder``), the
predictor study and the simulator find it; the registration ends with the block (no state is
left behind; process-pool workers started inside the block inherit it, Dask workers do not).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping

from ..errors import UnknownNameError
from .base import OPS_DTYPE, LutBaseline, SearchSpace
from .capabilities import NO_CAPABILITIES, Ref, SpaceCapabilities, SupernetSupport, check_name
from .cells import NB201_OPS, CellSpace, nb201, transnas_micro
from .formats import ArchFormat
from .macro import NBMacroSpace, TransNASMacroSpace, nbmacro, transnas_macro

_FACTORIES: dict[str, Callable[[], SearchSpace]] = {
    "nb201": lambda: nb201("full"),
    "nb201-nozero": lambda: nb201("nozero"),
    "nb201-onlyconv": lambda: nb201("onlyconv"),
    "transnas-micro": transnas_micro,
    "transnas-macro": transnas_macro,
    "nbmacro": nbmacro,
}
#: Spaces made known by :func:`use_spaces` in the current context (immutable; empty outside).
_REGISTERED: ContextVar[Mapping[str, SearchSpace]] = ContextVar("nasbench_spaces", default=MappingProxyType({}))


def available_spaces() -> tuple[str, ...]:
    """Names of the built-in spaces, then of the spaces registered with :func:`use_spaces`."""
    return tuple(_FACTORIES) + tuple(_REGISTERED.get())


@lru_cache(maxsize=None)
def _builtin(name: str) -> SearchSpace:
    return _FACTORIES[name]()


def get_space(name: str) -> SearchSpace:
    """The (shared, immutable) search space called ``name``."""
    if name in _FACTORIES:
        return _builtin(name)
    registered = _REGISTERED.get()
    if isinstance(name, str) and name in registered:
        return registered[name]
    raise UnknownNameError(f"unknown search space {name!r}; known: {', '.join(available_spaces())}")


@contextmanager
def use_spaces(*spaces: SearchSpace) -> Iterator[tuple[SearchSpace, ...]]:
    """Make ``spaces`` known by name for the duration of the ``with`` block.

    A name already known (a built-in space or one registered by an enclosing block) is refused,
    so a registration can never change what an existing name means.
    """
    current = dict(_REGISTERED.get())
    for space in spaces:
        if not isinstance(space, SearchSpace):
            raise TypeError(f"use_spaces() takes SearchSpace objects, got {type(space).__name__}")
        if space.name in _FACTORIES or space.name in current:
            raise UnknownNameError(f"search space name {space.name!r} is taken; choose another name")
        current[space.name] = space
    token = _REGISTERED.set(MappingProxyType(current))
    try:
        yield spaces
    finally:
        _REGISTERED.reset(token)


def _as_space(space: str | SearchSpace) -> SearchSpace:
    return space if isinstance(space, SearchSpace) else get_space(space)


def spaces_with(name: str) -> tuple[str, ...]:
    """Names of the known spaces that declare capability ``name``."""
    check_name(name)
    return tuple(s for s in available_spaces() if get_space(s).capabilities.has(name))


def capability(space: str | SearchSpace, name: str, what: str | None = None) -> Any:
    """The value of capability ``name`` of ``space`` (a :class:`Ref` is imported), or a one-line
    :class:`UnknownNameError` "no <what> for search space <space>; known: <spaces with it>"."""
    obj = _as_space(space)
    if not obj.capabilities.has(name):
        raise UnknownNameError(f"no {what or name} for search space {obj.name!r}; known: {', '.join(spaces_with(name))}")
    return obj.capabilities.get(name)


def benchmark_space(benchmark: str) -> SearchSpace:
    """The space whose capabilities list ``benchmark`` (the tables a benchmark loader produces)."""
    for s in available_spaces():
        if benchmark in get_space(s).capabilities.benchmarks:
            return get_space(s)
    raise UnknownNameError(f"no search space declares the benchmark {benchmark!r}")


__all__ = [
    "NO_CAPABILITIES", "OPS_DTYPE", "ArchFormat", "CellSpace", "LutBaseline", "NBMacroSpace", "NB201_OPS", "Ref",
    "SearchSpace", "SpaceCapabilities", "SupernetSupport", "TransNASMacroSpace", "available_spaces",
    "benchmark_space", "capability", "get_space", "spaces_with", "use_spaces",
]
