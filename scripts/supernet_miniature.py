#!/usr/bin/env python
"""Self-contained Fashion-MNIST miniature of Chapter 6 (no external ground truth needed).

1. Ground truth: train architectures of an NB201 subset stand-alone (all 64 of "only
   convolutions", or a seeded sample of ``--archs`` from "no zero"/full) with one or more seeds
   and measure their accuracy on Fashion-MNIST test images (t10k files).  The table holds each
   seed's accuracy and their mean (the ground truth); its reliability (Kendall's tau between
   seeds) is written to ``ground_truth_repeatability.json``: no super-network can rank the
   architectures better than the ground truth agrees with itself.
2. Super-networks of the same subset trained without splitting (baseline) and with splitting at
   several epochs, for several seeds; optionally the baseline stopped early at the same epochs
   (Figure 6.6 ablation, from checkpoints kept during the baseline run).
3. Each super-network evaluates the ground-truth architectures on the held-out validation images
   (BN recalibration per architecture) and is compared with the ground truth: Kendall's tau,
   top-1/5/10 mean ground truth and improvement value.

Independent trainings (architecture x seed, super-network runs) run in ``--jobs`` processes of
one thread each; every result depends only on its own seed, so the CSVs do not depend on
``--jobs``.  Reduced sizes are options; every choice is written to ``<out>/settings.json``.
The runs of results/supernet/README.md:
  python scripts/supernet_miniature.py --data-dir /usr/share/datasets/fashion-mnist \
      --space nb201-nozero --archs 64 --gt-seeds 0,1 --jobs 2 --out results/supernet/miniature-nozero
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import logging
import os
import shutil
import tempfile
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy.stats import kendalltau

from nasbench_tools.networks import build_standalone
from nasbench_tools.spaces import get_space
from nasbench_tools.supernet import TrainConfig, load_checkpoint, train_supernet
from nasbench_tools.supernet.trainer import check_same_config
from nasbench_tools.supernet.data import ImageData, load_data, read_fashion_mnist, Normalizer
from nasbench_tools.supernet.evaluate import evaluate_checkpoint
from nasbench_tools.supernet.standalone import accuracy, train_standalone
from nasbench_tools.utils.io import atomic_write, write_csv_atomic

SUBSET_OF_SPACE = {"nb201-onlyconv": "onlyconv", "nb201-nozero": "nozero", "nb201": "full"}
METRICS = ["kendall_tau", "kendall_tau_top50", "top1_truth", "top5_truth", "top10_truth",
           "top1_improvement", "top5_improvement", "top10_improvement"]
log = logging.getLogger("miniature")


def shrink(x: torch.Tensor, size: int) -> torch.Tensor:
    """Average-pool uint8 images to ``size`` x ``size`` (keeps uint8)."""
    factor = x.shape[-1] // size
    if factor <= 1:
        return x
    return F.avg_pool2d(x.float(), factor).round().clamp(0, 255).to(torch.uint8)


@functools.lru_cache(maxsize=1)
def prepare(settings: str) -> tuple[ImageData, torch.Tensor, torch.Tensor]:
    """Training/validation data and the test images (cached per worker process)."""
    args = argparse.Namespace(**json.loads(settings))
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


def train_config(args: argparse.Namespace, **kw) -> TrainConfig:
    return TrainConfig(space="nb201", subset=SUBSET_OF_SPACE[args.space], batch_size=args.batch, lr=args.lr,
                       crop_padding=args.crop_padding, channels=args.channels, skip_linear=not args.no_skip_linear, **kw)


def gt_architectures(args: argparse.Namespace) -> np.ndarray:
    """Canonical indices of the ground-truth architectures (all, or a seeded sample)."""
    space = get_space(args.space)
    if not args.archs or args.archs >= space.size:
        idx = np.arange(space.size)
    else:
        idx = np.sort(np.random.default_rng(args.arch_seed).choice(space.size, args.archs, replace=False))
    return idx[: args.gt_limit] if args.gt_limit else idx


def _init_worker() -> None:
    torch.set_num_threads(1)


class InlineExecutor(Executor):
    """Runs each task at submission in this process (``--jobs 1``, and CUDA, which must not fork)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        fut: Future = Future()
        fut.set_result(fn(*args, **kwargs))
        return fut


