"""Tables and figures of the predictor study (Section 5.5 and Appendix A of the dissertation).

Aggregation follows the protocol: mean over seeds, then over datasets.  Every table is written
as CSV and Markdown, every figure as PNG and PDF.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..datasets import DataStore
from ..dissertation import TABLE_5_1_SIZE, TABLE_A2_SORT_SIZE
from ..utils.figures import colormap, save_figure, subplots
from ..utils.io import write_csv_atomic
from ..utils.report import write_table
from .runner import LOOKUP_TABLE, load_results

if TYPE_CHECKING:
    from matplotlib.axes import Axes

log = logging.getLogger(__name__)

#: Table 5.1 reports linear regression at this training size (nasbench_tools.dissertation).
TABLE51_SIZE = TABLE_5_1_SIZE
#: 18 predictors: 20 colours, and line styles and markers cycling on top.
_STYLES = ("-", "--", ":", "-.")


def _ok(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["status"] == "ok"]


def _device_metric(dataset_id: str) -> tuple[str, str, str]:
    """``hwnas/cifar10/edgegpu_latency`` -> (image dataset, device, metric)."""
    parts = dataset_id.split("/")
    image, metric_full = (parts[1], parts[2]) if len(parts) == 3 else ("", dataset_id)
    device, _, metric = metric_full.partition("_")
    return image, device, metric or metric_full


# ------------------------------------------------------------------------------ tables
def mean_tau(df: pd.DataFrame, drop_dev_std: float | None = None) -> pd.DataFrame:
    """Mean Kendall tau over seeds per (dataset, predictor, train_size) (callers average datasets)."""
    ok = _ok(df)
    if drop_dev_std is not None:
        ok = ok[ok["dev_std"] <= drop_dev_std]
    return ok.groupby(["dataset", "predictor", "train_size"], as_index=False)["kendall_tau"].mean()


def figure53_table(df: pd.DataFrame, drop_dev_std: float | None = None) -> pd.DataFrame:
    """Predictor x training size: tau averaged over seeds then datasets (lookup table separate)."""
    per_ds = mean_tau(df, drop_dev_std)
    avg = per_ds.groupby(["predictor", "train_size"], as_index=False)["kendall_tau"].mean()
    return avg.pivot(index="predictor", columns="train_size", values="kendall_tau")


def per_dataset_table(df: pd.DataFrame) -> pd.DataFrame:
    """Dataset x predictor x size mean tau (the per-dataset breakdown), wide by size."""
    per_ds = mean_tau(df)
    return per_ds.pivot_table(index=["dataset", "predictor"], columns="train_size", values="kendall_tau")


def table_a2(df: pd.DataFrame) -> pd.DataFrame:
    """Linear regression tau per dataset and size, XGBoost at the largest size, lookup table."""
    per_ds = mean_tau(df)
    lin = per_ds[per_ds["predictor"] == "linear_regression"].pivot(index="dataset", columns="train_size", values="kendall_tau")
    lin.columns = [f"linreg@{c}" for c in lin.columns]
    out = lin
    xgb = per_ds[per_ds["predictor"] == "xgboost"]
    if len(xgb):
        largest = xgb["train_size"].max()
        out = out.join(xgb[xgb["train_size"] == largest].set_index("dataset")["kendall_tau"].rename(f"xgboost@{largest}"), how="outer")
    lut = per_ds[per_ds["predictor"] == LOOKUP_TABLE]
    if len(lut):
        out = out.join(lut.set_index("dataset")["kendall_tau"].rename("lookup_table"), how="outer")
    # the paper sorts by how well 25 samples suffice (its bottom 12 datasets are fit almost perfectly)
    sort_col = f"linreg@{TABLE_A2_SORT_SIZE}" if f"linreg@{TABLE_A2_SORT_SIZE}" in out.columns else out.columns[-1]
    return out.sort_values(sort_col, ascending=True)


def table_51(df: pd.DataFrame) -> pd.DataFrame:
    """Per device and metric: lookup-table tau and, in brackets, linear regression at 124 samples,
    each the mean over the image datasets."""
    per_ds = mean_tau(df)
    rows = []
    for dataset_id, group in per_ds.groupby("dataset"):
        image, device, metric = _device_metric(dataset_id)
        lut = group[group["predictor"] == LOOKUP_TABLE]["kendall_tau"]
        lin = group[(group["predictor"] == "linear_regression") & (group["train_size"] == TABLE51_SIZE)]["kendall_tau"]
        rows.append({"device": device, "metric": metric, "image_dataset": image,
                     "lookup_table": lut.mean() if len(lut) else math.nan,
                     f"linreg@{TABLE51_SIZE}": lin.mean() if len(lin) else math.nan})
    if not rows:
        return pd.DataFrame()
    long = pd.DataFrame(rows).groupby(["device", "metric"], as_index=False)[["lookup_table", f"linreg@{TABLE51_SIZE}"]].mean()
    long["cell"] = [f"{a:.2f} ({b:.2f})" for a, b in zip(long["lookup_table"], long[f"linreg@{TABLE51_SIZE}"])]
    return long


def aggregate(df: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and count over seeds of every metric per (dataset, predictor, train_size)."""
    metrics = ["kendall_tau", "spearman", "pearson", "mae", "rmse", "dev_mean", "dev_std", "fit_time_s"]
    g = _ok(df).groupby(["dataset", "predictor", "train_size"])[metrics]
    out = g.agg(["mean", "std"])
    out.columns = [f"{m}_{s}" for m, s in out.columns]
    out["n_seeds"] = g.size()
    out["n_errors"] = df[df["status"] != "ok"].groupby(["dataset", "predictor", "train_size"]).size()
    return out.fillna({"n_errors": 0})


