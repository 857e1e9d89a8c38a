"""Tables and the figure of the miniature, from its finished results files.

- ``ground_truth.csv``: per architecture the mean accuracy over the ground-truth seeds, its
  standard deviation and every seed's accuracy (written between the two grids: the
  super-networks are compared with it);
- ``ground_truth_repeatability.json``: how well the ground truth agrees with itself (no
  super-network can rank the architectures better);
- ``summary.csv``: mean and standard deviation over the seeds of every super-network metric;
- ``improvement.png``: top-N improvement and Kendall's tau against the split or stop epoch
  (Figures 6.4 / 6.6), the baseline's mean +- std as a band.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from ..errors import DataFormatError
from ..utils.figures import save_figure, subplots
from ..utils.io import atomic_write, write_csv_atomic

GT_RUNS_NAME = "ground_truth_runs.csv"
GT_NAME = "ground_truth.csv"
REPEATABILITY_NAME = "ground_truth_repeatability.json"
SUPERNETS_NAME = "supernets.csv"
SUMMARY_NAME = "summary.csv"
FIGURE_NAME = "improvement"
#: Selection metrics averaged over the seeds (Section 6.3.4).
METRICS = ("kendall_tau", "kendall_tau_top50", "top1_truth", "top5_truth", "top10_truth",
           "top1_improvement", "top5_improvement", "top10_improvement")
#: Panels of the figure: metric and title.
PANELS = (("top1_improvement", "top-1 improvement"), ("top5_improvement", "top-5 improvement"),
          ("top10_improvement", "top-10 improvement"), ("kendall_tau", "Kendall's tau"))
FIG_DPI = 120
PANEL_SIZE = (4.0, 3.2)


def read_table(path: Path) -> pd.DataFrame:
    """A results CSV with the exact float values that were written (pandas' default parser
    may be one unit in the last place off, which would change the aggregates)."""
    try:
        return pd.read_csv(path, float_precision="round_trip")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFormatError(f"{path}: cannot read the results ({exc})") from None


def seed_accuracies(runs: pd.DataFrame) -> pd.DataFrame:
    """Architectures x seeds table of stand-alone accuracies (``accuracy_seed<S>`` columns)."""
    wide = runs.pivot(index=["index", "arch"], columns="seed", values="accuracy")
    wide.columns = [f"accuracy_seed{s}" for s in wide.columns]
    return wide


def ground_truth_table(runs: pd.DataFrame) -> pd.DataFrame:
    """``arch``, ``accuracy`` (mean over seeds), ``accuracy_std`` and every seed's accuracy."""
    wide = seed_accuracies(runs)
    table = wide.reset_index()
    table.insert(2, "accuracy", wide.mean(axis=1).to_numpy())
    table.insert(3, "accuracy_std", wide.std(axis=1, ddof=1).to_numpy() if wide.shape[1] > 1 else np.nan)
    return table.drop(columns="index")


def write_ground_truth(out: Path) -> Path:
    """``ground_truth.csv`` from the finished stand-alone runs in ``out``."""
    return write_csv_atomic(ground_truth_table(read_table(out / GT_RUNS_NAME)), out / GT_NAME)


def repeatability(wide: pd.DataFrame) -> dict[str, Any]:
    """Kendall's tau and mean |difference| between every pair of seeds, against the spread of
    the architectures' mean accuracy."""
    pairs = [{"seeds": f"{a}/{b}", "kendall_tau": float(kendalltau(wide[a], wide[b]).statistic),
              "mean_abs_diff": float((wide[a] - wide[b]).abs().mean())}
             for a, b in itertools.combinations(wide.columns, 2)]
    mean = wide.mean(axis=1)
    return {"n_archs": int(len(wide)), "n_seeds": int(wide.shape[1]), "pairs": pairs,
            "mean_accuracy": float(mean.mean()), "std_between_archs": float(mean.std(ddof=1)),
            "range": [float(mean.min()), float(mean.max())]}


def aggregate(supernets: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over the seeds per run kind and epoch, and the seed count."""
    g = supernets.groupby(["kind", "epoch"])[list(METRICS) + ["train_s"]]
    agg = g.mean().add_suffix("_mean").join(g.std().add_suffix("_std")).join(g.size().rename("n_seeds"))
    return agg.reset_index()


def plot_improvement(agg: pd.DataFrame, out: Path) -> list[Path]:
    """Figure 6.4 / 6.6 equivalent (``improvement.png``)."""
    fig, axes = subplots(1, len(PANELS), figsize=(PANEL_SIZE[0] * len(PANELS), PANEL_SIZE[1]))
    base = agg[agg["kind"] == "baseline"]
    for ax, (metric, label) in zip(axes, PANELS):
        if len(base):
            m, sd = base[f"{metric}_mean"].iloc[0], np.nan_to_num(base[f"{metric}_std"].iloc[0])
            ax.axhline(m, color="k", lw=1, label="baseline")
            ax.axhspan(m - sd, m + sd, color="k", alpha=0.1)
        for kind, style in (("split", "o-"), ("early_stop", "s--")):
            g = agg[agg["kind"] == kind].sort_values("epoch")
            if len(g):
                ax.errorbar(g["epoch"], g[f"{metric}_mean"], yerr=np.nan_to_num(g[f"{metric}_std"]), fmt=style,
                            capsize=3, label=kind.replace("_", " "))
        ax.set_xlabel("split / stop epoch")
        ax.set_title(label)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out, FIGURE_NAME, formats=("png",), dpi=FIG_DPI)


def write_report(results: Path, report_dir: Path) -> list[Path]:
    """Every table and the figure that the run of ``results`` (its ``supernets.csv`` or
    ``ground_truth_runs.csv``; the other lies beside it) allows, into ``report_dir``."""
    results, report_dir = Path(results), Path(report_dir)
    out = results.parent
    tables = {name: read_table(out / name) for name in (GT_RUNS_NAME, SUPERNETS_NAME)
              if name == results.name or (out / name).is_file()}
    if results.name not in tables or not len(tables[results.name]):
        raise DataFormatError(f"{results}: no miniature results ({GT_RUNS_NAME} or {SUPERNETS_NAME} with rows) "
                              "to report on; run 'nasbench-study supernet-miniature run' first")
    written = []
    if len(tables.get(GT_RUNS_NAME, ())):
        runs = tables[GT_RUNS_NAME]
        if report_dir != out:
            written.append(write_csv_atomic(ground_truth_table(runs), report_dir / GT_NAME))
        with atomic_write(report_dir / REPEATABILITY_NAME) as fh:
            json.dump(repeatability(seed_accuracies(runs)), fh, indent=1)
        written.append(report_dir / REPEATABILITY_NAME)
    if len(tables.get(SUPERNETS_NAME, ())):
        agg = aggregate(tables[SUPERNETS_NAME])
        written.append(write_csv_atomic(agg, report_dir / SUMMARY_NAME))
        written += plot_improvement(agg, report_dir)
    return written
