"""``nasbench-study supernet train|eval``: super-networks with conditional (split) weights."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ParameterError
from ..supernet.config import DATA_NAMES, DEFAULT_EPOCHS, NO_SPLIT, SPACES, SUBSETS
from ..supernet.evaluate import CALIBRATION_BATCHES
from .common import (add_data_dir, add_out_dir, add_progress, add_run_mode, existing_dir, existing_file, format_table,
                     int_at_least, int_list, non_negative_float, non_negative_int, out_dir, positive_float, positive_int,
                     run_mode_kwargs)

#: File names ``supernet eval`` writes into its output folder.
EVAL_NAME = "eval.csv"
EVAL_SUMMARY_NAME = "eval_summary.csv"


def split_epoch(text: str) -> int:
    """``-1`` (never split) or an epoch >= 0."""
    return int_at_least(text, NO_SPLIT)


def epochs_list(text: str) -> tuple[int, ...]:
    """Comma-separated epochs >= 1 without duplicates."""
    return int_list(text, low=1)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("supernet", help="train and evaluate super-networks with conditional (split) weights")
    ssub = p.add_subparsers(dest="supernet_command", required=True, metavar="ACTION")

    t = ssub.add_parser("train", help="single-path one-shot training (Table B.4 defaults), split at --split-epoch")
    t.add_argument("--space", default="nb201", help=f"search space: {', '.join(SPACES)} (default nb201)")
    t.add_argument("--subset", default="full", help=f"NB201 subset: {', '.join(SUBSETS)} (default full)")
    t.add_argument("--epochs", type=positive_int, default=None, metavar="N",
                   help="epochs to train (default 250 for nb201, 50 for nbmacro)")
    t.add_argument("--split-epoch", type=split_epoch, default=NO_SPLIT, metavar="E",
                   help="epochs trained before splitting (-1: never, the default)")
    t.add_argument("--data", default="cifar10", help=f"image data set: {', '.join(DATA_NAMES)} (default cifar10)")
    t.add_argument("--image-dir", type=existing_dir, default=None, metavar="DIR",
                   help="folder with the cifar-10-batches-py files or the Fashion-MNIST idx files")
    add_out_dir(t, "checkpoint.pt, train_log.csv and the kept checkpoints")
    add_run_mode(t)
    t.add_argument("--seed", type=non_negative_int, default=0, help="seed of weights, sampling and data order")
    t.add_argument("--batch-size", type=positive_int, default=256, metavar="N", help="training batch size (default 256)")
    t.add_argument("--lr", type=positive_float, default=0.025, help="initial learning rate (cosine schedule)")
    t.add_argument("--lr-min", type=non_negative_float, default=1e-5, help="final learning rate of the cosine schedule")
    t.add_argument("--momentum", type=non_negative_float, default=0.9, help="SGD momentum")
    t.add_argument("--weight-decay", type=non_negative_float, default=3e-4, help="SGD weight decay")
    t.add_argument("--val-images", type=non_negative_int, default=5000, metavar="N",
                   help="training images held out for validation")
    t.add_argument("--train-images", type=positive_int, default=None, metavar="N",
                   help="use only the first N training images")
    t.add_argument("--synthetic-size", type=positive_int, default=512, metavar="N", help="images of --data synthetic")
    t.add_argument("--dependencies", default="default",
                   help="'default' (protocol §4), 'none', or 'slot:dep,dep;...' e.g. '2:0;4:0;5:1,2'")
    t.add_argument("--no-skip-linear", action="store_true", help="NB201: parameter-free skip (718,426 params)")
    t.add_argument("--channels", type=positive_int, default=16, metavar="C", help="NB201: channels of the first stage")
    t.add_argument("--cells-per-stage", type=positive_int, default=2, metavar="N", help="NB201: normal cells per stage")
    t.add_argument("--crop-padding", type=non_negative_int, default=4, metavar="P",
                   help="pixel shift of the random crop (Table B.4: 4)")
    t.add_argument("--amp", action="store_true", help="mixed precision (needs a CUDA device)")
    t.add_argument("--channels-last", action="store_true", help="channels-last memory format (needs a CUDA device)")
    t.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    t.add_argument("--keep-epochs", type=epochs_list, default=(), metavar="E,E,...",
                   help="also keep checkpoints after these epochs")
    add_progress(t)
    t.set_defaults(func=cmd_train)

    e = ssub.add_parser("eval", help="evaluate architectures with a trained super-network against ground truth")
    e.add_argument("--checkpoint", type=existing_file, required=True, metavar="FILE", help="checkpoint.pt of a training run")
    e.add_argument("--population", default="random:1000", help="random:N, top:N or all")
    e.add_argument("--ground-truth", default="benchmark",
                   help="'benchmark' (NB201/NAS-Bench-Macro CIFAR-10 test accuracy), 'none', or a CSV with 'arch'")
    e.add_argument("--truth-column", default="accuracy", help="metric column of a --ground-truth CSV")
    add_data_dir(e)
    e.add_argument("--image-dir", type=existing_dir, default=None, metavar="DIR",
                   help="image data folder (default: the one used in training)")
    e.add_argument("--out", type=out_dir, default=None, metavar="DIR",
                   help="output folder for eval.csv and eval_summary.csv (default: the checkpoint's folder)")
    e.add_argument("--batch-size", type=positive_int, default=256, metavar="N", help="evaluation batch size")
    e.add_argument("--calibration-batches", type=positive_int, default=CALIBRATION_BATCHES, metavar="N",
                   help=f"training batches for BatchNorm recalibration per architecture (default {CALIBRATION_BATCHES})")
    e.add_argument("--bn-reset", action="store_true",
                   help="reset BatchNorm statistics before recalibrating (plain average over the calibration "
                        "batches); default: keep the trained statistics as a start, as in Appendix B.3")
    e.add_argument("--seed", type=non_negative_int, default=0, help="seed of the population and calibration batches")
    e.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    add_progress(e)
    e.set_defaults(func=cmd_eval)


def _check_cuda_options(args: argparse.Namespace) -> None:
    """``--amp`` / ``--channels-last`` on a device without CUDA cannot be honoured: an error, not a fallback."""
    wanted = [flag for flag, on in (("--amp", args.amp), ("--channels-last", args.channels_last)) if on]
    if not wanted:
        return
    import torch

    cuda = args.device.startswith("cuda") or (args.device == "auto" and torch.cuda.is_available())
    if not cuda:
        verb = "need" if len(wanted) > 1 else "needs"
        raise ParameterError(f"{' and '.join(wanted)} {verb} a CUDA device, but --device {args.device} "
                             f"{'has none here' if args.device == 'auto' else 'is not one'}")


def cmd_train(args: argparse.Namespace) -> int:
    from ..supernet.config import TrainConfig
    from ..supernet.trainer import train_supernet

    _check_cuda_options(args)
    if args.space not in DEFAULT_EPOCHS:
        raise ParameterError(f"--space {args.space!r}: expected one of {', '.join(SPACES)}")
    cfg = TrainConfig(
        space=args.space, subset=args.subset,
        epochs=args.epochs if args.epochs is not None else DEFAULT_EPOCHS[args.space],
        split_epoch=args.split_epoch, data=args.data, lr=args.lr, lr_min=args.lr_min, momentum=args.momentum,
        weight_decay=args.weight_decay, batch_size=args.batch_size, seed=args.seed, val_images=args.val_images,
        train_images=args.train_images, synthetic_size=args.synthetic_size, dependencies=args.dependencies,
        skip_linear=not args.no_skip_linear, channels=args.channels, cells_per_stage=args.cells_per_stage,
        crop_padding=args.crop_padding, amp=args.amp, channels_last=args.channels_last,
    ).validate()
    res = train_supernet(cfg, args.out, data_dir=args.image_dir, device=args.device, keep_epochs=args.keep_epochs,
                         progress=not args.no_progress, **run_mode_kwargs(args))
    last = res.log.iloc[-1]
    print(format_table(["space", "epochs", "split_epoch", "weight_sets", "extra_weight_sets", "val_acc", "checkpoint"],
                       [(cfg.space_name, int(last["epoch"]), cfg.split_epoch, res.weight_sets["weight_sets"],
                         res.weight_sets["extra_weight_sets"], f"{last['val_acc']:.4f}", str(res.checkpoint))]))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from ..supernet.evaluate import evaluate_checkpoint
    from ..utils.io import write_csv_atomic

    res = evaluate_checkpoint(
        args.checkpoint, args.population, truth_source=args.ground_truth, truth_column=args.truth_column,
        benchmark_dir=args.data_dir, data_dir=args.image_dir, device=args.device, batch_size=args.batch_size,
        calibration_batches=args.calibration_batches, seed=args.seed, progress=not args.no_progress,
        bn_reset=args.bn_reset,
    )
    folder = Path(args.out) if args.out is not None else Path(args.checkpoint).parent
    out = folder / EVAL_NAME
    write_csv_atomic(res.per_arch, out)
    summary_path = folder / EVAL_SUMMARY_NAME
    write_csv_atomic(res.summary, summary_path)
    row = res.summary.iloc[0]
    print(format_table(list(res.summary.columns), [[f"{v:.4f}" if isinstance(v, float) else v for v in row]]))
    print(f"wrote {out} and {summary_path}")
    return 0
