"""Benchmark of the simulation engine, measured side by side in one run.

1. Wall time of the full ``paper`` grid (330,000 selections) with the vectorised engine on
   ``--jobs`` local processes (default 2).
2. On a sample of cells (every subset size, std 0.5, one dataset): seconds per selection of
   (a) the vectorised engine, (b) the engine called one selection at a time, (c) the plain
   per-point reference (``simulation/reference.py``), and (d) one ``numpy.argsort`` of the
   subset (lower bound). Each is extrapolated to the paper grid's composition (55,000 selections
   per size) to give the ratios against the measured grid time.

Writes ``results/bench/simulation.csv`` (one row per measurement, medians of ``--repeats``).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from nasbench_tools.datasets import DataStore
from nasbench_tools.runner import make_executor
from nasbench_tools.utils.io import write_csv_atomic
from simulation.deviations import sample_deviations
from simulation.engine import simulate_cell
from simulation.grid import PAPER_SIZES, preset_config, run_simulation
from simulation.problem import HARD_DATASETS, SelectionProblem, load_problem
from simulation.reference import reference_scores
from simulation.subsets import draw_subsets

REPO = Path(__file__).resolve().parents[1]

SAMPLE_STD = 0.5
SAMPLE_DATASET = HARD_DATASETS[0]


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _one_at_a_time(problem: SelectionProblem, size: int, n: int, rng: np.random.Generator) -> None:
    """``n`` selections, one engine call each."""
    for _ in range(n):
        simulate_cell(problem, size, SAMPLE_STD, 1, rng)


def _argsort_rows(keys: np.ndarray) -> None:
    for k in keys:
        np.argsort(k)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2, help="processes for the full grid")
    ap.add_argument("--grid-out", default=None, help="keep the paper grid's results here (default: a temp dir)")
    ap.add_argument("--skip-grid", action="store_true", help="only the per-selection sample (no full grid)")
    ap.add_argument("--sample-trials", type=int, default=200, help="engine trials per sampled cell")
    ap.add_argument("--reference-trials", type=int, default=2, help="reference selections per sampled size")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(REPO / "results" / "bench" / "simulation.csv"))
    args = ap.parse_args(argv)

    store = DataStore()
    config = preset_config("paper")
    per_size = config.n_selections // len(config.sizes)
    rows: list[dict] = []
    grid_seconds = float("nan")
    if not args.skip_grid:
        out = Path(args.grid_out) if args.grid_out else Path(tempfile.mkdtemp(prefix="bench-sim-"))
        t0 = time.perf_counter()
        with make_executor(jobs=args.jobs) as ex:
            run_simulation(config, out, executor=ex, progress=False, store=store)
        grid_seconds = time.perf_counter() - t0
        rows.append(dict(measure="paper_grid", subset_size="all", seconds=grid_seconds,
                         selections=config.n_selections, seconds_per_selection=grid_seconds / config.n_selections,
                         jobs=args.jobs))

    problem = load_problem(SAMPLE_DATASET, store=store)
    rng = np.random.default_rng(0)
    totals = {"engine_batched": 0.0, "engine_one_at_a_time": 0.0, "reference_per_point": 0.0, "argsort_lower_bound": 0.0}
    for size in PAPER_SIZES:
        n_one = max(5, args.sample_trials // 20)
        per_sel = {
            "engine_batched": _median_time(partial(simulate_cell, problem, size, SAMPLE_STD, args.sample_trials, rng),
                                           args.repeats) / args.sample_trials,
            "engine_one_at_a_time": _median_time(partial(_one_at_a_time, problem, size, n_one, rng),
                                                 args.repeats) / n_one,
        }
        rows_idx = draw_subsets(rng, problem.size, size, args.reference_trials)
        acc, hw = problem.accuracy[rows_idx], problem.hardware[rows_idx]
        pred = hw + sample_deviations(rng, args.reference_trials, size, SAMPLE_STD)
        t0 = time.perf_counter()
        for t in range(args.reference_trials):
            reference_scores(acc[t], hw[t], pred[t], fast=True)
        per_sel["reference_per_point"] = (time.perf_counter() - t0) / args.reference_trials
        keys = rng.random((200, size))
        per_sel["argsort_lower_bound"] = _median_time(partial(_argsort_rows, keys), args.repeats) / len(keys)
        for name, s in per_sel.items():
            totals[name] += s * per_size
            rows.append(dict(measure=name, subset_size=size, seconds=s * per_size, selections=per_size,
                             seconds_per_selection=s, jobs=1))
    for name, s in totals.items():
        rows.append(dict(measure=f"{name}_paper_grid_estimate", subset_size="all", seconds=s,
                         selections=config.n_selections, seconds_per_selection=s / config.n_selections, jobs=1))
    frame = pd.DataFrame(rows)
    engine_1core = totals["engine_batched"]
    frame["ratio_to_engine"] = frame["seconds"] / np.where(frame["subset_size"] == "all", engine_1core, np.nan)
    for name in ("reference_per_point", "engine_one_at_a_time", "argsort_lower_bound"):
        print(f"{name}: paper grid estimate {totals[name]:.0f} s on one core, "
              f"ratio to batched engine {totals[name] / engine_1core:.2f}")
    if not np.isnan(grid_seconds):
        print(f"paper grid measured: {grid_seconds:.0f} s with {args.jobs} processes "
              f"(batched engine estimate {engine_1core:.0f} s on one core)")
    frame["machine"] = f"{platform.machine()} {os.cpu_count()} cpus, numpy {np.__version__}"
    out = write_csv_atomic(frame, args.out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
