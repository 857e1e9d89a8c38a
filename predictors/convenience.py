"""Fit and predict directly on architectures of a search space: the encoding is applied for you.

Since the scikit-learn conformance work this is a thin layer over :mod:`predictors.pipeline`:
:func:`ArchitecturePredictor` and :func:`fit_architectures` return an
:class:`~predictors.pipeline.ArchPipeline` (``[ArchEncoder, predictor]``), a real scikit-learn
``Pipeline`` (``clone``, ``cross_val_score``, ``RandomizedSearchCV``) that still offers
``.predictor``, ``.space``, ``.encode(archs)``, ``predict(archs, return_std=...)`` and
``.torch_function()``.  Architectures may be op-code rows ``(n, n_slots)`` or strings in any
format of the space.
"""

from __future__ import annotations

from typing import Any

from nasbench_tools.spaces import SearchSpace

from .base import Predictor
from .pipeline import ArchPipeline, arch_pipeline, architectures, as_space, encode_for

__all__ = ["ArchitecturePredictor", "architectures", "as_space", "encode_for", "fit_architectures"]


def ArchitecturePredictor(predictor: Predictor | str, space: SearchSpace | str,  # noqa: N802 - kept name
                          style: str | None = None, **params: Any) -> ArchPipeline:
    """A predictor bound to a search space (an unfitted :class:`ArchPipeline`); the former class
    of this name, kept as a factory so existing code runs unchanged."""
    return arch_pipeline(predictor, space, style, **params)


def fit_architectures(predictor: Predictor | str, space: SearchSpace | str, archs: Any, y: Any,
                      **params: Any) -> ArchPipeline:
    """Build (if named) and fit a predictor on architectures of ``space``."""
    return arch_pipeline(predictor, space, **params).fit(archs, y)
