"""Summarise a transfer-lodo study: mean Kendall's tau against k per strategy and target group.

Usage: python scripts/transfer_summary.py [results/transfer] [--gcn results/transfer-gcn]
Writes into the folder: summary.csv (group x strategy x k), per_target.csv (every target x
strategy x k), spearman_k10.csv (Spearman's rho at k = 10 per HW-NAS-Bench latency device, the
statistic HELP reports), summary.md (the tables plus the issue's targets checked), tau_vs_k.png (one panel
per target group) and versions.json (library versions of the run); with ``--gcn`` (a
transfer-lodo-gcn study) also gcn_comparison.csv: every strategy on the GCN grid's targets and
seeds, like for like.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd

from nasbench_tools.utils.figures import save_figure, subplots
from nasbench_tools.utils.io import atomic_write, write_csv_atomic
from nasbench_tools.utils.versions import library_versions

#: Target groups of the preset, in report order: (label, predicate on the dataset ID).
GROUPS = (
    ("HW-NAS-Bench latency", lambda d: d.startswith("hwnas/") and d.endswith("_latency")),
    ("HW-NAS-Bench energy", lambda d: d.startswith("hwnas/") and d.endswith("_energy")),
    ("TransNAS-Bench-101 micro", lambda d: d.startswith("transnas-micro/")),
    ("measured CPU (custom)", lambda d: d.startswith("custom/")),
)
LUT = "lookup_table"
#: The committed copy of the grid's rows (results.csv and its journal are not committed).
COMPRESSED_RESULTS = "results.csv.gz"
#: The issue's targets on the HW-NAS-Bench latency group: k -> mean tau.
LATENCY_TARGETS = {10: 0.80, 20: 0.86}
CPU_TARGET = (20, 0.85)
#: From this k on, the transfer predictor should never be below the lookup table on any target.
LUT_FROM_K = 25
TRANSFER = ("transfer_gp", "transfer_gp_suggested", "transfer_gp_live")
#: HELP (Lee et al., NeurIPS 2021): mean Spearman's rho on its six unseen NAS-Bench-201 devices
#: with 10 measurements each, the published anchor of issue 13 (its device split, not these).
HELP_K, HELP_RHO = 10, 0.932


def to_markdown(df: pd.DataFrame) -> str:
    """A Markdown table of ``df`` (index as the first column), without optional dependencies."""
    head = [str(df.index.name or "")] + [str(c) for c in df.columns]
    rows = [[str(i)] + [f"{v:.3f}" if isinstance(v, float) else str(v) for v in r] for i, r in zip(df.index, df.values)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def group_of(dataset: str) -> str:
    return next(label for label, pred in GROUPS if pred(dataset))


def target_checks(per: pd.DataFrame) -> list[str]:
    """One line per target of the issue: the measured value and whether it is met."""
    lines = []
    lat = per[per.group == GROUPS[0][0]]
    best = "transfer_gp_suggested"
    for k, goal in LATENCY_TARGETS.items():
        v = lat[(lat.predictor == best) & (lat.train_size == k)].kendall_tau.mean()
        lines.append(f"- HW-NAS-Bench latency, k = {k}: {v:.3f} (target {goal:.2f}: {'met' if v >= goal else 'NOT met'})")
    lut = lat[lat.predictor == LUT].set_index("dataset").kendall_tau
    for name in TRANSFER:
        t = lat[(lat.predictor == name) & (lat.train_size >= LUT_FROM_K)]
        below = t[t.kendall_tau.to_numpy() < lut.reindex(t.dataset).to_numpy()]
        lines.append(f"- {name}, k >= {LUT_FROM_K}, never below the lookup table: "
                     + ("met" if below.empty else f"NOT met on {len(below)} (target, k) cells, worst "
                        f"{(below.kendall_tau.to_numpy() - lut.reindex(below.dataset).to_numpy()).min():+.3f}"))
    cpu = per[(per.group == GROUPS[3][0]) & (per.train_size == CPU_TARGET[0])]
    for name in TRANSFER:
        v = cpu[cpu.predictor == name].kendall_tau.mean()
        if np.isfinite(v):
            lines.append(f"- measured CPU, {name}, k = {CPU_TARGET[0]}: {v:.3f} (target {CPU_TARGET[1]:.2f}: "
                         f"{'met' if v >= CPU_TARGET[1] else 'NOT met'})")
    for label, _ in GROUPS:
        g = per[(per.group == label) & (per.train_size <= 20)]
        s = g[g.predictor == "transfer_gp_suggested"].groupby("train_size").kendall_tau.mean()
        r = g[g.predictor == "transfer_gp"].groupby("train_size").kendall_tau.mean()
        if len(s):
            wins = ", ".join(f"k={k}: {s[k]:.3f} vs {r[k]:.3f}" for k in s.index)
            lines.append(f"- suggested vs random sets, {label}: {wins}")
    return lines


def figure(table: pd.DataFrame, out: Path) -> None:
    """tau against k per strategy, one panel per target group (lookup table: a marker at k = 25)."""
    groups = [g for g, _ in GROUPS if g in table.index.get_level_values("group")]
    fig, axes = subplots(1, len(groups), figsize=(4.2 * len(groups), 3.8), squeeze=False)
    for ax, g in zip(axes[0], groups):
        sub = table.loc[g]
        for name, row in sub.iterrows():
            row = row.dropna()
            style = dict(marker="s", linestyle="none", markersize=8) if name == LUT else dict(marker="o")
            ax.plot(row.index.astype(float), row.to_numpy(), label=name, **style)
        ax.set_xscale("log")
        ax.set_title(g, fontsize=10)
        ax.set_xlabel("architectures measured on the target (k)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("mean Kendall's tau (test 625)")
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    save_figure(fig, out, "tau_vs_k", formats=("png",))


def help_comparison(df: pd.DataFrame) -> pd.DataFrame:
    """Spearman's rho at k = HELP_K on each HW-NAS-Bench latency device (mean over its image
    datasets and the seeds), per strategy: the statistic HELP reports."""
    lat = df[df.dataset.map(group_of) == GROUPS[0][0]]
    lat = lat[lat.train_size == HELP_K].assign(device=lambda d: d.dataset.str.split("/").str[2])
    table = lat.groupby(["device", "predictor"]).spearman.mean().unstack("predictor")
    table.loc["mean"] = table.mean()
    return table.round(3)


def run_versions(out: Path) -> dict:
    """Library versions recorded by the run (``results.csv.config.json``), else the current ones."""
    try:
        return json.loads((out / "results.csv.config.json").read_text())["library_versions"]
    except (OSError, KeyError, json.JSONDecodeError):
        return library_versions()


def write_gzip_copy(src: Path, dest: Path) -> None:
    """A byte-reproducible gzip copy of ``src`` (no name, mtime 0): the full grid is committed
    compressed, since the plain CSV and its journal are several MB."""
    with atomic_write(dest, "wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0,
                                                       compresslevel=9) as gz:
        gz.write(src.read_bytes())


def gcn_comparison(df: pd.DataFrame, gcn: pd.DataFrame) -> pd.DataFrame:
    """Mean tau per strategy and k on the GCN grid's (dataset, seed) pairs only, GCN included."""
    pairs = gcn[["dataset", "seed"]].drop_duplicates()
    both = pd.concat([df.merge(pairs, on=["dataset", "seed"]), gcn], ignore_index=True)
    return both.groupby(["predictor", "train_size"]).kendall_tau.mean().unstack("train_size").round(3)


