"""``nasbench-study lut``: lookup-table predictor quality (Kendall's tau over the whole space).

The table is fitted from the measured neighbours of the space's baseline(s) (25 architectures
for the NB201 cell) and evaluated on every architecture with a value.  ``--all-hwnas`` does the
27 complete HW-NAS-Bench datasets (EdgeTPU latency is incomplete and excluded) and prints the
per-device means next to the paper's Table 5.1.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..dissertation import COMPLETE_HWNAS_METRICS, TABLE_5_1_LOOKUP_TABLE
from ..errors import ParameterError
from .common import add_data_dir, add_format, add_progress, format_table, print_json

#: Table 5.1 of the dissertation: lookup-table Kendall's tau, mean over the three image datasets.
PAPER_TABLE_5_1 = TABLE_5_1_LOOKUP_TABLE


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lut", help="lookup-table predictor: architectures measured and Kendall's tau")
    add_data_dir(p)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--dataset", metavar="ID", help="dataset ID, e.g. hwnas/cifar10/edgegpu_latency")
    which.add_argument("--all-hwnas", action="store_true",
                       help="all 27 complete HW-NAS-Bench datasets, with per-device means vs the paper")
    add_progress(p)
    add_format(p)
    p.set_defaults(func=cmd_lut)


def complete_hwnas_ids() -> list[str]:
    """The 27 complete HW-NAS-Bench dataset IDs (EdgeTPU latency left out)."""
    from ..datasets import HWNAS_DATASETS

    return [f"hwnas/{d}/{m}" for m in COMPLETE_HWNAS_METRICS for d in HWNAS_DATASETS]


def check_lut_measurable(dataset: Any) -> None:
    """Refuse (one line) a dataset that lacks values for the lookup table's neighbour architectures."""
    import numpy as np

    space = dataset.space
    needed = space.lut_architectures()
    missing = ~np.isfinite(dataset.values[space.index(needed)])
    if missing.any():
        first = space.format(needed[missing][:1])[0]
        raise ParameterError(
            f"{dataset.id}: the lookup table needs values for the {len(needed)} neighbour architectures of the "
            f"baseline, {int(missing.sum())} have none (e.g. {first}); choose a complete dataset"
        )


def cmd_lut(args: argparse.Namespace) -> int:
    import numpy as np
    from tqdm import tqdm

    from ..datasets import HWNAS_DATASETS, DataStore
    from ..study.lut import evaluate_lut

    store = DataStore(args.data_dir)
    if args.dataset:
        dataset = store.load(args.dataset)
        check_lut_measurable(dataset)
        n, tau = evaluate_lut(dataset)
        if args.format == "json":
            print_json({"dataset": args.dataset, "measured": n, "kendall_tau": tau})
        else:
            print(f"dataset {args.dataset}: lookup table from {n} measured architectures, "
                  f"Kendall's tau over all architectures {tau:.4f}")
        return 0
    rows, taus = [], {}
    for ds_id in tqdm(complete_hwnas_ids(), desc="lookup tables", disable=args.no_progress or args.format == "json"):
        n, tau = evaluate_lut(store.load(ds_id))
        taus[ds_id] = tau
        rows.append((ds_id, n, tau))
    summary = []
    for metric, paper in PAPER_TABLE_5_1.items():
        mean = float(np.mean([taus[f"hwnas/{d}/{metric}"] for d in HWNAS_DATASETS]))
        summary.append((metric, mean, paper))
    if args.format == "json":
        print_json({
            "datasets": [{"dataset": d, "measured": n, "kendall_tau": t} for d, n, t in rows],
            "table_5_1": [{"metric": m, "toolkit": t, "paper": p, "difference": t - p} for m, t, p in summary],
        })
        return 0
    print(format_table(["dataset", "measured", "kendall_tau"], [(d, n, f"{t:.4f}") for d, n, t in rows]))
    print()
    print(format_table(["metric (mean of 3 datasets)", "toolkit", "paper Table 5.1", "difference"],
                       [(m, f"{t:.2f}", f"{p:.2f}", f"{t - p:+.2f}") for m, t, p in summary]))
    return 0
