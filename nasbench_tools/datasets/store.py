"""One entry point to every benchmark dataset: ``DataStore().load("hwnas/cifar10/edgegpu_latency")``."""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

from ..errors import ChecksumError, DataFileNotFoundError, UnknownNameError
from . import loaders as L
from .files import FileResolver, find_file, sha256_file
from .table import BenchmarkTable, Dataset

log = logging.getLogger(__name__)

HWNAS_FILES = {ds: f"hw-nas-bench/hw_{ds}.csv" for ds in L.HWNAS_DATASETS}
HWNAS_PICKLE = "hw-nas-bench/HW-NAS-Bench-v1_0.pickle"
NB201_FILE = "nas-bench-201/nats_bench.csv"
TRANSNAS_MICRO_FILE = "transnas-bench-101/micro_inference_time_ms.csv"
TRANSNAS_MACRO_NAMES_FILE = "transnas-bench-101/macro_archs.csv"
TRANSNAS_OFFICIAL_FILE = "transnas-bench-101/transnas-bench_v10141024.pth"
NBMACRO_FILE = "nas-bench-macro/nas-bench-macro_cifar10.json"
CUSTOM_DIR = "custom"


@dataclass(frozen=True)
class Benchmark:
    """One benchmark a :class:`DataStore` reads: the dataset IDs it provides (known without
    reading a file), the manifest files its table is read from, and how the table is parsed.
    The table's search space is the one whose capabilities list ``name`` (see
    :func:`nasbench_tools.spaces.benchmark_space`)."""

    name: str
    ids: tuple[str, ...]
    files: Callable[["DataStore"], list[str]]
    load: Callable[["DataStore"], BenchmarkTable]


def _one_file(name: str, ids: Sequence[str], relpath: str, loader: str) -> Benchmark:
    """A benchmark read from one manifest file by ``loaders.<loader>(path)``."""
    return Benchmark(name, tuple(ids), lambda store: [relpath], lambda store: getattr(L, loader)(store.path(relpath)))


def _hwnas_files(store: "DataStore") -> list[str]:
    return [HWNAS_PICKLE] if store.hwnas_source == "pickle" else list(HWNAS_FILES.values())


def _load_hwnas(store: "DataStore") -> BenchmarkTable:
    if store.hwnas_source == "pickle":
        return L.load_hwnas_pickle(store.path(HWNAS_PICKLE))
    return L.load_hwnas_csv({ds: store.path(rel) for ds, rel in HWNAS_FILES.items()})


def _load_transnas_macro(store: "DataStore") -> BenchmarkTable:
    try:
        path = store.path(TRANSNAS_OFFICIAL_FILE)
    except DataFileNotFoundError as exc:
        raise DataFileNotFoundError(
            "transnas-macro datasets need the official TransNAS-Bench-101 file "
            "transnas-bench_v10141024.pth (about 100 MiB, distributed through the benchmark's "
            "Google Drive folder; not downloadable here and not available offline). "
            f"Place it in a data directory and pass its sha256 via checksums=. {exc}"
        ) from None
    except ChecksumError as exc:
        raise ChecksumError(f"{exc} (DataStore(checksums={{'{TRANSNAS_OFFICIAL_FILE}': '<sha256>'}}))") from None
    return L.load_transnas_official(path)


#: Every benchmark, by name (the first part of its dataset IDs).
BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in (
    Benchmark("hwnas", tuple(f"hwnas/{d}/{m}" for d in L.HWNAS_DATASETS for m in L.HWNAS_METRICS),
              _hwnas_files, _load_hwnas),
    _one_file("nb201", [f"nb201/{c}" for c in L.NB201_COLUMNS.values()], NB201_FILE, "load_nb201"),
    _one_file("transnas-micro", [f"transnas-micro/{t}/inference_time" for t in L.TRANSNAS_TASKS],
              TRANSNAS_MICRO_FILE, "load_transnas_micro"),
    Benchmark("transnas-macro",
              tuple(f"transnas-macro/{t}/{m}" for t in L.TRANSNAS_TASKS for m in L.TRANSNAS_MACRO_METRICS),
              lambda store: [TRANSNAS_OFFICIAL_FILE], _load_transnas_macro),
    _one_file("nbmacro", [f"nbmacro/{c}" for c in L.NBMACRO_FIELDS.values()], NBMACRO_FILE, "load_nbmacro"),
)}
#: Dataset IDs each benchmark provides, known without reading any file.
KNOWN_IDS: dict[str, tuple[str, ...]] = {name: b.ids for name, b in BENCHMARKS.items()}


