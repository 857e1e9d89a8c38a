"""Report of a simulation run: Figures 5.5, 5.6, 5.7, A.5, A.6, A.7 as PNG + PDF, each with a CSV.

The aggregated table (mean and std per dataset, subset size and std) is written too, as
``aggregated.csv``: it is what the figures are drawn from and small enough to commit.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from nasbench_tools.datasets import DataStore
from nasbench_tools.dissertation import PUBLISHED_SIMULATION
from nasbench_tools.runner.results import CONFIG_SUFFIX
from nasbench_tools.utils.figures import subplots
from nasbench_tools.utils.io import write_csv_atomic
from nasbench_tools.utils.report import read_results, save_figure_with_data

from .deviations import sample_deviations
from .engine import single_selection
from .grid import COLUMNS
from .metrics import METRIC_COLUMNS, SelectionScores
from .problem import SelectionProblem, load_problem

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

EXAMPLE_STD = 0.5
EXAMPLE_SIZE = 1000
A6_STD = 1.0
A6_MAX_TRIES = 500
HIST_SAMPLES = 20000
HIST_BINS = 60
#: Fits whose deviation std exceeds this are left out of Figure A.7 (as the original plots did:
#: linear-regression blow-ups when an op never occurs in the training data).
REAL_STD_LIMIT = 2.0


def short(dataset: str) -> str:
    """``hwnas/cifar10/edgegpu_latency`` -> ``cifar10 edgegpu_latency``."""
    return " ".join(dataset.split("/")[1:]) if dataset.count("/") == 2 else dataset


def _save(fig: "Figure", out: Path, name: str, table: pd.DataFrame, files: list[Path]) -> None:
    files.extend(save_figure_with_data(fig, out, name, table))


def load_results(path: Path) -> tuple[pd.DataFrame, dict]:
    """The rows of a simulation run (at least one) and its stored configuration ({} without one)."""
    df = read_results(path, COLUMNS, "simulation", run_command="nasbench-study simulate run")
    cfg_path = path.with_name(path.name + CONFIG_SUFFIX)
    config = json.loads(cfg_path.read_text())["config"] if cfg_path.is_file() else {}
    return df, config


def aggregate(df: pd.DataFrame) -> pd.DataFrame:
    g = df.groupby(["dataset", "subset_size", "std"])[list(METRIC_COLUMNS)]
    agg = g.mean().add_suffix("_mean").join(g.std(ddof=0).add_suffix("_std")).join(g.size().rename("trials"))
    return agg.reset_index()


def figure_5_6(df: pd.DataFrame, out: Path, files: list[Path]) -> pd.DataFrame:
    """MRA_all and MRA_pareto vs std (with Kendall's tau), averaged and per dataset."""
    overall = df.groupby("std").agg(kendall_tau=("kendall_tau", "mean"), mra_all_mean=("mra_all", "mean"),
                                    mra_all_std=("mra_all", "std"), mra_pareto_mean=("mra_pareto", "mean"),
                                    mra_pareto_std=("mra_pareto", "std")).reset_index()
    per_ds = df.groupby(["dataset", "std"]).agg(kendall_tau=("kendall_tau", "mean"), mra_all_mean=("mra_all", "mean"),
                                                mra_pareto_mean=("mra_pareto", "mean")).reset_index()
    fig, (a, b) = subplots(1, 2, figsize=(12, 4.3), sharey=True)
    x = overall["std"]
    for col, label, color in (("mra_all", "MRA$_{all}$ (accept selection)", "tab:orange"),
                              ("mra_pareto", "MRA$_{pareto}$ (verify by measuring)", "tab:blue")):
        a.plot(x, overall[f"{col}_mean"], "o-", color=color, label=label)
        a.fill_between(x, overall[f"{col}_mean"] - overall[f"{col}_std"], overall[f"{col}_mean"] + overall[f"{col}_std"],
                       color=color, alpha=0.15)
    a.set_xlabel("std of the predictor deviations (standardised hardware units)")
    a.set_ylabel("mean reduction in accuracy [%-points]")
    a.set_title("all datasets and subset sizes (band: ±1 std)")
    a.set_ylim(bottom=0)
    a.grid(alpha=0.3)
    top = a.secondary_xaxis("top")
    top.set_xticks(list(x), [f"{t:.2f}" for t in overall["kendall_tau"]], fontsize=7)
    top.set_xlabel("Kendall's tau of the simulated predictor")
    a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False)
    for ds, part in per_ds.groupby("dataset"):
        line, = b.plot(part["std"], part["mra_pareto_mean"], "o-", ms=3, label=f"{short(ds)}")
        b.plot(part["std"], part["mra_all_mean"], "--", color=line.get_color(), alpha=0.6)
    b.set_xlabel("std of the predictor deviations (standardised hardware units)")
    b.set_title("per dataset: MRA$_{pareto}$ (solid), MRA$_{all}$ (dashed)")
    b.grid(alpha=0.3)
    b.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    table = pd.concat([overall.assign(dataset="all"), per_ds], ignore_index=True)
    _save(fig, out, "fig5_6_mra_vs_std", table, files)
    return overall


