"""Lookup tables from isolated op measurements vs the neighbour-difference table vs trained
predictors, all scored on the same measured latency table (Kendall's tau).

1. Isolated-op table: every candidate op of every slot and the fixed stem/reductions/head are
   timed alone (same protocol and machine as the table); prediction = fixed + sum of op costs.
2. Neighbour-difference table: fitted from the 25 measured lookup-table architectures
   (``space.lut_architectures()``) of the measured table.
3. Trained predictors: fitted on n random measured architectures (several seeds).
Every method is scored on the same test architectures of each seed (the measured ones that no
method trained on).  Run pinned like the table itself:
``taskset -c 1 python scripts/latency_lut_study.py``.
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
from nasbench_tools.latency import MeasureConfig
from nasbench_tools.latency.isolated import measure_isolated
from nasbench_tools.utils.io import atomic_write, write_csv_atomic
from predictors import make
from predictors.lookup_table import LookupTable
from predictors.metrics import kendall_tau

REPO = Path(__file__).resolve().parents[1]
TABLE = REPO / "results" / "latency" / "nb201_cifar10_cpu.csv"
OUT = REPO / "results" / "latency"
PREDICTORS = ("linear_regression", "ridge", "svr", "random_forest", "xgboost", "lightgbm", "gp", "mlp_small")
TRAIN_SIZES = (25, 100, 400)
SEEDS = (0, 1, 2)


def mape(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(p - y) / y) * 100)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", type=Path, default=TABLE)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--predictors", default=",".join(PREDICTORS))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    name = args.table.stem
    ds = DataStore(custom={name: args.table}).load(f"custom/{name}/latency_ms")
    space = ds.space
    have = ds.available
    y_all = ds.values
    X_all = {}

    # 1. isolated ops (timed now, same protocol as the table)
    iso = measure_isolated(space.name, MeasureConfig())
    iso_lut = iso.lookup_table()
    ops_rows = [{"slot": s, "op": space.op_names[o], "cost_ms": iso.op_costs[s, o]}
                for s in range(space.n_slots) for o in range(space.n_ops)]
    ops_df = pd.DataFrame(ops_rows + [{"slot": -1, "op": "fixed (stem, reductions, head)", "cost_ms": iso.base_cost}])
    write_csv_atomic(ops_df, OUT / "nb201_isolated_ops.csv")

    def enc(kind: str) -> np.ndarray:
        if kind not in X_all:
            X_all[kind] = encode(space, space.arch(have), kind)
        return X_all[kind]

    # 2. neighbour-difference table from the measured LUT architectures
    lut_idx = space.index(space.lut_architectures())
    if np.isnan(y_all[lut_idx]).any():
        raise SystemExit(f"{args.table}: the 25 lookup-table architectures must be measured (see scripts/README)")
    nb_lut = LookupTable(space=space.name).fit(encode(space, space.lut_architectures(), "onehot"), y_all[lut_idx])
    pos = {int(i): k for k, i in enumerate(have)}
    y = y_all[have]
    pred_iso = iso_lut.predict(enc("onehot"))
    pred_iso_run = iso.predict(space.arch(have), running_only=True)
    pred_nb = nb_lut.predict(enc("onehot"))
    rows = []
    candidates = np.setdiff1d(have, lut_idx)
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        perm = rng.permutation(candidates)
        test = perm[max(TRAIN_SIZES):]
        t_pos = np.array([pos[int(i)] for i in test])
        base = {"seed": seed, "n_test": len(test)}
        rows.append({**base, "method": "isolated_op_lut", "n_measured": 0, "tau": kendall_tau(y[t_pos], pred_iso[t_pos]),
                     "mape_pct": mape(y[t_pos], pred_iso[t_pos]), "cost_s": iso.wall_s})
        rows.append({**base, "method": "isolated_ops_running_edges", "n_measured": 0,
                     "tau": kendall_tau(y[t_pos], pred_iso_run[t_pos]), "mape_pct": mape(y[t_pos], pred_iso_run[t_pos]),
                     "cost_s": iso.wall_s})
        rows.append({**base, "method": "neighbour_lut", "n_measured": len(lut_idx),
                     "tau": kendall_tau(y[t_pos], pred_nb[t_pos]), "mape_pct": mape(y[t_pos], pred_nb[t_pos]),
                     "cost_s": float(np.nansum(pd.read_csv(args.table).set_index("arch").loc[
                         space.format(space.arch(lut_idx)), "measure_s"]))})
        for pname in args.predictors.split(","):
            for n in TRAIN_SIZES:
                train = perm[:n]
                model = make(pname, random_state=seed)
                X = enc(model.encoding)
                tr = np.array([pos[int(i)] for i in train])
                t0 = time.perf_counter()
                model.fit(X[tr], y[tr])
                fit_s = time.perf_counter() - t0
                p = model.predict(X[t_pos])
                rows.append({**base, "method": pname, "n_measured": n, "tau": kendall_tau(y[t_pos], p),
                             "mape_pct": mape(y[t_pos], p), "cost_s": fit_s})
                print(f"seed {seed} {pname} n={n}: tau {rows[-1]['tau']:.3f}")
    df = pd.DataFrame(rows)
    write_csv_atomic(df, OUT / "lut_comparison.csv")
    summary = (df.groupby(["method", "n_measured"], sort=False)
               .agg(tau_mean=("tau", "mean"), tau_std=("tau", "std"), mape_mean=("mape_pct", "mean"),
                    cost_s=("cost_s", "mean")).reset_index())
    write_csv_atomic(summary, OUT / "lut_comparison_summary.csv")
    with atomic_write(OUT / "lut_isolated_meta.json") as fh:
        json.dump({"isolated_wall_s": iso.wall_s, "isolated_parts": iso.parts, "base_cost_ms": iso.base_cost,
                   "tau_all_isolated": kendall_tau(y, pred_iso), "tau_all_neighbour": kendall_tau(y, pred_nb),
                   "tau_all_isolated_running_edges": kendall_tau(y, pred_iso_run),
                   "mape_all_isolated_running_edges": mape(y, pred_iso_run),
                   "mape_all_isolated": mape(y, pred_iso), "mape_all_neighbour": mape(y, pred_nb),
                   "n_measured": int(len(have))}, fh, indent=2)
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
