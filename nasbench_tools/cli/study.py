"""``nasbench-study study run|report`` and ``nasbench-study reproduce``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..datasets import DataStore
from ..errors import NasbenchError
from ..runner import add_executor_options, executor_from_args
from ..study.report import write_report
from ..study.runner import RESULTS_NAME, run_study
from ..study.spec import PRESETS, StudySpec, load_config, preset
from .common import add_data_dir

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("study", help="the predictor study: run the grid, write the report")
    ssub = p.add_subparsers(dest="study_command", required=True, metavar="ACTION")

    r = ssub.add_parser("run", help="run a study grid into DIR/results.csv (resumable)")
    src = r.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", choices=sorted(PRESETS), help="a built-in study")
    src.add_argument("--config", type=Path, help="a TOML/JSON study configuration")
    r.add_argument("--out", type=Path, required=True, help="output directory")
    r.add_argument("--no-resume", action="store_true",
                   help="refuse to continue an existing results file (default: resume when DIR/results.csv exists)")
    r.add_argument("--seeds", type=int, default=None, metavar="N", help="override: use seeds 0..N-1")
    r.add_argument("--no-progress", action="store_true")
    add_executor_options(r)
    add_data_dir(r)
    r.set_defaults(func=cmd_run)

    rep = ssub.add_parser("report", help="tables and figures from a results CSV")
    rep.add_argument("--results", type=Path, required=True, help="DIR/results.csv of a study run")
    rep.add_argument("--out", type=Path, required=True, help="report directory")
    rep.add_argument("--drop-dev-std", type=float, default=None,
                     help="leave out fits whose deviation std exceeds this (the original plots used 2)")
    add_data_dir(rep)
    rep.set_defaults(func=cmd_report)

    rp = sub.add_parser("reproduce", help="the main job: run a study preset and write its report")
    rp.add_argument("--preset", default="quick", choices=sorted(PRESETS))
    rp.add_argument("--out", type=Path, required=True)
    rp.add_argument("--no-progress", action="store_true")
    rp.add_argument("--no-simulation", action="store_true", help="skip the selection simulator's quick preset")
    add_executor_options(rp)
    add_data_dir(rp)
    rp.set_defaults(func=cmd_reproduce)


def resolve_preset(name: str, store: DataStore) -> StudySpec:
    """A preset; ``paper-transnas`` falls back to the micro space when the official macro file is
    missing, and says so."""
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
    spec = resolve_preset(args.preset, store) if getattr(args, "preset", None) else load_config(args.config)
    if getattr(args, "seeds", None):
        from dataclasses import replace

        spec = replace(spec, seeds=tuple(range(args.seeds)))
    return spec


def cmd_run(args: argparse.Namespace) -> int:
    store = DataStore(args.data_dir)
    spec = _spec(args, store)
    resume = False if args.no_resume else None
    with executor_from_args(args) as ex:
        summary = run_study(spec, args.out, store=store, executor=ex, resume=resume, progress=not args.no_progress)
    print(f"{summary.ran} of {summary.total} fits run ({summary.skipped} already done) in "
          f"{summary.seconds:.1f} s -> {summary.path}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    files = write_report(args.results, args.out, store=DataStore(args.data_dir), drop_dev_std=args.drop_dev_std)
    print(f"{len(files)} report files in {args.out}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    store = DataStore(args.data_dir)
    spec = resolve_preset(args.preset, store)
    with executor_from_args(args) as ex:
        summary = run_study(spec, args.out, store=store, executor=ex, progress=not args.no_progress)
    print(f"study {spec.name}: {summary.ran} of {summary.total} fits run in {summary.seconds:.1f} s")
    files = write_report(args.out / RESULTS_NAME, args.out / "report", store=store)
    print(f"study report: {len(files)} files in {args.out / 'report'}")
    if not args.no_simulation:
        from simulation import run_preset

        sim_dir = args.out / "simulation"
        with executor_from_args(args) as ex:
            path = run_preset("quick", sim_dir, executor=ex, resume=(sim_dir / "simulation.csv").exists(),
                              progress=not args.no_progress, data_dir=args.data_dir)
        print(f"selection simulation (quick preset): {path} and {sim_dir / 'report'}")
    return 0
