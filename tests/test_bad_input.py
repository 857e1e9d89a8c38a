"""Bad input, tried as a hostile new user would (issue 12): every case must end with exit status 2,
exactly one line ``nasbench-study: error: ...`` naming the value (no traceback), and no existing
result or input file changed (every file is hashed before and after).

The command line runs in-process (``nasbench_tools.cli.main``) except where a second process is
the point (concurrent writers). Library-level cases (model files, official benchmark files,
``DataStore``) assert the same one-line :class:`NasbenchError` contract without the CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

from nasbench_tools.cli import main
from nasbench_tools.errors import NasbenchError
from nasbench_tools.spaces import get_space

REPO = Path(__file__).resolve().parents[1]
DATASET = "hwnas/cifar10/edgegpu_latency"
ERROR_PREFIX = "nasbench-study: error:"
#: A tiny but complete study: one dataset, ridge, two seeds (two fits).
STUDY = {"datasets": [DATASET], "predictors": ["ridge"], "train_sizes": [20], "test_size": 50, "seeds": 2}
#: Fast options of the commands that write runs.
SIM_FAST = ["--preset", "quick", "--trials", "2", "--no-progress"]
SUPERNET_FAST = ["--data", "synthetic", "--synthetic-size", "64", "--val-images", "16", "--batch-size", "32",
                 "--epochs", "1", "--channels", "4", "--subset", "onlyconv", "--device", "cpu", "--no-progress"]
LATENCY_FAST = ["--space", "nb201", "--archs", "random:2:0", "--warmup", "1", "--repeats", "3", "--device", "cpu",
                "--no-progress"]


# ----------------------------------------------------------------------------------------- helpers
def toml(doc: dict[str, Any]) -> str:
    """A small TOML writer: scalars and lists at the top, then one level of tables."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    lines = [f"{k} = {value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for k, v in doc.items():
        if isinstance(v, dict):
            flat = {kk: vv for kk, vv in v.items() if not isinstance(vv, dict)}
            if flat or not v:
                lines += [f"[{k}]"] + [f"{kk} = {value(vv)}" for kk, vv in flat.items()]
            for kk, vv in v.items():
                if isinstance(vv, dict):
                    lines += [f"[{k}.{kk}]"] + [f"{a} = {value(b)}" for a, b in vv.items()]
    return "\n".join(lines) + "\n"


def snapshot(*roots: Path) -> dict[str, str]:
    """sha256 of every file under ``roots`` (lock files, which only name their holder, excluded)."""
    out = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.name != ".lock":
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def assert_one_line_error(rc: int, err: str) -> str:
    assert rc == 2, f"exit status {rc}, stderr: {err}"
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(errors) == 1, err
    return errors[0]


def refused(argv: list[str], capsys: pytest.CaptureFixture, *watch: Path) -> str:
    """Run the CLI; assert exit 2, one error line, and that no watched file changed. Returns the line."""
    before = snapshot(*watch)
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err
    line = assert_one_line_error(rc, err)
    after = snapshot(*watch)
    changed = [p for p in before if after.get(p) != before[p]]
    assert not changed, f"files changed by a refused command: {changed}"
    return line


def with_options(base: list[str], changes: list[str]) -> list[str]:
    """``base`` options with ``changes`` (flag, value pairs) replacing or adding values."""
    argv = list(base)
    for flag, value in zip(changes[::2], changes[1::2]):
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    return argv


def arch_names(n: int, seed: int = 0) -> list[str]:
    space = get_space("nb201")
    idx = np.random.default_rng(seed).choice(space.size, n, replace=False)
    return space.format(space.arch(np.sort(idx)))


def custom_csv(cells: dict[int, str] | None = None, n: int = 120, extra: str = "") -> str:
    """A custom NB201 table ``arch,latency_ms`` with some cells replaced by text."""
    names = arch_names(n)
    vals = [f"{1.0 + 0.01 * i:.3f}" for i in range(n)]
    for i, text in (cells or {}).items():
        vals[i] = text
    return "arch,latency_ms\n" + "".join(f"{a},{v}\n" for a, v in zip(names, vals)) + extra


# ----------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict[str, Path]:
    """Finished runs of every command that writes results, made once; tests copy what they damage."""
    root = tmp_path_factory.mktemp("world")
    cfg = root / "study.toml"
    cfg.write_text(toml(STUDY))
    assert main(["study", "run", "--config", str(cfg), "--out", str(root / "study"), "--no-progress"]) == 0
    assert main(["simulate", "run", *SIM_FAST, "--out", str(root / "sim")]) == 0
    assert main(["supernet", "train", *SUPERNET_FAST, "--out", str(root / "supernet")]) == 0
    assert main(["latency", "measure", *LATENCY_FAST, "--out", str(root / "latency")]) == 0
    train = root / "train.csv"
    names = arch_names(60, seed=1)
    train.write_text("arch,value\n" + "".join(f"{a},{1 + 0.1 * i}\n" for i, a in enumerate(names)))
    for name in ("ridge", "lightgbm", "ngboost"):
        params = ["--param", "n_estimators=20"] if name != "ridge" else []
        assert main(["predictors", "fit", name, "--space", "nb201", "--train", str(train), "--out",
                     str(root / f"model-{name}"), *params]) == 0
    return {"root": root, "study_cfg": cfg, "study": root / "study", "sim": root / "sim",
            "supernet": root / "supernet", "latency": root / "latency", "train": train}


def copy_run(world: dict[str, Path], name: str, tmp_path: Path) -> Path:
    dst = tmp_path / name
    shutil.copytree(world[name], dst, ignore=shutil.ignore_patterns(".lock"))
    return dst


# ============================================================================ custom tables and data
CUSTOM_CASES = {
    "inf": ({5: "inf"}, "", r"row 7 column 'latency_ms' holds inf"),
    "minus_inf": ({9: "-inf"}, "", r"row 11 column 'latency_ms' holds -inf"),
    "huge_1e308": ({3: "1e308"}, "", r"row 5 column 'latency_ms' holds 1e\+308"),
    "overflow_1e400": ({4: "1e400"}, "", r"column 'latency_ms' row 6 holds '1e400'; expected a finite number"),
    "unit_suffix": ({2: "12.3ms"}, "", r"column 'latency_ms' row 4 holds '12.3ms'"),
    "word": ({7: "fast"}, "", r"column 'latency_ms' row 9 holds 'fast'"),
    "duplicate_arch": ({}, "DUP", r"appears 2 times"),
    "unknown_arch": ({}, "|conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|,1.0\n", r"conv_9x9|not a valid|unknown"),
}


@pytest.mark.parametrize("case", list(CUSTOM_CASES))
def test_custom_table_with_bad_cells_is_refused(case, tmp_path, capsys):
    cells, extra, fragment = CUSTOM_CASES[case]
    if extra == "DUP":
        text = custom_csv(cells)
        extra = text.splitlines()[1] + "\n"
    data = tmp_path / "data"
    (data / "custom").mkdir(parents=True)
    (data / "custom" / "mine.csv").write_text(custom_csv(cells, extra=extra))
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml({**STUDY, "datasets": ["custom/mine/latency_ms"], "test_size": 40}))
    line = refused(["study", "run", "--config", cfg, "--data-dir", data, "--out", tmp_path / "out"], capsys, tmp_path)
    assert "mine.csv" in line
    assert re.search(fragment, line), line
    assert not (tmp_path / "out" / "results.csv").exists()


