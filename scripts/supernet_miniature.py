#!/usr/bin/env python
"""The Fashion-MNIST miniature of Chapter 6 with the first script's options (a thin wrapper).

The experiment is ``nasbench_tools.supernet.miniature`` (``nasbench-study supernet-miniature run
--preset miniature-nozero --out DIR``, then ``... report --results DIR/supernets.csv --out DIR``);
this script builds its configuration from the options below, runs it into ``--out`` (resumed
when it exists) and writes the report beside the results, as the first script did.
  python scripts/supernet_miniature.py --data-dir /usr/share/datasets/fashion-mnist \
      --space nb201-nozero --archs 64 --gt-seeds 0,1 --early-stop --jobs 2 --out results/supernet/miniature-nozero
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from nasbench_tools.cli.common import int_list
from nasbench_tools.errors import NasbenchError
from nasbench_tools.runner.executors import make_executor
from nasbench_tools.runner.experiment import run_experiment
from nasbench_tools.supernet.miniature import SupernetMiniature
from nasbench_tools.supernet.miniature_config import MiniatureConfig, miniature_spaces

#: Options that set a config field of the same name (``--gt-epochs`` -> ``gt_epochs``) and their types.
FIELDS = {"space": str, "archs": int, "arch_seed": int, "channels": int, "batch": int, "lr": float,
          "crop_padding": int, "gt_epochs": int, "gt_seeds": int_list, "gt_limit": int, "ground_truth": str,
          "epochs": int, "splits": int_list, "seeds": int_list, "calib_batches": int, "device": str}
IMAGE_FIELDS = {"data": str, "data_dir": str, "train_images": int, "val_images": int, "test_images": int, "size": int}
FLAGS = ("no_skip_linear", "bn_reset", "early_stop", "gt_only", "overwrite")


def config_from(args: argparse.Namespace) -> MiniatureConfig:
    """The experiment's config: its defaults, changed by every option given."""
    images = {k: getattr(args, k) for k in IMAGE_FIELDS if getattr(args, k) is not None}
    changes = {k: getattr(args, k) for k in FIELDS if getattr(args, k) is not None}
    if args.gt_only:
        changes["seeds"] = ()
    default = MiniatureConfig()
    return default.replace(images=default.images.replace(**images), skip_linear=not args.no_skip_linear,
                           bn_reset=args.bn_reset, early_stop=args.early_stop, work_dir=args.work, **changes)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, kind in {**FIELDS, **IMAGE_FIELDS}.items():
        ap.add_argument("--" + name.replace("_", "-"), type=kind, default=None)
    ap.add_argument("--out", type=Path, default=Path("results/supernet/miniature"))
    ap.add_argument("--work", default=None, help="checkpoint folder (default: a temporary folder, removed)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (with --device cuda keep 1)")
    for flag in FLAGS:
        ap.add_argument("--" + flag.replace("_", "-"), action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        if args.space is not None and args.space not in miniature_spaces():
            ap.error(f"--space: expected one of {', '.join(miniature_spaces())}")
        config = config_from(args)
        experiment = SupernetMiniature()
        with make_executor(args.jobs) as executor:
            run_experiment(experiment, config, args.out, executor=executor, overwrite=args.overwrite)
        results = args.out / (experiment.results_name if config.seeds else "ground_truth_runs.csv")
        for path in experiment.report(results, args.out, store=None):
            print(path)
    except NasbenchError as exc:
        ap.exit(2, f"{ap.prog}: error: {exc}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