def figure_5_7(df: pd.DataFrame, out: Path, files: list[Path]) -> pd.DataFrame:
    """Hypervolume vs std per subset size (mean over datasets)."""
    t = df.groupby(["subset_size", "std"]).agg(hypervolume_mean=("hypervolume", "mean"), hypervolume_std=("hypervolume", "std"),
                                                hypervolume_true_front=("hypervolume_true_front", "mean"),
                                                kendall_tau=("kendall_tau", "mean")).reset_index()
    fig, ax = subplots(figsize=(8, 4.5))
    for size, part in t.groupby("subset_size"):
        ax.plot(part["std"], part["hypervolume_mean"], "o-", ms=3, label=f"{size} architectures")
    ax.set_xlabel("std of the predictor deviations (standardised hardware units)")
    ax.set_ylabel("hypervolume of the selection\n(accuracy fraction x standardised hardware)")
    ax.set_title("Considering more architectures and better predictors improves the selection")
    ax.grid(alpha=0.3)
    taus = t.groupby("std")["kendall_tau"].mean()
    top = ax.secondary_xaxis("top")
    top.set_xticks(list(taus.index), [f"{v:.2f}" for v in taus.values], fontsize=7)
    top.set_xlabel("Kendall's tau of the simulated predictor")
    ax.legend(title="subset size", loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    _save(fig, out, "fig5_7_hypervolume_vs_std", t, files)
    return t


def _selection_points(acc: np.ndarray, hw: np.ndarray, noisy: np.ndarray, scores: SelectionScores) -> pd.DataFrame:
    return pd.DataFrame({"hardware_true": hw, "hardware_predicted": noisy, "accuracy": acc,
                         "selected": scores.selected[0], "selected_pareto": scores.selected_pareto[0],
                         "true_front": scores.true_front[0]})


def _front_step(ax: "Axes", hw: np.ndarray, acc: np.ndarray, **kw: Any) -> None:
    order = np.argsort(hw, kind="stable")
    ax.step(hw[order], acc[order], where="post", **kw)


def _plot_selection(axes: tuple["Axes | None", "Axes"], pts: pd.DataFrame, scores: SelectionScores, title: str) -> None:
    left, right = axes
    sel = pts["selected"].to_numpy()
    front = pts["true_front"].to_numpy()
    ver = pts["selected_pareto"].to_numpy()
    hw, hp, acc = (pts[c].to_numpy() for c in ("hardware_true", "hardware_predicted", "accuracy"))
    if left is not None:
        left.scatter(hp, acc, s=3, color="tab:blue", alpha=0.35, label="all architectures (predicted hardware)")
        _front_step(left, hp[sel], acc[sel], color="tab:orange", label="predicted Pareto front")
        _front_step(left, hw[front], acc[front], color="tab:red", label="true Pareto front")
        left.scatter(hw[sel], acc[sel], s=30, color="tab:orange", edgecolor="k", zorder=3,
                     label="selected architectures (true values)")
        left.set_xlabel("standardised hardware metric (lower is better)")
        left.set_ylabel("test accuracy [%]")
        left.set_title(title)
        left.grid(alpha=0.3)
        left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False, ncol=2, fontsize=8)
    _front_step(right, hw[front], acc[front], color="tab:red", marker="o", ms=3,
                label=f"true Pareto front, HV={scores.hypervolume_true_front[0]:.3f}")
    _front_step(right, hw[ver], acc[ver], color="tab:orange", ls="--",
                label=f"discovered Pareto front, HV={scores.hypervolume[0]:.3f}")
    right.scatter(hw[sel], acc[sel], s=30, color="tab:orange", edgecolor="k", zorder=3,
                  label=f"selected ({int(sel.sum())}): MRA$_{{all}}$={scores.mra_all[0]:.2f} %, "
                        f"MRA$_{{pareto}}$={scores.mra_pareto[0]:.2f} %")
    lo = np.percentile(acc, 50)
    right.set_ylim(lo, acc.max() + 0.5)
    right.set_xlabel("standardised hardware metric (lower is better)")
    right.set_ylabel("test accuracy [%]")
    right.grid(alpha=0.3)
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False, fontsize=8)


