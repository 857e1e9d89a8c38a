"""Live measurement vs predicting under equal wall-clock budgets, as an experiment
(``nasbench-study latency-live run --preset nb201-cpu --out DIR``).

The universe is every architecture of a measured latency table, with its latency, the seconds
its measurement took (``measure_s``) and its accuracy (a benchmark dataset, taken as known, as in
the dissertation's simulation). Per budget B and random order (one task per trial):

- ``live``: measure in random order until B is spent; keep the true Pareto front;
- a predictor: measure k, fit, predict every architecture (the measured keep their values),
  select the front under the predictions, measure (verify) the selected unmeasured ones, keep
  the true front of everything measured; everything is charged (fit and predict are timed here),
  and the largest k that fits B is used;
- ``neighbour_lut`` (its lookup-table architectures measured) and ``isolated_lut`` (the isolated
  op measurements' time charged), each alone and ``+live`` (the rest of B spent on random live
  measurements).

Scores (:func:`simulation.metrics.score`, the universe's reference point): hypervolume as a
fraction of the true front's, and the mean regret of accuracy against the whole universe;
``sel_*`` score the selection before verification. ``cost_s`` and every row that depends on
which k fitted are timing by nature: a rerun gives slightly different values.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from ..encodings import encode
from ..errors import ConfigError
from ..runner.config import check_int_fields
from ..runner.experiment import RunContext
from ..spaces import get_space
from ..utils.figures import save_figure, subplots
from ..utils.io import write_csv_atomic
from .isolated import IsolatedCosts
from .studies import (LatencyStudy, LatencyStudyConfig, ResultsTable, StudyTask, load_measured,
                      read_isolated, read_rows, task_threads)

if TYPE_CHECKING:
    from ..datasets import DataStore

log = logging.getLogger(__name__)

RESULTS_NAME = "live_vs_predicted.csv"
SUMMARY_NAME = "live_vs_predicted_summary.csv"
FIGURE_NAME = "live_vs_predicted"
COLUMNS = ("trial", "budget_s", "strategy", "n_measured", "n_trained", "n_verified", "cost_s", "n_selected",
           "hv_frac", "mra_all", "mra_pareto", "sel_n_selected", "sel_hv_frac", "sel_mra_all", "sel_mra_pareto")
#: Smallest training set of a fitted predictor; budget reserved for verification (in mean
#: measurement costs) when choosing k; factor k shrinks by when a run overshoots its budget.
MIN_TRAIN = 8
VERIFY_RESERVE = 20
SHRINK = 0.9
FIG_DPI = 120


@dataclass(frozen=True)
class LiveConfig(LatencyStudyConfig):
    """Trials, budgets and predictors (defaults: the committed run)."""

    predictors: tuple[str, ...] = ("ridge", "svr", "xgboost")
    #: Accuracy of the architectures (benchmark dataset ID).
    accuracy: str = "nb201/cifar10/test_accuracy"
    trials: int = 20
    seed: int = 0
    #: Budgets: ``n_budgets`` geometrically spaced from ``min_budget_s`` to measuring everything.
    n_budgets: int = 14
    min_budget_s: float = 2.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int_fields(self, 1, "trials", "n_budgets")
        check_int_fields(self, 0, "seed")
        if isinstance(self.min_budget_s, bool) or not isinstance(self.min_budget_s, (int, float)) \
                or not 0 < self.min_budget_s < float("inf"):
            raise ConfigError(f"min_budget_s: expected a finite number > 0, got {self.min_budget_s!r}")


class Universe:
    """Measured architectures sorted by true latency, with the universe-level regret table."""

    def __init__(self, acc: np.ndarray, hw: np.ndarray, cost: np.ndarray) -> None:
        from simulation.metrics import hypervolume_sorted, reference_points

        self.acc, self.hw, self.cost = acc, hw, cost
        order = np.argsort(hw, kind="stable")
        self.hw_sorted = hw[order]
        self.best_upto = np.maximum.accumulate(acc[order])
        self.ref = float(reference_points(acc[order][None], self.hw_sorted[None], "front")[0])
        self.hv_true = float(hypervolume_sorted(acc[order][None], self.hw_sorted[None],
                                                np.ones((1, len(acc)), bool), np.array([self.ref]))[0])

    def regret(self, idx: np.ndarray) -> np.ndarray:
        """Best universe accuracy among architectures no slower than each point, minus its accuracy."""
        pos = np.searchsorted(self.hw_sorted, self.hw[idx], side="right") - 1
        return self.best_upto[pos] - self.acc[idx]

    def evaluate(self, cand: np.ndarray, believed: np.ndarray) -> dict[str, Any]:
        """Select from ``cand`` under ``believed`` latency (true accuracy); score against the universe."""
        from simulation.metrics import score

        sc, order = score(self.acc[cand], self.hw[cand], believed, reference=self.ref, with_masks=True)
        sorted_idx = cand[order[0]]
        sel = sorted_idx[sc.selected[0]]
        ver = sorted_idx[sc.selected_pareto[0]]
        return {"n_selected": int(sc.n_selected[0]), "hv_frac": float(sc.hypervolume[0]) / self.hv_true,
                "mra_all": float(self.regret(sel).mean()), "mra_pareto": float(self.regret(ver).mean()),
                "selected": sel}


@dataclass(frozen=True)
class LiveInputs:
    """The universe's arrays (measured order), the budgets and the lookup tables' inputs."""

    space: str
    have: np.ndarray
    acc: np.ndarray
    hw: np.ndarray
    cost: np.ndarray
    budgets: np.ndarray
    lut_pos: np.ndarray | None
    isolated: IsolatedCosts | None


@dataclass(frozen=True)
class LiveTask(StudyTask):
    """Every strategy at every budget under one random measuring order (``inputs``: :class:`LiveInputs`)."""

    trial: int
    seed: int
    predictors: tuple[str, ...]

    key_fields = ("trial",)


def run_live_task(task: LiveTask) -> pd.DataFrame:
    """The trial's rows (:data:`COLUMNS`)."""
    with task_threads(task.threads):
        rows = _trial_rows(task)
    log.info("trial %d done", task.trial)
    return pd.DataFrame(rows).reindex(columns=list(COLUMNS))


