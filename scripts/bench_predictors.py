#!/usr/bin/env python
"""Benchmark: fit and query time and Kendall's tau of every predictor with default parameters.

On ``hwnas/cifar10/edgegpu_latency`` (default): one seeded split into 625 held-out test
architectures and a disjoint training pool; each predictor is fitted on the first 100 and the
first 1,000 pool architectures (nested prefixes, as in the study) and queried on the 625.  The
lookup table is fitted on its own neighbour architectures (25 for NB201) instead.  Times are
medians over ``--repeats`` fits; every number of one row is measured in the same run.  A
predictor whose module is unavailable or whose fit fails gets a row with its error in
``status``.  Writes ``results/bench/predictors.csv`` atomically.

Usage: NASBENCH_DATA=../shared/benchmarks OMP_NUM_THREADS=1 python scripts/bench_predictors.py
       [--sizes 100 1000] [--repeats 1] [--predictors ridge gp ...]
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

import predictors
from nasbench_tools.datasets import DataStore
from nasbench_tools.encodings import encode
from nasbench_tools.utils.io import write_csv_atomic
from predictors.metrics import kendall_tau

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "results" / "bench" / "predictors.csv"
DEFAULT_DATASET = "hwnas/cifar10/edgegpu_latency"
DEFAULT_SIZES = (100, 1000)
N_TEST = 625
log = logging.getLogger("bench_predictors")


def bench_one(name: str, ds, train: np.ndarray, test: np.ndarray, repeats: int) -> dict:
    space = ds.space
    cls = predictors.get_class(name)
    fixed = cls.fixed_training_set(space)  # e.g. the lookup table's neighbour architectures
    if fixed is not None:
        train = fixed
    X = encode(space, space.arch(train), cls.encoding)
    X_test = encode(space, space.arch(test), cls.encoding)
    fit_times, query_times, pred = [], [], None
    for _ in range(repeats):
        p = predictors.make(name, **({"space": space.name} if cls.needs_space else {}))
        t0 = time.perf_counter()
        p.fit(X, ds.values[train])
        t1 = time.perf_counter()
        pred = p.predict(X_test)
        t2 = time.perf_counter()
        fit_times.append(t1 - t0)
        query_times.append(t2 - t1)
    query = statistics.median(query_times)
    return {
        "n_train_used": len(train), "encoding": cls.encoding,
        "fit_time_s": statistics.median(fit_times), "query_time_s": query,
        "query_us_per_arch": 1e6 * query / len(test), "kendall_tau": kendall_tau(ds.values[test], pred),
        "status": "ok",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default=DEFAULT_DATASET)
    ap.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    ap.add_argument("--repeats", type=int, default=1, help="fits per (predictor, size); times are medians")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--predictors", nargs="+", default=None, help="default: every registered predictor")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    names = args.predictors or list(predictors.available())

    ds = DataStore(args.data_dir).load(args.dataset)
    if not ds.is_complete:
        raise SystemExit(f"{args.dataset} has missing values; choose a complete dataset")
    idx = np.random.default_rng(args.seed).permutation(ds.space.size)
    test, pool = idx[:N_TEST], idx[N_TEST:]
    rows = []
    jobs = [(n, s) for n in names for s in args.sizes]
    for name, size in tqdm(jobs, desc="predictors"):
        row = {"predictor": name, "dataset": args.dataset, "n_train": size, "n_test": N_TEST, "seed": args.seed,
               "repeats": args.repeats}
        try:
            row.update(bench_one(name, ds, pool[:size], test, args.repeats))
        except (ImportError, ValueError, RuntimeError, NotImplementedError, AttributeError) as exc:
            log.warning("%s at n=%d failed: %s", name, size, exc)
            row["status"] = f"{type(exc).__name__}: {exc}"
        rows.append(row)
        log.info("%s n=%d: %s", name, size, {k: row.get(k) for k in ("fit_time_s", "query_time_s", "kendall_tau")})
    df = pd.DataFrame(rows)
    df["n_train_used"] = df["n_train_used"].astype("Int64")
    df["machine"] = f"{platform.machine()} {platform.processor() or platform.system()}"
    write_csv_atomic(df, args.out, float_format="%.6g")
    print(df.drop(columns=["dataset", "machine", "n_test", "seed", "repeats"]).to_string(index=False))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