def figure_5_5(problem: SelectionProblem, seed: int, out: Path, files: list[Path]) -> None:
    rng = np.random.default_rng(seed)
    size = min(EXAMPLE_SIZE, problem.size)
    acc, hw, noisy, scores = single_selection(problem, size, EXAMPLE_STD, rng)
    pts = _selection_points(acc, hw, noisy, scores)
    fig, axes = subplots(1, 2, figsize=(12, 5))
    _plot_selection(axes, pts, scores, f"{short(problem.hardware_id)}: {size} architectures, std={EXAMPLE_STD}")
    _save(fig, out, "fig5_5_selection_example", pts, files)


def figure_a6(problem: SelectionProblem, seed: int, out: Path, files: list[Path]) -> bool:
    rng = np.random.default_rng(seed + 1)
    size = min(EXAMPLE_SIZE, problem.size)
    for _ in range(A6_MAX_TRIES):
        acc, hw, noisy, scores = single_selection(problem, size, A6_STD, rng)
        if scores.mra_pareto[0] > scores.mra_all[0]:
            pts = _selection_points(acc, hw, noisy, scores)
            fig, ax = subplots(figsize=(6.5, 5))
            _plot_selection((None, ax), pts, scores, "")
            ax.set_title(f"MRA$_{{pareto}}$ > MRA$_{{all}}$: {short(problem.hardware_id)}, std={A6_STD}")
            _save(fig, out, "figA6_mra_pareto_exceeds_all", pts, files)
            return True
    log.warning("no selection with MRA_pareto > MRA_all found in %d tries; Figure A.6 skipped", A6_MAX_TRIES)
    return False


