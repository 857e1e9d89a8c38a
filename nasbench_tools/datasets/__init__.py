"""Benchmark data layer: manifest, file search and verification, loaders, download."""

from .files import DATA_ENV, ManifestEntry, default_cache_dir, load_manifest, search_dirs, sha256_file
from .loaders import HWNAS_DATASETS, HWNAS_METRICS, TRANSNAS_TASKS
from .store import BENCHMARKS, KNOWN_IDS, Benchmark, DataStore, FileStatus, get_benchmark, load_dataset
from .table import BenchmarkTable, Dataset

__all__ = [
    "BENCHMARKS", "DATA_ENV", "HWNAS_DATASETS", "HWNAS_METRICS", "KNOWN_IDS", "TRANSNAS_TASKS", "Benchmark",
    "BenchmarkTable", "DataStore", "Dataset", "FileStatus", "ManifestEntry", "default_cache_dir", "get_benchmark",
    "load_dataset", "load_manifest", "search_dirs", "sha256_file",
]