def _trial_rows(task: LiveTask) -> list[dict[str, Any]]:
    inp, trial = task.inputs, task.trial
    space = get_space(inp.space)
    uni = Universe(inp.acc, inp.hw, inp.cost)
    n = len(inp.have)
    ops = space.arch(inp.have)
    X = {"onehot": encode(space, ops, "onehot")}
    rng = np.random.default_rng(np.random.SeedSequence(task.seed, spawn_key=(trial,)))
    perm = rng.permutation(n)
    spent = np.cumsum(uni.cost[perm])
    rows = []
    for b in inp.budgets:  # live
        k_live = int(np.searchsorted(spent, b, side="right"))
        if k_live < 2:
            continue
        cand = perm[:k_live]
        r = uni.evaluate(cand, uni.hw[cand])
        rows.append({"trial": trial, "budget_s": b, "strategy": "live", "n_measured": k_live, "n_trained": 0,
                     "n_verified": 0, "cost_s": float(spent[k_live - 1]),
                     **{k: v for k, v in r.items() if k != "selected"}})

    def predicted_run(label: str, measured: np.ndarray, pred: np.ndarray, fixed_cost: float) -> dict[str, Any]:
        believed = pred.copy()
        believed[measured] = uni.hw[measured]
        sel = uni.evaluate(np.arange(n), believed)
        verify = np.setdiff1d(sel.pop("selected"), measured)
        final = np.union1d(measured, verify)
        r = uni.evaluate(final, uni.hw[final]) if len(final) >= 2 else dict(sel)
        r.pop("selected", None)
        return {"trial": trial, "strategy": label, "n_measured": len(final), "n_trained": len(measured),
                "n_verified": len(verify), "cost_s": fixed_cost + float(uni.cost[verify].sum()), **r,
                **{f"sel_{k}": v for k, v in sel.items()}, "_final": final}

    runs = []
    for pname in task.predictors:
        runs += _predictor_runs(pname, trial, inp.budgets, uni, perm, spent, X, space, ops, predicted_run)
    if inp.lut_pos is not None:
        from predictors.lookup_table import LookupTable

        t0 = time.perf_counter()
        lut = LookupTable(space=space.name).fit(X["onehot"][inp.lut_pos], uni.hw[inp.lut_pos])
        pred = lut.predict(X["onehot"])
        runs.append(predicted_run("neighbour_lut", inp.lut_pos, pred,
                                  float(uni.cost[inp.lut_pos].sum()) + time.perf_counter() - t0))
    if inp.isolated is not None:
        t0 = time.perf_counter()
        pred = inp.isolated.lookup_table().predict(X["onehot"])
        runs.append(predicted_run("isolated_lut", np.array([], dtype=np.int64), pred,
                                  inp.isolated.wall_s + time.perf_counter() - t0))
    for r in runs:
        final = r.pop("_final")
        if "budget_s" in r:
            rows.append(r)
            continue
        # fixed-size strategies (lookup tables): every budget they fit in, alone and with the
        # rest of the budget spent on random live measurements (final front of all measured)
        for b in inp.budgets:
            if r["cost_s"] > b:
                continue
            rows.append({**r, "budget_s": b})
            extra = perm[: int(np.searchsorted(spent, b - r["cost_s"], side="right"))]
            both = np.union1d(final, extra)
            if len(extra) and len(both) >= 2:
                ev = uni.evaluate(both, uni.hw[both])
                ev.pop("selected")
                rows.append({**r, **ev, "strategy": r["strategy"] + "+live", "budget_s": b,
                             "n_measured": len(both), "cost_s": r["cost_s"] + float(spent[len(extra) - 1])})
    return rows


