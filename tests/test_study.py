"""The predictor study runner: specs, grid rows, determinism, errors, resume, Dask, report."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nasbench_tools.cli import main
from nasbench_tools.errors import ConfigError, DataFormatError, UnknownNameError
from nasbench_tools.runner import ConfigMismatchError, DaskExecutor, ProcessExecutor, ResultsCorruptedError
from nasbench_tools.study.report import write_report
from nasbench_tools.study.runner import COLUMNS, TIMING_COLUMNS, build_tasks, load_results, run_study, run_task
from nasbench_tools.study.spec import (
    HWNAS_SIZES, TRANSNAS_SIZES, StudySpec, TuningSpec, load_config, preset,
)
from nasbench_tools.study.splits import make_split
from test_runner_results import kill_mid_run  # the tests folder is on sys.path

DATASET = "hwnas/cifar10/edgegpu_latency"
SMALL = StudySpec(
    "small", (DATASET, "hwnas/ImageNet16-120/eyeriss_latency"),
    ("linear_regression", "ridge", "xgboost", "lookup_table"), (11, 25), 625, (0, 1),
    TuningSpec(predictors=("ridge",), max_configs=3, time_budget=False),
)


def _untimed(path: Path) -> pd.DataFrame:
    return pd.read_csv(path).drop(columns=list(TIMING_COLUMNS))


def test_presets_follow_the_protocol() -> None:
    assert HWNAS_SIZES == (5, 11, 25, 55, 124, 276, 614, 1366, 3036, 6748, 15000)
    assert TRANSNAS_SIZES == (5, 9, 18, 34, 65, 123, 234, 442, 837, 1585, 2999)
    hw = preset("paper-hwnas")
    assert len(hw.datasets) == 5 and len(hw.predictors) == 18 and hw.seeds == tuple(range(50))
    assert hw.test_size == 625 and hw.tuning.budget_s(1000) == 920.0
    tn = preset("paper-transnas")
    assert len(tn.predictors) == 14 and not {"bananas", "bonas", "gcn", "nao"} & set(tn.predictors)
    assert tn.test_size == 256 and tn.train_sizes == TRANSNAS_SIZES
    assert preset("paper-transnas", space="transnas-micro").name == "paper-transnas-on-transnas-micro"
    lin = preset("paper-linreg-all")
    assert len(lin.datasets) == 27 and not any("edgetpu" in d for d in lin.datasets)
    assert lin.sizes_for("xgboost") == (15000,) and lin.sizes_for("linear_regression") == HWNAS_SIZES
    quick = preset("quick")
    assert len(quick.predictors) == 18 and len(quick.seeds) == 3 and 3 <= len(quick.train_sizes) <= 4
    assert quick.tuning.budget_s(100) is None  # count budget only: reproducible
    with pytest.raises(UnknownNameError, match="unknown study preset"):
        preset("paper")


def test_paper_transnas_falls_back_to_the_micro_space_keeping_overrides(store) -> None:
    from nasbench_tools.study.experiment import PredictorStudy

    spec = replace(preset("paper-transnas"), seeds=(0, 1))  # e.g. --n-seeds 2
    resolved = PredictorStudy().resolve(spec, store)  # the shared data has no official macro file
    assert resolved.name == "paper-transnas-on-transnas-micro" and resolved.seeds == (0, 1)
    assert resolved.datasets == preset("paper-transnas", space="transnas-micro").datasets
    assert PredictorStudy().resolve(resolved, store) == resolved


def test_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "study.toml"
    cfg.write_text(
        'name = "mine"\ndatasets = ["hwnas/cifar10/fpga_latency"]\npredictors = ["ridge", "xgboost"]\n'
        "train_sizes = [20, 40]\ntest_size = 100\nseeds = 2\n"
        '[tuning]\npredictors = ["ridge"]\nmax_configs = 2\ntime_budget = false\n'
        "[only_sizes]\nxgboost = [40]\n"
    )
    spec = load_config(cfg)
    assert spec.seeds == (0, 1) and spec.sizes_for("xgboost") == (40,) and spec.tuning.predictors == ("ridge",)
    cfg.write_text('datasets = ["x"]\npredictors = ["ridge"]\ntrain_sizes = [5]\ntest_size = 9\nseeds = 1\ncolour = 3\n')
    with pytest.raises(ConfigError, match="unknown field.*colour"):
        load_config(cfg)
    cfg.write_text("datasets = [\n")
    with pytest.raises(ConfigError, match="malformed TOML"):
        load_config(cfg)


def test_split_is_seeded_disjoint_and_nested(store) -> None:
    d = store.load(DATASET)
    a, b = make_split(d, 3, 625), make_split(d, 3, 625)
    assert np.array_equal(a.test, b.test) and np.array_equal(a.pool, b.pool)
    assert not set(a.test) & set(a.pool) and len(a.test) + len(a.pool) == 15625
    assert np.array_equal(a.train(11), a.train(25)[:11])
    assert not np.array_equal(make_split(d, 4, 625).test, a.test)
    # incomplete datasets draw only from architectures with values
    tpu = store.load("hwnas/cifar10/edgetpu_latency")
    s = make_split(tpu, 0, 625)
    assert not np.isnan(tpu.values[np.concatenate([s.test, s.pool])]).any()


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, store) -> Path:
    out = tmp_path_factory.mktemp("study") / "serial"
    run_study(SMALL, out, store=store, progress=False)
    return out / "results.csv"


def test_grid_rows_and_metrics(small_run: Path, store) -> None:
    df = load_results(small_run)
    assert list(df.columns) == list(COLUMNS)
    # 2 datasets x 2 seeds x (3 predictors x 2 sizes + the lookup table once)
    assert len(df) == 2 * 2 * (3 * 2 + 1)
    assert (df["status"] == "ok").all()
    lut = df[df["predictor"] == "lookup_table"]
    assert set(lut["train_size"]) == {25}
    assert set(df.loc[df["predictor"] == "ridge", "tuned"]) == {True}
    assert (df.loc[df["predictor"] == "ridge", "n_configs"] == 3).all()
    assert set(df.loc[df["predictor"] != "ridge", "tuned"]) == {False}
    # a row's tau is recomputed independently from a refit
    from predictors import make
    from nasbench_tools.encodings import encode

    d = store.load(DATASET)
    split = make_split(d, 1, 625)
    model = make("linear_regression", random_state=1).fit(encode(d.space, d.space.arch(split.train(25)), "onehot"),
                                                          d.values[split.train(25)])
    tau = stats.kendalltau(d.values[split.test], model.predict(encode(d.space, d.space.arch(split.test), "onehot")))[0]
    row = df[(df.predictor == "linear_regression") & (df.seed == 1) & (df.train_size == 25) & (df.dataset == DATASET)]
    assert row["kendall_tau"].iloc[0] == pytest.approx(tau, abs=1e-12)
    # Eyeriss latency is nearly additive: the lookup table ranks it almost perfectly (Table 5.1: 0.99)
    eyeriss_lut = lut[lut.dataset == "hwnas/ImageNet16-120/eyeriss_latency"]["kendall_tau"]
    assert eyeriss_lut.min() > 0.9
    assert json.loads(df["params"].iloc[0])["random_state"] in (0, 1)


def test_same_seed_same_csv(small_run: Path, store, tmp_path: Path) -> None:
    run_study(SMALL, tmp_path / "again", store=store, progress=False)
    pd.testing.assert_frame_equal(_untimed(small_run), _untimed(tmp_path / "again" / "results.csv"))


def test_failing_predictor_is_recorded_and_the_grid_goes_on(store, tmp_path: Path) -> None:
    spec = replace(SMALL, datasets=(DATASET,), predictors=("svr", "ridge"), seeds=(0,), tuning=TuningSpec(predictors=()))
    tasks = build_tasks(spec, store)
    # a fit that raises inside a worker (here: a parameter that the spec check would have refused)
    broken = [replace(t, params={"C": -1.0}) if t.predictor == "svr" else t for t in tasks]
    df = pd.concat([run_task(t) for t in broken], ignore_index=True)
    svr = df[df.predictor == "svr"]
    assert (svr["status"] == "error").all() and svr["error"].str.contains("C").all()
    assert (df[df.predictor == "ridge"]["status"] == "ok").all()
    # the same mistake in a spec is one error before the first fit, and nothing is written
    with pytest.raises(ConfigError, match="predictor 'svr'.*C=-1.0"):
        run_study(replace(spec, params={"svr": {"C": -1.0}}), tmp_path, store=store, progress=False)
    assert not (tmp_path / "results.csv").exists()


@pytest.mark.parametrize(
    "change, error, fragment",
    [
        ({"datasets": ("hwnas/cifar10/edgegpu_latncy",)}, UnknownNameError, "did you mean"),
        ({"predictors": ("ridge", "lasso")}, ConfigError, "unknown predictor 'lasso'"),
        ({"train_sizes": (15100,)}, DataFormatError, "exceed the 15625"),
        ({"test_size": 15625}, DataFormatError, "test size 15625"),
        ({"datasets": ("nbmacro/cifar10/params",), "predictors": ("gcn",)}, DataFormatError, "does not apply"),
    ],
)
def test_bad_specs_fail_before_running(store, tmp_path: Path, change, error, fragment: str) -> None:
    spec = replace(SMALL, **change, tuning=TuningSpec(predictors=()))
    with pytest.raises(error, match=fragment):
        run_study(spec, tmp_path / "out", store=store, progress=False)
    assert not (tmp_path / "out" / "results.csv").exists()


def test_refuses_to_mix_configurations_and_corrupt_files(small_run: Path, store, tmp_path: Path) -> None:
    out = tmp_path / "mixed"
    out.mkdir()
    for f in small_run.parent.glob("results.csv*"):
        (out / f.name).write_bytes(f.read_bytes())
    other = replace(SMALL, test_size=500)
    with pytest.raises(ConfigMismatchError, match="test_size: stored 625, now 500"):
        run_study(other, out, store=store, progress=False)
    # resuming the same configuration is a no-op
    summary = run_study(SMALL, out, store=store, progress=False)
    assert summary.ran == 0 and summary.skipped == summary.total
    data = (out / "results.csv").read_bytes()
    (out / "results.csv").write_bytes(data[: len(data) // 2])
    before = (out / "results.csv").read_bytes()
    with pytest.raises(ResultsCorruptedError):
        run_study(SMALL, out, store=store, progress=False)
    assert (out / "results.csv").read_bytes() == before


def test_killed_run_resumes_to_the_rows_of_an_uninterrupted_run(tmp_path: Path) -> None:
    cfg = tmp_path / "kill.toml"
    cfg.write_text(
        f'datasets = ["{DATASET}"]\npredictors = ["linear_regression", "ridge", "random_forest", "xgboost"]\n'
        "train_sizes = [11, 25, 55, 124]\ntest_size = 625\nseeds = 4\n"
        '[tuning]\npredictors = ["ridge"]\nmax_configs = 3\ntime_budget = false\n'
    )
    killed = tmp_path / "killed"
    kill_mid_run(["study", "run", "--config", str(cfg), "--out", str(killed), "--no-progress"],
                 killed / "results.csv.journal", 5)
    partial = pd.read_csv(killed / "results.csv")
    assert 0 < len(partial) < 64
    assert main(["study", "run", "--config", str(cfg), "--out", str(killed), "--no-progress"]) == 0  # resumes
    assert main(["study", "run", "--config", str(cfg), "--out", str(tmp_path / "clean"), "--no-progress"]) == 0
    pd.testing.assert_frame_equal(_untimed(killed / "results.csv"), _untimed(tmp_path / "clean" / "results.csv"))
    assert len(pd.read_csv(killed / "results.csv")) == 64


class _KillingDask(DaskExecutor):
    """A LocalCluster executor that kills one worker process once the first result is back."""

    def run(self, fn, tasks):
        pids = list(self.client.run(os.getpid).values())
        for k, item in enumerate(super().run(fn, tasks)):
            if k == 0:
                os.kill(pids[0], signal.SIGKILL)
            yield item


def test_dask_local_cluster_and_process_pool_equal_serial(small_run: Path, store, tmp_path: Path) -> None:
    with _KillingDask(local_workers=2) as ex:
        run_study(SMALL, tmp_path / "dask", store=store, executor=ex, progress=False)
    pd.testing.assert_frame_equal(_untimed(small_run), _untimed(tmp_path / "dask" / "results.csv"))
    with ProcessExecutor(2) as ex:
        run_study(SMALL, tmp_path / "pool", store=store, executor=ex, progress=False)
    pd.testing.assert_frame_equal(_untimed(small_run), _untimed(tmp_path / "pool" / "results.csv"))


def test_report_tables_and_figures(small_run: Path, store, tmp_path: Path) -> None:
    files = {p.name for p in write_report(small_run, tmp_path / "report", store=store)}
    for stem in ("figure_5_3", "figure_A_3", "figure_A_1", "figure_5_4"):
        assert {f"{stem}.png", f"{stem}.pdf"} <= files
    for stem in ("figure_5_3", "per_dataset", "table_A_2", "table_5_1", "figure_A_3"):
        assert {f"{stem}.csv", f"{stem}.md"} <= files
    df = load_results(small_run)
    t53 = pd.read_csv(tmp_path / "report" / "figure_5_3.csv", index_col=0)
    expected = df[df.predictor == "ridge"].groupby(["dataset", "train_size"])["kendall_tau"].mean().groupby("train_size").mean()
    assert t53.loc["ridge", "25"] == pytest.approx(expected[25])
    a2 = pd.read_csv(tmp_path / "report" / "table_A_2.csv", index_col=0)
    lut = df[df.predictor == "lookup_table"].groupby("dataset")["kendall_tau"].mean()
    assert a2.loc[DATASET, "lookup_table"] == pytest.approx(lut[DATASET])
    assert "eyeriss" in (tmp_path / "report" / "table_5_1.md").read_text()


def test_cli_run_and_report(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'datasets = ["{DATASET}"]\npredictors = ["ridge", "lookup_table"]\ntrain_sizes = [11]\n'
                   "test_size = 200\nseeds = 1\n")
    assert main(["study", "run", "--config", str(cfg), "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    assert main(["study", "report", "--results", str(tmp_path / "o" / "results.csv"), "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "figure_5_3.png").stat().st_size > 10_000
    assert main(["study", "report", "--results", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "r2")]) == 2
    err = capsys.readouterr().err
    assert "missing.csv" in err and err.count("\n") == 1 and err.startswith("nasbench-study: error:")


def test_tasks_carry_the_spec(store) -> None:
    tasks = build_tasks(SMALL, store)
    assert len(tasks) == 28 and len({t.key for t in tasks}) == 28
    ridge = [t for t in tasks if t.predictor == "ridge"]
    assert all(t.tune and t.n_configs == 3 and t.time_budget_s is None for t in ridge)


def test_reproduce_runs_study_report_and_simulation(tmp_path: Path, monkeypatch, capsys) -> None:
    """The main job end to end, with the study preset shrunk (the simulator's quick preset is small)."""
    from nasbench_tools.study.spec import PRESETS

    tiny = replace(SMALL, datasets=(DATASET,), predictors=("ridge", "lookup_table"), seeds=(0,))
    monkeypatch.setitem(PRESETS, "quick", lambda: tiny)
    assert main(["reproduce", "--preset", "quick", "--out", str(tmp_path), "--no-progress"]) == 0
    assert len(load_results(tmp_path / "results.csv")) == 3
    assert (tmp_path / "report" / "figure_5_3.png").is_file()
    sim = pd.read_csv(tmp_path / "simulation" / "simulation.csv")
    assert {"mra_all", "mra_pareto", "hypervolume"} <= set(sim.columns) and len(sim) > 0
    assert any((tmp_path / "simulation" / "report").glob("*.png"))
