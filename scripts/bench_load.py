#!/usr/bin/env python
"""Benchmark: time and peak memory to load every benchmark from disk and encode every architecture.

Each repetition runs in a fresh interpreter (cold imports, no cached tables) so that the peak RSS
is that of one complete load.  Side by side in the same run: an interpreter that only imports the
toolkit (the floor that loading adds to).  Writes ``results/bench/load.csv``.

Usage: NASBENCH_DATA=../shared/benchmarks python scripts/bench_load.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "results" / "bench" / "load.csv"
TARGET_SECONDS = 3.0
TARGET_RSS_MB = 500.0

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from nasbench_tools.datasets import DataStore
from nasbench_tools.encodings import encode
from nasbench_tools.spaces import get_space
t_import = time.perf_counter() - t0
mode = sys.argv[1]
out = {"import_s": t_import}
if mode == "full":
    t1 = time.perf_counter()
    store = DataStore()
    n_values = 0
    for bench in ("hwnas", "nb201", "transnas-micro", "nbmacro"):
        n_values += store.table(bench).values.size
    t2 = time.perf_counter()
    n_feat = 0
    for name in ("nb201", "transnas-micro", "transnas-macro", "nbmacro"):
        space = get_space(name)
        archs = space.enumerate()
        n_feat += encode(space, archs, "onehot").size
        if space.is_cell:
            n_feat += encode(space, archs, "path").size
    t3 = time.perf_counter()
    out.update(load_s=t2 - t1, encode_s=t3 - t2, n_values=n_values, n_features=n_feat)
out["total_s"] = time.perf_counter() - t0
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def run_child(mode: str) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    runs = {"imports_only": [], "full": []}
    for _ in range(args.repeats):  # interleave the two so machine noise hits both alike
        for mode in ("imports_only", "full"):
            runs[mode].append(run_child(mode))

    rows = []
    for mode, rs in runs.items():
        for metric in ("import_s", "load_s", "encode_s", "total_s", "peak_rss_mb"):
            vals = [r[metric] for r in rs if metric in r]
            if not vals:
                continue
            rows.append({"run": mode, "metric": metric, "median": round(statistics.median(vals), 4),
                         "min": round(min(vals), 4), "max": round(max(vals), 4), "repeats": len(vals)})
    full_total = statistics.median(r["total_s"] for r in runs["full"])
    full_rss = statistics.median(r["peak_rss_mb"] for r in runs["full"])
    base_total = statistics.median(r["total_s"] for r in runs["imports_only"])
    base_rss = statistics.median(r["peak_rss_mb"] for r in runs["imports_only"])
    rows += [
        {"run": "full", "metric": "total_s / target", "median": round(full_total / TARGET_SECONDS, 3)},
        {"run": "full", "metric": "peak_rss_mb / target", "median": round(full_rss / TARGET_RSS_MB, 3)},
        {"run": "full", "metric": "total_s / imports_only total_s", "median": round(full_total / base_total, 3)},
        {"run": "full", "metric": "peak_rss_mb - imports_only peak_rss_mb", "median": round(full_rss - base_rss, 1)},
    ]
    df = pd.DataFrame(rows)
    df["machine"] = f"{platform.machine()} {platform.python_version()}"
    from nasbench_tools.utils.io import write_csv_atomic

    write_csv_atomic(df, args.out)
    print(df.to_string(index=False))
    n = runs["full"][0]
    print(f"\n{n['n_values']} benchmark values and {n['n_features']} encoded features; "
          f"total {full_total:.2f} s (target {TARGET_SECONDS} s), peak RSS {full_rss:.0f} MB (target {TARGET_RSS_MB:.0f} MB)")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
