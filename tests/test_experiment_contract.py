"""The experiment contract (``nasbench_tools.runner.experiment``): a tiny two-grid experiment defined
here runs serially, in a process pool and on a real Dask LocalCluster to the same bytes, resumes
after an interruption, refuses a changed configuration naming the field, writes a config.toml that
reads back equal, and gets its command line by registration; every registered experiment's
presets build and round-trip through TOML."""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Iterator

import numpy as np
import pandas as pd
import pytest

from nasbench_tools.cli import COMMANDS, OneLineParser, main
from nasbench_tools.cli.experiment import register_experiment
from nasbench_tools.errors import ConfigMismatchError
from nasbench_tools.experiments import EXPERIMENTS, available, get_experiment, presets
from nasbench_tools.runner import DaskExecutor, ProcessExecutor
from nasbench_tools.runner.config import ExperimentConfig, load_config, write_config_toml
from nasbench_tools.runner.experiment import CONFIG_NAME, Experiment, Grid, RunContext, run_experiment
from nasbench_tools.runner.options import positive_float
from nasbench_tools.utils.report import read_results, write_table

FILES = ("draws.csv", "totals.csv")


# ----------------------------------------------------------------------------- a tiny experiment
@dataclass(frozen=True)
class TinyConfig(ExperimentConfig):
    """Random draws per size (grid 1), then their scaled sums (grid 2, reading grid 1's table)."""

    sizes: tuple[int, ...] = (1, 2, 3, 4)
    seed: int = 0
    scale: float = 1.0

    kind: ClassVar[str] = "tiny"


@dataclass(frozen=True)
class DrawTask:
    size: int
    seed: int

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.size,)


@dataclass(frozen=True)
class SumTask:
    size: int
    values: tuple[float, ...]
    scale: float
    #: A file: when it is missing the task creates it and fails (an interruption on the first run).
    fail_once: str | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.size,)


def draw(task: DrawTask) -> pd.DataFrame:
    values = np.random.default_rng([task.seed, task.size]).random(task.size)
    return pd.DataFrame({"size": task.size, "i": np.arange(task.size), "value": values})


def total(task: SumTask) -> pd.DataFrame:
    if task.fail_once is not None and not Path(task.fail_once).exists():
        Path(task.fail_once).touch()
        raise RuntimeError(f"size {task.size} interrupted")
    return pd.DataFrame({"size": [task.size], "total": [task.scale * float(np.sum(task.values))]})


