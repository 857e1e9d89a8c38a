"""Lookup tables vs trained predictors on a measured latency table, as an experiment
(``nasbench-study latency-lut run --preset nb201-cpu --out DIR``).

Methods, all scored by Kendall's tau and MAPE on the same test architectures of each seed (the
measured ones that no method trained on):

1. ``isolated_op_lut``: fixed part + the cost of every op, each op timed alone;
   ``isolated_ops_running_edges``: the same costs summed over the edges the network runs;
2. ``neighbour_lut``: the neighbour-difference table fitted on the space's lookup-table
   architectures (``space.lut_architectures()``), which must be measured;
3. trained predictors fitted on n random measured architectures (``train_sizes``).

One task per seed and method. The report adds ``lut_comparison_summary.csv`` (mean over seeds)
and ``lut_isolated_meta.json`` (the isolated measurement and the tables' tau and MAPE over every
measured architecture). ``cost_s`` of a trained predictor is its fit time (timing, machine-dependent).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..encodings import encode
from ..errors import ConfigError, DataFormatError
from ..runner.config import check_int_fields, load_config
from ..runner.experiment import CONFIG_NAME, RunContext
from ..spaces import get_space
from ..utils.io import atomic_write, write_csv_atomic
from .isolated import IsolatedCosts
from .studies import (LatencyStudy, LatencyStudyConfig, MeasuredTable, ResultsTable, StudyTask, load_measured, mape,
                      read_isolated, read_rows, task_threads)

if TYPE_CHECKING:
    from ..datasets import DataStore

RESULTS_NAME = "lut_comparison.csv"
SUMMARY_NAME = "lut_comparison_summary.csv"
META_NAME = "lut_isolated_meta.json"
COLUMNS = ("seed", "n_test", "method", "n_measured", "tau", "mape_pct", "cost_s")
KEY_COLUMNS = ("seed", "method")
#: The lookup-table methods (no training set of their own).
TABLE_METHODS = ("isolated_op_lut", "isolated_ops_running_edges", "neighbour_lut")
#: Predictors of the committed comparison (cheap to fit on a few hundred architectures).
PREDICTORS = ("linear_regression", "ridge", "svr", "random_forest", "xgboost", "lightgbm", "gp", "mlp_small")


@dataclass(frozen=True)
class LutComparisonConfig(LatencyStudyConfig):
    """Training sizes and seeds of the comparison (defaults: the committed run)."""

    predictors: tuple[str, ...] = PREDICTORS
    train_sizes: tuple[int, ...] = (25, 100, 400)
    seeds: tuple[int, ...] = (0, 1, 2)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.isolated_ops:
            raise ConfigError("isolated_ops: the comparison needs isolated-op costs (nasbench-study latency isolated)")
        check_int_fields(self, 1, "train_sizes")
        check_int_fields(self, 0, "seeds")


@dataclass(frozen=True)
class LutInputs:
    """What every task reads: the measured table, the lookup-table architectures, the isolated
    costs and the measuring cost of the neighbour table."""

    measured: MeasuredTable
    lut_idx: np.ndarray
    isolated: IsolatedCosts
    neighbour_cost_s: float

    def onehot(self) -> np.ndarray:
        space = get_space(self.measured.space)
        return encode(space, space.arch(self.measured.have), "onehot")

    def table_prediction(self, method: str) -> tuple[np.ndarray, int, float]:
        """Predicted latency of every measured architecture, architectures measured, cost (s)."""
        space = get_space(self.measured.space)
        if method == "isolated_op_lut":
            return self.isolated.lookup_table().predict(self.onehot()), 0, self.isolated.wall_s
        if method == "isolated_ops_running_edges":
            return self.isolated.predict(space.arch(self.measured.have), running_only=True), 0, self.isolated.wall_s
        from predictors.lookup_table import LookupTable

        y_lut = self.measured.latency[self.measured.positions(self.lut_idx)]
        lut = LookupTable(space=space.name).fit(encode(space, space.lut_architectures(), "onehot"), y_lut)
        return lut.predict(self.onehot()), len(self.lut_idx), self.neighbour_cost_s


def lut_inputs(config: LutComparisonConfig) -> LutInputs:
    """Read the table and the isolated costs; the lookup-table architectures must be measured."""
    measured = load_measured(config.table)
    space = get_space(measured.space)
    lut_idx = space.index(space.lut_architectures())
    pos = measured.positions(lut_idx)
    if pos is None or np.isnan(measured.latency[pos]).any():
        raise DataFormatError(f"{config.table}: the {len(lut_idx)} lookup-table architectures must be measured "
                              f"(nasbench-study latency measure --archs with space.lut_architectures())")
    table = pd.read_csv(config.table).set_index("arch")
    cost = float(np.nansum(table.loc[space.format(space.arch(lut_idx)), "measure_s"]))
    return LutInputs(measured, lut_idx, read_isolated(config.isolated_ops, space.name), cost)


@dataclass(frozen=True)
class LutTask(StudyTask):
    """One method under one seed's split of the measured architectures (``inputs``: :class:`LutInputs`)."""

    method: str
    seed: int
    train_sizes: tuple[int, ...]

    key_fields = KEY_COLUMNS


