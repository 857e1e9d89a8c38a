"""``nasbench-study data fetch|verify|list``."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from ..datasets import DataStore
from ..datasets.fetch import fetch_missing
from ..datasets.files import default_cache_dir
from ..errors import NasbenchError
from .common import add_data_dir, format_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="benchmark files: fetch, verify, list datasets")
    dsub = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    f = dsub.add_parser("fetch", help="download missing benchmark files (checksums verified)")
    add_data_dir(f)
    f.add_argument("--mirror", default=None, help="base URL replacing https://raw.githubusercontent.com")
    f.add_argument("--no-progress", action="store_true", help="no progress bars")
    f.set_defaults(func=cmd_fetch)

    v = dsub.add_parser("verify", help="check presence and sha256 of every benchmark file; non-zero exit on problems")
    add_data_dir(v)
    v.set_defaults(func=cmd_verify)

    ls = dsub.add_parser("list", help="every dataset ID with its number of architectures and missing values")
    add_data_dir(ls)
    ls.set_defaults(func=cmd_list)


def cmd_fetch(args: argparse.Namespace) -> int:
    store = DataStore(args.data_dir)
    dest = Path(args.data_dir) if args.data_dir else default_cache_dir()

    def progress(total: int | None, name: str) -> tqdm:
        return tqdm(total=total, desc=name, unit="B", unit_scale=True, disable=args.no_progress)

    results = fetch_missing(store.files.manifest.values(), store.files.dirs, dest, mirror=args.mirror, progress=progress)
    print(format_table(["file", "outcome"], results))
    return cmd_verify(args)


def cmd_verify(args: argparse.Namespace) -> int:
    store = DataStore(args.data_dir)
    statuses = store.verify()
    rows = [
        (s.path, "required" if s.required else "optional", s.status, s.location or s.detail)
        for s in statuses
    ]
    print(format_table(["file", "kind", "status", "location"], rows))
    problems = [s for s in statuses if not s.ok]
    for s in problems:
        print(f"problem: {s.path}: {s.status} {s.detail}")
    print(f"{len(statuses) - len(problems)} of {len(statuses)} files ok" + ("" if not problems else f", {len(problems)} problem(s)"))
    return 1 if problems else 0


def cmd_list(args: argparse.Namespace) -> int:
    store = DataStore(args.data_dir)
    rows = []
    unavailable = []
    for bench in store.benchmarks:
        try:
            table = store.table(bench)
        except NasbenchError as exc:
            unavailable.append((bench, str(exc).splitlines()[0]))
            continue
        for ds_id in table.dataset_ids:
            d = store.load(ds_id)
            rows.append((ds_id, len(d.values), d.n_missing, d.unit))
    print(format_table(["dataset", "architectures", "missing", "unit"], rows))
    for bench, why in unavailable:
        n = len(store.dataset_ids(bench))
        print(f"unavailable: {bench} ({n} dataset IDs): {why}")
    print(f"{len(rows)} datasets available")
    return 0