def figure_a5(real_deviations: np.ndarray | None, real_label: str, out: Path, files: list[Path], seed: int) -> None:
    """Simulated deviation distributions (both variants) with a normal fit, next to real ones."""
    rng = np.random.default_rng(seed)
    panels = [("simulated (text variant), std 0.5", sample_deviations(rng, 1, HIST_SAMPLES, 0.5, "text")[0]),
              ("simulated (original code), std 0.5", sample_deviations(rng, 1, HIST_SAMPLES, 0.5, "original-code")[0])]
    if real_deviations is not None:
        panels.insert(0, (real_label, real_deviations))
    fig, axes = subplots(1, len(panels), figsize=(4.6 * len(panels), 3.8), sharey=True)
    rows = []
    for ax, (label, dev) in zip(np.atleast_1d(axes), panels):
        lim = np.percentile(np.abs(dev), 99.5) * 1.2
        bins = np.linspace(-lim, lim, HIST_BINS + 1)
        dens, edges = np.histogram(dev, bins=bins, density=True)
        ax.stairs(dens, edges, fill=True, alpha=0.6, label="deviations")
        mu, sd = stats.norm.fit(dev)
        xs = np.linspace(-lim, lim, 400)
        ax.plot(xs, stats.norm.pdf(xs, mu, sd), color="tab:orange", label=f"normal fit, std={sd:.3f}")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("prediction - truth (standardised units)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False, fontsize=8)
        rows += [{"panel": label, "bin_left": lo, "bin_right": hi, "density": d} for lo, hi, d in zip(edges[:-1], edges[1:], dens)]
    np.atleast_1d(axes)[0].set_ylabel("density")
    _save(fig, out, "figA5_deviation_distributions", pd.DataFrame(rows), files)


def figure_a7(df: pd.DataFrame, real: pd.DataFrame | None, out: Path, files: list[Path]) -> None:
    """Std of the deviations vs Kendall's tau: real predictors next to simulated ones."""
    sim = df.groupby(["dataset", "std"])["kendall_tau"].mean().reset_index()
    panels = 2 if real is not None else 1
    fig, axes = subplots(1, panels, figsize=(5.5 * panels, 4.2), sharey=True, sharex=True)
    axes = np.atleast_1d(axes)
    table = sim.assign(source="simulated").rename(columns={"std": "dev_std"})
    if real is not None:
        kept = real[real["dev_std"] <= REAL_STD_LIMIT]
        for (ds, pred), part in kept.groupby(["dataset", "predictor"]):
            axes[0].scatter(part["dev_std"], part["pool_kendall_tau"], s=18, label=f"{pred}: {short(ds)}")
        dropped = len(real) - len(kept)
        axes[0].set_title("trained predictors" + (f" ({dropped} fits with std > {REAL_STD_LIMIT} not shown)" if dropped else ""),
                          fontsize=9)
        axes[0].set_ylabel("Kendall's tau")
        axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False, fontsize=7)
        real_rows = real[["dataset", "predictor", "train_size", "seed", "dev_std", "pool_kendall_tau"]]
        table = pd.concat([table, real_rows.rename(columns={"pool_kendall_tau": "kendall_tau"}).assign(
            source="real", shown=real_rows["dev_std"] <= REAL_STD_LIMIT)], ignore_index=True)
    ax = axes[-1]
    for ds, part in sim.groupby("dataset"):
        ax.plot(part["std"], part["kendall_tau"], "o-", ms=3, label=short(ds))
    ax.set_title("simulation")
    ax.set_xlabel("std of the deviations (standardised units)")
    axes[0].set_ylabel("Kendall's tau")
    for a in axes:
        a.grid(alpha=0.3)
        a.set_xlabel("std of the deviations (standardised units)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False, fontsize=7)
    _save(fig, out, "figA7_std_vs_kendall_tau", table, files)


#: Values read off the published figures (protocol §3), averaged over datasets and subset sizes.
PUBLISHED = PUBLISHED_SIMULATION


def published_comparison(df: pd.DataFrame) -> pd.DataFrame:
    """This run's values at the points the protocol quotes from the published figures."""
    rows = []
    for metric, std, published in PUBLISHED:
        part = df[np.isclose(df["std"], std)]
        if metric == "hypervolume_full_space":
            part = part[part["subset_size"] == part["subset_size"].max()]
            value = part["hypervolume"].mean() if len(part) else np.nan
            note = f"subset size {int(part['subset_size'].max())}" if len(part) else "std not in the run"
        else:
            value = part[metric].mean() if len(part) else np.nan
            note = "mean over datasets and subset sizes" if len(part) else "std not in the run"
        rows.append({"metric": metric, "std": std, "published": published, "this_run": value, "note": note})
    return pd.DataFrame(rows)


def write_report(results: Path, out: Path, *, store: DataStore | None = None, data_dir: str | Path | None = None,
                 real: str | Path | None = None, seed: int | None = None) -> list[Path]:
    """Write every figure (PNG, PDF, CSV) and ``aggregated.csv``; returns the files. The data come
    from ``store`` (else a store of ``data_dir``); a results file without rows is refused before
    ``out`` is created."""
    df, config = load_results(Path(results))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    agg = aggregate(df)
    files.append(write_csv_atomic(agg, out / "aggregated.csv"))
    figure_5_6(df, out, files)
    figure_5_7(df, out, files)
    files.append(write_csv_atomic(published_comparison(df), out / "comparison_published.csv"))
    mode = config.get("mode", "default")
    seed = int(config.get("seed", 0)) if seed is None else seed
    store = store or DataStore(data_dir)
    problem = load_problem(sorted(df["dataset"].unique())[0], mode=mode, store=store)
    figure_5_5(problem, seed, out, files)
    figure_a6(problem, seed, out, files)
    real_df = pd.read_csv(real) if real is not None else None
    real_dev, label = None, ""
    if real_df is not None and "dev_std" in real_df:
        # the real deviation distribution of the first fit listed, re-fitted deterministically
        row = real_df.iloc[0]
        try:
            from .real import canonical_values, fit_predictions

            pred, train = fit_predictions(row["dataset"], row["predictor"], int(row["train_size"]), int(row["seed"]), store)
            p = load_problem(row["dataset"], store=store)  # real predictions belong to the true pairs
            _, hw = canonical_values(p)
            pool = np.setdiff1d(np.arange(p.size), train)
            real_dev = (pred[pool] - p.hardware_mean) / p.hardware_std - hw[pool]
            label = f"{row['predictor']} ({int(row['train_size'])} samples), {short(row['dataset'])}"
        except (ImportError, KeyError, ValueError) as exc:
            log.warning("real deviations unavailable for Figure A.5: %s", exc)
    figure_a5(real_dev, label, out, files, seed)
    figure_a7(df, real_df, out, files)
    return files
