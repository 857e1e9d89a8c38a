"""Does a device run every edge of an NB201 cell, or only the live ones?  Evidence per target.

For each HW-NAS-Bench latency/energy column (CIFAR-10) and the measured CPU table, Kendall's tau
over all measured architectures (in-sample, the ceiling of each structure) of

* a least-squares additive model on the one-hot encoding of the architecture (``all`` edges run),
* the same on the one-hot encoding of its pruned form (only ``live`` edges run, dead ones cost 0),
* a least-squares fit on the guarded HW-NAS-Bench source values of the architecture,
* the same on the source values of its pruned form (what ``transfer_gp_live`` adds).

The benchmark devices follow the ``all`` structure, the CPU table (measured on networks that
skip dead edges) the ``live`` one: the reason for ``cell_edges="live"``.

Usage: ``NASBENCH_DATA=... python scripts/transfer_cell_edges.py [--out results/transfer]``
(reads ``custom/nb201_cifar10_cpu.csv`` from ``--data-dir data``, as the transfer-lodo preset).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from nasbench_tools.datasets import DataStore
from nasbench_tools.dissertation import COMPLETE_ENERGY_DEVICES, COMPLETE_LATENCY_DEVICES
from nasbench_tools.encodings import encode
from nasbench_tools.spaces import get_space
from nasbench_tools.study.spec import TRANSFER_CPU_TARGET
from nasbench_tools.utils.io import write_csv_atomic
from predictors.transfer import default_source_ids, load_sources
from predictors.transfer.sources import guard_mask

log = logging.getLogger("transfer_cell_edges")
OUT_FILE = "cell_edges.csv"


def ls_tau(features: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau of the least-squares fit (with intercept) of ``y`` on ``features``."""
    F = np.column_stack([features, np.ones(len(y))])
    coef = np.linalg.lstsq(F, y, rcond=None)[0]
    return float(kendalltau(F @ coef, y)[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="benchmark folder (default NASBENCH_DATA)")
    ap.add_argument("--out", type=Path, default=Path("results/transfer"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    store = DataStore(args.data_dir) if args.data_dir else DataStore(custom={
        "nb201_cifar10_cpu": Path(__file__).resolve().parents[1] / "results" / "latency" / "nb201_cifar10_cpu.csv"})
    space = get_space("nb201")
    pruned = space.pruned_index()
    onehot = encode(space, space.enumerate(), "onehot").astype(np.float64)
    src = load_sources(store, default_source_ids(store, "hwnas"), space="nb201")
    targets = [f"hwnas/cifar10/{d}_latency" for d in COMPLETE_LATENCY_DEVICES]
    targets += [f"hwnas/cifar10/{d}_energy" for d in COMPLETE_ENERGY_DEVICES] + [TRANSFER_CPU_TARGET]
    rows = []
    for target in targets:
        y = np.asarray(store.load(target).values, dtype=np.float64)
        have = np.flatnonzero(np.isfinite(y))
        S = np.log(src.values[:, guard_mask(src.names, target)])
        rows.append({
            "dataset": target, "n": len(have),
            "onehot_all_edges": ls_tau(onehot[have], y[have]),
            "onehot_live_edges": ls_tau(onehot[pruned[have]], y[have]),
            "sources_all_edges": ls_tau(S[have], y[have]),
            "sources_live_edges": ls_tau(S[pruned[have]], y[have]),
        })
        log.info("%s", {k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()})
    df = pd.DataFrame(rows).round(4)
    write_csv_atomic(df, args.out / OUT_FILE, index=False)
    print(df.to_string(index=False))


if __name__ == "__main__":
    main()