class Tiny(Experiment[TinyConfig]):
    name = "tiny"
    summary = "a tiny two-grid experiment"
    config_type = TinyConfig
    presets = {"small": lambda: TinyConfig(name="small", description="four sizes"),
               "large": lambda: TinyConfig(name="large", description="eight sizes", sizes=tuple(range(1, 9)))}
    results_name = "totals.csv"
    task_noun = "draws"

    def grids(self, config: TinyConfig, ctx: RunContext) -> Iterator[Grid]:
        draws = [DrawTask(n, config.seed) for n in config.sizes]
        yield Grid("draws.csv", ("size", "i", "value"), ("size",), draws, draw, config.fingerprint())
        table = pd.read_csv(ctx.out / "draws.csv")  # the first grid's finished results
        fail = ctx.options.get("fail_once")
        sums = [SumTask(n, tuple(table.loc[table["size"] == n, "value"]), config.scale, fail if n == 3 else None)
                for n in config.sizes]
        yield Grid("totals.csv", ("size", "total"), ("size",), sums, total, config.fingerprint())

    def report(self, results: Path, report_dir: Path, store: Any, **options: Any) -> list[Path]:
        df = read_results(results, ("size", "total"), "tiny", run_command="nasbench-study tiny run")
        return write_table(df.set_index("size"), report_dir, "totals")

    @classmethod
    def add_run_options(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--scale", type=positive_float, default=None, help="override the scale of the sums")

    @classmethod
    def apply_run_options(cls, config: TinyConfig, args: argparse.Namespace) -> TinyConfig:
        return config if args.scale is None else dataclasses.replace(config, scale=args.scale)


SMALL = Tiny.preset("small")


def _bytes(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in FILES}


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "serial"
    summaries = run_experiment(Tiny(), SMALL, out, progress=False)
    assert [(s.total, s.ran) for s in summaries] == [(4, 4), (4, 4)]
    return out


# ----------------------------------------------------------------------------- running
def test_grids_run_in_order_and_the_second_reads_the_first(serial: Path) -> None:
    draws, totals = pd.read_csv(serial / "draws.csv"), pd.read_csv(serial / "totals.csv")
    assert len(draws) == 1 + 2 + 3 + 4 and totals["size"].tolist() == [1, 2, 3, 4]
    expected = draws.groupby("size")["value"].sum()
    assert np.allclose(totals.set_index("size")["total"], expected)


def test_process_pool_and_dask_give_the_serial_bytes(serial: Path, tmp_path: Path) -> None:
    with ProcessExecutor(2) as ex:
        run_experiment(Tiny(), SMALL, tmp_path / "pool", executor=ex, progress=False)
    assert _bytes(tmp_path / "pool") == _bytes(serial)
    with DaskExecutor(local_workers=2) as ex:
        run_experiment(Tiny(), SMALL, tmp_path / "dask", executor=ex, progress=False)
    assert _bytes(tmp_path / "dask") == _bytes(serial)


def test_an_interrupted_run_resumes_only_the_unfinished_tasks(serial: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    options = {"fail_once": str(tmp_path / "failed-once")}
    with pytest.raises(RuntimeError, match="size 3 interrupted"):
        run_experiment(Tiny(), SMALL, out, progress=False, options=options)
    assert pd.read_csv(out / "totals.csv")["size"].tolist() == [1, 2]  # finished before the failure
    summaries = run_experiment(Tiny(), SMALL, out, progress=False, options=options)
    assert [(s.skipped, s.ran) for s in summaries] == [(4, 0), (2, 2)]
    assert _bytes(out) == _bytes(serial)
    again = run_experiment(Tiny(), SMALL, out, progress=False)  # finished: nothing runs, no byte changes
    assert [s.ran for s in again] == [0, 0] and _bytes(out) == _bytes(serial)


def test_a_changed_configuration_is_refused_naming_the_field(serial: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    out.mkdir()
    for p in serial.iterdir():
        if p.is_file() and p.name != ".lock":
            (out / p.name).write_bytes(p.read_bytes())
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(ConfigMismatchError, match="scale: stored 1.0, now 2.0"):
        run_experiment(Tiny(), dataclasses.replace(SMALL, scale=2.0), out, progress=False)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != ".lock"} == before
    # the name and description are descriptive: another name resumes the same rows
    summaries = run_experiment(Tiny(), dataclasses.replace(SMALL, name="renamed"), out, progress=False)
    assert [s.ran for s in summaries] == [0, 0]
    summaries = run_experiment(Tiny(), dataclasses.replace(SMALL, scale=2.0), out, progress=False, overwrite=True)
    assert [s.ran for s in summaries] == [4, 4]


def test_config_toml_reads_back_equal(serial: Path, tmp_path: Path) -> None:
    assert load_config(serial / CONFIG_NAME, TinyConfig) == SMALL
    odd = TinyConfig(name="odd", description='quotes " and\nnewlines', sizes=(7,), seed=3, scale=0.1)
    assert load_config(write_config_toml(tmp_path / "odd.toml", odd), TinyConfig) == odd


# ----------------------------------------------------------------------------- command line
def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="nasbench-study")
    register_experiment(parser.add_subparsers(dest="command", required=True), Tiny)
    return parser


def _cli(argv: list[str]) -> int:
    args = _parser().parse_args([str(a) for a in argv])
    return args.func(args)


def test_registration_gives_run_report_presets_and_config(serial: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cli"
    assert _cli(["tiny", "run", "--preset", "small", "--out", out, "--no-progress", "--report"]) == 0
    text = capsys.readouterr().out
    assert "4 of 4 draws run (0 already done)" in text and "2 report files" in text
    assert _bytes(out) == _bytes(serial)
    assert (out / "report" / "totals.md").read_text().startswith("| size | total |")
    with pytest.raises(ConfigMismatchError, match="scale: stored 1.0, now 2.0"):  # the option overrides the preset
        _cli(["tiny", "run", "--preset", "small", "--out", out, "--no-progress", "--scale", "2"])

    assert _cli(["tiny", "presets", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["preset"], r["description"]) for r in listed] == [("small", "four sizes"), ("large", "eight sizes")]

    assert _cli(["tiny", "config", "--preset", "large"]) == 0
    cfg = tmp_path / "large.toml"
    cfg.write_text(capsys.readouterr().out)
    assert load_config(cfg, TinyConfig) == Tiny.preset("large")
    assert _cli(["tiny", "run", "--config", cfg, "--out", tmp_path / "large", "--no-progress"]) == 0
    assert "8 of 8 draws run" in capsys.readouterr().out
    assert _cli(["tiny", "report", "--results", tmp_path / "large" / "totals.csv", "--out", tmp_path / "rep"]) == 0
    assert len(pd.read_csv(tmp_path / "rep" / "totals.csv")) == 8


def test_the_command_line_needs_a_preset_or_a_config(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["tiny", "run", "--out", str(tmp_path)])
    assert "one of the arguments --preset --config is required" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the registry
def test_every_registered_experiment_is_a_command_with_its_summary() -> None:
    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names))
    by_name = {c.name: c for c in COMMANDS}
    for name in available():
        cls = get_experiment(name)
        assert cls.summary == EXPERIMENTS[name].summary and cls.presets
        assert by_name[name].module == EXPERIMENTS[name].cli and by_name[name].help == cls.summary


@pytest.mark.parametrize("name", available())
def test_every_preset_builds_and_round_trips_through_toml(name: str, tmp_path: Path) -> None:
    cls = get_experiment(name)
    for preset in cls.presets:
        config = cls.preset(preset)
        assert isinstance(config, cls.config_type) and config.name.startswith(preset) and config.description
        path = write_config_toml(tmp_path / f"{preset}.toml", config)
        assert load_config(path, cls.config_type) == config, preset
        json.dumps(config.fingerprint())  # what a results file stores must be plain JSON


def test_presets_command_lists_every_experiment(capsys) -> None:
    assert main(["presets", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {(r["experiment"], r["preset"]) for r in rows} == {(r.experiment, r.preset) for r in presets()}
    assert {"study", "simulate"} <= {r["experiment"] for r in rows}
    assert main(["presets"]) == 0
    assert "paper-hwnas" in capsys.readouterr().out
