"""Live measurement vs predicting, under equal wall-clock budgets, on a measured latency table.

The universe is every architecture of the measured table (NB201 on this CPU), with its measured
latency, the wall-clock seconds its measurement took (``measure_s``: build + warm-up + timed
runs) and its NB201 CIFAR-10 test accuracy (assumed known, as in the dissertation's simulation).

Per budget B (seconds) and random trial order:
(a) live: measure architectures in random order until B is spent (K of them) and select the
    Pareto front of those K (true accuracy, measured latency);
(b) predicted: measure k architectures, fit a cheap predictor, predict every architecture (the
    k measured ones keep their measured values), select the front under the predictions from
    all of them, then measure the selected architectures not measured yet (verification); the
    result is the true Pareto front of everything measured (k + verified).  Everything is
    charged: measuring k, fitting, predicting, verifying (fit and predict are timed on this
    machine); per B the largest k that fits is used.  The neighbour-difference lookup table
    measures its 25 fixed architectures; the isolated-op table charges the time its op
    measurements took (``lut_isolated_meta.json``); ``<table>+live`` spends the rest of the
    budget on random live measurements as well.
Scores, with the simulation module's functions (``simulation.metrics.score``, with the whole
universe's hypervolume reference point so that all strategies are comparable): hypervolume of
the final front as a fraction of the universe's true-front hypervolume, and the mean regret of
accuracy (MRA) of the final front against the *whole universe* (best accuracy among all
architectures no slower than the point, minus its accuracy); ``sel_*`` columns score the
selection made under the predictions before verification.

Writes results/latency/live_vs_predicted.csv (per trial) and ..._summary.csv, and figures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from nasbench_tools.datasets import DataStore
from nasbench_tools.encodings import encode
from nasbench_tools.utils.io import write_csv_atomic
from predictors import make
from predictors.lookup_table import LookupTable
from simulation.metrics import hypervolume_sorted, reference_points, score

REPO = Path(__file__).resolve().parents[1]
TABLE = REPO / "results" / "latency" / "nb201_cifar10_cpu.csv"
OUT = REPO / "results" / "latency"
PREDICTORS = ("ridge", "svr", "xgboost")
#: Smallest training set of a fitted predictor; budget reserved for verification (in mean
#: measurement costs) when choosing k; factor k shrinks by when a run overshoots its budget.
MIN_TRAIN = 8
VERIFY_RESERVE = 20
SHRINK = 0.9
N_BUDGETS = 14
TRIALS = 20


class Universe:
    """Measured architectures sorted by true latency, with the universe-level regret table."""

    def __init__(self, acc: np.ndarray, hw: np.ndarray, cost: np.ndarray) -> None:
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

    def evaluate(self, cand: np.ndarray, believed: np.ndarray) -> dict[str, float]:
        """Select from ``cand`` under ``believed`` latency (true accuracy); score against the universe."""
        sc, order = score(self.acc[cand], self.hw[cand], believed, reference=self.ref, with_masks=True)
        sorted_idx = cand[order[0]]
        sel = sorted_idx[sc.selected[0]]
        ver = sorted_idx[sc.selected_pareto[0]]
        return {"n_selected": int(sc.n_selected[0]), "hv_frac": float(sc.hypervolume[0]) / self.hv_true,
                "mra_all": float(self.regret(sel).mean()), "mra_pareto": float(self.regret(ver).mean()),
                "selected": sel}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", type=Path, default=TABLE)
    ap.add_argument("--trials", type=int, default=TRIALS)
    ap.add_argument("--predictors", default=",".join(PREDICTORS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=OUT, help="output directory")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    name = args.table.stem
    store = DataStore(custom={name: args.table})
    lat = store.load(f"custom/{name}/latency_ms")
    cost_ds = store.load(f"custom/{name}/measure_s")
    acc_ds = store.load("nb201/cifar10/test_accuracy")
    space = lat.space
    have = lat.available
    uni = Universe(acc_ds.values[have], lat.values[have], cost_ds.values[have])
    n = len(have)
    ops = space.arch(have)
    X = {k: encode(space, ops, k) for k in ("onehot",)}
    total_cost = float(uni.cost.sum())
    budgets = np.unique(np.round(np.geomspace(2.0, total_cost, N_BUDGETS), 2))
    pos_of = {int(a): i for i, a in enumerate(have)}
    lut_idx = space.index(space.lut_architectures())
    lut_pos = np.array([pos_of[int(i)] for i in lut_idx]) if all(int(i) in pos_of for i in lut_idx) else None
    if lut_pos is None:
        print("the table lacks some of the 25 lookup-table architectures: no neighbour_lut strategy")
    out = args.out
    meta_path = OUT / "lut_isolated_meta.json"
    iso = json.loads(meta_path.read_text()) if meta_path.exists() else None
    rows = []
    for trial in range(args.trials):
        rng = np.random.default_rng(np.random.SeedSequence(args.seed, spawn_key=(trial,)))
        perm = rng.permutation(n)
        spent = np.cumsum(uni.cost[perm])
        # (a) live
        for b in budgets:
            k_live = int(np.searchsorted(spent, b, side="right"))
            if k_live < 2:
                continue
            cand = perm[:k_live]
            r = uni.evaluate(cand, uni.hw[cand])
            rows.append({"trial": trial, "budget_s": b, "strategy": "live", "n_measured": k_live, "n_trained": 0,
                         "n_verified": 0,
                         "cost_s": float(spent[k_live - 1]), **{k: v for k, v in r.items() if k != "selected"}})

        # (b) predicted: every k of the grid, then the largest feasible k per budget
        def predicted_run(label: str, measured: np.ndarray, pred: np.ndarray, fixed_cost: float) -> dict:
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
        for pname in args.predictors.split(","):
            cache: dict[int, dict] = {}

            def run_k(k: int, pname: str = pname, cache: dict = cache) -> dict:
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

            for b in budgets:
                # spend the budget: the most measurements that leave room for fit, predict, verify
                k = int(np.searchsorted(spent, b - VERIFY_RESERVE * uni.cost.mean(), side="right"))
                while k >= MIN_TRAIN:
                    r = run_k(min(k, n - 1))
                    if r["cost_s"] <= b:
                        runs.append({**r, "budget_s": b, "_final": r["_final"]})
                        break
                    k = int(k * SHRINK)
        if lut_pos is not None:
            t0 = time.perf_counter()
            lut = LookupTable(space=space.name).fit(X["onehot"][lut_pos], uni.hw[lut_pos])
            pred = lut.predict(X["onehot"])
            runs.append(predicted_run("neighbour_lut", lut_pos, pred,
                                      float(uni.cost[lut_pos].sum()) + time.perf_counter() - t0))
        if iso is not None:
            costs = pd.read_csv(OUT / "nb201_isolated_ops.csv")
            table = costs[costs.slot >= 0].pivot(index="slot", columns="op", values="cost_ms")[list(space.op_names)]
            t0 = time.perf_counter()
            ilut = LookupTable(space=space.name, op_costs=np.nan_to_num(table.to_numpy()),
                               base_cost=float(costs[costs.slot < 0].cost_ms.iloc[0])).fit(X["onehot"][:2], uni.hw[:2])
            pred = ilut.predict(X["onehot"])
            runs.append(predicted_run("isolated_lut", np.array([], dtype=np.int64), pred,
                                      iso["isolated_wall_s"] + time.perf_counter() - t0))
        for r in runs:
            final = r.pop("_final")
            if "budget_s" in r:
                rows.append(r)
                continue
            # fixed-size strategies (lookup tables): every budget they fit in, alone and with the
            # rest of the budget spent on random live measurements (final front of all measured)
            for b in budgets:
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
        print(f"trial {trial} done")
    df = pd.DataFrame(rows)
    write_csv_atomic(df, out / "live_vs_predicted.csv")
    summary = (df.groupby(["budget_s", "strategy"]).agg(
        trials=("trial", "count"), n_measured=("n_measured", "mean"), hv_frac=("hv_frac", "mean"),
        hv_frac_std=("hv_frac", "std"), mra_all=("mra_all", "mean"), mra_pareto=("mra_pareto", "mean"),
        n_selected=("n_selected", "mean"), cost_s=("cost_s", "mean"), n_trained=("n_trained", "mean"),
        n_verified=("n_verified", "mean"), sel_hv_frac=("sel_hv_frac", "mean"),
        sel_mra_all=("sel_mra_all", "mean")).reset_index())
    write_csv_atomic(summary, out / "live_vs_predicted_summary.csv")
    plot(summary, out)
    print(summary.to_string(index=False))
    print(f"universe: {n} architectures, total measurement cost {total_cost:.1f} s, "
          f"true-front hypervolume {uni.hv_true:.4f}")


def plot(summary: pd.DataFrame, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
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
    fig.savefig(out / "live_vs_predicted.png", dpi=120)


if __name__ == "__main__":
    main()
