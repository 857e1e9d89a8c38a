"""The committed quick preset regenerates: one committed row of every predictor is re-run from
the current code and must match the committed metrics (timing columns aside).

The rows are the cheapest of each predictor (smallest training size, seed 0, on one dataset),
so the slice covers all 18 predictors, the tuned ones included, in well under a minute.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nasbench_tools.study.metrics import METRIC_COLUMNS
from nasbench_tools.study.runner import KEY_COLUMNS, build_tasks, run_task
from nasbench_tools.study.spec import preset

REPO = Path(__file__).resolve().parents[1]
QUICK = REPO / "results" / "quick"
#: The dataset the slice uses (first of the quick preset's five).
SLICE_SEED = 0
#: Relative tolerance of a metric: the CSV stores floats with round-trip precision, so a
#: regenerated row matches to the last bits; this only absorbs text formatting.
RTOL = 1e-9


def _committed() -> pd.DataFrame:
    return pd.read_csv(QUICK / "results.csv")


def _slice(df: pd.DataFrame) -> pd.DataFrame:
    first = df["dataset"].iloc[0]
    rows = df[(df["dataset"] == first) & (df["seed"] == SLICE_SEED)]
    return rows.sort_values("train_size").groupby("predictor", sort=False).head(1)


def test_committed_results_record_versions() -> None:
    import json

    meta = json.loads((QUICK / "results.csv.config.json").read_text())
    versions = meta.get("library_versions")
    assert versions, "results/quick records no library versions"
    for name in ("python", "numpy", "scikit-learn", "torch", "nasbench-study"):
        assert name in versions


@pytest.mark.slow
def test_quick_slice_regenerates(store) -> None:
    committed = _committed()
    rows = _slice(committed)
    spec = preset("quick")
    assert set(rows["predictor"]) == set(spec.predictors), "the slice must cover every predictor"
    keys = {tuple(r) for r in rows[list(KEY_COLUMNS)].itertuples(index=False)}
    tasks = [t for t in build_tasks(spec, store) if tuple(map(str, t.key)) in {tuple(map(str, k)) for k in keys}]
    assert len(tasks) == len(rows)
    fresh = pd.concat([run_task(t) for t in tasks], ignore_index=True)
    merged = rows.merge(fresh, on=list(KEY_COLUMNS), suffixes=("_committed", "_fresh"))
    assert len(merged) == len(rows)
    assert (merged["status_fresh"] == "ok").all(), merged.loc[merged["status_fresh"] != "ok", "error_fresh"].tolist()
    for col in METRIC_COLUMNS + ("cv_score",):
        a, b = merged[f"{col}_committed"].to_numpy(float), merged[f"{col}_fresh"].to_numpy(float)
        bad = ~np.isclose(a, b, rtol=RTOL, atol=0, equal_nan=True)
        assert not bad.any(), (
            f"{col} differs from results/quick for {merged.loc[bad, 'predictor'].tolist()}: "
            f"committed {a[bad]}, fresh {b[bad]}"
        )
    assert (merged["params_committed"] == merged["params_fresh"]).all()