def fit_time_table(df: pd.DataFrame) -> pd.DataFrame:
    ok = _ok(df)
    return ok.groupby(["predictor", "train_size"])["fit_time_s"].median().unstack("train_size")


# ------------------------------------------------------------------------------ figures
def _size_axis(ax: "Axes", sizes: Sequence[int]) -> None:
    """Log x-axis labelled with the actual training sizes."""
    ax.set_xscale("log")
    ax.set_xticks(list(sizes))
    from matplotlib.ticker import NullLocator, ScalarFormatter

    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.tick_params(axis="x", labelrotation=45)


def _style(i: int) -> dict:
    cmap = colormap("tab20")
    return {"color": cmap(i % 20), "linestyle": _STYLES[i % len(_STYLES)], "marker": "os^dv<>ph*"[i % 10], "markersize": 4}


def figure_53(table: pd.DataFrame, out: Path, title: str) -> None:
    """Mean tau vs training size, absolute and centred on the predictor average."""
    lut = table.loc[LOOKUP_TABLE].dropna() if LOOKUP_TABLE in table.index else None
    curves = table.drop(index=LOOKUP_TABLE, errors="ignore")
    sizes = [c for c in curves.columns if curves[c].notna().any()]
    curves = curves[sizes]
    centre = curves.mean(axis=0)
    fig, axes = subplots(1, 2, figsize=(12, 4.8), sharex=True)
    for i, (name, row) in enumerate(curves.iterrows()):
        axes[0].plot(sizes, row.values, label=name, **_style(i))
        axes[1].plot(sizes, (row - centre).values, label=name, **_style(i))
    if lut is not None and len(lut):
        for ax, y in ((axes[0], float(lut.mean())), (axes[1], None)):
            if y is not None:
                ax.axhline(y, color="black", linewidth=1.5, label="lookup_table")
    axes[1].axhline(0.0, color="grey", linewidth=0.8)
    for ax, ylabel in zip(axes, ("Kendall's tau", "Kendall's tau - predictor average")):
        _size_axis(ax, sizes)
        ax.set_xlabel("training samples (architectures)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0].set_title("absolute")
    axes[1].set_title("centred on the predictor average")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, out, "figure_5_3")


