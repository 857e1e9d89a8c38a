"""The ``nasbench-study`` contract: lazy sub-commands, help on every option, one-line errors with
exit status 2 for user mistakes (validated at parse time), ``--format json``, the resume convention."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nasbench_tools.cli as cli
from nasbench_tools.cli import COMMANDS, Command, build_parser, main

REPO = Path(__file__).resolve().parents[1]
#: Modules that ``--version`` / ``--help`` must not import (each costs 0.3-5 s).
HEAVY = ("torch", "pandas", "numpy", "matplotlib", "sklearn", "scipy")


def _walk(parser: argparse.ArgumentParser, path: str = "nasbench-study"):
    """Every (command path, parser) below ``parser``."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _walk(child, f"{path} {name}")


def _python(code: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO,
                          env={**base, **(env or {})}, check=False, timeout=120)


# --------------------------------------------------------------------------- lazy loading
def test_version_and_help_import_no_heavy_module():
    code = ("import sys\nfrom nasbench_tools.cli import main\n"
            "rc = main(sys.argv[1:])\n"
            "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in %r))\n"
            "sys.exit(rc)" % (HEAVY,))
    for argv in (["--version"], ["--help"]):
        res = _python(code, *argv)
        assert res.returncode == 0, res.stderr
        assert "LOADED []" in res.stdout, (argv, res.stdout[-400:])
    res = _python(code, "--help", env={"COLUMNS": "250"})  # no wrapped help lines
    for command in COMMANDS:  # the top-level help knows every command without importing it
        assert command.name in res.stdout and command.help.split(":")[0] in res.stdout


def test_data_list_loads_only_the_data_layer(data_dir):
    code = ("import sys\nfrom nasbench_tools.cli import main\nrc = main(sys.argv[1:])\n"
            "print('LOADED', sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'matplotlib', 'sklearn'}))\n"
            "sys.exit(rc)")
    res = _python(code, "data", "list", "--data-dir", str(data_dir))
    assert res.returncode == 0, res.stderr
    assert "LOADED []" in res.stdout and "43 datasets available" in res.stdout


@pytest.mark.parametrize("module", ["nasbench_tools", "nasbench_tools.cli"])
def test_python_dash_m_runs_the_command(module):
    res = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True, cwd=REPO,
                         env=dict(os.environ, PYTHONPATH=str(REPO)), check=False, timeout=60)
    assert res.returncode == 0 and res.stdout.startswith("nasbench-study ")
    res = subprocess.run([sys.executable, "-m", module, "data", "nope"], capture_output=True, text=True, cwd=REPO,
                         env=dict(os.environ, PYTHONPATH=str(REPO)), check=False, timeout=60)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "invalid choice: 'nope'" in res.stderr


def test_command_table_matches_the_modules():
    """Each module registers exactly the names the table gives it, with the same help line."""
    full = build_parser()
    sub = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    helps = {a.dest: a.help for a in sub._choices_actions}
    for command in COMMANDS:
        assert command.name in sub.choices
        assert helps[command.name] == command.help, command.name


def test_a_missing_command_module_is_one_line(monkeypatch, capsys):
    ghost = Command("ghost", "nasbench_tools.cli.ghost_command", "a command that is not installed")
    monkeypatch.setattr(cli, "COMMANDS", cli.COMMANDS + (ghost,))
    monkeypatch.setitem(cli._BY_NAME, "ghost", ghost)
    assert main(["--help"]) == 0
    assert "a command that is not installed" in capsys.readouterr().out
    assert main(["ghost", "--anything"]) == 2
    err = capsys.readouterr().err
    assert err == "nasbench-study: error: the 'ghost' command is not available in this installation " \
                  "(nasbench_tools.cli.ghost_command is missing)\n"


def test_study_preset_names_match_the_library():
    from nasbench_tools.cli.study import PRESET_NAMES
    from nasbench_tools.study.spec import PRESETS

    assert sorted(PRESET_NAMES) == sorted(PRESETS)


