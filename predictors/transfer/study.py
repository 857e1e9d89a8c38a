"""Study-grid plumbing of the transfer predictors: which sources a target gets, suggested sets.

Sources of a target: every cost table of the same search space in the benchmarks (HW-NAS-Bench
columns for NB201 targets, including ``custom/`` NB201 tables such as a measured CPU; the other
TransNAS-Bench-101 micro tasks for TransNAS micro targets).  The leakage guard removes the
target's own device when the predictor fits (``leakage_guard=True``, the default).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbench_tools.spaces import get_space

from .design import suggest
from .sources import SourceMatrix, default_source_ids, guard_mask, load_sources

if TYPE_CHECKING:
    from nasbench_tools.datasets import DataStore

    from ..base import Predictor

#: Search space -> source preset of its study targets.
SPACE_SOURCES = {"nb201": "hwnas", "transnas-micro": "transnas-micro"}


def study_sources(store: "DataStore", cls: "type[Predictor]", target: str, space: str) -> SourceMatrix | None:
    """The source matrix of ``target`` for predictor class ``cls`` (None unless it ``uses_sources``)."""
    if not cls.uses_sources:
        return None
    preset = SPACE_SOURCES.get(space)
    if preset is None:
        from nasbench_tools.errors import ParameterError

        raise ParameterError(f"{target}: no source tables are known for space {space} "
                             f"(transfer predictors run on {', '.join(SPACE_SOURCES)})")
    return _cached_sources(store, preset, space)


def prepare_transfer(model: Any, store: "DataStore", target: str, values: np.ndarray, pool: np.ndarray, k: int,
                     seed: int) -> np.ndarray | None:
    """Give a transfer predictor ``model`` its sources for ``target`` (leakage guard on) and return
    its suggested training set when its design asks for one; None for other predictors or the
    random design (the caller keeps its own training set).  Used by ``simulate real``."""
    src = study_sources(store, type(model), target, store.load(target).space.name)
    if src is None:
        return None
    model.set_params(sources=src.values, source_names=src.names, target=target, space=src.space)
    return model.suggest_training(values, pool, k, seed)


@lru_cache(maxsize=4)
def _cached_sources(store: "DataStore", preset: str, space: str) -> SourceMatrix:
    return load_sources(store, default_source_ids(store, preset), space=space)


def suggested_training(model: Any, values: np.ndarray, pool: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The suggested design of ``k`` architectures for ``model``'s (guarded) sources.

    Candidates are the training pool plus the lookup-table architectures that have a value (as
    for the lookup-table baseline, these may also be test architectures).
    """
    space = get_space(model.space)
    S = np.asarray(model.sources, dtype=np.float64)
    names = list(model.source_names or [])
    if names and model.leakage_guard and model.target is not None:
        S = S[:, guard_mask(names, model.target)]
    lut = space.index(space.lut_architectures())
    lut = lut[np.isfinite(values[lut])]
    return suggest(k, S, space.name, candidates=np.union1d(pool, lut), random_state=seed,
                   cell_edges=model.cell_edges)
