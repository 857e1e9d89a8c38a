"""``nasbench-study simulate run|report|plan|real``: Monte-Carlo predictor-guided selection."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..runner import add_executor_options, executor_from_args
from .common import add_data_dir, format_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="simulate predictor-guided Pareto selection (MRA, hypervolume)")
    ssub = p.add_subparsers(dest="simulate_command", required=True, metavar="ACTION")

    r = ssub.add_parser("run", help="run a simulation grid into DIR/simulation.csv")
    r.add_argument("--preset", default="quick", help="paper (330,000 selections) or quick (default)")
    r.add_argument("--out", required=True, help="output directory")
    r.add_argument("--compat", choices=["original-code"], default=None,
                   help="reproduce the original experiments' behaviour (broken pairing, noise variant, reference point)")
    r.add_argument("--trials", type=int, default=None, help="override the preset's trials per cell")
    r.add_argument("--seed", type=int, default=None, help="override the preset's run seed")
    r.add_argument("--resume", action="store_true", help="continue an existing results file (finished cells are skipped)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--report", action="store_true", help="also write DIR/report")
    add_executor_options(r)
    add_data_dir(r)
    r.set_defaults(func=cmd_run)

    rep = ssub.add_parser("report", help="figures and tables (PNG, PDF, CSV) from a simulation.csv")
    rep.add_argument("--results", required=True, help="DIR/simulation.csv")
    rep.add_argument("--out", required=True, help="report directory")
    rep.add_argument("--real", default=None, help="CSV of real-predictor scores (simulate real) for Figure A.7")
    add_data_dir(rep)
    rep.set_defaults(func=cmd_report)

    pl = ssub.add_parser("plan", help="measure B/T architectures live, or predict all with a predictor of quality K?")
    pl.add_argument("--dataset", required=True, help="hardware dataset ID, e.g. hwnas/cifar10/edgegpu_latency")
    pl.add_argument("--measure-seconds", type=float, required=True, help="seconds to measure one architecture")
    pl.add_argument("--budget-seconds", type=float, required=True, help="total measurement budget in seconds")
    pl.add_argument("--predictor-tau", type=float, required=True, help="Kendall's tau of the predictor (0..1)")
    pl.add_argument("--trials", type=int, default=200, help="simulated selections per option")
    pl.add_argument("--seed", type=int, default=0)
    pl.add_argument("--compat", choices=["original-code"], default=None)
    add_data_dir(pl)
    pl.set_defaults(func=cmd_plan)

    re = ssub.add_parser("real", help="score selections with a real predictor's deviations (Appendix A.7 check)")
    re.add_argument("--dataset", action="append", required=True, help="hardware dataset ID (repeatable)")
    re.add_argument("--predictor", default=None, help="fit these registry predictors on the fly (comma-separated, e.g. ridge,linear_regression)")
    re.add_argument("--predictions", default=None, help="CSV with columns arch_index, prediction (instead of --predictor)")
    re.add_argument("--train-sizes", default="25,124,614", help="training sizes for --predictor (comma-separated)")
    re.add_argument("--subset-size", type=int, default=1000)
    re.add_argument("--trials", type=int, default=100)
    re.add_argument("--seeds", type=int, default=3, help="fits per training size")
    re.add_argument("--out", required=True, help="output CSV")
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
        path = run_simulation(config, args.out, executor=executor, resume=args.resume,
                              progress=not args.no_progress, store=DataStore(args.data_dir))
    print(f"wrote {path} ({config.n_selections} selections)")
    if args.report:
        from simulation.report import write_report

        files = write_report(path, Path(args.out) / "report", data_dir=args.data_dir)
        print(f"report: {len(files)} files in {Path(args.out) / 'report'}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from simulation.report import write_report

    files = write_report(Path(args.results), Path(args.out), data_dir=args.data_dir, real=args.real)
    print(f"wrote {len(files)} files to {args.out}")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from nasbench_tools.datasets import DataStore
    from simulation.planner import plan_budget

    result = plan_budget(args.dataset, measure_seconds=args.measure_seconds, budget_seconds=args.budget_seconds,
                         predictor_tau=args.predictor_tau, trials=args.trials, seed=args.seed, mode=_mode(args),
                         store=DataStore(args.data_dir))
    rows = [(o.name, o.subset_size, f"{o.std:.3f}", f"{o.tau:.3f}",
             f"{o.hv_mean:.4f} ± {o.hv_std:.4f}", f"{o.mra_mean:.3f} ± {o.mra_std:.3f}") for o in result.options]
    print(format_table(["option", "architectures", "std", "kendall_tau", "hypervolume (fixed ref.)", "MRA_pareto vs own subset [%]"], rows))
    print(result.recommendation)
    return 0


def cmd_real(args: argparse.Namespace) -> int:
    from nasbench_tools.datasets import DataStore
    from simulation.real import score_real_predictor

    import pandas as pd

    sizes = tuple(int(s) for s in args.train_sizes.split(",") if s.strip())
    store = DataStore(args.data_dir)
    names = [n.strip() for n in args.predictor.split(",") if n.strip()] if args.predictor else [None]
    frame = pd.concat([score_real_predictor(args.dataset, predictor=name, predictions=args.predictions,
                                            train_sizes=sizes, subset_size=args.subset_size, trials=args.trials,
                                            seeds=args.seeds, store=store) for name in names], ignore_index=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(out)
    print(f"wrote {out} ({len(frame)} rows)")
    return 0
