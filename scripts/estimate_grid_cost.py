#!/usr/bin/env python
"""Estimate what a full study grid (default: ``paper-hwnas``) costs, from measured fit times.

Fit times of untuned fits are taken from a finished study (the quick preset's ``results.csv``)
and from ``results/bench/predictors.csv`` (fits at 100 and 1,000 samples); per predictor a power
law ``t(n) = a * n**b`` is fitted in log-log space through the medians and extrapolated to the
grid's sizes.  A tuned fit costs its wall-clock tuning budget (the search always exhausts it at
the paper's 5,000-configuration cap) plus the final fit.  Writes ``results/bench/grid_cost.csv``.

Usage: python scripts/estimate_grid_cost.py --results results/quick/results.csv [--preset paper-hwnas]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from nasbench_tools.spaces import get_space
from nasbench_tools.study.spec import preset
from predictors import get_class
from nasbench_tools.utils.io import write_csv_atomic

REPO = Path(__file__).resolve().parents[1]

BENCH = REPO / "results" / "bench" / "predictors.csv"
OUT = REPO / "results" / "bench" / "grid_cost.csv"
SECONDS_PER_HOUR = 3600.0


def measured_fit_times(results: Path, bench: Path) -> pd.DataFrame:
    """(predictor, n, fit seconds) of untuned fits: medians per predictor and size."""
    frames = []
    df = pd.read_csv(results)
    ok = df[(df["status"] == "ok") & (~df["tuned"].astype(bool))]
    frames.append(ok[["predictor", "train_size", "fit_time_s"]].rename(columns={"train_size": "n"}))
    if bench.exists():
        b = pd.read_csv(bench)
        b = b[b["status"] == "ok"]
        frames.append(b[["predictor", "n_train_used", "fit_time_s"]].rename(columns={"n_train_used": "n"}))
    both = pd.concat(frames)
    return both.groupby(["predictor", "n"], as_index=False)["fit_time_s"].median()


def power_law(points: pd.DataFrame) -> tuple[float, float]:
    """``(a, b)`` of ``t = a n^b`` through the points (b clipped to [0, 3])."""
    n = points["n"].to_numpy(dtype=float)
    t = np.maximum(points["fit_time_s"].to_numpy(dtype=float), 1e-5)
    if len(np.unique(n)) < 2:
        return float(t.mean()), 0.0
    b, log_a = np.polyfit(np.log(n), np.log(t), 1)
    b = float(np.clip(b, 0.0, 3.0))
    return float(np.exp(np.mean(np.log(t) - b * np.log(n)))), b


def n_configurations(name: str, cap: int) -> int:
    """How many configurations the tuner can draw: the cap, or the size of a finite space."""
    from predictors.space import Choice

    space = get_class(name).tuning_space
    if space and all(isinstance(d, Choice) for d in space.values()):
        return min(cap, int(np.prod([len(d.options) for d in space.values()])))
    return cap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=REPO / "results" / "quick" / "results.csv")
    parser.add_argument("--bench", type=Path, default=BENCH)
    parser.add_argument("--preset", default="paper-hwnas")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    spec = preset(args.preset)
    times = measured_fit_times(args.results, args.bench)
    runs = len(spec.datasets) * len(spec.seeds)
    rows = []
    for name in spec.predictors:
        pts = times[times["predictor"] == name]
        if pts.empty:
            continue
        a, b = power_law(pts)
        fixed = get_class(name).fixed_training_set(get_space("nb201"))  # the study's space
        sizes = (len(fixed),) if fixed is not None else spec.sizes_for(name)
        fit = sum(a * n**b for n in sizes)
        tuned = name in spec.tuning.predictors
        configs = n_configurations(name, spec.tuning.max_configs) if tuned else 0
        search = [min(spec.tuning.budget_s(n) or np.inf, configs * spec.tuning.cv * a * (2 * n / 3) ** b)
                  for n in sizes if n >= spec.tuning.min_samples]
        budget = float(sum(search)) if tuned else 0.0
        rows.append({
            "preset": spec.name, "predictor": name, "fit_time_a": a, "fit_time_b": b,
            "max_measured_n": int(pts["n"].max()), "largest_size": max(sizes),
            "fit_s_at_largest": a * max(sizes) ** b, "tuned": tuned,
            "cpu_hours_fits": fit * runs / SECONDS_PER_HOUR,
            "cpu_hours_tuning": budget * runs / SECONDS_PER_HOUR,
        })
    df = pd.DataFrame(rows)
    df["cpu_hours_total"] = df["cpu_hours_fits"] + df["cpu_hours_tuning"]
    write_csv_atomic(df.round(4), args.out)
    print(df[["predictor", "fit_time_b", "fit_s_at_largest", "tuned", "cpu_hours_fits", "cpu_hours_tuning",
              "cpu_hours_total"]].round(2).to_string(index=False))
    total = df["cpu_hours_total"].sum()
    print(f"\n{spec.name}: {len(spec.datasets)} datasets x {len(spec.seeds)} seeds x {len(spec.train_sizes)} sizes; "
          f"estimated {total:,.0f} CPU-hours ({df['cpu_hours_tuning'].sum():,.0f} of them tuning budgets, "
          f"{df['cpu_hours_fits'].sum():,.0f} untuned and final fits); written {args.out}")


if __name__ == "__main__":
    main()
