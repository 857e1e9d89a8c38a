"""The committed quick and transfer-lodo presets regenerate: one committed row of every
predictor is re-run from the current code and must match the committed metrics (timing columns
aside).

The rows are the cheapest of each predictor (smallest training size, seed 0, on one dataset;
for transfer-lodo also on the measured CPU table), so the slices cover all 18 predictors, the
tuned ones included, and every transfer predictor, in well under a minute.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nasbench_tools.datasets import DataStore
from nasbench_tools.study.metrics import METRIC_COLUMNS
from nasbench_tools.study.runner import KEY_COLUMNS, build_tasks, run_task
from nasbench_tools.study.spec import TRANSFER_CPU_TARGET, preset

REPO = Path(__file__).resolve().parents[1]
QUICK = REPO / "results" / "quick"
TRANSFER = REPO / "results" / "transfer"
CPU_TABLE = REPO / "results" / "latency" / "nb201_cifar10_cpu.csv"
#: The dataset the slice uses (first of the quick preset's five).
SLICE_SEED = 0
#: Relative tolerance of a metric: the CSV stores floats with round-trip precision, so a
#: regenerated row matches to the last bits; this only absorbs text formatting.
RTOL = 1e-9


def _committed() -> pd.DataFrame:
    return pd.read_csv(QUICK / "results.csv")


def _slice(df: pd.DataFrame, datasets: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per dataset (default: the first) and predictor, the seed-0 row of the smallest size."""
    datasets = datasets or (df["dataset"].iloc[0],)
    rows = df[df["dataset"].isin(datasets) & (df["seed"] == SLICE_SEED)]
    return rows.sort_values("train_size").groupby(["dataset", "predictor"], sort=False).head(1)


def test_committed_results_record_versions() -> None:
    import json

    meta = json.loads((QUICK / "results.csv.config.json").read_text())
    versions = meta.get("library_versions")
    assert versions, "results/quick records no library versions"
    for name in ("python", "numpy", "scikit-learn", "torch", "nasbench-study"):
        assert name in versions


def _regenerate(rows: pd.DataFrame, spec, store: DataStore, label: str) -> None:
    """Re-run ``rows`` of ``spec`` and compare every metric and the parameters."""
    spec = replace(spec, datasets=tuple(dict.fromkeys(rows["dataset"])))
    keys = {tuple(map(str, r)) for r in rows[list(KEY_COLUMNS)].itertuples(index=False)}
    tasks = [t for t in build_tasks(spec, store) if tuple(map(str, t.key)) in keys]
    assert len(tasks) == len(rows)
    fresh = pd.concat([run_task(t) for t in tasks], ignore_index=True)
    merged = rows.merge(fresh, on=list(KEY_COLUMNS), suffixes=("_committed", "_fresh"))
    assert len(merged) == len(rows)
    assert (merged["status_fresh"] == "ok").all(), merged.loc[merged["status_fresh"] != "ok", "error_fresh"].tolist()
    for col in METRIC_COLUMNS + ("cv_score",):
        a, b = merged[f"{col}_committed"].to_numpy(float), merged[f"{col}_fresh"].to_numpy(float)
        bad = ~np.isclose(a, b, rtol=RTOL, atol=0, equal_nan=True)
        assert not bad.any(), (
            f"{col} differs from {label} for {merged.loc[bad, 'predictor'].tolist()}: "
            f"committed {a[bad]}, fresh {b[bad]}"
        )
    assert (merged["params_committed"] == merged["params_fresh"]).all()


@pytest.mark.slow
def test_quick_slice_regenerates(store) -> None:
    rows = _slice(_committed())
    spec = preset("quick")
    assert set(rows["predictor"]) == set(spec.predictors), "the slice must cover every predictor"
    _regenerate(rows, spec, store, "results/quick")


@pytest.mark.slow
def test_transfer_slice_regenerates(data_dir) -> None:
    """Every transfer-lodo predictor on the first HW-NAS-Bench target and the measured CPU table."""
    committed = pd.read_csv(TRANSFER / "results.csv.gz", float_precision="round_trip")
    spec = preset("transfer-lodo")
    rows = _slice(committed, (spec.datasets[0], TRANSFER_CPU_TARGET))
    assert set(rows["predictor"]) == set(spec.predictors) and rows["dataset"].nunique() == 2
    store = DataStore(data_dir, custom={"nb201_cifar10_cpu": CPU_TABLE})
    _regenerate(rows, spec, store, "results/transfer")
