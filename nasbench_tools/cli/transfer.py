"""``nasbench-study transfer suggest|predict``: few-shot prediction for a new device.

``suggest`` writes the architectures to measure first; ``predict`` fits a transfer predictor
on a measured CSV plus source tables and predicts every architecture of the space.  Both write
fixed file names into ``--out DIR`` next to a ``config.json``: the same configuration again is
a finished run (left as it is), another configuration is refused unless ``--overwrite``.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import time
from pathlib import Path
from typing import Any

from .common import (add_data_dir, add_out_dir, add_run_mode, check_existing_output, jsonable, non_negative_int,
                     positive_int, write_config)

log = logging.getLogger(__name__)

SUGGEST_FILE = "suggested.csv"
PREDICT_FILE = "predictions.csv"
CONFIG_FILE = "config.json"
DEFAULT_SOURCES = "hwnas"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("transfer", help="few-shot prediction for a new device: what to measure, then predict the rest")
    tsub = p.add_subparsers(dest="transfer_command", required=True, metavar="ACTION")

    s = tsub.add_parser("suggest", help="the k architectures to measure first on a new device")
    _common(s)
    s.add_argument("-k", type=positive_int, required=True, help="how many architectures to measure")
    s.add_argument("--seed", type=non_negative_int, default=0, help="seed of the design's tie-breaking (default 0)")
    add_out_dir(s, f"{SUGGEST_FILE} (columns order, arch), {CONFIG_FILE}")
    s.set_defaults(func=cmd_suggest)

    q = tsub.add_parser("predict", help="fit on a measured CSV plus source tables, predict every architecture")
    _common(q)
    q.add_argument("--measured", type=Path, required=True, metavar="CSV",
                   help="your measurements: column 'arch' (any string format of the space) and one numeric column")
    q.add_argument("--target-transform", choices=("raw", "log"), default="raw",
                   help="model the raw values (default, measured best) or their logarithms")
    add_out_dir(q, f"{PREDICT_FILE} (columns arch, prediction, std), {CONFIG_FILE}")
    q.set_defaults(func=cmd_predict)


def _common(p: argparse.ArgumentParser) -> None:
    add_data_dir(p)
    p.add_argument("--space", default="nb201", help="search space (default nb201)")
    p.add_argument("--sources", default=DEFAULT_SOURCES,
                   help="source tables: 'hwnas', 'transnas-micro' or comma-separated dataset IDs (default hwnas)")
    p.add_argument("--exclude-device", default=None, metavar="ID",
                   help="leakage guard: drop every source of this dataset ID's device (e.g. when re-predicting a "
                        "benchmark device)")
    p.add_argument("--cell-edges", choices=("all", "live"), default="all",
                   help="how your device runs a cell: 'all' edges (default; the benchmarks' devices) or only the "
                        "'live' ones that reach the cell output (a runtime that skips dead edges, e.g. networks "
                        "built by 'nasbench-study latency measure')")
    add_run_mode(p)


def _sources(args: argparse.Namespace) -> Any:
    from predictors.transfer import default_source_ids, load_sources

    from ..datasets import DataStore

    store = DataStore(args.data_dir)
    ids = default_source_ids(store, args.sources)
    return load_sources(store, ids, target=args.exclude_device, space=args.space)


def _finished(out: Path, result: str, config: dict[str, Any], args: argparse.Namespace) -> bool:
    """True when ``out`` holds this configuration's finished run (the shared resume convention)."""
    return check_existing_output(out / result, out / CONFIG_FILE, jsonable(config), args)


def _write(out: Path, result: str, df: Any, config: dict[str, Any]) -> None:
    """The configuration first, then the result (a crash leaves no result to trust)."""
    from ..utils.io import write_csv_atomic

    out.mkdir(parents=True, exist_ok=True)
    write_config(out / CONFIG_FILE, jsonable(config))
    write_csv_atomic(df, out / result, index=False)


def cmd_suggest(args: argparse.Namespace) -> int:
    import pandas as pd

    from predictors.transfer import suggest

    from ..spaces import get_space

    space = get_space(args.space)
    config = {"command": "suggest", "space": space.name, "sources": args.sources, "k": args.k,
              "seed": args.seed, "exclude_device": args.exclude_device, "cell_edges": args.cell_edges}
    if _finished(args.out, SUGGEST_FILE, config, args):
        print(f"{args.out / SUGGEST_FILE} is already complete (same configuration)")
        return 0
    src = _sources(args)
    idx = suggest(args.k, src.values, space.name, random_state=args.seed, cell_edges=args.cell_edges)
    df = pd.DataFrame({"order": range(1, len(idx) + 1), "arch": space.format(space.arch(idx))})
    _write(args.out, SUGGEST_FILE, df, config)
    print(f"wrote {len(idx)} architectures to measure to {args.out / SUGGEST_FILE} "
          f"(sources: {len(src.names)} columns)")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from predictors.transfer import TransferGP
    from predictors.transfer.measured import read_measured

    from ..encodings import encode
    from ..spaces import get_space

    space = get_space(args.space)
    measured_bytes = _read_bytes(args.measured)
    config = {"command": "predict", "space": space.name, "sources": args.sources,
              "measured_sha256": hashlib.sha256(measured_bytes).hexdigest(),
              "target_transform": args.target_transform, "exclude_device": args.exclude_device,
              "cell_edges": args.cell_edges}
    if _finished(args.out, PREDICT_FILE, config, args):
        print(f"{args.out / PREDICT_FILE} is already complete (same configuration)")
        return 0
    measured = read_measured(args.measured, space)
    src = _sources(args)
    t0 = time.perf_counter()
    onehot = encode(space, space.enumerate(), "onehot")
    model = TransferGP(sources=src.values, source_names=src.names, space=space.name,
                       target_transform=args.target_transform, cell_edges=args.cell_edges)
    model.fit(onehot[measured.index], measured.values)
    mean, std = model.predict(onehot, return_std=True)
    elapsed = time.perf_counter() - t0
    df = pd.DataFrame({"arch": space.format(space.enumerate()), "prediction": mean, "std": std})
    _write(args.out, PREDICT_FILE, df, config)
    print(f"fitted on {len(measured.index)} measured architectures ({measured.column}) and "
          f"{len(src.names)} source columns; predicted {len(df)} architectures in {elapsed:.2f} s "
          f"-> {args.out / PREDICT_FILE}")
    log.info("prediction range %.4g .. %.4g", float(np.min(mean)), float(np.max(mean)))
    return 0


def _read_bytes(path: Path) -> bytes:
    from ..errors import DataFormatError

    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise DataFormatError(f"{path}: cannot read the measured CSV ({exc.strerror or exc})") from None