# --------------------------------------------------------------------------- help and conventions
def test_every_option_has_help_and_conventions_hold():
    long_jobs = {"nasbench-study study run", "nasbench-study reproduce", "nasbench-study simulate run",
                 "nasbench-study simulate real", "nasbench-study supernet train", "nasbench-study latency measure",
                 "nasbench-study predictors fit", "nasbench-study predictors predict"}
    seen = set()
    for path, parser in _walk(build_parser()):
        seen.add(path)
        options = {}
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
                continue
            assert action.help and action.help.strip(), f"{path} {action.option_strings or action.dest}: no help"
            for opt in action.option_strings:
                options[opt] = action
        # one meaning per name: --data-dir is the benchmark folder, images have --image-dir
        if "--data-dir" in options:
            assert "benchmark" in options["--data-dir"].help, path
        assert "--seeds" not in options and "--images-dir" not in options, path
        if "--out" in options:
            assert "folder" in options["--out"].help, path
        if path in long_jobs:
            assert {"--resume", "--no-resume", "--overwrite"} <= set(options), path
    assert long_jobs <= seen


# --------------------------------------------------------------------------- exit status 2, one line
def _tiny_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "tiny.toml"
    cfg.write_text('name = "tiny"\ndatasets = ["hwnas/cifar10/edgegpu_latency"]\npredictors = ["ridge"]\n'
                   "train_sizes = [10]\ntest_size = 20\nseeds = 1\n[tuning]\npredictors = []\n")
    return cfg


