#!/usr/bin/env python
"""Self-contained Fashion-MNIST miniature of Chapter 6 (no external ground truth needed).

1. Ground truth: train each of the 64 NB201 "only convolutions" architectures stand-alone
   (same recipe as the super-networks: SGD, cosine lr, weight decay not on BatchNorm) and
   measure its accuracy on Fashion-MNIST test images (t10k files).
2. Super-networks of the same space trained without splitting (baseline) and with splitting at
   several epochs, for several seeds; optionally the baseline stopped early at the same epochs
   (Figure 6.6 ablation, from checkpoints kept during the baseline run).
3. Each super-network evaluates all 64 architectures on the held-out validation images (BN
   recalibration per architecture) and is compared with the ground truth: Kendall's tau,
   top-1/5/10 mean ground truth and improvement value.

Reduced sizes (image subset, resolution, width, epochs) are options; every choice is written
to ``<out>/settings.json``.  Usage (CPU, the sizes of results/supernet/README.md):
  OMP_NUM_THREADS=2 python scripts/supernet_miniature.py --data-dir /usr/share/datasets/fashion-mnist \
      --out results/supernet/miniature
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from nasbench_tools.networks import build_standalone
from nasbench_tools.spaces import get_space
from nasbench_tools.supernet import TrainConfig, train_supernet
from nasbench_tools.supernet.data import ImageData, Normalizer, load_data, read_fashion_mnist
from nasbench_tools.supernet.evaluate import evaluate_checkpoint
from nasbench_tools.supernet.standalone import accuracy, train_standalone
from nasbench_tools.utils.io import atomic_write, write_csv_atomic

SPACE = "nb201-onlyconv"
METRICS = ["kendall_tau", "kendall_tau_top50", "top1_truth", "top5_truth", "top10_truth",
           "top1_improvement", "top5_improvement", "top10_improvement"]
log = logging.getLogger("miniature")


def shrink(x: torch.Tensor, size: int) -> torch.Tensor:
    """Average-pool uint8 images to ``size`` x ``size`` (keeps uint8)."""
    factor = x.shape[-1] // size
    if factor <= 1:
        return x
    return F.avg_pool2d(x.float(), factor).round().clamp(0, 255).to(torch.uint8)


def prepare(args) -> tuple[ImageData, torch.Tensor, torch.Tensor]:
    if args.data == "synthetic":  # smoke runs on machines without Fashion-MNIST: same pipeline
        n_val = args.val_images
        full = load_data("synthetic", synthetic_size=args.train_images + n_val + args.test_images,
                         val_images=n_val + args.test_images)
        data = ImageData(full.name, shrink(full.train_x[:, :1], args.size), full.train_y,
                         shrink(full.val_x[:n_val, :1], args.size), full.val_y[:n_val], full.mean[:1], full.std[:1])
        return data, shrink(full.val_x[n_val:, :1], args.size), full.val_y[n_val:]
    data = load_data("fashion-mnist", args.data_dir, val_images=args.val_images, train_images=args.train_images)
    data = ImageData(data.name, shrink(data.train_x, args.size), data.train_y, shrink(data.val_x, args.size),
                     data.val_y, data.mean, data.std)
    tx, ty = read_fashion_mnist(args.data_dir, "test")
    test_x = shrink(torch.from_numpy(np.ascontiguousarray(tx[: args.test_images])), args.size)
    return data, test_x, torch.from_numpy(ty[: args.test_images])


def ground_truth(args, data: ImageData, test_x, test_y, out: Path) -> Path:
    path = out / "ground_truth.csv"
    space = get_space(SPACE)
    rows = space.enumerate()
    done = pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=["arch", "accuracy", "final_train_loss", "train_s"])
    cfg = TrainConfig(space="nb201", subset="onlyconv", epochs=args.gt_epochs, batch_size=args.batch,
                      lr=args.lr, crop_padding=args.crop_padding)
    dev = torch.device(args.device)
    norm = Normalizer(data.mean, data.std, dev)
    records = done.to_dict("records")
    names = space.format(rows)
    for i, row in enumerate(rows):
        if names[i] in set(done["arch"]):
            continue
        t0 = time.perf_counter()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(args.gt_seed)
            net = build_standalone(SPACE, row, channels=args.channels, in_channels=1).to(dev)
        losses = train_standalone(net, data, cfg, seed=args.gt_seed)
        acc = accuracy(net, test_x.to(dev), test_y.to(dev), norm)
        records.append({"arch": names[i], "accuracy": 100.0 * acc, "final_train_loss": losses[-1],
                        "train_s": time.perf_counter() - t0})
        write_csv_atomic(pd.DataFrame(records), path)
        log.info("ground truth %d/64 %s: %.2f%% (%.1fs)", i + 1, names[i], 100 * acc, records[-1]["train_s"])
    return path


def ground_truth_repeat(args, data: ImageData, test_x, test_y, out: Path, gt: Path) -> dict:
    """Noise floor of the ground truth: retrain ``--gt-repeat`` architectures with another seed."""
    from scipy.stats import kendalltau

    ref = pd.read_csv(gt).set_index("arch")
    path = out / "ground_truth_repeat.csv"
    rep = pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=["arch", "accuracy", "accuracy_seed0"])
    space = get_space(SPACE)
    rows = space.enumerate()
    names = space.format(rows)
    pick = np.random.default_rng(args.gt_seed).choice(len(rows), args.gt_repeat, replace=False)
    cfg = TrainConfig(space="nb201", subset="onlyconv", epochs=args.gt_epochs, batch_size=args.batch,
                      lr=args.lr, crop_padding=args.crop_padding)
    dev = torch.device(args.device)
    norm = Normalizer(data.mean, data.std, dev)
    records = rep.to_dict("records")
    for i in pick:
        if names[i] in set(rep["arch"]):
            continue
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(args.gt_seed + 1)
            net = build_standalone(SPACE, rows[i], channels=args.channels, in_channels=1).to(dev)
        train_standalone(net, data, cfg, seed=args.gt_seed + 1)
        records.append({"arch": names[i], "accuracy": 100.0 * accuracy(net, test_x.to(dev), test_y.to(dev), norm),
                        "accuracy_seed0": float(ref.loc[names[i], "accuracy"])})
        write_csv_atomic(pd.DataFrame(records), path)
    df = pd.DataFrame(records)
    tau = float(kendalltau(df["accuracy"], df["accuracy_seed0"]).statistic)
    diff = (df["accuracy"] - df["accuracy_seed0"]).abs()
    log.info("ground-truth repeatability over %d archs: Kendall tau %.3f, mean |diff| %.2f points", len(df), tau, diff.mean())
    return {"n": len(df), "kendall_tau_between_seeds": tau, "mean_abs_diff": float(diff.mean())}


def run_supernets(args, data: ImageData, gt: Path, out: Path, work: Path) -> pd.DataFrame:
    summary_path = out / "supernets.csv"
    rows = pd.read_csv(summary_path).to_dict("records") if summary_path.is_file() else []
    done = {(r["seed"], r["kind"], r["epoch"]) for r in rows}
    for seed in args.seeds:
        for split in [-1] + args.splits:
            kind = "baseline" if split < 0 else "split"
            if (seed, kind, split) in done:
                continue
            cfg = TrainConfig(space="nb201", subset="onlyconv", epochs=args.epochs, split_epoch=split,
                              data="fashion-mnist", batch_size=args.batch, seed=seed, lr=args.lr,
                              val_images=args.val_images, train_images=args.train_images, channels=args.channels,
                              crop_padding=args.crop_padding)
            run = work / f"seed{seed}_{kind}{'' if split < 0 else split}"
            keep = tuple(args.splits) if (split < 0 and args.early_stop) else ()
            res = train_supernet(cfg, run, data=data, keep_epochs=keep, device=args.device)
            log_csv = out / "runs" / f"{run.name}_train_log.csv"
            write_csv_atomic(res.log, log_csv)
            evals = [(kind, split, run / "checkpoint.pt")]
            evals += [("early_stop", e, run / f"checkpoint_epoch{e}.pt") for e in keep]
            for k, e, ck in evals:
                ev = evaluate_checkpoint(ck, "all", truth_source=str(gt), data=data, device=args.device,
                                         batch_size=args.batch, calibration_batches=args.calib_batches, seed=seed)
                write_csv_atomic(ev.per_arch, out / "runs" / f"seed{seed}_{k}{'' if e < 0 else e}_eval.csv")
                s = ev.summary.iloc[0].to_dict()
                upto = res.log if e < 0 or k != "early_stop" else res.log[res.log["epoch"] <= e]
                rows.append({"seed": seed, "kind": k, "epoch": e, "train_s": float(upto["time_s"].sum()),
                             "final_val_loss": float(upto["val_loss"].iloc[-1]), **s})
                write_csv_atomic(pd.DataFrame(rows), summary_path)
                log.info("%s seed %d epoch %d: tau %.3f top1 %.2f", k, seed, e, s.get("kendall_tau"), s.get("top1_truth"))
    return pd.DataFrame(rows)


def aggregate(df: pd.DataFrame, out: Path) -> pd.DataFrame:
    g = df.groupby(["kind", "epoch"])[METRICS + ["train_s"]]
    agg = g.mean().add_suffix("_mean").join(g.std().add_suffix("_std")).join(g.size().rename("n_seeds"))
    agg = agg.reset_index()
    write_csv_atomic(agg, out / "summary.csv")
    return agg


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="folder with the Fashion-MNIST idx(.gz) files")
    ap.add_argument("--data", default="fashion-mnist", choices=["fashion-mnist", "synthetic"],
                    help="synthetic: smoke test of the pipeline where Fashion-MNIST is not installed")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default="results/supernet/miniature")
    ap.add_argument("--work", default=None, help="folder for checkpoints (default: a temporary folder, removed)")
    ap.add_argument("--train-images", type=int, default=1200)
    ap.add_argument("--val-images", type=int, default=1000)
    ap.add_argument("--test-images", type=int, default=1000)
    ap.add_argument("--size", type=int, default=16, help="image side after average pooling (32 = no pooling)")
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--crop-padding", type=int, default=2)
    ap.add_argument("--gt-epochs", type=int, default=3)
    ap.add_argument("--gt-seed", type=int, default=0)
    ap.add_argument("--gt-repeat", type=int, default=0, help="retrain N architectures with another seed (GT noise)")
    ap.add_argument("--epochs", type=int, default=24)
    ap.add_argument("--splits", type=lambda s: [int(v) for v in s.split(",")], default=[8, 14, 20])
    ap.add_argument("--seeds", type=lambda s: [int(v) for v in s.split(",")], default=[0, 1])
    ap.add_argument("--calib-batches", type=int, default=10)
    ap.add_argument("--early-stop", action="store_true", help="also evaluate the baseline stopped at the split epochs")
    args = ap.parse_args()
    if args.data == "fashion-mnist" and args.data_dir is None:
        ap.error("--data-dir is required for Fashion-MNIST (Debian package dataset-fashion-mnist: /usr/share/datasets/fashion-mnist)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("nasbench_tools").setLevel(logging.WARNING)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / "settings.json") as fh:
        json.dump({**vars(args), "torch": torch.__version__, "threads": torch.get_num_threads()}, fh, indent=1)
    t0 = time.perf_counter()
    data, test_x, test_y = prepare(args)
    gt = ground_truth(args, data, test_x, test_y, out)
    log.info("ground truth done after %.0fs", time.perf_counter() - t0)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="miniature-"))
    try:
        df = run_supernets(args, data, gt, out, work)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    if args.gt_repeat:
        with atomic_write(out / "ground_truth_repeatability.json") as fh:
            json.dump(ground_truth_repeat(args, data, test_x, test_y, out, gt), fh, indent=1)
    agg = aggregate(df, out)
    print(agg.to_string(index=False))
    log.info("total %.0fs", time.perf_counter() - t0)


if __name__ == "__main__":
    main()
