"""Architecture encodings by name, vectorised over many architectures.

Every encoding maps canonical op codes ``(n, n_slots)`` to a 2-D array ``(n, width)`` so that
predictors can follow scikit-learn's ``fit(X, y)`` contract; graph encodings are flattened
(see :func:`unflatten_graph`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import UnknownNameError
from ..spaces import SearchSpace
from .graph import GraphLayout, graph_encoding, graph_layout, unflatten_graph
from .tabular import nao_tokens, nao_vocab_size, onehot, ordinal, path_encoding, path_routes, path_width


@dataclass(frozen=True)
class Encoding:
    """An encoding: how to compute it, where it applies and how wide it is.

    ``connectivity``: the encoding describes how a cell's ops connect (paths, graphs, NAO's
    input-node tokens), beyond which op sits in which slot; the study leaves the predictors using
    such encodings out on sequential spaces (Figure 5.3b).
    """

    name: str
    compute: Callable[[SearchSpace, np.ndarray], np.ndarray]
    width: Callable[[SearchSpace], int]
    applies: Callable[[SearchSpace], bool]
    description: str
    connectivity: bool = False

    def __call__(self, space: SearchSpace, ops: np.ndarray) -> np.ndarray:
        if not self.applies(space):
            raise ValueError(f"encoding {self.name!r} does not apply to search space {space.name!r}")
        return self.compute(space, space.validate(ops))


def _always(space: SearchSpace) -> bool:
    return True


def _cells_only(space: SearchSpace) -> bool:
    return space.is_cell


_ENCODINGS: dict[str, Encoding] = {
    e.name: e
    for e in (
        Encoding("onehot", onehot, lambda s: s.n_slots * s.n_ops, _always,
                 "adjacency one-hot: one block of n_ops per slot"),
        Encoding("ordinal", ordinal, lambda s: s.n_slots, _always, "raw op codes per slot"),
        Encoding("path", path_encoding, path_width, _cells_only,
                 "BANANAS path encoding: one-hot over input->output op sequences", True),
        Encoding("graph", lambda s, o: graph_encoding(s, o, False), lambda s: graph_layout(s, False).width,
                 _cells_only, "flattened adjacency + node one-hot over [input, one node per edge, output]", True),
        Encoding("graph_bonas", lambda s, o: graph_encoding(s, o, True), lambda s: graph_layout(s, True).width,
                 _cells_only, "graph encoding plus a global node connected to every node (BONAS)", True),
        Encoding("nao", nao_tokens, lambda s: 2 * s.n_slots if s.is_cell else s.n_slots, _always,
                 "NAO token sequence (input-node and op tokens per edge)", True),
    )
}


def available_encodings() -> tuple[str, ...]:
    return tuple(_ENCODINGS)


def get_encoding(name: str) -> Encoding:
    try:
        return _ENCODINGS[name]
    except KeyError:
        raise UnknownNameError(f"unknown encoding {name!r}; known: {', '.join(_ENCODINGS)}") from None


def encode(space: SearchSpace, ops: np.ndarray, name: str = "onehot") -> np.ndarray:
    """Encode architectures ``ops`` of ``space`` with the encoding called ``name``."""
    return get_encoding(name)(space, ops)


__all__ = [
    "Encoding", "GraphLayout", "available_encodings", "encode", "get_encoding", "graph_layout",
    "nao_vocab_size", "path_routes", "unflatten_graph",
]
