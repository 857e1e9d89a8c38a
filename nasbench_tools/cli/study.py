"""``nasbench-study study run|report|presets|config`` (the generic experiment commands of
:class:`~nasbench_tools.study.experiment.PredictorStudy`) and ``nasbench-study reproduce``."""

from __future__ import annotations

import argparse

from ..study.experiment import PredictorStudy
from .common import add_data_dir, add_executor_options, add_out_dir, add_progress, add_run_mode
from .experiment import register_experiment, run_with_args, write_report

#: The study's presets (``reproduce --preset``).
PRESET_NAMES = tuple(PredictorStudy.presets)
REPRODUCE_HELP = "the main job: run a study preset and write its report"
#: The simulator's preset that ``reproduce`` runs beside the study.
SIMULATION_PRESET = "quick"


def register(sub: argparse._SubParsersAction) -> None:
    register_experiment(sub, PredictorStudy)
    rp = sub.add_parser("reproduce", help=REPRODUCE_HELP)
    rp.add_argument("--preset", default="quick", choices=PRESET_NAMES, help="the study preset (default quick)")
    add_out_dir(rp, "results.csv, report/ and simulation/")
    add_run_mode(rp)
    add_progress(rp)
    rp.add_argument("--no-simulation", action="store_true",
                    help=f"skip the selection simulator's {SIMULATION_PRESET} preset")
    add_executor_options(rp)
    add_data_dir(rp)
    rp.set_defaults(func=cmd_reproduce)


def cmd_reproduce(args: argparse.Namespace) -> int:
    """The study preset and its report into DIR, the simulator's quick preset and its report
    into DIR/simulation."""
    from simulation.experiment import SelectionSimulation

    from ..datasets import DataStore

    store = DataStore(args.data_dir)
    jobs = [(PredictorStudy(), args.preset, args.out)]
    if not args.no_simulation:
        jobs.append((SelectionSimulation(), SIMULATION_PRESET, args.out / "simulation"))
    for experiment, preset, out in jobs:
        print(f"{experiment.name} {preset}:")
        run_with_args(experiment, experiment.preset(preset), out, store, args)
        write_report(experiment, out / experiment.results_name, out / "report", store)
    return 0
