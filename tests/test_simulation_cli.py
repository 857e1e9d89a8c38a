"""``nasbench-study simulate run|report|plan`` end to end on tiny settings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from nasbench_tools.cli import main
from simulation.grid import COLUMNS, PRESETS, preset_config, run_preset


def test_presets_match_the_paper_grid():
    p = PRESETS["paper"]
    assert p.n_selections == 330_000
    assert p.sizes == (100, 500, 1000, 2000, 5000, 15625)
    assert p.stds == tuple(round(0.1 * i, 1) for i in range(11))
    assert len(p.datasets) == 5 and p.trials == 1000
    assert preset_config("quick").n_selections < 1000


def test_run_is_seeded_order_independent_and_reports(tmp_path, data_dir, capsys):
    base = ["simulate", "run", "--preset", "quick", "--trials", "4", "--no-progress", "--data-dir", str(data_dir)]
    assert main(base + ["--out", str(tmp_path / "a")]) == 0
    assert main(base + ["--out", str(tmp_path / "b"), "--jobs", "2"]) == 0
    a = (tmp_path / "a" / "simulation.csv").read_bytes()
    assert a == (tmp_path / "b" / "simulation.csv").read_bytes()
    df = pd.read_csv(tmp_path / "a" / "simulation.csv")
    assert list(df.columns) == list(COLUMNS)
    assert len(df) == 5 * 2 * 4 * 4
    assert df.groupby(["dataset", "subset_size", "std"]).size().eq(4).all()
    zero = df[df["std"] == 0.0]
    assert (zero["mra_all"] == 0).all() and np.allclose(zero["kendall_tau"], 1.0)
    noisy = df[df["std"] == 1.0]
    assert noisy["kendall_tau"].between(0.3, 0.8).all() and (noisy["mra_all"] > 0).any()
    # resuming the finished run (the default) re-runs nothing and leaves the file byte-identical
    capsys.readouterr()
    assert main(base + ["--out", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / "simulation.csv").read_bytes() == a
    # a different seed gives different rows; the same output directory refuses it ...
    assert main(base + ["--out", str(tmp_path / "a"), "--seed", "5"]) == 2
    err = capsys.readouterr().err
    assert "seed: stored 0, now 5" in err and "--overwrite" in err and err.count("\n") == 1
    assert (tmp_path / "a" / "simulation.csv").read_bytes() == a
    # ... --no-resume refuses even the same configuration, --overwrite starts again
    assert main(base + ["--out", str(tmp_path / "a"), "--no-resume"]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert main(base + ["--out", str(tmp_path / "a"), "--seed", "5", "--overwrite"]) == 0
    assert (tmp_path / "a" / "simulation.csv").read_bytes() != a
    assert main(base + ["--out", str(tmp_path / "a"), "--overwrite"]) == 0
    assert (tmp_path / "a" / "simulation.csv").read_bytes() == a
    # compat mode changes the numbers
    assert main(base + ["--out", str(tmp_path / "c"), "--compat", "original-code"]) == 0
    c = pd.read_csv(tmp_path / "c" / "simulation.csv")
    assert not np.allclose(c["hypervolume_true_front"], df["hypervolume_true_front"])
    cfg = json.loads((tmp_path / "c" / "simulation.csv.config.json").read_text())
    assert cfg["config"]["mode"] == "original-code"
    # report
    assert main(["simulate", "report", "--results", str(tmp_path / "a" / "simulation.csv"),
                 "--out", str(tmp_path / "rep"), "--data-dir", str(data_dir)]) == 0
    for name in ("fig5_5_selection_example", "fig5_6_mra_vs_std", "fig5_7_hypervolume_vs_std",
                 "figA5_deviation_distributions", "figA6_mra_pareto_exceeds_all", "figA7_std_vs_kendall_tau"):
        for ext in ("png", "pdf", "csv"):
            assert (tmp_path / "rep" / f"{name}.{ext}").stat().st_size > 0
    agg = pd.read_csv(tmp_path / "rep" / "aggregated.csv")
    assert len(agg) == 5 * 2 * 4 and "mra_pareto_mean" in agg


def test_run_preset_function_for_reproduce(tmp_path, data_dir, monkeypatch):
    import simulation.grid as grid

    monkeypatch.setitem(grid.PRESETS, "quick", grid.PRESETS["quick"].__class__(
        datasets=grid.PRESETS["quick"].datasets[:1], sizes=(100,), stds=(0.0, 0.5), trials=3, name="quick"))
    path = run_preset("quick", tmp_path, progress=False, data_dir=data_dir)
    assert len(pd.read_csv(path)) == 6
    assert (tmp_path / "report" / "fig5_6_mra_vs_std.png").is_file()


def test_plan_and_bad_input(tmp_path, data_dir, capsys):
    assert main(["simulate", "plan", "--dataset", "hwnas/cifar10/edgegpu_latency", "--measure-seconds", "10",
                 "--budget-seconds", "5000", "--predictor-tau", "0.8", "--trials", "20",
                 "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "measure live" in out and "predict all" in out and ("recommendation" in out or "no clear winner" in out)
    capsys.readouterr()
    assert main(["simulate", "plan", "--dataset", "hwnas/cifar10/edgegpu_latency", "--measure-seconds", "1",
                 "--budget-seconds", "10", "--predictor-tau", "1.5", "--data-dir", str(data_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--predictor-tau" in err and "[0, 1]" in err
    assert main(["simulate", "run", "--preset", "nonsense", "--out", str(tmp_path / "x")]) == 2
    assert "unknown simulation preset" in capsys.readouterr().err
