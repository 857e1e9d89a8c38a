"""Selections scored with the deviations of a real, fitted predictor (Appendix A.7 check).

Either predictions are given (per architecture, raw units, e.g. from a study results run) or a
registry predictor is fitted on the fly on a seeded training set. The predictions are
standardised with the hardware's own statistics, so their deviations are in the simulator's
units; selections are drawn from the architectures outside the training set. Next to each real
predictor's scores stand the simulated ones at the same deviation std.
"""

from __future__ import annotations

import logging
import zlib
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from nasbench_tools.datasets import DataStore
from nasbench_tools.errors import DataFormatError, ParameterError

from .engine import simulate_cell
from .metrics import score
from .problem import SelectionProblem, load_problem
from .subsets import draw_subsets

log = logging.getLogger(__name__)


def canonical_values(problem: SelectionProblem) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy and standardised hardware in canonical architecture order."""
    acc = np.empty(problem.size)
    hw = np.empty(problem.size)
    acc[problem.index] = problem.accuracy
    hw[problem.index] = problem.hardware
    return acc, hw


def score_predictions(problem: SelectionProblem, predictions: np.ndarray, pool: np.ndarray, subset_size: int,
                      trials: int, rng: np.random.Generator) -> dict[str, float]:
    """Mean scores of ``trials`` selections from ``pool`` (canonical indices) under real predictions
    (raw units, canonical order), plus the deviation statistics over the pool."""
    acc, hw = canonical_values(problem)
    pred = (np.asarray(predictions, dtype=np.float64) - problem.hardware_mean) / problem.hardware_std
    bad = pool[~np.isfinite(pred[pool])]
    if bad.size:
        raise DataFormatError(f"predictions missing or not finite for {bad.size} architecture(s), e.g. indices {bad[:5].tolist()}")
    if subset_size > pool.size:
        raise ParameterError(f"subset size {subset_size} exceeds the {pool.size} architectures available for selection")
    dev = pred[pool] - hw[pool]
    rows = pool[draw_subsets(rng, pool.size, subset_size, trials)]
    scores, _ = score(acc[rows], hw[rows], pred[rows], problem.reference_rule)
    out = {"dev_mean": float(dev.mean()), "dev_std": float(dev.std()),
           "pool_kendall_tau": float(score(hw[pool][None], hw[pool][None], pred[pool][None])[0].kendall_tau[0])}
    out.update({k: float(np.nanmean(v)) for k, v in scores.columns().items()})
    return out


def fit_predictions(problem_id: str, predictor: str, train_size: int, seed: int, store: DataStore) -> tuple[np.ndarray, np.ndarray]:
    """Fit registry predictor ``predictor`` on ``train_size`` seeded architectures; predictions for
    all architectures (raw units) and the training indices."""
    from predictors import registry  # lazy: the predictor catalogue is optional for the simulator
    from predictors.convenience import encode_for

    ds = store.load(problem_id)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(problem_id.encode()), train_size)))
    avail = ds.available
    if train_size >= len(avail):
        raise ParameterError(f"training size {train_size} for {problem_id}: must be below the {len(avail)} architectures with values")
    train = rng.choice(avail, size=train_size, replace=False)
    model = registry.make(predictor)
    if model.needs_space:
        model.set_params(space=ds.space.name)
    fixed = type(model).fixed_training_set(ds.space)  # e.g. the lookup table's neighbour architectures
    if fixed is not None:
        train = fixed
    from predictors.transfer.study import prepare_transfer  # transfer predictors: sources, suggested design

    suggested = prepare_transfer(model, store, problem_id, ds.values, avail, train_size, seed)
    if suggested is not None:
        train = suggested
    ops = ds.space.enumerate()
    X = encode_for(model, ds.space, ops)
    model.fit(X[train], ds.values[train])
    return np.asarray(model.predict(X), dtype=np.float64), train


def score_real_predictor(datasets: Sequence[str], *, predictor: str | None = None, predictions: str | Path | None = None,
                         train_sizes: Sequence[int] = (25, 124, 614), subset_size: int = 1000, trials: int = 100,
                         seeds: int = 3, store: DataStore | None = None, mode: str = "default",
                         simulate: bool = True) -> pd.DataFrame:
    """One row per fit (dataset, predictor, train size, seed): deviation std, Kendall's tau and the
    mean selection scores, with the simulated scores at the same std (``sim_*`` columns)."""
    if (predictor is None) == (predictions is None):
        raise ParameterError("give exactly one of a predictor name (fit on the fly) or a predictions CSV")
    check_real_options(train_sizes, subset_size, trials, seeds, fitting=predictor is not None)
    store = store or DataStore()
    rows = []
    for dataset in datasets:
        problem = load_problem(dataset, mode=mode, store=store)
        fits: list[tuple[str, int, int, np.ndarray, np.ndarray]] = []
        if predictions is not None:
            table = read_predictions(predictions, problem.size)
            fits.append(("file:" + Path(predictions).name, 0, 0, table, np.array([], dtype=np.int64)))
        else:
            for n in train_sizes:
                for s in range(seeds):
                    pred, train = fit_predictions(dataset, predictor, int(n), s, store)
                    fits.append((predictor, int(n), s, pred, train))
        for name, n, s, pred, train in fits:
            pool = np.setdiff1d(np.arange(problem.size), train)  # a missing prediction is an error
            rng = np.random.default_rng(np.random.SeedSequence(s, spawn_key=(zlib.crc32(dataset.encode()), n, 1)))
            res = score_predictions(problem, pred, pool, subset_size, trials, rng)
            row = {"dataset": dataset, "predictor": name, "train_size": n, "seed": s, "subset_size": subset_size,
                   "trials": trials, **res}
            if simulate:
                sim = simulate_cell(problem, subset_size, res["dev_std"], trials, rng)
                row.update({f"sim_{k}": float(np.nanmean(v)) for k, v in sim.items()})
            rows.append(row)
            log.info("%s %s n=%d seed=%d: dev std %.3f, tau %.3f", dataset, name, n, s, res["dev_std"], res["kendall_tau"])
    return pd.DataFrame(rows)


def _positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ParameterError(f"{name} must be an integer >= 1, got {value!r}")


def check_real_options(train_sizes: Sequence[int], subset_size: int, trials: int, seeds: int,
                       fitting: bool = True) -> None:
    """Refuse options a real-predictor run cannot honour (nothing would be written, or a size
    would be truncated), before any data is read."""
    _positive_int("--subset-size", subset_size)
    _positive_int("--trials", trials)
    if fitting:
        _positive_int("--seeds", seeds)
        if not len(train_sizes):
            raise ParameterError("--train-sizes is empty; expected at least one training size")
        for n in train_sizes:
            _positive_int("--train-sizes", n)


def read_predictions(path: str | Path, size: int) -> np.ndarray:
    """Per-architecture predictions from a CSV with columns ``arch_index`` and ``prediction``."""
    try:
        df = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFormatError(f"{path}: unreadable predictions CSV ({exc})") from None
    missing = [c for c in ("arch_index", "prediction") if c not in df.columns]
    if missing:
        raise DataFormatError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(df.columns)}")
    idx = df["arch_index"].to_numpy()
    if (idx < 0).any() or (idx >= size).any() or len(np.unique(idx)) != len(idx):
        raise DataFormatError(f"{path}: arch_index must be unique canonical indices in 0..{size - 1}")
    out = np.full(size, np.nan)
    out[idx.astype(np.int64)] = pd.to_numeric(df["prediction"], errors="coerce").to_numpy()
    return out


__all__ = ["canonical_values", "check_real_options", "fit_predictions", "read_predictions", "score_predictions", "score_real_predictor"]