def _train_one(settings: str, index: int, seed: int) -> dict:
    """Train architecture ``index`` stand-alone with ``seed``; its test accuracy."""
    args = argparse.Namespace(**json.loads(settings))
    data, test_x, test_y = prepare(settings)
    space = get_space(args.space)
    row = space.arch(np.array([index]))[0]
    cfg = train_config(args, epochs=args.gt_epochs)
    t0 = time.perf_counter()
    dev = torch.device(args.device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = build_standalone(args.space, row, channels=args.channels, in_channels=1,
                               skip_linear=not args.no_skip_linear).to(dev)
    losses = train_standalone(net, data, cfg, seed=seed)
    acc = accuracy(net, test_x.to(dev), test_y.to(dev), Normalizer(data.mean, data.std, dev))
    return {"arch": space.format(row[None])[0], "index": int(index), "seed": seed, "accuracy": 100.0 * acc,
            "final_train_loss": losses[-1], "train_s": time.perf_counter() - t0}


def ground_truth(args, settings: str, pool, out: Path) -> Path:
    """Per-seed stand-alone accuracies (``ground_truth_runs.csv``, resumable) and their mean
    (``ground_truth.csv``: ``arch``, ``accuracy`` and ``accuracy_seed<S>`` columns)."""
    runs_path = out / "ground_truth_runs.csv"
    records = pd.read_csv(runs_path).to_dict("records") if runs_path.is_file() else []
    done = {(int(r["index"]), int(r["seed"])) for r in records}
    todo = [(int(i), s) for s, i in itertools.product(args.gt_seeds, gt_architectures(args)) if (int(i), s) not in done]
    futures = [pool.submit(_train_one, settings, i, s) for i, s in todo]
    for k, fut in enumerate(as_completed(futures), 1):
        records.append(fut.result())
        write_csv_atomic(pd.DataFrame(records).sort_values(["seed", "index"]), runs_path)
        r = records[-1]
        log.info("ground truth %d/%d %s seed %d: %.2f%% (%.0fs)", k, len(todo), r["arch"], r["seed"], r["accuracy"], r["train_s"])
    runs = pd.DataFrame(records)
    runs = runs[runs["seed"].isin(args.gt_seeds)]
    wide = runs.pivot(index=["index", "arch"], columns="seed", values="accuracy")
    wide.columns = [f"accuracy_seed{s}" for s in wide.columns]
    table = wide.reset_index()
    table.insert(2, "accuracy", wide.mean(axis=1).to_numpy())
    table.insert(3, "accuracy_std", wide.std(axis=1, ddof=1).to_numpy() if wide.shape[1] > 1 else np.nan)
    path = out / "ground_truth.csv"
    write_csv_atomic(table.drop(columns="index"), path)
    with atomic_write(out / "ground_truth_repeatability.json") as fh:
        json.dump(repeatability(wide), fh, indent=1)
    return path


def repeatability(wide: pd.DataFrame) -> dict:
    """How well the ground truth agrees with itself: Kendall's tau and mean |difference| between
    every pair of seeds, against the spread of the architectures' mean accuracy."""
    pairs = []
    for a, b in itertools.combinations(wide.columns, 2):
        pairs.append({"seeds": f"{a}/{b}", "kendall_tau": float(kendalltau(wide[a], wide[b]).statistic),
                      "mean_abs_diff": float((wide[a] - wide[b]).abs().mean())})
    mean = wide.mean(axis=1)
    return {"n_archs": int(len(wide)), "n_seeds": int(wide.shape[1]), "pairs": pairs,
            "mean_accuracy": float(mean.mean()), "std_between_archs": float(mean.std(ddof=1)),
            "range": [float(mean.min()), float(mean.max())]}


def _supernet_run(settings: str, seed: int, split: int, gt: str, n_gt: int, work: str, out: str) -> list[dict]:
    """Train one super-network (baseline if ``split < 0``), evaluate it and its kept checkpoints."""
    args = argparse.Namespace(**json.loads(settings))
    data, _, _ = prepare(settings)
    kind = "baseline" if split < 0 else "split"
    cfg = train_config(args, epochs=args.epochs, split_epoch=split, data="fashion-mnist", seed=seed,
                       val_images=args.val_images, train_images=args.train_images)
    run = Path(work) / f"seed{seed}_{kind}{'' if split < 0 else split}"
    keep = tuple(args.splits) if (split < 0 and args.early_stop) else ()
    ck_path = run / "checkpoint.pt"
    ck = load_checkpoint(ck_path) if ck_path.is_file() else None
    if ck is not None and ck["epoch"] == cfg.epochs and all((run / f"checkpoint_epoch{e}.pt").is_file() for e in keep):
        check_same_config(cfg, ck, ck_path)  # a finished run in --work: evaluate it again, do not retrain
        train_log = pd.DataFrame(ck["log"])
    else:
        train_log = train_supernet(cfg, run, data=data, keep_epochs=keep, device=args.device, resume=True).log
    write_csv_atomic(train_log, Path(out) / "runs" / f"{run.name}_train_log.csv")
    rows = []
    evals = [(kind, split, run / "checkpoint.pt")] + [("early_stop", e, run / f"checkpoint_epoch{e}.pt") for e in keep]
    for k, e, path in evals:
        ev = evaluate_checkpoint(path, f"top:{n_gt}", truth_source=gt, data=data, device=args.device,
                                 batch_size=args.batch, calibration_batches=args.calib_batches, seed=seed,
                                 bn_reset=args.bn_reset)
        write_csv_atomic(ev.per_arch, Path(out) / "runs" / f"seed{seed}_{k}{'' if e < 0 else e}_eval.csv")
        upto = train_log if k != "early_stop" else train_log[train_log["epoch"] <= e]
        rows.append({"seed": seed, "kind": k, "epoch": e, "train_s": float(upto["time_s"].sum()),
                     "final_val_acc": float(upto["val_acc"].iloc[-1]), **ev.summary.iloc[0].to_dict()})
    return rows


def run_supernets(args, settings: str, pool, gt: Path, out: Path, work: Path) -> pd.DataFrame:
    summary_path = out / "supernets.csv"
    rows = pd.read_csv(summary_path).to_dict("records") if summary_path.is_file() else []
    done = {(int(r["seed"]), r["kind"], int(r["epoch"])) for r in rows}
    n_gt = len(pd.read_csv(gt))
    futures = []
    for seed in args.seeds:
        for split in [-1] + args.splits:
            if (seed, "baseline" if split < 0 else "split", split) not in done:
                futures.append(pool.submit(_supernet_run, settings, seed, split, str(gt), n_gt, str(work), str(out)))
    for fut in as_completed(futures):
        for r in fut.result():
            rows.append(r)
            log.info("%s seed %d epoch %d: tau %.3f top1 %.2f", r["kind"], r["seed"], r["epoch"],
                     r.get("kendall_tau", float("nan")), r.get("top1_truth", float("nan")))
        write_csv_atomic(pd.DataFrame(rows).sort_values(["kind", "epoch", "seed"]), summary_path)
    return pd.DataFrame(rows)


def aggregate(df: pd.DataFrame, out: Path) -> pd.DataFrame:
    g = df.groupby(["kind", "epoch"])[METRICS + ["train_s"]]
    agg = g.mean().add_suffix("_mean").join(g.std().add_suffix("_std")).join(g.size().rename("n_seeds"))
    agg = agg.reset_index()
    write_csv_atomic(agg, out / "summary.csv")
    return agg


def plot(agg: pd.DataFrame, out: Path) -> None:
    """Figure 6.4 / 6.6 equivalent: top-N improvement and Kendall's tau against the split (or
    early-stop) epoch, with the baseline's mean +- std as a band; ``improvement.png``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("top1_improvement", "top-1 improvement"), ("top5_improvement", "top-5 improvement"),
              ("top10_improvement", "top-10 improvement"), ("kendall_tau", "Kendall's tau")]
    base = agg[agg["kind"] == "baseline"]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2))
    for ax, (metric, label) in zip(axes, panels):
        if len(base):
            m, sd = base[f"{metric}_mean"].iloc[0], np.nan_to_num(base[f"{metric}_std"].iloc[0])
            ax.axhline(m, color="k", lw=1, label="baseline")
            ax.axhspan(m - sd, m + sd, color="k", alpha=0.1)
        for kind, style in (("split", "o-"), ("early_stop", "s--")):
            g = agg[agg["kind"] == kind].sort_values("epoch")
            if len(g):
                ax.errorbar(g["epoch"], g[f"{metric}_mean"], yerr=np.nan_to_num(g[f"{metric}_std"]), fmt=style,
                            capsize=3, label=kind.replace("_", " "))
        ax.set_xlabel("split / stop epoch")
        ax.set_title(label)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    with atomic_write(out / "improvement.png", "wb") as fh:
        fig.savefig(fh, format="png", dpi=120)
    plt.close(fig)


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="folder with the Fashion-MNIST idx(.gz) files")
    ap.add_argument("--data", default="fashion-mnist", choices=["fashion-mnist", "synthetic"],
                    help="synthetic: smoke test of the pipeline where Fashion-MNIST is not installed")
    ap.add_argument("--space", default="nb201-onlyconv", choices=sorted(SUBSET_OF_SPACE))
    ap.add_argument("--archs", type=int, default=0, help="ground-truth sample size (0: every architecture)")
    ap.add_argument("--arch-seed", type=int, default=0, help="seed of the ground-truth sample")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (cuda runs every task in this process)")
    ap.add_argument("--out", default="results/supernet/miniature")
    ap.add_argument("--work", default=None,
                    help="folder for checkpoints (default: a temporary folder, removed); finished runs found "
                         "there are evaluated again, not retrained")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (one thread each)")
    ap.add_argument("--train-images", type=int, default=5000)
    ap.add_argument("--val-images", type=int, default=1000)
    ap.add_argument("--test-images", type=int, default=10000)
    ap.add_argument("--size", type=int, default=16, help="image side after average pooling (32 = no pooling)")
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--crop-padding", type=int, default=0, help="0: flips only")
    ap.add_argument("--gt-epochs", type=int, default=10)
    ap.add_argument("--gt-seeds", type=_ints, default=[0, 1], help="ground truth = mean over these seeds")
    ap.add_argument("--gt-limit", type=int, default=0, help="train only the first N ground-truth architectures")
    ap.add_argument("--gt-only", action="store_true", help="stop after the ground truth")
    ap.add_argument("--ground-truth", default=None,
                    help="use this ground-truth CSV (arch, accuracy) instead of training one")
    ap.add_argument("--no-skip-linear", action="store_true",
                    help="parameter-free skip edges (718,426-parameter NB201 variant) in every network")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--splits", type=_ints, default=[12, 18, 24])
    ap.add_argument("--seeds", type=_ints, default=[0, 1, 2])
    ap.add_argument("--calib-batches", type=int, default=10)
    ap.add_argument("--bn-reset", action="store_true",
                    help="reset BatchNorm statistics before recalibration (see results/supernet/README.md)")
    ap.add_argument("--early-stop", action="store_true", help="also evaluate the baseline stopped at the split epochs")
    args = ap.parse_args()
    if args.data == "fashion-mnist" and args.data_dir is None:
        ap.error("--data-dir is required for Fashion-MNIST (Debian package dataset-fashion-mnist: /usr/share/datasets/fashion-mnist)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("nasbench_tools").setLevel(logging.WARNING)
    out = Path(args.out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    settings = json.dumps(vars(args), sort_keys=True)
    with atomic_write(out / "settings.json") as fh:
        json.dump({**vars(args), "torch": torch.__version__, "threads_per_job": 1}, fh, indent=1)
    t0 = time.perf_counter()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="miniature-"))
    try:
        inline = args.jobs <= 1 or torch.device(args.device).type != "cpu"
        with (InlineExecutor() if inline else ProcessPoolExecutor(args.jobs, initializer=_init_worker)) as pool:
            gt = Path(args.ground_truth) if args.ground_truth else ground_truth(args, settings, pool, out)
            log.info("ground truth done after %.0fs", time.perf_counter() - t0)
            if args.gt_only:
                return
            df = run_supernets(args, settings, pool, gt, out, work)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    agg = aggregate(df, out)
    plot(agg, out)
    print(agg.to_string(index=False))
    log.info("total %.0fs", time.perf_counter() - t0)


if __name__ == "__main__":
    main()
