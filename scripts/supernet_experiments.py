#!/usr/bin/env python
"""Chapter 6 experiments on CIFAR-10 (GPU scale): split-epoch sweep, early-stopping ablation,
training curves and the resource table, all from one run folder layout.

  sweep      train baseline + one super-network per split epoch and seed, evaluate each
             against the benchmark ground truth (Figures 6.4/6.5, Table B.1)
  ablation   evaluate the baseline stopped early at the split epochs (Figure 6.6; the
             baseline keeps checkpoints at those epochs during the sweep)
  curves     mean/std validation loss and accuracy per epoch of the baselines (Figure 6.7)
  resources  training time and peak GPU memory per configuration relative to the baseline (Table 6.1)

Runs are resumable (existing checkpoints continue, finished evaluations are reused).  Example:
  python scripts/supernet_experiments.py sweep --space nb201 --subset nozero --data-dir ~/cifar-10-batches-py \
      --root runs/chapter6 --seeds 0-9
  python scripts/supernet_experiments.py ablation --space nb201 --subset nozero --root runs/chapter6 --seeds 0-9
  python scripts/supernet_experiments.py curves --space nb201 --subset nozero --root runs/chapter6
  python scripts/supernet_experiments.py resources --space nb201 --subset nozero --root runs/chapter6
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from nasbench_tools.supernet import TrainConfig, train_supernet
from nasbench_tools.supernet.config import DEFAULT_EPOCHS, space_name
from nasbench_tools.supernet.evaluate import evaluate_checkpoint
from nasbench_tools.supernet.miniature_report import METRICS
from nasbench_tools.supernet.trainer import CHECKPOINT_NAME, LOG_NAME
from nasbench_tools.utils.io import write_csv_atomic

#: Split epochs of Chapter 6 (protocol §4).
PAPER_SPLITS = {"nb201": (125, 140, 145, 150, 155, 160, 175, 200), "nbmacro": (25, 30, 35, 38, 40, 42, 45, 47)}
log = logging.getLogger("chapter6")


def seeds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(v) for v in text.split(",")]


def run_dir(args, seed: int, split: int) -> Path:
    return Path(args.root) / space_name(args.space, args.subset) / f"seed{seed}_{'baseline' if split < 0 else f'split{split}'}"


def evaluate(args, ck: Path, out_csv: Path) -> dict:
    summary_csv = out_csv.with_name(out_csv.stem + "_summary.csv")
    if summary_csv.is_file():
        return pd.read_csv(summary_csv).iloc[0].to_dict()
    res = evaluate_checkpoint(ck, args.population, truth_source=args.ground_truth, benchmark_dir=args.benchmark_dir,
                              data_dir=args.data_dir, progress=True)
    write_csv_atomic(res.per_arch, out_csv)
    write_csv_atomic(res.summary, summary_csv)
    return res.summary.iloc[0].to_dict()


def aggregate(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    g = df.groupby(keys)[list(METRICS)]
    return g.mean().add_suffix("_mean").join(g.std().add_suffix("_std")).join(g.size().rename("n")).reset_index()


def cmd_sweep(args) -> None:
    epochs = args.epochs or DEFAULT_EPOCHS[args.space]
    splits = args.splits or list(PAPER_SPLITS[args.space])
    rows = []
    for seed in args.seeds:
        for split in [-1] + splits:
            cfg = TrainConfig(space=args.space, subset=args.subset, epochs=epochs, split_epoch=split, data=args.data,
                              seed=seed, amp=args.amp, channels_last=args.channels_last, val_images=args.val_images,
                              batch_size=args.batch_size, synthetic_size=args.synthetic_size)
            d = run_dir(args, seed, split)
            log_csv = d / LOG_NAME
            done = log_csv.is_file() and len(pd.read_csv(log_csv)) >= epochs
            if not done:
                train_supernet(cfg, d, data_dir=args.data_dir, resume=True, progress=True,
                               keep_epochs=tuple(splits) if split < 0 else ())
            s = evaluate(args, d / CHECKPOINT_NAME, d / "eval.csv")
            rows.append({"seed": seed, "split_epoch": split, **s})
    out = Path(args.root) / space_name(args.space, args.subset)
    df = pd.DataFrame(rows)
    write_csv_atomic(df, out / "sweep.csv")
    write_csv_atomic(aggregate(df, ["split_epoch"]), out / "sweep_summary.csv")
    print(aggregate(df, ["split_epoch"]).to_string(index=False))


def cmd_ablation(args) -> None:
    splits = args.splits or list(PAPER_SPLITS[args.space])
    rows = []
    for seed in args.seeds:
        d = run_dir(args, seed, -1)
        for e in splits:
            ck = d / f"checkpoint_epoch{e}.pt"
            if not ck.is_file():
                log.warning("missing %s (run the sweep first)", ck)
                continue
            rows.append({"seed": seed, "stop_epoch": e, **evaluate(args, ck, d / f"eval_stop{e}.csv")})
    out = Path(args.root) / space_name(args.space, args.subset)
    df = pd.DataFrame(rows)
    write_csv_atomic(df, out / "ablation.csv")
    print(aggregate(df, ["stop_epoch"]).to_string(index=False))


def _logs(args) -> pd.DataFrame:
    frames = []
    for p in sorted((Path(args.root) / space_name(args.space, args.subset)).glob(f"seed*/{LOG_NAME}")):
        df = pd.read_csv(p)
        name = p.parent.name
        df["seed"] = int(name.split("_")[0][4:])
        df["config"] = name.split("_", 1)[1]
        frames.append(df)
    if not frames:
        raise SystemExit(f"no {LOG_NAME} under {args.root}")
    return pd.concat(frames, ignore_index=True)


def cmd_curves(args) -> None:
    df = _logs(args)
    base = df[df["config"] == "baseline"]
    curves = base.groupby("epoch")[["val_loss", "val_acc", "train_loss", "train_acc"]].agg(["mean", "std"])
    curves.columns = ["_".join(c) for c in curves.columns]
    out = Path(args.root) / space_name(args.space, args.subset) / "curves.csv"
    write_csv_atomic(curves.reset_index(), out)
    print(f"wrote {out}")


def cmd_resources(args) -> None:
    df = _logs(args)
    per_run = df.groupby(["config", "seed"]).agg(time_s=("time_s", "sum"), peak_gpu_mb=("peak_gpu_mb", "max")).reset_index()
    table = per_run.groupby("config")[["time_s", "peak_gpu_mb"]].mean()
    base = table.loc["baseline"]
    table["time_change"] = table["time_s"] / base["time_s"] - 1
    table["gpu_change"] = table["peak_gpu_mb"] / base["peak_gpu_mb"] - 1
    out = Path(args.root) / space_name(args.space, args.subset) / "resources.csv"
    write_csv_atomic(table.reset_index(), out)
    print(table.to_string())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["sweep", "ablation", "curves", "resources"])
    ap.add_argument("--space", default="nb201")
    ap.add_argument("--subset", default="full")
    ap.add_argument("--root", required=True, help="folder of all runs")
    ap.add_argument("--data-dir", default=None, help="CIFAR-10 cifar-10-batches-py folder")
    ap.add_argument("--benchmark-dir", default=None, help="benchmark data (default $NASBENCH_DATA)")
    ap.add_argument("--ground-truth", default="benchmark")
    ap.add_argument("--population", default="random:1000")
    ap.add_argument("--seeds", type=seeds, default=seeds("0-9"))
    ap.add_argument("--splits", type=lambda s: [int(v) for v in s.split(",")], default=None)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--data", default="cifar10", help="cifar10 (the study), fashion-mnist or synthetic (smoke tests)")
    ap.add_argument("--val-images", type=int, default=5000)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--synthetic-size", type=int, default=512)
    ap.add_argument("--amp", action="store_true")
    ap.add_argument("--channels-last", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    {"sweep": cmd_sweep, "ablation": cmd_ablation, "curves": cmd_curves, "resources": cmd_resources}[args.command](args)


if __name__ == "__main__":
    main()
