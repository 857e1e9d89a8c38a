"""``nasbench-study data fetch|verify|list``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import add_data_dir, add_format, add_progress, format_table, print_json

def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="benchmark files: fetch, verify, list datasets")
    dsub = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    f = dsub.add_parser("fetch", help="download missing benchmark files (checksums verified)")
    add_data_dir(f)
    f.add_argument("--mirror", default=None, metavar="URL", help="base URL replacing https://raw.githubusercontent.com")
    add_progress(f)
    f.set_defaults(func=cmd_fetch, format="text")

    v = dsub.add_parser("verify", help="check presence and sha256 of every benchmark file; non-zero exit on problems")
    add_data_dir(v)
    add_format(v)
    v.set_defaults(func=cmd_verify)

    ls = dsub.add_parser("list", help="every dataset ID (custom tables included) with its architectures and missing values")
    add_data_dir(ls)
    add_format(ls)
    ls.set_defaults(func=cmd_list)


def cmd_fetch(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..datasets import DataStore
    from ..datasets.fetch import fetch_missing
    from ..datasets.files import default_cache_dir

    store = DataStore(args.data_dir)
    dest = Path(args.data_dir) if args.data_dir else default_cache_dir()

    def progress(total: int | None, name: str) -> tqdm:
        return tqdm(total=total, desc=name, unit="B", unit_scale=True, disable=args.no_progress)

    results = fetch_missing(store.files.manifest.values(), store.files.dirs, dest, mirror=args.mirror, progress=progress)
    print(format_table(["file", "outcome"], results))
    return cmd_verify(args)


def cmd_verify(args: argparse.Namespace) -> int:
    from ..datasets import DataStore

    store = DataStore(args.data_dir)
    statuses = store.verify()
    problems = [s for s in statuses if not s.ok]
    if args.format == "json":
        print_json({
            "searched": [str(d) for d in store.files.dirs],
            "files": [{"path": s.path, "required": s.required, "status": s.status, "ok": s.ok,
                       "location": s.location or None, "detail": s.detail} for s in statuses],
            "ok": len(statuses) - len(problems), "problems": len(problems),
        })
        return 1 if problems else 0
    rows = [(s.path, "required" if s.required else "optional", s.status, s.location or s.detail) for s in statuses]
    print(format_table(["file", "kind", "status", "location"], rows))
    for s in problems:
        print(f"problem: {s.path}: {s.status} {s.detail}")
    print(f"{len(statuses) - len(problems)} of {len(statuses)} files ok"
          + ("" if not problems else f", {len(problems)} problem(s)"))
    return 1 if problems else 0


def _one_line(exc: Exception) -> str:
    """The whole message on one line (a 'not found' error lists the searched places on later lines)."""
    return " ".join(line.strip() for line in str(exc).strip().splitlines()) or type(exc).__name__


def cmd_list(args: argparse.Namespace) -> int:
    from ..datasets import DataStore
    from ..errors import NasbenchError

    store = DataStore(args.data_dir)
    datasets: list[dict[str, Any]] = []
    unavailable: list[dict[str, Any]] = []
    sources = [(bench, len(store.dataset_ids(bench))) for bench in store.benchmarks]
    sources += [(f"custom/{name}", None) for name in store.custom_tables()]
    for bench, n_ids in sources:
        try:
            table = store.table(bench)
            loaded = [store.load(ds_id) for ds_id in table.dataset_ids]
        except NasbenchError as exc:
            unavailable.append({"benchmark": bench, "dataset_ids": n_ids, "reason": _one_line(exc)})
            continue
        for d in loaded:
            datasets.append({"dataset": d.id, "architectures": int(len(d.values)),
                             "missing": int(d.n_missing), "unit": d.unit})
    searched = [str(d) for d in store.files.dirs]
    if args.format == "json":
        print_json({"searched": searched, "datasets": datasets, "unavailable": unavailable})
        return 0
    if datasets:
        print(format_table(["dataset", "architectures", "missing", "unit"],
                           [(d["dataset"], d["architectures"], d["missing"], d["unit"]) for d in datasets]))
    for u in unavailable:
        count = f" ({u['dataset_ids']} dataset IDs)" if u["dataset_ids"] is not None else ""
        print(f"unavailable: {u['benchmark']}{count}: {u['reason']}")
    print(f"{len(datasets)} datasets available; searched: {', '.join(searched)}")
    return 0