def run_lut_task(task: LutTask) -> pd.DataFrame:
    """The method's rows: one per training size for a predictor, one for a lookup table."""
    m = task.inputs.measured
    space = get_space(m.space)
    candidates = np.setdiff1d(m.have, task.inputs.lut_idx)
    perm = np.random.default_rng(task.seed).permutation(candidates)
    t_pos = m.positions(perm[max(task.train_sizes):])
    y = m.latency
    base = {"seed": task.seed, "n_test": len(t_pos), "method": task.method}
    rows = []
    with task_threads(task.threads):
        if task.method in TABLE_METHODS:
            pred, n_measured, cost = task.inputs.table_prediction(task.method)
            rows.append({**base, "n_measured": n_measured, "tau": _tau(y[t_pos], pred[t_pos]),
                         "mape_pct": mape(y[t_pos], pred[t_pos]), "cost_s": cost})
        else:
            from predictors import make

            X = None
            for n in task.train_sizes:
                model = make(task.method, random_state=task.seed)
                X = encode(space, space.arch(m.have), model.encoding) if X is None else X
                tr = m.positions(perm[:n])
                t0 = time.perf_counter()
                model.fit(X[tr], y[tr])
                fit_s = time.perf_counter() - t0
                p = model.predict(X[t_pos])
                rows.append({**base, "n_measured": n, "tau": _tau(y[t_pos], p), "mape_pct": mape(y[t_pos], p),
                             "cost_s": fit_s})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _tau(y: np.ndarray, p: np.ndarray) -> float:
    from predictors.metrics import kendall_tau

    return kendall_tau(y, p)


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Mean (and std of tau) over the seeds per method and number of measured architectures."""
    return (df.groupby(["method", "n_measured"], sort=False)
            .agg(tau_mean=("tau", "mean"), tau_std=("tau", "std"), mape_mean=("mape_pct", "mean"),
                 cost_s=("cost_s", "mean")).reset_index())


def overall_meta(inputs: LutInputs) -> dict[str, Any]:
    """The isolated measurement and the lookup tables' tau and MAPE over every measured architecture."""
    y = inputs.measured.latency
    pred = {m: inputs.table_prediction(m)[0] for m in TABLE_METHODS}
    iso, run, nb = pred["isolated_op_lut"], pred["isolated_ops_running_edges"], pred["neighbour_lut"]
    return {"isolated_wall_s": inputs.isolated.wall_s, "isolated_parts": inputs.isolated.parts,
            "base_cost_ms": inputs.isolated.base_cost, "tau_all_isolated": _tau(y, iso),
            "tau_all_neighbour": _tau(y, nb), "tau_all_isolated_running_edges": _tau(y, run),
            "mape_all_isolated_running_edges": mape(y, run), "mape_all_isolated": mape(y, iso),
            "mape_all_neighbour": mape(y, nb), "n_measured": int(len(y))}


class LutComparison(LatencyStudy[LutComparisonConfig]):
    """Isolated-op and neighbour lookup tables against trained predictors (Kendall's tau)."""

    name = "latency-lut"
    summary = "lookup tables (isolated ops, neighbour differences) vs trained predictors on a measured table"
    config_type = LutComparisonConfig
    task_noun = "methods"
    table = ResultsTable(RESULTS_NAME, COLUMNS, KEY_COLUMNS, run_lut_task)

    def tasks(self, config: LutComparisonConfig, ctx: RunContext) -> list[LutTask]:
        inputs = lut_inputs(config)
        return [LutTask(inputs, config.threads, method, seed, config.train_sizes)
                for seed in config.seeds for method in (*TABLE_METHODS, *config.predictors)]

    def report(self, results: Path, report_dir: Path, store: "DataStore", **options: Any) -> list[Path]:
        """``lut_comparison_summary.csv`` and ``lut_isolated_meta.json`` (the run's config.toml
        beside ``results`` names the inputs)."""
        df = read_rows(results, COLUMNS, "latency-lut")
        config = load_config(Path(results).parent / CONFIG_NAME, LutComparisonConfig)
        meta = overall_meta(lut_inputs(config))
        written = [write_csv_atomic(summarize(df), Path(report_dir) / SUMMARY_NAME)]
        with atomic_write(Path(report_dir) / META_NAME) as fh:
            json.dump(meta, fh, indent=2)
        return written + [Path(report_dir) / META_NAME]
