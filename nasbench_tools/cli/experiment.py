"""Command-line registration that every experiment gets by implementing the contract
(:class:`~nasbench_tools.runner.experiment.Experiment`):

- ``<name> run --preset NAME | --config FILE --out DIR`` with the run mode
  (``--resume``/``--no-resume``/``--overwrite``), the executor options, ``--data-dir``,
  ``--no-progress``, ``--report`` and the experiment's own options;
- ``<name> report --results FILE --out DIR`` (plus the experiment's report options);
- ``<name> presets [--format json]`` and ``<name> config --preset NAME`` (the preset as the
  TOML file that ``--config`` reads back);

and the top-level ``nasbench-study presets`` listing every experiment's presets. The command
table of :mod:`nasbench_tools.cli` lists the experiments of :mod:`nasbench_tools.experiments`
without importing them; :func:`register_command` registers one when it is used.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import (add_data_dir, add_executor_options, add_format, add_out_dir, add_progress, add_run_mode,
                     executor_from_args, existing_file, format_table, print_json, run_mode_kwargs)

if TYPE_CHECKING:
    from ..datasets import DataStore
    from ..runner.config import ExperimentConfig
    from ..runner.experiment import Experiment
    from ..runner.grid import RunSummary

#: The top-level command listing every experiment's presets (registered by this module).
PRESETS_COMMAND = "presets"
PRESETS_HELP = "the presets of every experiment: name and description"
#: Columns of the preset listings.
PRESET_HEADER = ("experiment", "preset", "description")


def register_command(sub: argparse._SubParsersAction, name: str) -> None:
    """Register command ``name`` of this module: ``presets`` or a registered experiment."""
    if name == PRESETS_COMMAND:
        p = sub.add_parser(PRESETS_COMMAND, help=PRESETS_HELP)
        add_format(p)
        p.set_defaults(func=cmd_all_presets)
        return
    from ..experiments import get_experiment

    register_experiment(sub, get_experiment(name))


def register_experiment(sub: argparse._SubParsersAction, cls: type[Experiment]) -> argparse._SubParsersAction:
    """Add ``<cls.name>`` with its run/report/presets/config actions and the class's own hooks;
    returns the actions, so that a command module may add more."""
    p = sub.add_parser(cls.name, help=cls.summary)
    actions = p.add_subparsers(dest=f"{cls.name}_command", required=True, metavar="ACTION")
    kind = cls.config_type.kind
    names = ", ".join(cls.presets)

    r = actions.add_parser("run", help=f"run the {kind} into DIR/{cls.results_name} (resumed by default)")
    source = r.add_mutually_exclusive_group(required=cls.default_preset is None)
    default = f" (default {cls.default_preset})" if cls.default_preset else ""
    source.add_argument("--preset", default=cls.default_preset, metavar="NAME",
                        help=f"a built-in {kind}: {names}{default}")
    source.add_argument("--config", type=existing_file, metavar="FILE",
                        help=f"a TOML/JSON {kind} configuration (e.g. '{cls.name} config' output, or DIR/config.toml "
                             "of an earlier run)")
    add_out_dir(r, f"{cls.results_name} and its journal/config files, config.toml (report/ with --report)")
    add_run_mode(r)
    cls.add_run_options(r)
    add_progress(r)
    r.add_argument("--report", action="store_true", help="also write the report to DIR/report")
    add_executor_options(r)
    add_data_dir(r)
    r.set_defaults(func=partial(cmd_run, cls))

    rep = actions.add_parser("report", help="tables and figures (PNG, PDF, CSV) from a results CSV")
    rep.add_argument("--results", type=existing_file, required=True, metavar="FILE",
                     help=f"DIR/{cls.results_name} of a '{cls.name} run'")
    add_out_dir(rep, "the report's tables (CSV, Markdown) and figures (PNG, PDF)")
    cls.add_report_options(rep)
    add_data_dir(rep)
    rep.set_defaults(func=partial(cmd_report, cls))

    pr = actions.add_parser("presets", help=f"the built-in {kind} presets: name and description")
    add_format(pr)
    pr.set_defaults(func=partial(cmd_presets, cls))

    c = actions.add_parser("config", help="print a preset as a TOML configuration (what --config reads)")
    c.add_argument("--preset", required=True, metavar="NAME", help=f"a built-in {kind}: {names}")
    c.set_defaults(func=partial(cmd_config, cls))

    cls.add_commands(actions)
    return actions


# --------------------------------------------------------------------------- actions
def run_with_args(experiment: Experiment, config: ExperimentConfig, out: Path, store: DataStore,
                  args: argparse.Namespace) -> list[RunSummary]:
    """Run ``experiment`` with the executor, run mode and progress options of ``args``; print
    one line per grid."""
    from ..runner.experiment import run_experiment

    resolved = experiment.resolve(config, store)
    if resolved.name != config.name:
        print(f"{config.name}: running as {resolved.name} ({resolved.description})")
    with executor_from_args(args) as executor:
        summaries = run_experiment(experiment, resolved, out, store=store, executor=executor,
                                   progress=not args.no_progress, **run_mode_kwargs(args))
    for s in summaries:
        print(f"{s.ran} of {s.total} {experiment.task_noun} run ({s.skipped} already done) in {s.seconds:.1f} s "
              f"-> {s.path}")
    return summaries


def write_report(experiment: Experiment, results: Path, out: Path, store: DataStore, **options: Any) -> list[Path]:
    """The experiment's report; prints where it went."""
    files = experiment.report(Path(results), Path(out), store, **options)
    print(f"{len(files)} report files in {out}")
    return files


def cmd_run(cls: type[Experiment], args: argparse.Namespace) -> int:
    from ..datasets import DataStore
    from ..runner.config import load_config

    config = load_config(args.config, cls.config_type) if args.config else cls.preset(args.preset)
    config = cls.apply_run_options(config, args)
    store = DataStore(args.data_dir)
    experiment = cls()
    run_with_args(experiment, config, args.out, store, args)
    if args.report:
        write_report(experiment, args.out / cls.results_name, args.out / "report", store)
    return 0


def cmd_report(cls: type[Experiment], args: argparse.Namespace) -> int:
    from ..datasets import DataStore

    write_report(cls(), args.results, args.out, DataStore(args.data_dir), **cls.report_options(args))
    return 0


def cmd_presets(cls: type[Experiment], args: argparse.Namespace) -> int:
    _print_presets([(cls.name, name, description) for name, description in cls.preset_rows()], args.format)
    return 0


def cmd_all_presets(args: argparse.Namespace) -> int:
    from ..experiments import presets

    _print_presets(presets(), args.format)
    return 0


def _print_presets(rows: list[tuple[str, str, str]], fmt: str) -> None:
    if fmt == "json":
        print_json([dict(zip(PRESET_HEADER, row)) for row in rows])
    else:
        print(format_table(PRESET_HEADER, rows))


def cmd_config(cls: type[Experiment], args: argparse.Namespace) -> int:
    from ..runner.config import dumps_toml

    config = cls.preset(args.preset)
    header = (f"{cls.name} preset {args.preset}: edit, then run with\n"
              f"nasbench-study {cls.name} run --config FILE --out DIR")
    print(dumps_toml(config.to_dict(), header), end="")
    return 0
