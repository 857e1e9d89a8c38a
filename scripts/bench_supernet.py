#!/usr/bin/env python
"""Benchmark: super-network training throughput vs the stand-alone network of the same
architecture, and the time/memory overhead of split (conditional) weights.

Side by side in one run, interleaved per repetition: for each sampled architecture one SGD
training step (forward, backward, step; Table B.4 optimizer) of
  * ``standalone``  the extracted stand-alone network,
  * ``supernet``    the unsplit super-network with that architecture selected (path re-planned
                    every step, as in training where each batch samples a new architecture),
  * ``split``       the same super-network after splitting (every weight set already trained once,
                    so the optimizer holds momentum for all of them, as late in a split run).
Memory is the peak of one training step at batch 256: ``torch.cuda.max_memory_allocated`` on a
GPU; on the CPU, which has no such counter, the bytes held by the network and optimizer before
the step (parameters, BatchNorm buffers, momentum) plus the largest growth of the in-use heap
during the step (activations, gradients, temporaries; ``nasbench_tools.utils.memory.HeapPeak``).
Before measuring, every weight set that any architecture can activate has been trained, so the
optimizer holds momentum for all of them (as late in a split run).  Writes ``results/bench/supernet.csv``.

Usage: OMP_NUM_THREADS=1 python scripts/bench_supernet.py [--repeats 7] [--archs 3] [--batch 64]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from nasbench_tools.networks import build_supernet
from nasbench_tools.spaces import get_space
from nasbench_tools.supernet.config import TrainConfig
from nasbench_tools.supernet.trainer import make_optimizer
from nasbench_tools.utils.io import write_csv_atomic
from nasbench_tools.utils.memory import HeapPeak

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "results" / "bench" / "supernet.csv"
TARGET_THROUGHPUT_RATIO = 0.9
TARGET_SPLIT_TIME = 1.05
TARGET_SPLIT_MEMORY = 1.02
MEMORY_BATCH = 256
WARMUP = 2
#: Consecutive architectures that train no new weight set before all reachable sets count as trained.
COVERAGE_PATIENCE = 500


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _step(net, opt, x, y, arch, replan: bool, amp: bool = False) -> float:
    _sync(x.device)
    t0 = time.perf_counter()
    if replan:
        net.arch = None
        net.set_arch(arch)
    opt.zero_grad(set_to_none=True)
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
        loss = F.cross_entropy(net(x).float(), y)
    loss.backward()
    opt.step()
    _sync(x.device)
    return time.perf_counter() - t0


def _train_all_sets(net, opt, space, x, y, rng) -> int:
    """Train (batch of 2) random architectures until every weight set that an architecture can
    activate has momentum: stop after ``COVERAGE_PATIENCE`` architectures without a new one.
    Returns the number of parameter tensors trained (sets behind a zero input never are)."""
    archs = space.enumerate()
    trained: set[int] = set()
    since_new = 0
    for row in archs[rng.permutation(len(archs))]:
        net.set_arch(row)
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x[:2]), y[:2]).backward()
        opt.step()
        new = {id(p) for p in net.parameters() if p.grad is not None} - trained
        trained |= new
        since_new = 0 if new else since_new + 1
        if since_new >= COVERAGE_PATIENCE:
            break
    opt.zero_grad(set_to_none=True)
    return len(trained)


def _state_bytes(net, opt) -> int:
    """Parameters, buffers and optimizer state (gradients are None between steps)."""
    tensors = list(net.parameters()) + list(net.buffers())
    tensors += [v for s in opt.state.values() for v in s.values() if torch.is_tensor(v)]
    return sum(t.numel() * t.element_size() for t in tensors)


def _memory(net, opt, arch, x, y, amp: bool = False) -> int:
    """Peak bytes of one training step: CUDA allocator peak on a GPU, else the network's state
    plus the peak heap growth during the step (see the module docstring)."""
    net.set_arch(arch)
    opt.zero_grad(set_to_none=True)
    if x.device.type == "cuda":
        torch.cuda.synchronize(x.device)
        torch.cuda.reset_peak_memory_stats(x.device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            loss = F.cross_entropy(net(x).float(), y)
        loss.backward()
        opt.step()
        torch.cuda.synchronize(x.device)
        return torch.cuda.max_memory_allocated(x.device)
    with HeapPeak() as peak:
        F.cross_entropy(net(x), y).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return _state_bytes(net, opt) + peak.growth


#: The most expensive architecture of each space: it sets a training run's peak memory.
PEAK_ARCH = {"nb201": [3] * 6, "nbmacro": [2] * 8}


def bench_space(name: str, n_archs: int, repeats: int, batch: int, seed: int, device: torch.device,
                amp: bool = False, channels_last: bool = False, memory_batch: int = MEMORY_BATCH) -> list[dict]:
    space = get_space(name)
    rng = np.random.default_rng(seed)
    cfg = TrainConfig()
    torch.manual_seed(seed)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    sup = build_supernet(name).to(device, memory_format=fmt)
    spl = build_supernet(name).to(device, memory_format=fmt)
    spl.load_state_dict(sup.state_dict())
    spl.split()
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(batch, 3, 32, 32, generator=g), torch.randint(0, 10, (batch,), generator=g)
    xm, ym = torch.randn(memory_batch, 3, 32, 32, generator=g), torch.randint(0, 10, (memory_batch,), generator=g)
    x, y, xm, ym = (t.to(device) for t in (x, y, xm, ym))
    x, xm = x.contiguous(memory_format=fmt), xm.contiguous(memory_format=fmt)
    sup_opt, spl_opt = make_optimizer(sup, cfg), make_optimizer(spl, cfg)
    trained = {"supernet": _train_all_sets(sup, sup_opt, space, x, y, rng),
               "split": _train_all_sets(spl, spl_opt, space, x, y, rng)}
    rows = []
    archs = space.enumerate()
    # architectures with at least three weighted ops: compute-bound paths like most of the space
    pool = [r for r in archs if np.sum(np.isin(r, (2, 3)) if space.is_cell else r >= 1) >= 3]
    peak = {}
    for key, (net, opt) in {"supernet": (sup, sup_opt), "split": (spl, spl_opt)}.items():
        net.train()
        # the first step at a new batch size also builds kernel caches: measure the second
        peak[key] = [_memory(net, opt, PEAK_ARCH[name], xm, ym, amp) for _ in range(2)][-1]
    for i in rng.choice(len(pool), n_archs, replace=False):
        arch = pool[i]
        alone = sup.extract(arch).to(memory_format=fmt)
        alone_opt = make_optimizer(alone, cfg)
        runs = {"standalone": (alone, alone_opt, False), "supernet": (sup, sup_opt, True), "split": (spl, spl_opt, True)}
        times: dict[str, list[float]] = {k: [] for k in runs}
        for rep in range(WARMUP + repeats):
            for key, (net, opt, replan) in runs.items():
                net.train()
                t = _step(net, opt, x, y, arch, replan, amp)
                if rep >= WARMUP:
                    times[key].append(t)
        mem = {key: [_memory(net, opt, arch, xm, ym, amp) for _ in range(2)][-1] for key, (net, opt, _) in runs.items()}
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append({
            "space": name, "arch": space.format(arch)[0], "batch": batch, "repeats": repeats,
            **{f"{k}_step_s": v for k, v in med.items()},
            **{f"{k}_images_per_s": batch / v for k, v in med.items()},
            "throughput_ratio_supernet_vs_standalone": med["standalone"] / med["supernet"],
            "throughput_ratio_split_vs_standalone": med["standalone"] / med["split"],
            "split_time_ratio": med["split"] / med["supernet"],
            **{f"{k}_memory_mb": v / 2**20 for k, v in mem.items()},
            "split_memory_ratio": mem["split"] / mem["supernet"],
            "supernet_peak_arch_memory_mb": peak["supernet"] / 2**20,
            "split_peak_arch_memory_mb": peak["split"] / 2**20,
            "split_peak_memory_ratio": peak["split"] / peak["supernet"],
            "memory_batch": memory_batch, "device": str(device), "amp": amp, "channels_last": channels_last,
            "supernet_params": sum(p.numel() for p in sup.parameters()),
            "split_params": sum(p.numel() for p in spl.parameters()),
            "supernet_tensors_trained": trained["supernet"], "split_tensors_trained": trained["split"],
            "split_tensors": sum(1 for _ in spl.parameters()),
        })
        print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in rows[-1].items()})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--archs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--spaces", default="nb201,nbmacro")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--memory-batch", type=int, default=MEMORY_BATCH, help="batch of the memory measurement")
    ap.add_argument("--amp", action="store_true", help="bfloat16 autocast")
    ap.add_argument("--channels-last", action="store_true")
    args = ap.parse_args()
    device = torch.device(args.device)
    rows = []
    for name in args.spaces.split(","):
        rows += bench_space(name, args.archs, args.repeats, args.batch, args.seed, device, args.amp, args.channels_last,
                            args.memory_batch)
    df = pd.DataFrame(rows)
    summary = []
    for name, g in df.groupby("space", sort=False):
        summary.append({
            "space": name, "arch": "median over archs", "batch": args.batch, "repeats": args.repeats,
            "throughput_ratio_supernet_vs_standalone": g["throughput_ratio_supernet_vs_standalone"].median(),
            "throughput_ratio_split_vs_standalone": g["throughput_ratio_split_vs_standalone"].median(),
            "split_time_ratio": g["split_time_ratio"].median(),
            "split_memory_ratio": g["split_memory_ratio"].median(),
            "split_peak_memory_ratio": g["split_peak_memory_ratio"].median(),
            "device": args.device, "amp": args.amp, "channels_last": args.channels_last,
        })
    df = pd.concat([df, pd.DataFrame(summary)], ignore_index=True)
    df["torch"] = torch.__version__
    df["threads"] = torch.get_num_threads()
    df["machine"] = platform.processor() or platform.machine()
    df["target_throughput_ratio"] = TARGET_THROUGHPUT_RATIO
    df["target_split_time_ratio"] = TARGET_SPLIT_TIME
    df["target_split_memory_ratio"] = TARGET_SPLIT_MEMORY
    write_csv_atomic(df, args.out)
    print(pd.DataFrame(summary).to_string(index=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