def get_benchmark(name: str) -> Benchmark:
    """The benchmark called ``name`` (one-line error listing the known ones)."""
    try:
        return BENCHMARKS[name]
    except KeyError:
        raise UnknownNameError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}, custom/<name>") from None


@dataclass(frozen=True)
class FileStatus:
    """Result of checking one manifest file."""

    path: str
    required: bool
    status: str  # ok | missing | checksum-mismatch | unverifiable
    location: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok" or (not self.required and self.status == "missing")


class DataStore:
    """Finds, verifies, parses and caches benchmark tables.

    Parameters
    ----------
    data_dir: explicit data directory (searched before ``$NASBENCH_DATA`` and the cache).
    custom: extra custom tables ``{name: csv path}``; others are found as
        ``<data dir>/custom/<name>.csv``.
    checksums: sha256 values you trust for manifest files without one (the official
        HW-NAS-Bench pickle and TransNAS-Bench-101 ``.pth``).
    hwnas_source: ``"csv"`` (default) or ``"pickle"`` (the official HW-NAS-Bench pickle).
    """

    def __init__(self, data_dir: str | Path | None = None, *, custom: Mapping[str, str | Path] | None = None,
                 checksums: Mapping[str, str] | None = None, hwnas_source: str = "csv",
                 env: Mapping[str, str] | None = None) -> None:
        if hwnas_source not in ("csv", "pickle"):
            raise ValueError(f"hwnas_source must be 'csv' or 'pickle', got {hwnas_source!r}")
        self.files = FileResolver(data_dir, env)
        self.custom = {k: Path(v) for k, v in (custom or {}).items()}
        for name, path in self.custom.items():
            if not name or "/" in name:
                raise UnknownNameError(f"custom table name {name!r} must be non-empty and without '/'")
            if not path.is_file():
                raise DataFileNotFoundError(f"custom table {name!r}: {path} is not a file (custom={{name: csv path}})")
        self.checksums = dict(checksums or {})
        self.hwnas_source = hwnas_source
        self._tables: dict[str, BenchmarkTable] = {}
        #: custom table name -> sha256 of the file its table was parsed from
        self._custom_sha: dict[str, str] = {}

    # -------------------------------------------------------------------- files
    def path(self, relpath: str) -> Path:
        """Verified path of a manifest file."""
        return self.files.path(relpath, self.checksums.get(relpath))

    def verify(self) -> list[FileStatus]:
        """Presence and checksum of every manifest file (nothing is parsed)."""
        out = []
        for rel, entry in self.files.manifest.items():
            try:
                p = find_file(rel, self.files.dirs)
            except DataFileNotFoundError:
                out.append(FileStatus(rel, entry.required, "missing", "", "searched " + ", ".join(map(str, self.files.dirs))))
                continue
            expected = self.checksums.get(rel) or entry.sha256
            if expected is None:
                out.append(FileStatus(rel, entry.required, "unverifiable", str(p),
                                      f"no known sha256 (file sha256 {sha256_file(p)}); pass it explicitly to use the file"))
                continue
            digest = sha256_file(p)
            status = "ok" if digest == expected else "checksum-mismatch"
            detail = "" if status == "ok" else f"sha256 {digest}, expected {expected}"
            out.append(FileStatus(rel, entry.required, status, str(p), detail))
        return out

    # ------------------------------------------------------------------- tables
    @property
    def benchmarks(self) -> tuple[str, ...]:
        return tuple(BENCHMARKS)

    def table(self, benchmark: str) -> BenchmarkTable:
        """The parsed table of ``benchmark`` (``hwnas``, ``nb201``, ..., ``custom/<name>``)."""
        if benchmark not in self._tables:
            if benchmark.startswith("custom/"):
                self._tables[benchmark] = self._load_custom(benchmark.split("/", 1)[1])
            else:
                self._tables[benchmark] = get_benchmark(benchmark).load(self)
        return self._tables[benchmark]

    def _custom_path(self, name: str) -> Path:
        if name in self.custom:
            return self.custom[name]
        return find_file(f"{CUSTOM_DIR}/{name}.csv", self.files.dirs)

    def _load_custom(self, name: str) -> BenchmarkTable:
        path = self._custom_path(name)
        self._custom_sha[name] = sha256_file(path)
        return L.load_custom(path, name)

    def custom_tables(self) -> dict[str, Path]:
        """Every custom table this store can load: ``custom=`` entries, then ``<dir>/custom/*.csv``
        of the search directories (the first directory holding a name wins)."""
        found = dict(self.custom)
        for d in self.files.dirs:
            folder = d / CUSTOM_DIR
            if folder.is_dir():
                for p in sorted(folder.glob("*.csv")):
                    found.setdefault(p.stem, p)
        return found

    def custom_dataset_ids(self) -> list[str]:
        """``custom/<name>/<column>`` of every loadable custom table (each table is parsed)."""
        return [f"custom/{c}" for name in self.custom_tables() for c in self.table(f"custom/{name}").values.columns]

    def files_of(self, benchmark: str) -> list[str]:
        """Manifest paths (or ``custom/<name>.csv``) of the files a benchmark's table is read from."""
        if benchmark.startswith("custom/"):
            return [f"{CUSTOM_DIR}/{benchmark.split('/', 1)[1]}.csv"]
        return get_benchmark(benchmark).files(self)

    def data_checksums(self, dataset_ids: Sequence[str]) -> dict[str, str]:
        """``{file: sha256}`` of every file the given datasets are read from (loading them first),
        for run fingerprints: a resumed run refuses data that changed under it."""
        out: dict[str, str] = {}
        for dataset_id in dataset_ids:
            self.load(dataset_id)
            parts = dataset_id.split("/")
            bench = f"custom/{parts[1]}" if parts[0] == "custom" else parts[0]
            for rel in self.files_of(bench):
                if bench.startswith("custom/"):
                    out[rel] = self._custom_sha[parts[1]]
                else:
                    out[rel] = (self.checksums.get(rel) or self.files.entry(rel).sha256 or "").lower()
        return dict(sorted(out.items()))

    # ----------------------------------------------------------------- datasets
    def load(self, dataset_id: str) -> Dataset:
        """One dataset by ID ``benchmark/dataset/metric`` (``custom/<name>/<column>``)."""
        parts = dataset_id.split("/")
        if len(parts) != 3 or not all(parts):
            raise UnknownNameError(
                f"dataset ID {dataset_id!r} should have the form benchmark/dataset/metric, "
                "e.g. hwnas/cifar10/edgegpu_latency"
            )
        bench = parts[0]
        if bench == "custom":
            table = self.table(f"custom/{parts[1]}")
            column = f"{parts[1]}/{parts[2]}"
            if column not in table.values.columns:
                cols = [c.split("/", 1)[1] for c in table.values.columns]
                raise UnknownNameError(
                    f"custom table {parts[1]!r} ({table.sources[0]}) has no metric column {parts[2]!r}; "
                    f"columns: {', '.join(cols)}"
                )
            return table.dataset(column)
        known = KNOWN_IDS.get(bench)
        if known is None or dataset_id not in known:
            pool = [i for ids in KNOWN_IDS.values() for i in ids]
            close = difflib.get_close_matches(dataset_id, pool, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownNameError(f"unknown dataset ID {dataset_id!r}{hint} (see 'nasbench-study data list')")
        return self.table(bench).dataset(dataset_id.split("/", 1)[1])

    def dataset_ids(self, benchmark: str | None = None) -> list[str]:
        """Known dataset IDs (of one benchmark), without reading files."""
        if benchmark is None:
            return [i for ids in KNOWN_IDS.values() for i in ids]
        return list(KNOWN_IDS[benchmark])


def load_dataset(dataset_id: str, data_dir: str | Path | None = None) -> Dataset:
    """Convenience: load one dataset with a fresh :class:`DataStore`."""
    return DataStore(data_dir).load(dataset_id)
