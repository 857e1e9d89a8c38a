"""``nasbench-study study run|report`` and ``nasbench-study reproduce``."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from .common import (add_data_dir, add_executor_options, add_out_dir, add_progress, add_run_mode, executor_from_args,
                     existing_file, positive_float, positive_int, run_mode_kwargs)

if TYPE_CHECKING:
    from ..datasets import DataStore
    from ..study.spec import StudySpec

log = logging.getLogger(__name__)

#: Built-in study presets (kept here so that ``--help`` does not import the study package).
PRESET_NAMES = ("paper-hwnas", "paper-linreg-all", "paper-transnas", "quick", "transfer-lodo")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("study", help="the predictor study: run the grid, write the report")
    ssub = p.add_subparsers(dest="study_command", required=True, metavar="ACTION")

    r = ssub.add_parser("run", help="run a study grid into DIR/results.csv (resumed by default)")
    src = r.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", choices=PRESET_NAMES, help="a built-in study")
    src.add_argument("--config", type=existing_file, metavar="FILE", help="a TOML/JSON study configuration")
    add_out_dir(r, "results.csv and its journal/config files")
    add_run_mode(r)
    r.add_argument("--n-seeds", type=positive_int, default=None, metavar="N",
                   help="override the study's seeds with 0..N-1")
    add_progress(r)
    add_executor_options(r)
    add_data_dir(r)
    r.set_defaults(func=cmd_run)

    rep = ssub.add_parser("report", help="tables and figures from a results CSV")
    rep.add_argument("--results", type=existing_file, required=True, metavar="FILE",
                     help="DIR/results.csv of a study run")
    add_out_dir(rep, "the report's tables (CSV, Markdown) and figures (PNG, PDF)")
    rep.add_argument("--drop-dev-std", type=positive_float, default=None, metavar="X",
                     help="leave out fits whose deviation std exceeds X (the original plots used 2)")
    add_data_dir(rep)
    rep.set_defaults(func=cmd_report)

    rp = sub.add_parser("reproduce", help="the main job: run a study preset and write its report")
    rp.add_argument("--preset", default="quick", choices=PRESET_NAMES, help="the study preset (default quick)")
    add_out_dir(rp, "results.csv, report/ and simulation/")
    add_run_mode(rp)
    add_progress(rp)
    rp.add_argument("--no-simulation", action="store_true", help="skip the selection simulator's quick preset")
    add_executor_options(rp)
    add_data_dir(rp)
    rp.set_defaults(func=cmd_reproduce)


def resolve_preset(name: str, store: DataStore) -> StudySpec:
    """A preset; ``paper-transnas`` falls back to the micro space when the official macro file is
    missing, and says so."""
    from ..errors import NasbenchError
    from ..study.spec import preset

    if name != "paper-transnas":
        return preset(name)
    try:
        store.table("transnas-macro")
        return preset(name, space="transnas-macro")
    except NasbenchError as exc:
        log.warning("paper-transnas: %s", str(exc).splitlines()[0])
        print("paper-transnas: the official TransNAS-Bench-101 macro file is not available; "
              "running the same study on the transnas-micro space (labelled as such)")
        return preset(name, space="transnas-micro")


def _spec(args: argparse.Namespace, store: DataStore) -> StudySpec:
    from ..study.spec import load_config

    spec = resolve_preset(args.preset, store) if getattr(args, "preset", None) else load_config(args.config)
    if getattr(args, "n_seeds", None) is not None:
        from dataclasses import replace

        spec = replace(spec, seeds=tuple(range(args.n_seeds)))
    return spec


def cmd_run(args: argparse.Namespace) -> int:
    from ..datasets import DataStore
    from ..study.runner import run_study

    store = DataStore(args.data_dir)
    spec = _spec(args, store)
    with executor_from_args(args) as ex:
        summary = run_study(spec, args.out, store=store, executor=ex, progress=not args.no_progress,
                            **run_mode_kwargs(args))
    print(f"{summary.ran} of {summary.total} fits run ({summary.skipped} already done) in "
          f"{summary.seconds:.1f} s -> {summary.path}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from ..datasets import DataStore
    from ..errors import DataFormatError
    from ..study.report import write_report
    from ..study.runner import load_results

    if len(load_results(args.results)) == 0:  # checked here: the report cannot draw anything from no rows
        raise DataFormatError(f"{args.results}: no result rows (only a header); run 'nasbench-study study run' first")
    files = write_report(args.results, args.out, store=DataStore(args.data_dir), drop_dev_std=args.drop_dev_std)
    print(f"{len(files)} report files in {args.out}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from ..datasets import DataStore
    from ..study.report import write_report
    from ..study.runner import RESULTS_NAME, run_study

    store = DataStore(args.data_dir)
    spec = resolve_preset(args.preset, store)
    with executor_from_args(args) as ex:
        summary = run_study(spec, args.out, store=store, executor=ex, progress=not args.no_progress,
                            **run_mode_kwargs(args))
    print(f"study {spec.name}: {summary.ran} of {summary.total} fits run in {summary.seconds:.1f} s")
    files = write_report(args.out / RESULTS_NAME, args.out / "report", store=store)
    print(f"study report: {len(files)} files in {args.out / 'report'}")
    if not args.no_simulation:
        from simulation import run_preset

        sim_dir = args.out / "simulation"
        with executor_from_args(args) as ex:
            path = run_preset("quick", sim_dir, executor=ex, progress=not args.no_progress, data_dir=args.data_dir,
                              **run_mode_kwargs(args))
        print(f"selection simulation (quick preset): {path} and {sim_dir / 'report'}")
    return 0
