"""Benchmark of live latency measurement: throughput and repeatability on this machine.

Throughput: architectures measured per minute (network build + warm-up + timed runs, the CLI's
default protocol).  Repeatability: 50 seeded NB201 architectures are measured in three
independent passes (fresh networks, each pass in its own shuffled order so that slow drift is
not attributed to particular architectures); per architecture the coefficient of variation of
its three medians; the summary is the median (and 90th percentile) CV.  Target: median CV <= 3 %.

Run pinned to one otherwise idle core with one thread, e.g.
``taskset -c 1 python scripts/bench_latency.py --threads 1``; writes results/bench/latency.csv.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from nasbench_tools.latency import MeasureConfig, TableSpec, cpu_affinity, measure_architecture, resolve_device
from nasbench_tools.spaces import get_space
from nasbench_tools.utils.io import write_csv_atomic

REPO = Path(__file__).resolve().parents[1]
TARGET_MEDIAN_CV = 0.03
PASSES = 3


def one_pass(spec: TableSpec, ops: np.ndarray, order: np.ndarray, device) -> tuple[np.ndarray, float]:
    medians = np.empty(len(ops))
    t0 = time.perf_counter()
    for i in order:
        medians[i] = measure_architecture(spec, ops[i], device)["latency_ms"]
    return medians, time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--archs", type=int, default=50)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--macro-archs", type=int, default=10, help="NAS-Bench-Macro throughput sample")
    p.add_argument("--out", type=Path, default=REPO / "results" / "bench" / "latency.csv")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device("cpu")
    rng = np.random.default_rng(args.seed)
    rows = []
    machine = f"{platform.machine()} {os.cpu_count()} cpus, torch {torch.__version__}, threads {args.threads}, " \
              f"affinity {cpu_affinity()}, load {os.getloadavg()[0]:.2f}"
    spec = TableSpec("nb201", MeasureConfig())
    space = get_space("nb201")
    ops = space.arch(rng.choice(space.size, args.archs, replace=False))
    passes, walls = [], []
    for k in range(PASSES):
        med, wall = one_pass(spec, ops, rng.permutation(len(ops)), device)
        passes.append(med)
        walls.append(wall)
        print(f"pass {k}: {wall:.1f} s, {60 * len(ops) / wall:.1f} archs/min, mean median {med.mean():.3f} ms")
    m = np.stack(passes)
    cv = m.std(axis=0, ddof=1) / m.mean(axis=0)
    common = {"space": "nb201", "protocol": f"warmup {spec.measure.warmup}, repeats {spec.measure.repeats}, batch 1",
              "archs": args.archs, "passes": PASSES, "machine": machine}
    rows.append({**common, "metric": "median_cv", "value": float(np.median(cv)), "target": TARGET_MEDIAN_CV,
                 "meets_target": bool(np.median(cv) <= TARGET_MEDIAN_CV)})
    rows.append({**common, "metric": "p90_cv", "value": float(np.percentile(cv, 90)), "target": np.nan, "meets_target": ""})
    rows.append({**common, "metric": "max_cv", "value": float(cv.max()), "target": np.nan, "meets_target": ""})
    rows.append({**common, "metric": "archs_per_min", "value": float(60 * len(ops) * PASSES / sum(walls)),
                 "target": np.nan, "meets_target": ""})
    rows.append({**common, "metric": "mean_latency_ms", "value": float(m.mean()), "target": np.nan, "meets_target": ""})
    # throughput of another space with the same protocol
    mspace = get_space("nbmacro")
    mops = mspace.arch(rng.choice(mspace.size, args.macro_archs, replace=False))
    _, wall = one_pass(TableSpec("nbmacro", MeasureConfig()), mops, np.arange(len(mops)), device)
    rows.append({**common, "space": "nbmacro", "archs": args.macro_archs, "passes": 1, "metric": "archs_per_min",
                 "value": float(60 * len(mops) / wall), "target": np.nan, "meets_target": ""})
    df = pd.DataFrame(rows)[["space", "metric", "value", "target", "meets_target", "archs", "passes", "protocol", "machine"]]
    write_csv_atomic(df, args.out)
    print(df.to_string(index=False))


if __name__ == "__main__":
    main()
