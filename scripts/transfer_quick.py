"""Fast iteration loop for the transfer predictors: mean Kendall's tau over the HW-NAS-Bench
latency targets, leave-one-device-out, with the study's splits and designs but without the
study runner (seconds per configuration instead of minutes).

Usage: ``NASBENCH_DATA=... python scripts/transfer_quick.py [--seeds 3] [--design random|suggested]
[--param name=value ...]``; prints one line per k and the per-device mean at k = 10 and 20.
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import numpy as np
from scipy.stats import kendalltau

from nasbench_tools.datasets import HWNAS_DATASETS, DataStore
from nasbench_tools.encodings import encode
from nasbench_tools.spaces import get_space
from nasbench_tools.study.splits import make_split
from predictors.lookup_table import LookupTable
from predictors.transfer import TransferGP, default_source_ids, load_sources
from predictors.transfer.study import suggested_training

log = logging.getLogger("transfer_quick")
DEVICES = ("edgegpu", "raspi4", "pixel3", "eyeriss", "fpga")
SIZES = (5, 10, 20, 50, 100, 200)
TEST_SIZE = 625
#: Architectures the lookup table measures (NB201): the issue's comparison starts there.
LUT_SIZE = 25


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--design", choices=("random", "suggested"), default="suggested")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated k")
    ap.add_argument("--param", action="append", default=[], help="name=json-value for TransferGP")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sizes = tuple(int(k) for k in args.sizes.split(","))
    params = {p.split("=", 1)[0]: json.loads(p.split("=", 1)[1]) for p in args.param}
    store = DataStore()
    space = get_space("nb201")
    X = encode(space, space.enumerate(), "onehot")
    src = load_sources(store, default_source_ids(store, "hwnas"), space="nb201")
    taus: dict[tuple[str, int], list[float]] = {}
    per_target: dict[tuple[str, int], list[float]] = {}
    lut_tau: dict[str, list[float]] = {}
    lut_idx = space.index(space.lut_architectures())
    t0 = time.perf_counter()
    for dev in DEVICES:
        for ds in HWNAS_DATASETS:
            target = f"hwnas/{ds}/{dev}_latency"
            y = np.asarray(store.load(target).values, dtype=np.float64)
            for seed in range(args.seeds):
                split = make_split(np.arange(space.size), seed, TEST_SIZE)
                lut = LookupTable(space="nb201").fit(X[lut_idx], y[lut_idx]).predict(X[split.test])
                lut_tau.setdefault(target, []).append(kendalltau(lut, y[split.test])[0])
                for k in sizes:
                    model = TransferGP(sources=src.values, source_names=src.names, target=target,
                                       design=args.design, random_state=seed, **params)
                    train = (suggested_training(model, y, split.pool, k, seed) if args.design == "suggested"
                             else split.pool[:k])
                    pred = model.fit(X[train], y[train]).predict(X[split.test])
                    taus.setdefault((dev, k), []).append(kendalltau(pred, y[split.test])[0])
                    per_target.setdefault((target, k), []).append(taus[(dev, k)][-1])
    log.info("%s %s: %.0f s", args.design, params, time.perf_counter() - t0)
    log.info("mean tau  " + "  ".join(f"k={k}:{np.mean([np.mean(taus[(d, k)]) for d in DEVICES]):.3f}" for k in sizes))
    gaps = {(t, k): np.mean(v) - np.mean(lut_tau[t]) for (t, k), v in per_target.items() if k >= LUT_SIZE}
    if gaps:
        worst = min(gaps, key=gaps.get)
        log.info("k >= %d: %d (target, k) cells below the lookup table; worst %s k=%d: %+.3f", LUT_SIZE,
                 sum(g < 0 for g in gaps.values()), worst[0], worst[1], gaps[worst])
    for k in (k for k in (10, 20) if k in sizes):
        log.info(f"k={k:<3d} per device  " + "  ".join(f"{d}:{np.mean(taus[(d, k)]):.2f}" for d in DEVICES))


if __name__ == "__main__":
    main()
