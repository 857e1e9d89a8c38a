"""``nasbench-study simulate run|report|plan|real``: Monte-Carlo predictor-guided selection."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import (add_data_dir, add_executor_options, add_out_dir, add_progress, add_run_mode,
                     check_existing_output, executor_from_args, existing_file, format_table, jsonable, name_list,
                     non_negative_int, positive_float, positive_int, positive_int_list, probability, run_mode_kwargs,
                     write_config)

#: File names inside ``simulate real --out DIR``.
REAL_RESULTS_NAME = "real.csv"
REAL_CONFIG_NAME = "real.config.json"
COMPAT_HELP = "reproduce the original experiments' behaviour (broken pairing, noise variant, reference point)"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="simulate predictor-guided Pareto selection (MRA, hypervolume)")
    ssub = p.add_subparsers(dest="simulate_command", required=True, metavar="ACTION")

    r = ssub.add_parser("run", help="run a simulation grid into DIR/simulation.csv (resumed by default)")
    r.add_argument("--preset", default="quick", help="paper (330,000 selections) or quick (default)")
    add_out_dir(r, "simulation.csv and its journal/config files (report/ with --report)")
    r.add_argument("--compat", choices=["original-code"], default=None, help=COMPAT_HELP)
    r.add_argument("--trials", type=positive_int, default=None, metavar="N", help="override the preset's trials per cell")
    r.add_argument("--seed", type=non_negative_int, default=None, help="override the preset's run seed")
    add_run_mode(r)
    add_progress(r)
    r.add_argument("--report", action="store_true", help="also write DIR/report")
    add_executor_options(r)
    add_data_dir(r)
    r.set_defaults(func=cmd_run)

    rep = ssub.add_parser("report", help="figures and tables (PNG, PDF, CSV) from a simulation.csv")
    rep.add_argument("--results", type=existing_file, required=True, metavar="FILE", help="DIR/simulation.csv")
    add_out_dir(rep, "figures and tables")
    rep.add_argument("--real", type=existing_file, default=None, metavar="FILE",
                     help="real.csv of 'simulate real' (real-predictor scores) for Figure A.7")
    add_data_dir(rep)
    rep.set_defaults(func=cmd_report)

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
    pl.add_argument("--compat", choices=["original-code"], default=None, help=COMPAT_HELP)
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


def cmd_run(args: argparse.Namespace) -> int:
    from nasbench_tools.datasets import DataStore
    from simulation.grid import preset_config, run_simulation

    overrides = {k: v for k, v in (("trials", args.trials), ("seed", args.seed)) if v is not None}
    config = preset_config(args.preset, _mode(args), **overrides)
    with executor_from_args(args) as executor:
        path = run_simulation(config, args.out, executor=executor, progress=not args.no_progress,
                              store=DataStore(args.data_dir), **run_mode_kwargs(args))
    print(f"wrote {path} ({config.n_selections} selections)")
    if args.report:
        from simulation.report import write_report

        files = write_report(path, Path(args.out) / "report", data_dir=args.data_dir)
        print(f"report: {len(files)} files in {Path(args.out) / 'report'}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from simulation.report import load_results, write_report

    from ..errors import DataFormatError

    if len(load_results(Path(args.results))[0]) == 0:  # the report cannot draw anything from no rows
        raise DataFormatError(f"{args.results}: no result rows (only a header); run 'nasbench-study simulate run' first")
    files = write_report(Path(args.results), Path(args.out), data_dir=args.data_dir, real=args.real)
    print(f"wrote {len(files)} files to {args.out}")
    return 0


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
