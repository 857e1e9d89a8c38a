"""``nasbench-study latency measure``: time real networks on this machine into a custom table."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..errors import NasbenchError
from ..networks.evaluation import EVALUATION_SPACES
from .common import add_out_dir, add_progress, add_run_mode, non_negative_int, positive_int, run_mode_kwargs

_SIZE = re.compile(r"(\d+)(?:x(\d+))?")
#: Default table name of ``latency measure`` (``--out DIR`` holds ``DIR/<name>.csv``).
DEFAULT_TABLE_NAME = "latency"
#: File name of ``latency isolated`` inside ``--out DIR``.
ISOLATED_NAME = "isolated_ops.csv"
_TABLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def table_name(text: str) -> str:
    """A custom-table name: letters, digits, ``_ . -`` (it becomes ``custom/<name>/latency_ms``)."""
    if not _TABLE_NAME.fullmatch(text) or text.endswith(".csv"):
        raise argparse.ArgumentTypeError(
            f"expected a table name of letters, digits, '_', '.', '-' (no '/', no .csv suffix), got {text!r}")
    return text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("latency", help="measure the latency of real networks (resumable custom tables)")
    lsub = p.add_subparsers(dest="latency_command", required=True, metavar="ACTION")
    m = lsub.add_parser(
        "measure", help="measure architectures into a CSV that loads as custom/<name>/latency_ms",
        description="Build each architecture's evaluation network and time it (warm-up, repeated synchronised "
                    "runs, median and IQR) into DIR/NAME.csv. An existing table is resumed: finished architectures "
                    "are skipped. With --out <data dir>/custom the table loads as custom/NAME/latency_ms.",
    )
    m.add_argument("--space", required=True, choices=EVALUATION_SPACES, help="search space")
    m.add_argument("--archs", default="all", metavar="all|random:N[:SEED]|FILE",
                   help="architectures: all, N random ones (seed SEED, default 0), or a file of architecture "
                        "strings (one per line, or a CSV with column 'arch')")
    add_out_dir(m, "NAME.csv, the measured table (resumed when it exists)")
    m.add_argument("--name", type=table_name, default=DEFAULT_TABLE_NAME,
                   help=f"table name: the file is DIR/NAME.csv, loaded as custom/NAME/latency_ms "
                        f"(default {DEFAULT_TABLE_NAME})")
    _add_protocol_options(m)
    add_run_mode(m)
    add_progress(m)
    m.set_defaults(func=cmd_measure)

    i = lsub.add_parser(
        "isolated", help="time every candidate op of every slot alone (isolated-op lookup table)",
        description="Time each candidate op of each slot, at the input shape it gets in the network, and the fixed "
                    "stem/reductions/head, with the same protocol; writes slot,op,cost_ms (slot -1: fixed part).",
    )
    i.add_argument("--space", required=True, choices=EVALUATION_SPACES, help="search space")
    add_out_dir(i, f"{ISOLATED_NAME} (slot, op, cost_ms) and its meta {Path(ISOLATED_NAME).stem}.json")
    _add_protocol_options(i)
    i.set_defaults(func=cmd_isolated)


def _add_protocol_options(m: argparse.ArgumentParser) -> None:
    m.add_argument("--device", default="cpu", help="cpu, cuda or cuda:I")
    m.add_argument("--dataset", default=None, help="NB201 head and input size: cifar10 (default), cifar100, ImageNet16-120")
    m.add_argument("--input-size", default=None, metavar="H[xW]",
                   help="input resolution (default: the benchmark's, 224 for TransNAS)")
    m.add_argument("--batch-size", type=positive_int, default=1, metavar="N", help="inputs per timed run (default 1)")
    m.add_argument("--warmup", type=non_negative_int, default=None, metavar="N", help="untimed runs first (default 10)")
    m.add_argument("--repeats", type=positive_int, default=None, metavar="N", help="timed runs (default 30)")
    m.add_argument("--threads", type=positive_int, default=None, metavar="N",
                   help="torch intra-op threads (torch.set_num_threads)")
    m.add_argument("--cpus", default=None, metavar="LIST", help="pin the process to these CPUs, e.g. 1 or 0,2")
    m.add_argument("--seed", type=non_negative_int, default=0, help="seed of the input tensor and the weights")


def parse_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    match = _SIZE.fullmatch(text.strip().lower())
    if not match:
        raise NasbenchError(f"--input-size {text!r}: expected H or HxW, e.g. 32 or 224x224")
    h = int(match.group(1))
    return h, int(match.group(2) or h)


def _table_spec(args: argparse.Namespace):  # noqa: ANN202 - latency.TableSpec (imported lazily)
    """Device check, CPU pinning, threads and the protocol, from the shared options."""
    import torch

    from ..latency import MeasureConfig, TableSpec, set_cpu_affinity
    from ..latency.protocol import DEFAULT_REPEATS, DEFAULT_WARMUP, resolve_device

    resolve_device(args.device)  # fail before anything else if the device is missing
    if args.cpus is not None:
        try:
            cpus = [int(c) for c in args.cpus.split(",")]
        except ValueError:
            raise NasbenchError(f"--cpus {args.cpus!r}: expected CPU numbers separated by commas") from None
        try:
            set_cpu_affinity(cpus)
        except OSError as exc:
            raise NasbenchError(str(exc)) from None
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        measure = MeasureConfig(batch_size=args.batch_size,
                                warmup=DEFAULT_WARMUP if args.warmup is None else args.warmup,
                                repeats=DEFAULT_REPEATS if args.repeats is None else args.repeats,
                                device=args.device, seed=args.seed)
    except ValueError as exc:
        raise NasbenchError(str(exc).replace("MeasureConfig.", "--").replace("_", "-")) from None
    spec = TableSpec(args.space, measure, parse_size(args.input_size), args.dataset)
    spec.input_shape()  # validates the dataset and the input size
    return spec


def cmd_measure(args: argparse.Namespace) -> int:
    from ..latency import measure_table, select_architectures
    from ..spaces import get_space

    spec = _table_spec(args)
    try:
        ops = select_architectures(get_space(args.space), args.archs)
    except ValueError as exc:
        if isinstance(exc, NasbenchError):
            raise
        raise NasbenchError(str(exc)) from None
    path = Path(args.out) / f"{args.name}.csv"
    summary = measure_table(spec, ops, path, progress=not args.no_progress, **run_mode_kwargs(args))
    print(f"{summary.path}: measured {summary.measured}, already there {summary.skipped}, "
          f"{summary.total} architectures in the table (load as custom/{summary.path.stem}/latency_ms)")
    return 0


def cmd_isolated(args: argparse.Namespace) -> int:
    from ..latency.isolated import measure_isolated
    from ..latency.studies import write_isolated

    spec = _table_spec(args)
    costs = measure_isolated(spec.space, spec.measure, dataset=spec.dataset, input_size=spec.resolved_input_size())
    out, meta = write_isolated(costs, Path(args.out) / ISOLATED_NAME)
    print(f"{out}: op costs and the fixed part ({costs.parts} modules timed in {costs.wall_s:.2f} s; {meta.name}); "
          f"use with predictors.make('lookup_table', space={spec.space!r}, op_costs=..., base_cost=...) "
          f"or as isolated_ops of the latency-lut and latency-live experiments")
    return 0
