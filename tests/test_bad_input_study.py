"""Bad input to the predictor study (issue 12): configuration mistakes fail before the first fit,
and an existing run is never lost (damaged, changed, resumed, or written by two processes at once).
The refusal contract and helpers: ``tests/bad_input_support.py``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from bad_input_support import (
    DATASET, ERROR_PREFIX, STUDY, assert_one_line_error, assert_rerun_changes_nothing, copy_run, custom_csv, refused,
    snapshot, toml,
)

from nasbench_tools.cli import main

REPO = Path(__file__).resolve().parents[1]


# ============================================================================ study configurations
CONFIG_CASES = {
    "unknown_field": ({"colour": 3}, "colour"),
    "unknown_predictor": ({"predictors": ["ridge", "lasso"]}, "lasso"),
    "unknown_param_name": ({"params": {"ridge": {"alphaa": 1.0}}}, "alphaa"),
    "param_out_of_range": ({"predictors": ["svr"], "params": {"svr": {"C": -1.0}}}, "C=-1.0"),
    "param_wrong_type": ({"params": {"ridge": {"alpha": "big"}}}, "alpha"),
    "cv_1": ({"tuning": {"predictors": ["ridge"], "cv": 1}}, "cv must be an integer >= 2"),
    "max_configs_0": ({"tuning": {"predictors": ["ridge"], "max_configs": 0}}, "max_configs"),
    "negative_budget": ({"tuning": {"predictors": ["ridge"], "seconds_base": -5.0}}, "seconds_base"),
    "negative_budget_per_1000": ({"tuning": {"predictors": ["ridge"], "seconds_per_1000": -1}}, "seconds_per_1000"),
    "unknown_tuning_field": ({"tuning": {"predictors": ["ridge"], "budget": 3}}, "budget"),
    "unknown_tuning_name": ({"tuning": {"predictors": ["lasso"]}}, "lasso"),
    "tuning_not_in_study": ({"tuning": {"predictors": ["svr"]}}, "svr"),
    "tuning_without_space": ({"predictors": ["linear_regression"], "tuning": {"predictors": ["linear_regression"]}},
                             "no tuning space"),
    "only_sizes_zero": ({"only_sizes": {"ridge": [0]}}, "only_sizes.ridge"),
    "only_sizes_unknown": ({"only_sizes": {"svr": [20]}}, "'svr' is configured"),
    "negative_seed": ({"seeds": [-1, 0]}, "seeds must be integers >= 0"),
    "duplicate_seeds": ({"seeds": [0, 0]}, "twice"),
    "zero_seeds": ({"seeds": 0}, "seeds = 0"),
    "fractional_size": ({"train_sizes": [20.7]}, "20.7"),
    "zero_size": ({"train_sizes": [0]}, "train_sizes"),
    "zero_test_size": ({"test_size": 0}, "test_size"),
    "text_test_size": ({"test_size": "fifty"}, "fifty"),
    "no_datasets": ({"datasets": []}, "no datasets"),
    "unknown_dataset": ({"datasets": ["hwnas/cifar10/edgegpu_latncy"]}, "did you mean"),
    "too_large_size": ({"train_sizes": [15600]}, "15600"),
    "duplicate_predictor": ({"predictors": ["ridge", "ridge"]}, "twice"),
    "params_not_table": ({"params": {"ridge": 3}}, "params.ridge"),
    "datasets_not_list": ({"datasets": DATASET}, "datasets"),
    "random_state_param": ({"params": {"ridge": {"random_state": 3}}}, "random_state"),
    "tuning_cv_text": ({"tuning": {"predictors": ["ridge"], "cv": "three"}}, "three"),
    "time_budget_text": ({"tuning": {"predictors": ["ridge"], "time_budget": "no"}}, "time_budget"),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_study_config_mistakes_fail_before_the_first_fit(case, tmp_path, capsys):
    change, fragment = CONFIG_CASES[case]
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml({**STUDY, **change}))
    line = refused(["study", "run", "--config", cfg, "--out", tmp_path / "out"], capsys, tmp_path)
    assert fragment in line, line
    assert not (tmp_path / "out" / "results.csv").exists()


@pytest.mark.parametrize("text, fragment", [
    ("datasets = [\n", "malformed TOML"),
    ('{"datasets": ', "malformed JSON"),
], ids=["toml_syntax", "json_syntax"])
def test_unparsable_config_files(text, fragment, tmp_path, capsys):
    cfg = tmp_path / ("c.json" if "JSON" in fragment else "c.toml")
    cfg.write_text(text)
    assert fragment in refused(["study", "run", "--config", cfg, "--out", tmp_path / "out"], capsys, tmp_path)


def test_user_config_without_tuning_tunes_nothing(tmp_path):
    from nasbench_tools.study.spec import load_config

    cfg = tmp_path / "c.toml"
    cfg.write_text(toml({**STUDY, "predictors": ["ridge", "svr"]}))
    assert load_config(cfg).tuning.predictors == ()


@pytest.mark.parametrize("extra, fragment", [
    (["--jobs", "0"], "--jobs"),
    (["--jobs", "-2"], "--jobs"),
    (["--n-seeds", "0"], "--n-seeds"),
    (["--dask-local", "0"], "--dask-local"),
], ids=["jobs_0", "jobs_negative", "n_seeds_0", "dask_local_0"])
def test_study_run_options(extra, fragment, world, tmp_path, capsys):
    line = refused(["study", "run", "--config", world["study_cfg"], "--out", tmp_path / "out", *extra], capsys,
                   tmp_path, world["study"])
    assert fragment in line


def test_study_run_options_dask_scheduler_unreachable(world, tmp_path, capsys):
    """The one case that waits out the connect timeout (10 s), so it is tried once, here, and nowhere else."""
    before = snapshot(tmp_path, world["study"])
    rc = main(["study", "run", "--config", str(world["study_cfg"]), "--out", str(tmp_path / "out"),
               "--dask-scheduler", "tcp://127.0.0.1:9", "--no-progress"])
    err = capsys.readouterr().err
    assert_one_line_error(rc, err)
    assert err.count("\n") == 1, err  # nothing else on stderr either
    assert err.startswith(f"{ERROR_PREFIX} --dask-scheduler tcp://127.0.0.1:9: cannot connect"), err
    assert not (tmp_path / "out" / "results.csv").exists()
    assert snapshot(tmp_path, world["study"]) == before


def test_study_out_is_a_file(world, tmp_path, capsys):
    out = tmp_path / "taken"
    out.write_text("precious\n")
    line = refused(["study", "run", "--config", world["study_cfg"], "--out", out], capsys, tmp_path)
    assert "taken" in line


# ============================================================================ existing runs: nothing lost
def test_study_rerun_with_other_config_is_refused(world, tmp_path, capsys):
    run = copy_run(world, "study", tmp_path)
    cfg = tmp_path / "other.toml"
    cfg.write_text(toml({**STUDY, "test_size": 60}))
    line = refused(["study", "run", "--config", cfg, "--out", run], capsys, tmp_path)
    assert "test_size: stored 50, now 60" in line and "--overwrite" in line


def test_study_no_resume_refuses_an_existing_run(world, tmp_path, capsys):
    run = copy_run(world, "study", tmp_path)
    line = refused(["study", "run", "--config", world["study_cfg"], "--out", run, "--no-resume"], capsys, tmp_path)
    assert "--overwrite" in line


@pytest.mark.parametrize("damage", ["lengthen_row", "append_note", "edit_value", "truncate_middle", "journal_garbage"])
def test_damaged_study_results_are_refused_untouched(damage, world, tmp_path, capsys):
    run = copy_run(world, "study", tmp_path)
    csv = run / "results.csv"
    data = csv.read_bytes()
    lines = data.split(b"\n")
    if damage == "lengthen_row":
        lines[1] = lines[1] + b"abc"
        csv.write_bytes(b"\n".join(lines))
    elif damage == "append_note":
        csv.write_bytes(data + b"checked by hand\n")
    elif damage == "edit_value":
        lines[2] = lines[2].replace(b",ok,", b",OK,")
        csv.write_bytes(b"\n".join(lines))
    elif damage == "truncate_middle":
        csv.write_bytes(data[: len(lines[0]) + 20])
    else:
        (run / "results.csv.journal").write_text("{oops\n" + (run / "results.csv.journal").read_text())
    line = refused(["study", "run", "--config", world["study_cfg"], "--out", run], capsys, tmp_path)
    assert "results.csv" in line


def test_study_data_changed_under_a_run_is_refused(tmp_path, capsys):
    data = tmp_path / "data"
    (data / "custom").mkdir(parents=True)
    (data / "custom" / "mine.csv").write_text(custom_csv())
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml({**STUDY, "datasets": ["custom/mine/latency_ms"], "test_size": 40}))
    argv = ["study", "run", "--config", cfg, "--data-dir", data, "--out", tmp_path / "out", "--no-progress"]
    assert main([str(a) for a in argv]) == 0
    (data / "custom" / "mine.csv").write_text(custom_csv({0: "9.999"}))  # a table that grew or changed
    line = refused(argv, capsys, tmp_path / "out")
    assert "data_files" in line and "custom/mine.csv" in line


def test_finished_study_resumed_is_byte_identical(world, tmp_path):
    assert_rerun_changes_nothing(world, "study", tmp_path, ["study", "run", "--config", world["study_cfg"],
                                                            "--no-progress"])


def test_study_report_on_header_only_file(world, tmp_path, capsys):
    header = tmp_path / "results.csv"
    header.write_text((world["study"] / "results.csv").read_text().splitlines()[0] + "\n")
    line = refused(["study", "report", "--results", header, "--out", tmp_path / "report"], capsys, tmp_path)
    assert "results.csv" in line


def _cli_proc(args: list[str]) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    code = "import sys; from nasbench_tools.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_two_concurrent_study_runs_one_refusal_exactly_the_grid(tmp_path):
    cfg = tmp_path / "c.toml"
    grid = {**STUDY, "predictors": ["ridge", "random_forest", "xgboost"], "train_sizes": [100, 400],
            "seeds": 3, "test_size": 200}  # ~15 s: long enough for the second run to start while it runs
    cfg.write_text(toml(grid))
    out = tmp_path / "out"
    first = _cli_proc(["study", "run", "--config", cfg, "--out", out, "--no-progress"])
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "results.csv.journal").exists() and first.poll() is None:
        time.sleep(0.05)
    assert first.poll() is None, "the first run ended before the second could start"
    second = _cli_proc(["study", "run", "--config", cfg, "--out", out, "--no-progress"])
    rc2 = second.wait(timeout=300)
    err2 = second.stderr.read().decode()
    rc1 = first.wait(timeout=600)
    assert rc1 == 0, first.stderr.read().decode()
    line = assert_one_line_error(rc2, err2)
    assert "in use by pid" in line and str(out) in line
    rows = pd.read_csv(out / "results.csv")
    assert len(rows) == 3 * 2 * 3 and (rows["status"] == "ok").all()
    assert not rows.duplicated(["dataset", "predictor", "seed", "train_size"]).any()
