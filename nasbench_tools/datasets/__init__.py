"""Benchmark data layer: manifest, file search and verification, loaders, download."""

from .files import DATA_ENV, ManifestEntry, default_cache_dir, load_manifest, search_dirs, sha256_file
from .loaders import HWNAS_DATASETS, HWNAS_METRICS, TRANSNAS_TASKS
from .store import KNOWN_IDS, DataStore, FileStatus, load_dataset
from .table import BenchmarkTable, Dataset

__all__ = [
    "DATA_ENV", "HWNAS_DATASETS", "HWNAS_METRICS", "KNOWN_IDS", "TRANSNAS_TASKS", "BenchmarkTable",
    "DataStore", "Dataset", "FileStatus", "ManifestEntry", "default_cache_dir", "load_dataset",
    "load_manifest", "search_dirs", "sha256_file",
]
