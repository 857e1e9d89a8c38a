"""Predictors on architecture strings as scikit-learn pipelines.

:class:`ArchEncoder` is a stateless scikit-learn transformer from architectures (strings in any
format of a search space, or op-code rows) to an encoding, so that

    make_pipeline(ArchEncoder("nb201", "graph"), predictors.make("gcn"))

fits and predicts on architecture strings and works with ``clone``, ``cross_val_score`` and
``RandomizedSearchCV`` (parameters ``archencoder__...`` / ``gcn__...``).  :func:`arch_pipeline`
builds such a pipeline with the predictor's own encoding (:class:`ArchPipeline`, a ``Pipeline``
that also exposes ``predictor``, ``space`` and ``torch_function()``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from nasbench_tools.encodings import encode, get_encoding
from nasbench_tools.errors import InputDataError, NasbenchError, ParameterError
from nasbench_tools.spaces import SearchSpace, get_space

from .base import Predictor
from .registry import make

if TYPE_CHECKING:
    import torch

#: Pipeline step names of :func:`arch_pipeline`.
ENCODER_STEP, PREDICTOR_STEP = "encode", "predictor"


def as_space(space: SearchSpace | str) -> SearchSpace:
    """A search space from its name (or the space itself)."""
    return get_space(space) if isinstance(space, str) else space


def architectures(space: SearchSpace | str, archs: Any, style: str | None = None) -> np.ndarray:
    """Canonical op-code rows ``(n, n_slots)`` of ``archs``: strings (a list, a 1-D array or an
    ``(n, 1)`` array, parsed with ``style``; ``None`` detects the format) or op-code rows."""
    space = as_space(space)
    if isinstance(archs, str):
        archs = [archs]
    if isinstance(archs, (list, tuple)) and archs and isinstance(archs[0], str):
        return space.parse(list(archs), style)
    if hasattr(archs, "iloc") or hasattr(archs, "to_numpy"):  # pandas Series / DataFrame
        archs = archs.to_numpy()
    arr = np.asarray(archs) if not isinstance(archs, np.ndarray) else archs
    if arr.dtype.kind in "UO":
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise InputDataError(f"{space.name}: architecture strings must be a 1-D array or an (n, 1) column, "
                                 f"got shape {arr.shape}")
        return space.parse([str(a) for a in arr], style)
    return space.validate(arr)


def encode_for(predictor: Predictor, space: SearchSpace | str, archs: Any, style: str | None = None) -> np.ndarray:
    """``archs`` encoded the way ``predictor`` consumes them."""
    space = as_space(space)
    return encode(space, architectures(space, archs, style), predictor.encoding)


class ArchEncoder(TransformerMixin, BaseEstimator):
    """Architectures of ``space`` -> their ``encoding`` (stateless scikit-learn transformer).

    Input: architecture strings in any format of the space (a list, a 1-D array or an ``(n, 1)``
    array; ``style`` names the format, ``None`` detects it) or op-code rows ``(n, n_slots)``.
    Output: ``nasbench_tools.encodings.encode(space, ops, encoding)``, float64.
    """

    def __init__(self, space: str = "nb201", encoding: str = "onehot", style: str | None = None) -> None:
        self.space = space
        self.encoding = encoding
        self.style = style

    def _space(self) -> SearchSpace:
        if isinstance(self.space, SearchSpace):
            return self.space
        try:
            return get_space(self.space)
        except (NasbenchError, TypeError) as exc:
            raise ParameterError(f"ArchEncoder: parameter space={self.space!r} is out of range: {exc}") from None

    def _check(self) -> SearchSpace:
        space = self._space()
        try:
            enc = get_encoding(self.encoding)
        except (NasbenchError, TypeError) as exc:
            raise ParameterError(f"ArchEncoder: parameter encoding={self.encoding!r} is out of range: {exc}") from None
        if not enc.applies(space):
            raise ParameterError(f"ArchEncoder: encoding {self.encoding!r} does not apply to search space {space.name!r}")
        if self.style is not None and self.style not in space.formats:
            raise ParameterError(f"ArchEncoder: parameter style={self.style!r} is out of range; expected None or "
                                 f"one of {', '.join(space.formats)}")
        return space

    def fit(self, X: Any = None, y: Any = None) -> "ArchEncoder":
        """Checks the parameters (nothing is learnt)."""
        space = self._check()
        self.n_features_out_ = int(get_encoding(self.encoding).width(space))
        return self

    def transform(self, X: Any) -> np.ndarray:
        space = self._check()
        return np.asarray(encode(space, architectures(space, X, self.style), self.encoding), dtype=np.float64)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        width = int(get_encoding(self.encoding).width(self._check()))
        return np.array([f"{self.encoding}{i}" for i in range(width)], dtype=object)

    def __sklearn_tags__(self) -> Any:  # scikit-learn >= 1.6 tag protocol
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = True
        return tags


class ArchPipeline(Pipeline):
    """A ``Pipeline`` ``[ArchEncoder, predictor]`` that also exposes the predictor's extras."""

    @property
    def predictor(self) -> Predictor:
        return self.steps[-1][1]

    @property
    def encoder(self) -> ArchEncoder:
        return self.steps[0][1]

    @property
    def space(self) -> SearchSpace:
        return self.encoder._space()

    def encode(self, archs: Any) -> np.ndarray:
        return self.encoder.transform(archs)

    def torch_function(self) -> "Callable[[torch.Tensor], torch.Tensor]":
        """The fitted predictor's differentiable function on this pipeline's space."""
        return self.predictor.torch_function(self.space)


def arch_pipeline(predictor: Predictor | str, space: SearchSpace | str, style: str | None = None,
                  **params: Any) -> ArchPipeline:
    """``[ArchEncoder(space, predictor.encoding, style), predictor]`` as an :class:`ArchPipeline`.

    ``predictor`` is an instance or a registry name (built with ``params``); a predictor that
    ``needs_space`` (e.g. the lookup table) gets the pipeline's space when named, and must match
    it when given as an instance.
    """
    space = as_space(space)
    if isinstance(predictor, str):
        from .registry import get_class

        if get_class(predictor).needs_space:
            params.setdefault("space", space.name)
        predictor = make(predictor, **params)
    elif params:
        raise ParameterError("arch_pipeline: params are only used when the predictor is given by name")
    own = predictor.space if getattr(predictor, "needs_space", False) else space.name  # e.g. a TunedPredictor: no space
    if own != space.name:
        raise ParameterError(f"{predictor._label()} was built for space {own!r}, not {space.name!r}")
    encoder = ArchEncoder(space.name, predictor.encoding, style)
    encoder._check()
    return ArchPipeline([(ENCODER_STEP, encoder), (PREDICTOR_STEP, predictor)])