@pytest.mark.parametrize("content, fragment", [
    ("", r"malformed CSV|no rows|empty"),
    ("arch,latency_ms\n", r"no rows"),
    ("name,latency_ms\nx,1\n", r"missing column\(s\) arch"),
    ("arch,device\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,cpu\n", r"no numeric metric column"),
    ("arch,latency_ms\nnot-an-arch,1.0\n", r"cannot tell the search space"),
    ("\x00\x01\x02garbage\xff\n", r"mine.csv"),
], ids=["empty", "header_only", "no_arch_column", "no_metric", "unparsable_arch", "binary"])
def test_malformed_custom_table_files(content, fragment, tmp_path, capsys):
    data = tmp_path / "data"
    (data / "custom").mkdir(parents=True)
    (data / "custom" / "mine.csv").write_bytes(content.encode("latin-1"))
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml({**STUDY, "datasets": ["custom/mine/latency_ms"]}))
    line = refused(["study", "run", "--config", cfg, "--data-dir", data, "--out", tmp_path / "out"], capsys, tmp_path)
    assert re.search(fragment, line), line


def test_unknown_custom_column_names_the_columns(tmp_path, capsys):
    data = tmp_path / "data"
    (data / "custom").mkdir(parents=True)
    (data / "custom" / "mine.csv").write_text(custom_csv())
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml({**STUDY, "datasets": ["custom/mine/energy"]}))
    line = refused(["study", "run", "--config", cfg, "--data-dir", data, "--out", tmp_path / "out"], capsys, tmp_path)
    assert "'energy'" in line and "latency_ms" in line


