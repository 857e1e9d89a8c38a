"""Fit and predict directly on architectures of a search space: the encoding is applied for you.

Architectures may be op-code rows ``(n, n_slots)`` or strings in any format of the space
(``space.parse``); each predictor's declared ``encoding`` is computed with
``nasbench_tools.encodings.encode``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from nasbench_tools.encodings import encode
from nasbench_tools.spaces import SearchSpace, get_space

from .base import Predictor
from .registry import make


def as_space(space: SearchSpace | str) -> SearchSpace:
    return get_space(space) if isinstance(space, str) else space


def architectures(space: SearchSpace | str, archs: Any, style: str | None = None) -> np.ndarray:
    """Canonical op-code rows of ``archs`` (op-code rows, or strings parsed with ``style``)."""
    space = as_space(space)
    if isinstance(archs, str):
        archs = [archs]
    if isinstance(archs, (list, tuple)) and archs and isinstance(archs[0], str):
        return space.parse(archs, style)
    if isinstance(archs, np.ndarray) and archs.dtype.kind in "UO":
        return space.parse(list(archs), style)
    return space.validate(archs)


def encode_for(predictor: Predictor, space: SearchSpace | str, archs: Any, style: str | None = None) -> np.ndarray:
    """``archs`` encoded the way ``predictor`` consumes them."""
    space = as_space(space)
    return encode(space, architectures(space, archs, style), predictor.encoding)


class ArchitecturePredictor:
    """A predictor bound to a search space: ``fit(archs, y)`` / ``predict(archs)``.

    ``predictor`` is a predictor instance or a registry name (built with ``params``).  For the
    lookup table the space is passed on as its ``space`` parameter.
    """

    def __init__(self, predictor: Predictor | str, space: SearchSpace | str, style: str | None = None,
                 **params: Any) -> None:
        self.space = as_space(space)
        if isinstance(predictor, str):
            if predictor == "lookup_table":
                params.setdefault("space", self.space.name)
            predictor = make(predictor, **params)
        elif params:
            raise ValueError("params are only used when the predictor is given by name")
        if getattr(predictor, "space", self.space.name) != self.space.name:
            raise ValueError(f"{predictor._label()} was built for space {predictor.space!r}, not {self.space.name!r}")
        self.predictor = predictor
        self.style = style

    def encode(self, archs: Any) -> np.ndarray:
        return encode_for(self.predictor, self.space, archs, self.style)

    def fit(self, archs: Any, y: Sequence[float] | np.ndarray) -> "ArchitecturePredictor":
        self.predictor.fit(self.encode(archs), y)
        return self

    def predict(self, archs: Any, return_std: bool = False):
        return self.predictor.predict(self.encode(archs), return_std=return_std)

    def torch_function(self):  # noqa: ANN201 - see Predictor.torch_function
        return self.predictor.torch_function(self.space)


def fit_architectures(predictor: Predictor | str, space: SearchSpace | str, archs: Any, y: Any,
                      **params: Any) -> ArchitecturePredictor:
    """Build (if named) and fit a predictor on architectures of ``space``."""
    return ArchitecturePredictor(predictor, space, **params).fit(archs, y)