def _predictor_runs(pname: str, trial: int, budgets: np.ndarray, uni: Universe, perm: np.ndarray,
                    spent: np.ndarray, X: dict[str, np.ndarray], space: Any, ops: np.ndarray,
                    predicted_run: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    """Per budget, the run with the most measurements that leave room for fit, predict, verify."""
    from predictors import make

    n = len(uni.acc)
    cache: dict[int, dict[str, Any]] = {}

    def run_k(k: int) -> dict[str, Any]:
        if k not in cache:
            train = perm[:k]
            model = make(pname, random_state=trial)
            Xe = X.setdefault(model.encoding, encode(space, ops, model.encoding))
            t0 = time.perf_counter()
            model.fit(Xe[train], uni.hw[train])
            pred = model.predict(Xe)
            model_s = time.perf_counter() - t0
            cache[k] = predicted_run(pname, train, pred, float(spent[k - 1]) + model_s)
        return cache[k]

    runs = []
    for b in budgets:
        k = int(np.searchsorted(spent, b - VERIFY_RESERVE * uni.cost.mean(), side="right"))
        while k >= MIN_TRAIN:
            r = run_k(min(k, n - 1))
            if r["cost_s"] <= b:
                runs.append({**r, "budget_s": b, "_final": r["_final"]})
                break
            k = int(k * SHRINK)
    return runs


def live_inputs(config: LiveConfig, store: "DataStore") -> LiveInputs:
    """The universe of ``config``'s table with accuracy from ``store``, the budgets and the tables."""
    measured = load_measured(config.table)
    space = get_space(measured.space)
    acc = store.load(config.accuracy).values[measured.have]
    total = float(measured.measure_s.sum())
    budgets = np.unique(np.round(np.geomspace(config.min_budget_s, total, config.n_budgets), 2))
    lut_pos = measured.positions(space.index(space.lut_architectures()))
    if lut_pos is None:
        log.warning("%s lacks some of the lookup-table architectures: no neighbour_lut strategy", config.table)
    isolated = read_isolated(config.isolated_ops, space.name) if config.isolated_ops else None
    return LiveInputs(space.name, measured.have, acc, measured.latency, measured.measure_s, budgets, lut_pos, isolated)


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Means over the trials per budget and strategy."""
    return (df.groupby(["budget_s", "strategy"]).agg(
        trials=("trial", "count"), n_measured=("n_measured", "mean"), hv_frac=("hv_frac", "mean"),
        hv_frac_std=("hv_frac", "std"), mra_all=("mra_all", "mean"), mra_pareto=("mra_pareto", "mean"),
        n_selected=("n_selected", "mean"), cost_s=("cost_s", "mean"), n_trained=("n_trained", "mean"),
        n_verified=("n_verified", "mean"), sel_hv_frac=("sel_hv_frac", "mean"),
        sel_mra_all=("sel_mra_all", "mean")).reset_index())


def plot(summary: pd.DataFrame, out: Path) -> list[Path]:
    """Hypervolume fraction and MRA of the final front against the budget, per strategy."""
    fig, axes = subplots(1, 2, figsize=(11, 4))
    for label, grp in summary.groupby("strategy", sort=False):
        style = "k-o" if label == "live" else "--."
        axes[0].plot(grp.budget_s, grp.hv_frac, style, label=label)
        axes[1].plot(grp.budget_s, grp.mra_pareto, style, label=label)
    for ax, title in zip(axes, ("hypervolume / true-front hypervolume",
                                "MRA of the final front vs the universe (% accuracy)")):
        ax.set_xscale("log")
        ax.set_xlabel("wall-clock budget (s)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out, FIGURE_NAME, formats=("png",), dpi=FIG_DPI)


class LiveVsPredicted(LatencyStudy[LiveConfig]):
    """Measuring live vs predicting, at equal wall-clock cost."""

    name = "latency-live"
    summary = "live measurement vs predictors and lookup tables under equal wall-clock budgets"
    config_type = LiveConfig
    task_noun = "trials"
    table = ResultsTable(RESULTS_NAME, COLUMNS, ("trial",), run_live_task)

    def tasks(self, config: LiveConfig, ctx: RunContext) -> list[LiveTask]:
        inputs = live_inputs(config, ctx.store)
        return [LiveTask(inputs, config.threads, trial, config.seed, config.predictors) for trial in range(config.trials)]

    def data_ids(self, config: LiveConfig) -> tuple[str, ...]:
        return (config.accuracy,)

    def report(self, results: Path, report_dir: Path, store: "DataStore", **options: Any) -> list[Path]:
        """``live_vs_predicted_summary.csv`` and ``live_vs_predicted.png``."""
        summary = summarize(read_rows(results, COLUMNS, "latency-live"))
        return [write_csv_atomic(summary, Path(report_dir) / SUMMARY_NAME), *plot(summary, Path(report_dir))]