def test_corrupt_benchmark_copy_is_refused_by_checksum(tmp_path, data_dir, capsys):
    bad = tmp_path / "data" / "hw-nas-bench"
    bad.mkdir(parents=True)
    text = (data_dir / "hw-nas-bench" / "hw_cifar10.csv").read_bytes()
    (bad / "hw_cifar10.csv").write_bytes(text.replace(b"0.", b"9.", 1))
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml(STUDY))
    line = refused(["study", "run", "--config", cfg, "--data-dir", tmp_path / "data", "--out", tmp_path / "out"],
                   capsys, tmp_path)
    assert "hw_cifar10.csv" in line and "sha256" in line


@pytest.mark.parametrize("argv, fragment", [
    (["lut", "--dataset", "hwnas/cifar10/edgetpu_latency"], "edgetpu_latency"),
    (["lut", "--dataset", "hwnas/cifar10/edgegpu_latncy"], "did you mean"),
    (["lut", "--dataset", "nope"], "nope"),
    (["lut", "--dataset", "custom/mine/latency_ms", "--data-dir", "{tmp}/custom-inf"], "holds inf"),
], ids=["lut_edgetpu_missing_values", "lut_typo", "lut_bad_id", "lut_custom_inf"])
def test_data_commands(argv, fragment, tmp_path, capsys):
    (tmp_path / "custom-inf" / "custom").mkdir(parents=True)
    (tmp_path / "custom-inf" / "custom" / "mine.csv").write_text(custom_csv({1: "inf"}))
    line = refused([a.replace("{tmp}", str(tmp_path)) for a in argv], capsys, tmp_path)
    assert fragment in line