BAD = [
    (["study", "run", "--preset", "quick", "--out", "{tmp}/o", "--jobs", "0"], "argument --jobs: expected an integer >= 1, got 0"),
    (["study", "run", "--preset", "quick", "--out", "{tmp}/o", "--n-seeds", "0"], "argument --n-seeds: expected an integer >= 1"),
    (["study", "run", "--preset", "quick", "--out", "{tmp}/o", "--seeds", "3"], "unrecognized arguments: --seeds"),
    (["study", "run", "--preset", "quick", "--out", "{tmp}/afile"], "is a file; --out is always a folder"),
    (["study", "run", "--config", "{tmp}/missing.toml", "--out", "{tmp}/o"], "missing.toml does not exist"),
    (["study", "report", "--results", "{tmp}/header.csv", "--out", "{tmp}/r"], "no result rows (only a header)"),
    (["simulate", "report", "--results", "{tmp}/sim_header.csv", "--out", "{tmp}/r"], "no result rows (only a header)"),
    (["study", "run", "--preset", "quick", "--out", "{tmp}/o", "--jobs", "2", "--dask-local", "2"], "not allowed with argument"),
    (["simulate", "run", "--trials", "0", "--out", "{tmp}/o"], "argument --trials: expected an integer >= 1, got 0"),
    (["simulate", "run", "--seed", "-1", "--out", "{tmp}/o"], "argument --seed: expected an integer >= 0"),
    (["simulate", "plan", "--dataset", "hwnas/cifar10/edgegpu_latency", "--measure-seconds", "1",
      "--budget-seconds", "10", "--predictor-tau", "2"], "argument --predictor-tau: expected a number in [0, 1], got '2'"),
    (["simulate", "plan", "--dataset", "hwnas/cifar10/edgegpu_latency", "--measure-seconds", "0",
      "--budget-seconds", "10", "--predictor-tau", "0.5"], "argument --measure-seconds: expected a number > 0"),
    (["simulate", "real", "--dataset", "hwnas/cifar10/edgegpu_latency", "--predictor", "ridge", "--subset-size", "0",
      "--out", "{tmp}/o"], "argument --subset-size: expected an integer >= 1, got 0"),
    (["simulate", "real", "--dataset", "hwnas/cifar10/edgegpu_latency", "--predictor", "ridge",
      "--train-sizes", "20.7", "--out", "{tmp}/o"], "argument --train-sizes: expected an integer >= 1, got '20.7'"),
    (["simulate", "real", "--dataset", "hwnas/cifar10/edgegpu_latency", "--predictor", "ridge",
      "--train-sizes", "25,25", "--out", "{tmp}/o"], "duplicate value(s) 25"),
    (["simulate", "real", "--dataset", "hwnas/cifar10/edgegpu_latency", "--predictor", "ridge",
      "--fits-per-size", "0", "--out", "{tmp}/o"], "argument --fits-per-size: expected an integer >= 1"),
    (["simulate", "real", "--dataset", "hwnas/cifar10/edgegpu_latency", "--out", "{tmp}/o"],
     "one of the arguments --predictor --predictions is required"),
    (["supernet", "train", "--channels", "0", "--out", "{tmp}/o"], "argument --channels: expected an integer >= 1, got 0"),
    (["supernet", "train", "--epochs", "0", "--out", "{tmp}/o"], "argument --epochs: expected an integer >= 1, got 0"),
    (["supernet", "train", "--keep-epochs", "1,1", "--out", "{tmp}/o"], "duplicate value(s) 1"),
    (["supernet", "train", "--split-epoch", "-2", "--out", "{tmp}/o"], "argument --split-epoch"),
    (["supernet", "train", "--data", "cifar10", "--data-dir", "{tmp}", "--out", "{tmp}/o"], "unrecognized arguments: --data-dir"),
    (["supernet", "train", "--image-dir", "{tmp}/no-images", "--out", "{tmp}/o"], "no-images does not exist"),
    (["supernet", "eval", "--checkpoint", "{tmp}/afile", "--calibration-batches", "-1"],
     "argument --calibration-batches: expected an integer >= 1, got -1"),
    (["latency", "measure", "--space", "nb201", "--archs", "random:99999", "--out", "{tmp}/o", "--no-progress"],
     "N must be between 1 and the space size 15625, got 99999"),
    (["latency", "measure", "--space", "nb201", "--out", "{tmp}/o", "--name", "a/b"], "argument --name"),
    (["latency", "measure", "--space", "nb201", "--out", "{tmp}/o", "--repeats", "0"], "argument --repeats"),
    (["lut", "--dataset", "hwnas/cifar10/edgetpu_latency"], "the lookup table needs values for the 25 neighbour"),
    (["data", "list", "--format", "yaml"], "argument --format: invalid choice: 'yaml'"),
    (["predictors", "info", "nope"], "unknown predictor 'nope'"),
    (["predictors", "fit", "ridge", "--space", "nb201", "--train", "{tmp}/afile", "--out", "{tmp}/o", "--tune", "0"],
     "argument --tune: expected an integer >= 1"),
    (["predictors", "fit", "ridge", "--space", "nb201", "--train", "{tmp}/afile", "--out", "{tmp}/afile/sub"],
     "afile/sub: Not a directory"),  # an OSError about a path the user gave: one line naming it
]


@pytest.mark.parametrize("argv,expected", BAD, ids=[" ".join(a[:2]) + f"-{i}" for i, (a, _) in enumerate(BAD)])
def test_user_mistakes_are_one_line_and_exit_2(argv, expected, tmp_path, data_dir, capsys, monkeypatch):
    monkeypatch.setenv("NASBENCH_DATA", str(data_dir))
    (tmp_path / "afile").write_text("not a folder\n")
    (tmp_path / "header.csv").write_text((REPO / "results" / "quick" / "results.csv").read_text().splitlines()[0] + "\n")
    from simulation.grid import COLUMNS as SIM_COLUMNS

    (tmp_path / "sim_header.csv").write_text(",".join(SIM_COLUMNS) + "\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    rc = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.startswith("nasbench-study: error: ") and err.count("\n") == 1, err
    assert expected in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "o") == before  # nothing written beside
    out = tmp_path / "o"
    assert not out.exists() or not [p for p in out.iterdir() if p.name != ".lock"]


# An unreachable --dask-scheduler (a 10 s connect timeout) is tried once, in
# tests/test_bad_input_study.py::test_study_run_options_dask_scheduler_unreachable.


