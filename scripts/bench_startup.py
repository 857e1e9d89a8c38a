#!/usr/bin/env python
"""Benchmark: start-up time of the ``nasbench-study`` command (lazy sub-commands).

Runs, interleaved round by round so that machine load hits every command alike, ``python -c pass``
(the interpreter floor), ``nasbench-study --version``, ``nasbench-study --help`` and
``nasbench-study data list`` (which reads and checksums every benchmark file), each in a fresh
process. Prints the median wall time of each, its ratio to ``python -c pass`` and the median CPU
time (user + system of the child: what the command costs on an idle core, which wall time under
shared-machine load does not show), and writes ``results/bench/startup.csv``. Target (issue 11):
``--version`` and ``data list`` at most 1.5 s.

Usage: NASBENCH_DATA=../shared/benchmarks python scripts/bench_startup.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from nasbench_tools.utils.io import write_csv_atomic

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "results" / "bench" / "startup.csv"
TARGET_SECONDS = 1.5
#: The installed console script beside this interpreter (else ``python -m nasbench_tools``).
SCRIPT = Path(sys.executable).parent / "nasbench-study"
STUDY = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "nasbench_tools"]
#: Each command line, in a fresh process.
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "nasbench-study --version": [*STUDY, "--version"],
    "nasbench-study --help": [*STUDY, "--help"],
    "nasbench-study data list": [*STUDY, "data", "list"],
}
#: Commands the target applies to.
TARGETED = ("nasbench-study --version", "nasbench-study data list")


def time_once(args: list[str]) -> tuple[float, float]:
    """Wall and CPU time of one fresh process running ``args`` (output discarded, failure raises)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(args, check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7, help="rounds (each runs every command once)")
    ap.add_argument("--out", type=Path, default=OUT, help="CSV to write")
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error(f"--repeats must be at least 1, got {args.repeats}")
    for argv in COMMANDS.values():  # warm the file-system cache; not timed
        time_once(argv)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeats):
        for name, argv in COMMANDS.items():
            wall, used = time_once(argv)
            times[name].append(wall)
            cpu[name].append(used)
    floor = statistics.median(times["python -c pass"])
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        rows.append({
            "command": name, "repeats": args.repeats, "median_s": round(median, 4),
            "median_cpu_s": round(statistics.median(cpu[name]), 4),
            "min_s": round(min(values), 4), "max_s": round(max(values), 4),
            "ratio_to_python": round(median / floor, 2),
            "target_s": TARGET_SECONDS if name in TARGETED else None,
            "meets_target": (median <= TARGET_SECONDS) if name in TARGETED else None,
            "python": platform.python_version(), "cpus": os.cpu_count(),
        })
    frame = pd.DataFrame(rows)
    write_csv_atomic(frame, args.out)
    print(frame[["command", "median_s", "min_s", "max_s", "ratio_to_python", "median_cpu_s", "meets_target"]]
          .to_string(index=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