def figure_a3(times: pd.DataFrame, out: Path) -> None:
    fig, ax = subplots(figsize=(7.5, 4.8))
    for i, (name, row) in enumerate(times.iterrows()):
        ok = row.dropna()
        ax.plot(ok.index, ok.values, label=name, **_style(i))
    _size_axis(ax, [c for c in times.columns if times[c].notna().any()])
    ax.set_yscale("log")
    ax.set_xlabel("training samples (architectures)")
    ax.set_ylabel("fit time incl. tuning [s] (median over runs)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    ax.set_title("Figure A.3: predictor fit time")
    fig.tight_layout()
    save_figure(fig, out, "figure_A_3")


def figure_distributions(store: DataStore, datasets: Sequence[str], out: Path, name: str) -> pd.DataFrame:
    """Figures A.1/A.2: histograms of each selected dataset (not normalised)."""
    n = len(datasets)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    summary = []
    for ax, ds_id in zip(axes.ravel(), datasets):
        d = store.load(ds_id)
        v = d.values[~np.isnan(d.values)]
        ax.hist(v, bins=60, color="tab:blue", alpha=0.8)
        ax.set_title(ds_id.split("/", 1)[1], fontsize=9)
        ax.set_xlabel(f"{d.metric} [{d.unit}]" if d.unit else d.metric)
        ax.set_ylabel("architectures")
        summary.append({"dataset": ds_id, "n": len(v), "mean": v.mean(), "std": v.std(), "min": v.min(),
                        "median": np.median(v), "max": v.max(), "skew": stats.skew(v)})
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.tight_layout()
    save_figure(fig, out, name)
    return pd.DataFrame(summary).set_index("dataset")


def figure_54(store: DataStore, dataset_id: str, predictor: str, train_size: int, seed: int,
              test_size: int, out: Path) -> pd.DataFrame:
    """Figure 5.4: one fitted predictor's deviations (refitted here, seeded as in the study)."""
    from predictors import make

    from ..encodings import get_encoding
    from .splits import make_split

    d = store.load(dataset_id)
    split = make_split(d, seed, test_size)
    train = split.train(train_size)
    model = make(predictor, random_state=seed)
    enc = get_encoding(model.encoding)
    model.fit(enc(d.space, d.space.arch(train)), d.values[train])
    truth = d.values[split.test]
    pred = model.predict(enc(d.space, d.space.arch(split.test)))
    scale = truth.std()
    dev = (pred - truth) / scale
    mu, sigma = stats.norm.fit(dev)
    fig, axes = subplots(1, 2, figsize=(10, 4.2))
    axes[0].scatter(truth, pred, s=6, alpha=0.6)
    lo, hi = min(truth.min(), pred.min()), max(truth.max(), pred.max())
    axes[0].plot([lo, hi], [lo, hi], color="black", linewidth=1, label="prediction = truth")
    unit = f" [{d.unit}]" if d.unit else ""
    axes[0].set_xlabel(f"true {d.metric}{unit}")
    axes[0].set_ylabel(f"predicted {d.metric}{unit}")
    axes[0].legend(loc="upper left", fontsize=8)
    tau = stats.kendalltau(truth, pred)[0]
    axes[0].set_title(f"{predictor}, {train_size} samples: tau {tau:.2f}", fontsize=10)
    axes[1].hist(dev, bins=50, density=True, alpha=0.7, label="deviations")
    xs = np.linspace(dev.min(), dev.max(), 200)
    axes[1].plot(xs, stats.norm.pdf(xs, mu, sigma), color="black", label=f"normal fit (mean {mu:.2f}, std {sigma:.2f})")
    axes[1].set_xlabel("prediction - truth [standardised]")
    axes[1].set_ylabel("density")
    axes[1].legend(loc="upper left", fontsize=8)
    fig.suptitle(f"Figure 5.4: deviations on {dataset_id}")
    fig.tight_layout()
    save_figure(fig, out, "figure_5_4")
    return pd.DataFrame({"truth": truth, "prediction": pred, "deviation_std_units": dev})


def write_report(results_path: str | Path, out_dir: str | Path, *, store: DataStore | None = None,
                 deviation_predictor: str = "xgboost", drop_dev_std: float | None = None) -> list[Path]:
    """Every table and figure of the study from a results CSV; returns the files written. A
    results file without rows is refused before ``out_dir`` is created."""
    df = load_results(results_path, require_rows=True)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    store = store or DataStore()
    datasets = list(dict.fromkeys(df["dataset"]))
    title = f"{len(datasets)} datasets, {df['seed'].nunique()} seeds"
    t53 = figure53_table(df, drop_dev_std)
    write_table(t53, out, "figure_5_3")
    figure_53(t53, out, f"Figure 5.3: Kendall's tau vs training size ({title})")
    write_table(per_dataset_table(df), out, "per_dataset")
    if (df["predictor"] == "linear_regression").any():
        write_table(table_a2(df), out, "table_A_2")
        t51 = table_51(df)
        if len(t51):
            write_table(t51.pivot(index="metric", columns="device", values="cell").fillna(""), out, "table_5_1")
            write_table(t51.set_index(["device", "metric"]), out, "table_5_1_long")
    write_csv_atomic(aggregate(df).reset_index(), out / "aggregated.csv")
    times = fit_time_table(df)
    write_table(times, out, "figure_A_3", "{:.4f}")
    figure_a3(times, out)
    dist = figure_distributions(store, datasets[:6], out, "figure_A_1")
    write_table(dist, out, "figure_A_1")
    if deviation_predictor in set(df["predictor"]):
        sizes = sorted(df.loc[df["predictor"] == deviation_predictor, "train_size"].unique())
        size = min(sizes, key=lambda n: abs(n - TABLE51_SIZE))
        dev = figure_54(store, datasets[0], deviation_predictor, int(size), int(df["seed"].min()),
                        int(df["test_size"].iloc[0]), out)
        write_csv_atomic(dev, out / "figure_5_4.csv")
    return sorted(out.iterdir())
