"""The latency studies as experiments, on the committed NB201 CPU table and isolated-op costs:
the lookup-table comparison regenerates the committed rows (fit times aside), the live-vs-
predicted study its first trial's lookup-table and live rows; changed inputs are refused on
resume; the command line runs and reports them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from nasbench_tools.cli import main
from nasbench_tools.errors import ConfigError, ConfigMismatchError
from nasbench_tools.latency.live_study import LiveConfig, LiveVsPredicted
from nasbench_tools.latency.lut_study import TABLE_METHODS, LutComparison, LutComparisonConfig
from nasbench_tools.runner.config import write_config_toml
from nasbench_tools.runner.experiment import run_experiment

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "results" / "latency"


@pytest.fixture(autouse=True)
def in_repo(monkeypatch):
    """The presets name the committed files relative to the repository."""
    monkeypatch.chdir(REPO)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, float_precision="round_trip")


def test_lut_comparison_regenerates_the_committed_rows(tmp_path):
    """Ridge at 25 and 400 architectures keeps the committed test split (it depends on the
    largest training size); every lookup-table row and the overall meta are exact."""
    config = LutComparisonConfig(name="part", predictors=("ridge",), train_sizes=(25, 400), seeds=(0, 2))
    path = write_config_toml(tmp_path / "part.toml", config)
    out = tmp_path / "lut"
    assert main(["latency-lut", "run", "--config", str(path), "--out", str(out), "--no-progress"]) == 0
    assert main(["latency-lut", "report", "--results", str(out / "lut_comparison.csv"), "--out", str(out)]) == 0
    new = _read(out / "lut_comparison.csv").set_index(["seed", "method", "n_measured"])
    old = _read(COMMITTED / "lut-comparison" / "lut_comparison.csv").set_index(["seed", "method", "n_measured"])
    old = old.loc[new.index]
    tables = new.index.get_level_values("method").isin(TABLE_METHODS)
    pd.testing.assert_frame_equal(new[tables], old[tables], check_exact=True)
    assert (new["tau"] == old["tau"]).all() and (new["n_test"] == old["n_test"]).all()
    np.testing.assert_allclose(new["mape_pct"], old["mape_pct"], rtol=1e-12)  # BLAS may differ in the last digit
    meta = json.loads((out / "lut_isolated_meta.json").read_text())
    assert meta == json.loads((COMMITTED / "lut-comparison" / "lut_isolated_meta.json").read_text())
    assert len(_read(out / "lut_comparison_summary.csv")) == len(TABLE_METHODS) + 2


def test_changed_inputs_are_refused_on_resume(tmp_path, capsys):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name in ("nb201_cifar10_cpu.csv", "nb201_isolated_ops.csv", "nb201_isolated_ops.json"):
        shutil.copy(COMMITTED / name, inputs / name)
    config = LutComparisonConfig(name="tables", table=str(inputs / "nb201_cifar10_cpu.csv"),
                                 isolated_ops=str(inputs / "nb201_isolated_ops.csv"), predictors=(), seeds=(0,))
    out = tmp_path / "run"
    assert [s.ran for s in run_experiment(LutComparison(), config, out, progress=False)] == [3]
    assert [s.ran for s in run_experiment(LutComparison(), config, out, progress=False)] == [0]
    meta = inputs / "nb201_isolated_ops.json"
    meta.write_text(meta.read_text().replace('"isolated_parts": 16', '"isolated_parts": 17'))
    with pytest.raises(ConfigMismatchError, match="input_files"):
        run_experiment(LutComparison(), config, out, progress=False)
    meta.unlink()
    path = write_config_toml(tmp_path / "c.toml", config)
    assert main(["latency-lut", "run", "--config", str(path), "--out", str(tmp_path / "other")]) == 2
    assert "nb201_isolated_ops.json is not a file" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="predictors: unknown nope"):
        LutComparisonConfig(predictors=("nope",))


def test_live_vs_predicted_first_trial(tmp_path, store):
    config = LiveConfig(name="one", trials=1, predictors=("ridge",))
    out = tmp_path / "live"
    run_experiment(LiveVsPredicted(), config, out, store=store, progress=False)
    files = LiveVsPredicted().report(out / "live_vs_predicted.csv", out, store)
    assert {p.name for p in files} == {"live_vs_predicted_summary.csv", "live_vs_predicted.png"}
    new = _read(out / "live_vs_predicted.csv")
    old = _read(COMMITTED / "live-vs-predicted" / "live_vs_predicted.csv").query("trial == 0")
    for strategy in ("live", "isolated_lut", "isolated_lut+live", "neighbour_lut", "neighbour_lut+live"):
        a, b = new[new.strategy == strategy], old[old.strategy == strategy]
        assert len(a) and len(a) == len(b), strategy
        timing = ["cost_s"] if strategy != "live" else []  # lookup tables charge their timed fit
        pd.testing.assert_frame_equal(a.drop(columns=timing).reset_index(drop=True),
                                      b.drop(columns=timing).reset_index(drop=True), check_exact=True,
                                      check_dtype=False)
    ridge = new[new.strategy == "ridge"]
    assert len(ridge) and (ridge["cost_s"] <= ridge["budget_s"]).all() and (ridge["n_trained"] >= 8).all()