def test_data_list_shows_custom_tables_and_names_a_bad_cell(tmp_path, capsys):
    (tmp_path / "custom").mkdir()
    (tmp_path / "custom" / "mine.csv").write_text(custom_csv())
    (tmp_path / "custom" / "broken.csv").write_text(custom_csv({1: "inf"}))
    assert main(["data", "list", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "custom/mine/latency_ms" in out
    assert "broken.csv: row 3 column 'latency_ms' holds inf" in out  # listed as unavailable, with the cell


# ============================================================================ library-level data cases
def _lib_refused(fn: Callable[[], Any], fragment: str, *watch: Path) -> str:
    before = snapshot(*watch)
    with pytest.raises(NasbenchError) as err:
        fn()
    msg = str(err.value)
    assert "\n" not in msg and fragment in msg, msg
    assert snapshot(*watch) == before
    return msg


def test_datastore_custom_path_missing(tmp_path):
    from nasbench_tools.datasets import DataStore

    _lib_refused(lambda: DataStore(custom={"mine": tmp_path / "absent.csv"}), "absent.csv", tmp_path)


def _pickle_store(tmp_path: Path, obj: Any):
    import pickle

    from nasbench_tools.datasets import DataStore
    from nasbench_tools.datasets.store import HWNAS_PICKLE

    path = tmp_path / HWNAS_PICKLE
    path.parent.mkdir(parents=True)
    path.write_bytes(pickle.dumps(obj))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return DataStore(tmp_path, hwnas_source="pickle", checksums={HWNAS_PICKLE: sha}, env={})


@pytest.mark.parametrize("obj, fragment", [
    ({"nasbench201": ["not", "a", "dict"]}, "nasbench201"),
    ({"nasbench201": {"cifar10": {"config": 5}}}, "lacks field"),
    ({"nasbench201": {"cifar10": {**{m: [1.0] for m in (
        "edgegpu_latency", "edgegpu_energy", "raspi4_latency", "edgetpu_latency", "pixel3_latency", "eyeriss_latency",
        "eyeriss_energy", "eyeriss_arithmetic_intensity", "fpga_latency", "fpga_energy")}, "config": [None]}}}, "arch_str"),
    ({"nasbench201": {"cifar10": {**{m: [[1.0, "x"]] for m in (
        "edgegpu_latency", "edgegpu_energy", "raspi4_latency", "edgetpu_latency", "pixel3_latency", "eyeriss_latency",
        "eyeriss_energy", "eyeriss_arithmetic_intensity", "fpga_latency", "fpga_energy")},
        "config": [{"arch_str": "x"}]}}}, "HW-NAS-Bench"),
], ids=["list_not_dict", "missing_fields", "config_entry_none", "ragged_values"])
def test_malformed_official_pickle(obj, fragment, tmp_path):
    store = _pickle_store(tmp_path, obj)
    _lib_refused(lambda: store.load("hwnas/cifar10/edgegpu_latency"), fragment, tmp_path)


@pytest.mark.parametrize("obj, fragment", [
    ({"data": {"macro": {"64-41414-3_33_333": "not a dict"}}, "task_list": ["class_scene"]}, "TransNAS"),
    ({"data": {"macro": {"64-41414-3_33_333": {"class_scene": {"model_info": {"inference_time": "fast"}}}}},
      "task_list": ["class_scene"]}, "TransNAS"),
    ({"data": [], "task_list": []}, "macro"),
], ids=["entry_not_dict", "text_value", "data_not_dict"])
def test_malformed_official_transnas_file(obj, fragment, tmp_path):
    import torch

    from nasbench_tools.datasets import DataStore
    from nasbench_tools.datasets.store import TRANSNAS_OFFICIAL_FILE

    path = tmp_path / TRANSNAS_OFFICIAL_FILE
    path.parent.mkdir(parents=True)
    torch.save(obj, path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    store = DataStore(tmp_path, checksums={TRANSNAS_OFFICIAL_FILE: sha}, env={})
    _lib_refused(lambda: store.load("transnas-macro/class_scene/inference_time"), fragment, tmp_path)


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
    (["--dask-scheduler", "tcp://127.0.0.1:9"], "tcp://127.0.0.1:9"),
], ids=["jobs_0", "jobs_negative", "n_seeds_0", "dask_local_0", "dask_scheduler_unreachable"])
def test_study_run_options(extra, fragment, world, tmp_path, capsys):
    line = refused(["study", "run", "--config", world["study_cfg"], "--out", tmp_path / "out", *extra], capsys,
                   tmp_path, world["study"])
    assert fragment in line


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


def assert_rerun_changes_nothing(world: dict[str, Path], name: str, tmp_path: Path, argv: list[Any]) -> None:
    """The same command again on a finished run exits 0 and leaves every byte as it was."""
    run = copy_run(world, name, tmp_path)
    before = snapshot(run)
    assert main([str(a) for a in argv] + ["--out", str(run)]) == 0
    assert snapshot(run) == before


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
    assert len(rows) == 3 * 2 * 3 and (rows["status"] == "ok").all() and not rows.duplicated(["dataset", "predictor", "seed", "train_size"]).any()


# ============================================================================ simulator
@pytest.mark.parametrize("argv, fragment", [
    (["simulate", "run", "--preset", "quick", "--trials", "0"], "--trials"),
    (["simulate", "run", "--preset", "quick", "--trials", "-3"], "--trials"),
    (["simulate", "run", "--preset", "quick", "--seed", "-1"], "seed"),
    (["simulate", "run", "--preset", "nope"], "nope"),
    (["simulate", "plan", "--dataset", DATASET, "--measure-seconds", "60", "--budget-seconds", "3600",
      "--predictor-tau", "2"], "tau"),
    (["simulate", "plan", "--dataset", DATASET, "--measure-seconds", "-1", "--budget-seconds", "3600",
      "--predictor-tau", "0.8"], "measure"),
    (["simulate", "real", "--dataset", DATASET, "--predictor", "ridge", "--subset-size", "0"], "subset-size"),
    (["simulate", "real", "--dataset", DATASET, "--predictor", "ridge", "--fits-per-size", "0"], "fits-per-size"),
    (["simulate", "real", "--dataset", DATASET, "--predictor", "ridge", "--train-sizes", "20.7"], "20.7"),
    (["simulate", "real", "--dataset", DATASET, "--predictor", "ridge", "--train-sizes", "0"], "train-sizes"),
    (["simulate", "real", "--dataset", DATASET, "--predictor", "lasso"], "lasso"),
], ids=["trials_0", "trials_negative", "seed_negative", "unknown_preset", "tau_2", "measure_negative",
        "real_subset_0", "real_fits_0", "real_size_fraction", "real_size_0", "real_unknown_predictor"])
def test_simulator_options(argv, fragment, tmp_path, capsys):
    needs_out = argv[1] in ("run", "real")
    line = refused(argv + (["--out", str(tmp_path / "out")] if needs_out else []), capsys, tmp_path)
    assert fragment in line


def test_simulation_rerun_with_other_trials_is_refused(world, tmp_path, capsys):
    run = copy_run(world, "sim", tmp_path)
    line = refused(["simulate", "run", "--preset", "quick", "--trials", "3", "--out", run, "--no-progress"], capsys,
                   tmp_path)
    assert "trials: stored 2, now 3" in line


def test_finished_simulation_resumed_is_byte_identical(world, tmp_path):
    assert_rerun_changes_nothing(world, "sim", tmp_path, ["simulate", "run", *SIM_FAST])


def test_damaged_simulation_results_are_refused(world, tmp_path, capsys):
    run = copy_run(world, "sim", tmp_path)
    csv = run / "simulation.csv"
    lines = csv.read_bytes().split(b"\n")
    lines[3] += b"000"
    csv.write_bytes(b"\n".join(lines))
    assert "line 4" in refused(["simulate", "run", *SIM_FAST, "--out", run], capsys, tmp_path)


# ============================================================================ downloads
class _Hostile:
    """A local HTTP server: ``endless`` streams forever, ``redirect`` points at ftp://, ``huge``
    announces more bytes than the manifest allows."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                if mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "ftp://127.0.0.1/file.csv")
                    self.end_headers()
                    return
                self.send_response(200)
                if mode == "huge":
                    self.send_header("Content-Length", str(10 ** 12))
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    for _ in range(100_000):  # ~6.5 GB unless the client stops reading
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def empty_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("NASBENCH_DATA", raising=False)
    monkeypatch.delenv("NASBENCH_MIRROR", raising=False)
    monkeypatch.setenv("NASBENCH_CACHE", str(tmp_path / "cache"))
    (tmp_path / "data").mkdir()
    return tmp_path / "data"


@pytest.mark.parametrize("mirror", ["file:///etc", "ftp://127.0.0.1/pub", "/srv/mirror", "http://"],
                         ids=["file", "ftp", "bare_path", "no_host"])
def test_fetch_mirror_schemes(mirror, empty_data, capsys):
    line = refused(["data", "fetch", "--data-dir", empty_data, "--mirror", mirror, "--no-progress"], capsys,
                   empty_data.parent)
    assert "--mirror" in line and mirror in line
    assert not list(empty_data.rglob("*.part"))


@pytest.mark.parametrize("mode, fragment", [("endless", "more than the manifest"), ("redirect", "ftp://"),
                                            ("huge", "announces")])
def test_fetch_from_a_hostile_server(mode, fragment, empty_data, capsys):
    server = _Hostile(mode)
    try:
        t0 = time.perf_counter()
        line = refused(["data", "fetch", "--data-dir", empty_data, "--mirror", server.base, "--no-progress"], capsys,
                       empty_data.parent)
        assert time.perf_counter() - t0 < 60
    finally:
        server.close()
    assert fragment in line
    assert [p for p in empty_data.rglob("*") if p.is_file()] == []  # nothing kept, no .part left


def test_fetch_removes_a_leftover_part_file(tmp_path):
    from tests.test_fetch import PAYLOAD, _entry, _Server  # the well-behaved server of the fetch tests
    from urllib.parse import urlparse

    from nasbench_tools.datasets.fetch import download

    server = _Server()
    try:
        server.routes[urlparse(_entry().url).path] = PAYLOAD
        target_dir = tmp_path / "bench"
        target_dir.mkdir()
        (target_dir / ".file.csv.part").write_bytes(b"half of an old download")
        (target_dir / ".file.csv.abc123.part").write_bytes(b"an older temporary name")
        out = download(_entry(), tmp_path, mirror=server.base)
    finally:
        server.close()
    assert out.read_bytes() == PAYLOAD
    assert sorted(p.name for p in target_dir.iterdir()) == ["file.csv"]


# ============================================================================ predictor files
def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _tamper(model_dir: Path, fn: Callable[[dict, dict], None], keep_checksums: bool = False) -> None:
    """Rewrite model.npz with ``fn(meta, arrays)`` applied; checksums dropped unless kept (an
    attacker can always recompute them, so the other checks must hold without them)."""
    from predictors.persistence import META_KEY

    path = model_dir / "model.npz"
    arrays = _npz_arrays(path)
    meta = json.loads(str(arrays[META_KEY][()]))
    fn(meta, arrays)
    if not keep_checksums:
        meta.pop("state_sha256", None)
    arrays[META_KEY] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def _set(d: dict, key: str, value: Any) -> None:
    d[key] = value


MODEL_CASES: dict[str, tuple[str, Callable[[dict, dict], None], str]] = {
    "nan_weights": ("ridge", lambda m, a: a["state/coef"].__setitem__(0, np.nan), "NaN"),
    "inf_intercept": ("ridge", lambda m, a: _set(a, "state/intercept", np.array(np.inf)), "NaN or infinite"),
    "wrong_shape": ("ridge", lambda m, a: _set(a, "state/coef", a["state/coef"][:5]), "cannot predict"),
    "negative_scale": ("ridge", lambda m, a: _set(m, "y_scale", -1.0), "y_scale"),
    "nan_mean": ("ridge", lambda m, a: _set(m, "y_mean", float("nan")), "y_mean"),
    "missing_key": ("ridge", lambda m, a: m.pop("y_mean"), "y_mean"),
    "missing_state": ("ridge", lambda m, a: a.pop("state/coef"), "coef"),
    "unknown_param": ("ridge", lambda m, a: m["params"].update(bogus=1), "bogus"),
    "param_out_of_range": ("ridge", lambda m, a: m["params"].update(alpha=-3.0), "alpha"),
    "width_zero": ("ridge", lambda m, a: _set(m, "n_features_in", 0), "n_features_in"),
    "other_major_version": ("ridge", lambda m, a: _set(m, "toolkit_version", "99.0.0"), "99.0.0"),
    "other_predictor": ("ridge", lambda m, a: _set(m, "name", "svr"), "svr"),
    "ngboost_huge_refit": ("ngboost", lambda m, a: m["params"].update(n_estimators=10_000_000), "n_estimators"),
    "ngboost_wrong_width": ("ngboost", lambda m, a: _set(a, "state/X_train", a["state/X_train"][:, :3]), "columns"),
    "lightgbm_edited_string": ("lightgbm", lambda m, a: _set(
        a, "state/model_txt", np.frombuffer(a["state/model_txt"].tobytes().replace(b"Tree=", b"Tree=9", 3), np.uint8)),
        "lightgbm"),
    "lightgbm_truncated": ("lightgbm", lambda m, a: _set(
        a, "state/model_txt", a["state/model_txt"][: len(a["state/model_txt"]) // 3]), "lightgbm"),
}


@pytest.mark.parametrize("case", list(MODEL_CASES))
def test_tampered_model_files_are_refused(case, world, tmp_path, capsys):
    name, fn, fragment = MODEL_CASES[case]
    model = tmp_path / "model"
    shutil.copytree(world["root"] / f"model-{name}", model)
    _tamper(model, fn)
    t0 = time.perf_counter()
    line = refused(["predictors", "predict", "--model", model, "--all", "--out", tmp_path / "pred"], capsys, tmp_path)
    assert time.perf_counter() - t0 < 60, "loading a tampered file must be bounded work"
    assert fragment in line, line
    assert not (tmp_path / "pred" / "predictions.csv").exists()


def test_edited_model_with_stale_checksum_is_refused(world, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(world["root"] / "model-ridge", model)
    _tamper(model, lambda m, a: a["state/coef"].__setitem__(0, 123.0), keep_checksums=True)
    line = refused(["predictors", "predict", "--model", model, "--all", "--out", tmp_path / "pred"], capsys, tmp_path)
    assert "sha256" in line


def test_garbage_model_file(world, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(world["root"] / "model-ridge", model)
    (model / "model.npz").write_bytes(b"PK\x03\x04 not really a zip")
    assert "model.npz" in refused(["predictors", "predict", "--model", model, "--all", "--out", tmp_path / "p"],
                                  capsys, tmp_path)


@pytest.mark.parametrize("extra, fragment", [
    (["--param", "alpha=-1"], "alpha"),
    (["--param", "nonsense=1"], "nonsense"),
], ids=["param_out_of_range", "param_unknown"])
def test_predictors_fit_bad_params(extra, fragment, world, tmp_path, capsys):
    line = refused(["predictors", "fit", "ridge", "--space", "nb201", "--train", world["train"], "--out",
                    tmp_path / "m", *extra], capsys, tmp_path)
    assert fragment in line


def test_predictors_fit_non_finite_target(world, tmp_path, capsys):
    train = tmp_path / "train.csv"
    lines = world["train"].read_text().splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ",inf"
    train.write_text("\n".join(lines) + "\n")
    refused(["predictors", "fit", "ridge", "--space", "nb201", "--train", train, "--out", tmp_path / "m"], capsys,
            tmp_path)


# ============================================================================ super-network
@pytest.mark.parametrize("extra, fragment", [
    (["--channels", "0"], "channels"),
    (["--epochs", "0"], "epochs"),
    (["--batch-size", "0"], "batch-size"),
    (["--split-epoch", "5"], "split-epoch"),
    (["--cells-per-stage", "0"], "cells-per-stage"),
    (["--lr", "-0.1"], "lr"),
    (["--device", "tpu"], "tpu"),
    (["--dependencies", "1:3"], "earlier"),
], ids=["channels_0", "epochs_0", "batch_0", "split_after_end", "cells_0", "lr_negative", "device", "dependencies"])
def test_supernet_train_options(extra, fragment, tmp_path, capsys):
    argv = with_options(SUPERNET_FAST, extra)
    line = refused(["supernet", "train", *argv, "--out", tmp_path / "run"], capsys, tmp_path)
    assert fragment in line
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_second_supernet_train_with_other_config_leaves_the_checkpoint(world, tmp_path, capsys):
    run = copy_run(world, "supernet", tmp_path)
    argv = [a if a != "onlyconv" else "nozero" for a in SUPERNET_FAST]
    line = refused(["supernet", "train", *argv, "--out", run], capsys, tmp_path)
    assert "subset" in line and "--overwrite" in line


def test_second_supernet_train_same_config_leaves_the_finished_run(world, tmp_path):
    assert_rerun_changes_nothing(world, "supernet", tmp_path, ["supernet", "train", *SUPERNET_FAST])


def test_finished_latency_table_measured_again_is_unchanged(world, tmp_path):
    assert_rerun_changes_nothing(world, "latency", tmp_path, ["latency", "measure", *LATENCY_FAST])


def test_supernet_no_resume_and_garbage_checkpoint(world, tmp_path, capsys):
    run = copy_run(world, "supernet", tmp_path)
    assert "--overwrite" in refused(["supernet", "train", *SUPERNET_FAST, "--out", run, "--no-resume"], capsys,
                                    tmp_path)
    (run / "checkpoint.pt").write_bytes(b"garbage")
    assert "checkpoint" in refused(["supernet", "train", *SUPERNET_FAST, "--out", run], capsys, tmp_path)


def test_supernet_out_is_a_file(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert "f" in refused(["supernet", "train", *SUPERNET_FAST, "--out", tmp_path / "f"], capsys, tmp_path)


# ============================================================================ latency
@pytest.mark.parametrize("change, fragment", [
    (("--archs", "random:99999"), "99999"),
    (("--archs", "random:0"), "random:0"),
    (("--repeats", "0"), "repeats"),
    (("--warmup", "-1"), "warmup"),
    (("--archs", "{tmp}/archs.csv"), "conv_9x9"),
    (("--input-size", "0"), "input"),
    (("--space", "nb101"), "nb101"),
], ids=["random_too_many", "random_zero", "repeats_0", "warmup_negative", "bad_arch_file", "input_0", "space"])
def test_latency_measure_options(change, fragment, tmp_path, capsys):
    (tmp_path / "archs.csv").write_text("arch\n|conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|\n")
    argv = with_options(LATENCY_FAST, [change[0], change[1].replace("{tmp}", str(tmp_path))])
    line = refused(["latency", "measure", *argv, "--out", tmp_path / "out"], capsys, tmp_path)
    assert fragment in line


def test_latency_rerun_with_other_protocol_is_refused(world, tmp_path, capsys):
    run = copy_run(world, "latency", tmp_path)
    line = refused(["latency", "measure", *with_options(LATENCY_FAST, ["--repeats", "4"]), "--out", run], capsys,
                   tmp_path)
    assert "repeats" in line and "--overwrite" in line


def test_damaged_latency_table_is_refused(world, tmp_path, capsys):
    run = copy_run(world, "latency", tmp_path)
    table = next(p for p in run.glob("*.csv"))
    table.write_bytes(table.read_bytes() + b"extra,row\n")
    assert table.name in refused(["latency", "measure", *LATENCY_FAST, "--out", run], capsys, tmp_path)