def main(folder: str, gcn_folder: str | None = None) -> None:
    out = Path(folder)
    raw = out / "results.csv"
    if raw.exists():
        df = pd.read_csv(raw)
        write_gzip_copy(raw, out / COMPRESSED_RESULTS)
    else:  # a clone: only the committed compressed copy
        df = pd.read_csv(out / COMPRESSED_RESULTS)
    df = df[df.status == "ok"]
    gcn = None
    if gcn_folder is not None:
        gcn = pd.read_csv(Path(gcn_folder) / "results.csv")
        gcn = gcn[gcn.status == "ok"]
    per = df.groupby(["dataset", "predictor", "train_size"]).kendall_tau.mean().reset_index()
    per["group"] = per.dataset.map(group_of)
    table = per.groupby(["group", "predictor", "train_size"]).kendall_tau.mean().unstack("train_size").round(3)
    order = [g for g, _ in GROUPS if g in table.index.get_level_values("group")]
    table = table.reindex(order, level="group")
    write_csv_atomic(table.reset_index(), out / "summary.csv", index=False)
    wide = per.pivot_table(index=["dataset", "predictor"], columns="train_size", values="kendall_tau").round(3)
    write_csv_atomic(wide.reset_index(), out / "per_target.csv", index=False)
    n_seeds = df.seed.nunique()
    with atomic_write(out / "summary.md") as fh:
        fh.write(f"Mean Kendall's tau over the targets of each group ({n_seeds} seeds, test 625; rows: strategy, "
                 "columns: k measured on the target; lookup_table always measures its 25 architectures)\n\n")
        for g in order:
            fh.write(f"### {g}\n\n{to_markdown(table.loc[g])}\n\n")
        fh.write("### The issue's targets\n\n" + "\n".join(target_checks(per)) + "\n\n")
        k20 = per[(per.train_size == 20) | (per.predictor == LUT)].pivot_table(index="dataset", columns="predictor",
                                                             values="kendall_tau").round(3)
        rho = help_comparison(df)
        write_csv_atomic(rho.reset_index(), out / "spearman_k10.csv", index=False)
        fh.write(f"### Spearman's rho at k = {HELP_K}, HW-NAS-Bench latency (HELP reports {HELP_RHO} on its six unseen "
                 "NB201 devices with 10 measurements; a different device split)\n\n" + to_markdown(rho) + "\n\n")
        fh.write("### Per target at k = 20 (lookup table: its 25 NB201 / 19 TransNAS micro architectures)\n\n" + to_markdown(k20) + "\n")
        if gcn is not None:
            cmp = gcn_comparison(df, gcn)
            write_csv_atomic(cmp.reset_index(), out / "gcn_comparison.csv", index=False)
            targets = ", ".join(sorted(gcn.dataset.unique()))
            fh.write(f"\n### With the GCN baseline (its grid only: {targets}; seeds "
                     f"{', '.join(map(str, sorted(gcn.seed.unique())))})\n\n" + to_markdown(cmp) + "\n")
    figure(table, out)
    with atomic_write(out / "versions.json") as fh:  # the versions the grid ran under, not this script's
        json.dump(run_versions(out), fh, indent=2, sort_keys=True)
    print(table.to_string())


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", default="results/transfer", help="the transfer-lodo study folder")
    ap.add_argument("--gcn", default=None, metavar="DIR", help="a transfer-lodo-gcn study folder to compare with")
    args = ap.parse_args()
    main(args.folder, args.gcn)