def test_multi_line_errors_show_the_rest_with_verbose(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NASBENCH_DATA", raising=False)
    monkeypatch.setenv("NASBENCH_CACHE", str(tmp_path / "cache"))
    argv = ["lut", "--dataset", "hwnas/cifar10/edgegpu_latency", "--data-dir", str(tmp_path)]
    assert main(argv) == 2
    short = capsys.readouterr().err
    searched = f"{tmp_path / 'hw-nas-bench' / 'hw_cifar10.csv'}, {tmp_path / 'cache' / 'hw-nas-bench' / 'hw_cifar10.csv'}"
    assert short.count("\n") == 1 and f"hw-nas-bench/hw_cifar10.csv not found. Searched: {searched}" in short
    assert main(["-v", *argv]) == 2
    long = capsys.readouterr().err
    assert long.startswith(short) and long.count("\n") > 1 and "NASBENCH_DATA" in long.split("\n", 1)[1]


# --------------------------------------------------------------------------- --format json
def test_data_list_and_verify_as_json(data_dir, tmp_path, capsys):
    custom = tmp_path / "custom"
    custom.mkdir()
    (custom / "mine.csv").write_text("arch,lat_ms\n|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|,1.5\n"
                                     "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|,0.5\n")
    (custom / "broken.csv").write_text("arch,lat_ms\nnot-an-arch,1\n")
    assert main(["data", "list", "--data-dir", str(tmp_path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ids = {d["dataset"]: d for d in doc["datasets"]}
    assert len(ids) == 44 and ids["hwnas/cifar10/edgetpu_latency"]["missing"] == 4699
    assert ids["custom/mine/lat_ms"] == {"dataset": "custom/mine/lat_ms", "architectures": 15625,
                                         "missing": 15623, "unit": ids["custom/mine/lat_ms"]["unit"]}
    unavailable = {u["benchmark"]: u for u in doc["unavailable"]}
    assert set(unavailable) == {"transnas-macro", "custom/broken"}
    assert "not-an-arch" in unavailable["custom/broken"]["reason"]
    assert doc["searched"][0] == str(tmp_path.resolve())
    assert main(["data", "list", "--data-dir", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "custom/mine/lat_ms" in text and "unavailable: custom/broken" in text

    assert main(["data", "verify", "--data-dir", str(data_dir), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["problems"] == 0 and doc["ok"] == len(doc["files"])
    assert {f["status"] for f in doc["files"] if f["required"]} == {"ok"}


def test_data_list_without_data_names_the_searched_folders(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NASBENCH_DATA", raising=False)
    monkeypatch.setenv("NASBENCH_CACHE", str(tmp_path / "cache"))
    assert main(["data", "list", "--data-dir", str(tmp_path / "empty")]) == 0
    out = capsys.readouterr().out
    assert f"searched: {tmp_path / 'empty'}, {tmp_path / 'cache'}" in out
    for line in out.splitlines():
        assert not line.rstrip().endswith("Searched:"), line
        if line.startswith("unavailable: hwnas"):
            assert str(tmp_path / "empty" / "hw-nas-bench" / "hw_cifar10.csv") in line


def test_lut_as_json(data_dir, capsys):
    assert main(["lut", "--data-dir", str(data_dir), "--dataset", "hwnas/cifar10/eyeriss_latency", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["dataset"] == "hwnas/cifar10/eyeriss_latency" and doc["measured"] == 25
    assert 0.95 < doc["kendall_tau"] <= 1.0


def test_a_missing_extra_is_one_line_naming_it(tmp_path, data_dir, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the 'distributed' extra were not installed
    rc = main(["study", "run", "--config", str(_tiny_config(tmp_path)), "--out", str(tmp_path / "o"),
               "--data-dir", str(data_dir), "--dask-local", "1", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert "--dask-local needs distributed" in err and "pip install 'nasbench-study[distributed]'" in err
