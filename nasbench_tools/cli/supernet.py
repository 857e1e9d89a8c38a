"""``nasbench-study supernet train|eval``: super-networks with conditional (split) weights."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..supernet.config import DATA_NAMES, DEFAULT_EPOCHS, NO_SPLIT, SPACES, SUBSETS, TrainConfig
from ..supernet.evaluate import CALIBRATION_BATCHES, evaluate_checkpoint
from ..supernet.trainer import train_supernet
from ..utils.io import write_csv_atomic
from .common import add_data_dir, format_table


def _epochs_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated epochs, got {text!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("supernet", help="train and evaluate super-networks with conditional (split) weights")
    ssub = p.add_subparsers(dest="supernet_command", required=True, metavar="ACTION")

    t = ssub.add_parser("train", help="single-path one-shot training (Table B.4 defaults), split at --split-epoch")
    t.add_argument("--space", default="nb201", help=f"one of {', '.join(SPACES)}")
    t.add_argument("--subset", default="full", help=f"NB201 subset: {', '.join(SUBSETS)}")
    t.add_argument("--epochs", type=int, default=None, help="default 250 (nb201) / 50 (nbmacro)")
    t.add_argument("--split-epoch", type=int, default=NO_SPLIT, help="epochs trained before splitting (-1: never)")
    t.add_argument("--data", default="cifar10", help=f"one of {', '.join(DATA_NAMES)}")
    t.add_argument("--data-dir", default=None, help="folder with cifar-10-batches-py files or Fashion-MNIST idx files")
    t.add_argument("--out", required=True, help="run folder (checkpoint.pt, train_log.csv)")
    t.add_argument("--resume", action="store_true", help="continue from the run folder's checkpoint")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--batch-size", type=int, default=256)
    t.add_argument("--lr", type=float, default=0.025)
    t.add_argument("--lr-min", type=float, default=1e-5)
    t.add_argument("--momentum", type=float, default=0.9)
    t.add_argument("--weight-decay", type=float, default=3e-4)
    t.add_argument("--val-images", type=int, default=5000, help="training images held out for validation")
    t.add_argument("--train-images", type=int, default=None, help="use only the first N training images")
    t.add_argument("--synthetic-size", type=int, default=512, help="images of --data synthetic")
    t.add_argument("--dependencies", default="default",
                   help="'default' (protocol §4), 'none', or 'slot:dep,dep;...' e.g. '2:0;4:0;5:1,2'")
    t.add_argument("--no-skip-linear", action="store_true", help="NB201: parameter-free skip (718,426 params)")
    t.add_argument("--channels", type=int, default=16, help="NB201: channels of the first stage")
    t.add_argument("--cells-per-stage", type=int, default=2, help="NB201: normal cells per stage")
    t.add_argument("--crop-padding", type=int, default=4, help="pixel shift of the random crop (Table B.4: 4)")
    t.add_argument("--amp", action="store_true", help="mixed precision (CUDA only)")
    t.add_argument("--channels-last", action="store_true", help="channels-last memory format (CUDA only)")
    t.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    t.add_argument("--keep-epochs", type=_epochs_list, default=(), help="also keep checkpoints after these epochs")
    t.add_argument("--no-progress", action="store_true")
    t.set_defaults(func=cmd_train)

    e = ssub.add_parser("eval", help="evaluate architectures with a trained super-network against ground truth")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--population", default="random:1000", help="random:N, top:N or all")
    e.add_argument("--ground-truth", default="benchmark",
                   help="'benchmark' (NB201/NAS-Bench-Macro CIFAR-10 test accuracy), 'none', or a CSV with 'arch'")
    e.add_argument("--truth-column", default="accuracy", help="metric column of a --ground-truth CSV")
    add_data_dir(e)
    e.add_argument("--images-dir", default=None, help="image data folder (default: the one used in training)")
    e.add_argument("--out", default=None, help="per-architecture CSV (default: <checkpoint dir>/eval.csv); summary beside it")
    e.add_argument("--batch-size", type=int, default=256)
    e.add_argument("--calibration-batches", type=int, default=CALIBRATION_BATCHES)
    e.add_argument("--bn-reset", action="store_true",
                   help="reset BatchNorm statistics before recalibrating (plain average over the calibration "
                        "batches); default: keep the trained statistics as a start, as in Appendix B.3")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--device", default="auto")
    e.add_argument("--no-progress", action="store_true")
    e.set_defaults(func=cmd_eval)


def cmd_train(args: argparse.Namespace) -> int:
    cfg = TrainConfig(
        space=args.space, subset=args.subset, epochs=args.epochs or DEFAULT_EPOCHS.get(args.space, 250),
        split_epoch=args.split_epoch, data=args.data, lr=args.lr, lr_min=args.lr_min, momentum=args.momentum,
        weight_decay=args.weight_decay, batch_size=args.batch_size, seed=args.seed, val_images=args.val_images,
        train_images=args.train_images, synthetic_size=args.synthetic_size, dependencies=args.dependencies,
        skip_linear=not args.no_skip_linear, channels=args.channels, cells_per_stage=args.cells_per_stage,
        crop_padding=args.crop_padding, amp=args.amp, channels_last=args.channels_last,
    ).validate()
    res = train_supernet(cfg, args.out, data_dir=args.data_dir, device=args.device, resume=args.resume,
                         keep_epochs=args.keep_epochs, progress=not args.no_progress)
    last = res.log.iloc[-1]
    print(format_table(["space", "epochs", "split_epoch", "weight_sets", "extra_weight_sets", "val_acc", "checkpoint"],
                       [(cfg.space_name, int(last["epoch"]), cfg.split_epoch, res.weight_sets["weight_sets"],
                         res.weight_sets["extra_weight_sets"], f"{last['val_acc']:.4f}", str(res.checkpoint))]))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    res = evaluate_checkpoint(
        args.checkpoint, args.population, truth_source=args.ground_truth, truth_column=args.truth_column,
        benchmark_dir=args.data_dir, data_dir=args.images_dir, device=args.device, batch_size=args.batch_size,
        calibration_batches=args.calibration_batches, seed=args.seed, progress=not args.no_progress,
        bn_reset=args.bn_reset,
    )
    out = Path(args.out) if args.out else Path(args.checkpoint).with_name("eval.csv")
    write_csv_atomic(res.per_arch, out)
    summary_path = out.with_name(out.stem + "_summary.csv")
    write_csv_atomic(res.summary, summary_path)
    row = res.summary.iloc[0]
    print(format_table(list(res.summary.columns), [[f"{v:.4f}" if isinstance(v, float) else v for v in row]]))
    print(f"wrote {out} and {summary_path}")
    return 0
