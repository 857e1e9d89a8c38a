"""Search spaces by name: canonical representation, string formats, enumeration, neighbours."""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

from ..errors import UnknownNameError
from .base import OPS_DTYPE, ArchFormat, LutBaseline, SearchSpace
from .cells import NB201_OPS, CellSpace, nb201, transnas_micro
from .macro import NBMacroSpace, TransNASMacroSpace, nbmacro, transnas_macro

_FACTORIES: dict[str, Callable[[], SearchSpace]] = {
    "nb201": lambda: nb201("full"),
    "nb201-nozero": lambda: nb201("nozero"),
    "nb201-onlyconv": lambda: nb201("onlyconv"),
    "transnas-micro": transnas_micro,
    "transnas-macro": transnas_macro,
    "nbmacro": nbmacro,
}


def available_spaces() -> tuple[str, ...]:
    return tuple(_FACTORIES)


@lru_cache(maxsize=None)
def get_space(name: str) -> SearchSpace:
    """The (shared, immutable) search space called ``name``."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise UnknownNameError(f"unknown search space {name!r}; known: {', '.join(_FACTORIES)}") from None
    return factory()


__all__ = [
    "OPS_DTYPE", "ArchFormat", "LutBaseline", "SearchSpace", "CellSpace", "NBMacroSpace",
    "TransNASMacroSpace", "NB201_OPS", "available_spaces", "get_space",
]
