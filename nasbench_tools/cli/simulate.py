"""``nasbench-study simulate run|report|presets|config`` (the generic experiment commands of
:class:`~simulation.experiment.SelectionSimulation`) and ``simulate plan|real``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from simulation.experiment import SelectionSimulation, add_compat_option

from .common import (add_data_dir, add_out_dir, add_run_mode, check_existing_output, existing_file, format_table,
                     jsonable, name_list, non_negative_int, positive_float, positive_int, positive_int_list,
                     probability, write_config)
from .experiment import register_experiment

#: File names inside ``simulate real --out DIR``.
REAL_RESULTS_NAME = "real.csv"
REAL_CONFIG_NAME = "real.config.json"


def register(sub: argparse._SubParsersAction) -> None:
    ssub = register_experiment(sub, SelectionSimulation)
    pl = ssub.add_parser("plan", help="measure B/T architectures live, or predict all with a predictor of quality K?")
    pl.add_argument("--dataset", required=True, help="hardware dataset ID, e.g. hwnas/cifar10/edgegpu_latency")
    pl.add_argument("--measure-seconds", type=positive_float, required=True, help="seconds to measure one architecture")
    pl.add_argument("--budget-seconds", type=positive_float, required=True, help="total measurement budget in seconds")
    quality = pl.add_mutually_exclusive_group(required=True)
    quality.add_argument("--predictor-tau", type=probability, default=None, help="Kendall's tau of the predictor (0..1)")
    quality.add_argument("--predictor", default=None, metavar="NAME",
                         help="fit this registry predictor (e.g. transfer_gp_suggested) on --train-size measured "
                              "architectures and plan with its measured tau")
    pl.add_argument("--train-size", type=positive_int, default=20, metavar="K",
                    help="measurements --predictor is fitted on (default 20)")
    pl.add_argument("--trials", type=positive_int, default=200, metavar="N", help="simulated selections per option")
    pl.add_argument("--seed", type=non_negative_int, default=0, help="seed of the simulated selections")
    add_compat_option(pl)
    add_data_dir(pl)
    pl.set_defaults(func=cmd_plan)

    re = ssub.add_parser("real", help="score selections with a real predictor's deviations (Appendix A.7 check)")
    re.add_argument("--dataset", action="append", required=True, help="hardware dataset ID (repeatable)")
    source = re.add_mutually_exclusive_group(required=True)
    source.add_argument("--predictor", type=name_list, default=None,
                        help="fit these registry predictors on the fly (comma-separated, e.g. ridge,linear_regression)")
    source.add_argument("--predictions", type=existing_file, default=None, metavar="FILE",
                        help="CSV with columns arch_index, prediction (instead of --predictor)")
    re.add_argument("--train-sizes", type=positive_int_list, default=(25, 124, 614), metavar="N,N,...",
                    help="training sizes for --predictor (comma-separated, default 25,124,614)")
    re.add_argument("--subset-size", type=positive_int, default=1000, metavar="N",
                    help="architectures per simulated selection (default 1000)")
    re.add_argument("--trials", type=positive_int, default=100, metavar="N", help="selections per fit (default 100)")
    re.add_argument("--fits-per-size", type=positive_int, default=3, metavar="N",
                    help="fits per training size, with seeds 0..N-1 (default 3)")
    add_out_dir(re, f"{REAL_RESULTS_NAME} and {REAL_CONFIG_NAME}")
    add_run_mode(re)
    add_data_dir(re)
    re.set_defaults(func=cmd_real)


def _mode(args: argparse.Namespace) -> str:
    return args.compat or "default"


def cmd_plan(args: argparse.Namespace) -> int:
    from nasbench_tools.datasets import DataStore
    from simulation.planner import plan_budget

    result = plan_budget(args.dataset, measure_seconds=args.measure_seconds, budget_seconds=args.budget_seconds,
                         predictor_tau=args.predictor_tau, trials=args.trials, seed=args.seed, mode=_mode(args),
                         store=DataStore(args.data_dir), predictor=args.predictor, train_size=args.train_size)
    rows = [(o.name, o.subset_size, f"{o.std:.3f}", f"{o.tau:.3f}",
             f"{o.hv_mean:.4f} ± {o.hv_std:.4f}", f"{o.mra_mean:.3f} ± {o.mra_std:.3f}") for o in result.options]
    print(format_table(["option", "architectures", "std", "kendall_tau", "hypervolume (fixed ref.)", "MRA_pareto vs own subset [%]"], rows))
    print(result.recommendation)
    return 0


def real_config(args: argparse.Namespace, store: Any) -> dict[str, Any]:
    """What ``simulate real`` computes from (a resumed run must match it field by field)."""
    config: dict[str, Any] = {
        "datasets": list(args.dataset), "predictors": list(args.predictor) if args.predictor else None,
        "predictions": str(args.predictions) if args.predictions else None,
        "train_sizes": list(args.train_sizes), "subset_size": args.subset_size, "trials": args.trials,
        "fits_per_size": args.fits_per_size,
    }
    config["data"] = store.data_checksums(list(args.dataset))
    if args.predictions:
        from ..datasets import sha256_file

        config["predictions_sha256"] = sha256_file(Path(args.predictions))
    return config


def cmd_real(args: argparse.Namespace) -> int:
    import pandas as pd

    from nasbench_tools.datasets import DataStore
    from simulation.real import score_real_predictor

    from ..runner.lock import OutputLock
    from ..utils.io import write_csv_atomic

    store = DataStore(args.data_dir)
    out = Path(args.out)
    results, config_path = out / REAL_RESULTS_NAME, out / REAL_CONFIG_NAME
    with OutputLock(out):
        config = jsonable(real_config(args, store))
        if check_existing_output(results, config_path, config, args):
            print(f"{results} is complete for this configuration; nothing to do")
            return 0
        names = list(args.predictor) if args.predictor else [None]
        frame = pd.concat([score_real_predictor(args.dataset, predictor=name, predictions=args.predictions,
                                                train_sizes=args.train_sizes, subset_size=args.subset_size,
                                                trials=args.trials, seeds=args.fits_per_size, store=store)
                           for name in names], ignore_index=True)
        write_config(config_path, config)
        write_csv_atomic(frame, results)
    print(f"wrote {results} ({len(frame)} rows)")
    return 0
