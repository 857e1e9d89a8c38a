"""The benchmark-file manifest, where files are searched, and checksum verification."""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..errors import ChecksumError, DataFileNotFoundError, DataFormatError, UnknownNameError

#: Environment variable naming a data directory.
DATA_ENV = "NASBENCH_DATA"
#: Environment variable overriding the per-user cache directory.
CACHE_ENV = "NASBENCH_CACHE"
MANIFEST_NAME = "manifest.json"
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class ManifestEntry:
    """One benchmark file: where it lives relative to a data directory and how to check it."""

    path: str
    benchmark: str
    url: str | None
    sha256: str | None
    size: int | None
    license: str
    required: bool
    description: str

    @property
    def name(self) -> str:
        return Path(self.path).name


def manifest_path() -> Path:
    """Location of the packaged ``manifest.json`` (package data, read via ``importlib.resources``)."""
    resource = resources.files(__package__).joinpath(MANIFEST_NAME)
    if not resource.is_file():
        raise DataFileNotFoundError(
            f"benchmark manifest {MANIFEST_NAME} is missing from the installed package {__package__}; "
            "reinstall nasbench-study"
        )
    return Path(str(resource))


def load_manifest(path: Path | None = None) -> dict[str, ManifestEntry]:
    """Manifest entries keyed by relative path."""
    path = manifest_path() if path is None else Path(path)
    try:
        raw = json.loads(path.read_text())
        entries = [ManifestEntry(**f) for f in raw["files"]]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataFormatError(f"{path}: not a valid benchmark manifest ({exc})") from None
    return {e.path: e for e in entries}


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """Per-user cache: ``$NASBENCH_CACHE``, else ``$XDG_CACHE_HOME/nasbench-study``, else ``~/.cache/...``."""
    env = os.environ if env is None else env
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV]).expanduser()
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "nasbench-study"


def search_dirs(data_dir: str | Path | None = None, env: Mapping[str, str] | None = None) -> list[Path]:
    """Data directories in search order: explicit ``data_dir``, ``$NASBENCH_DATA``, the cache."""
    env = os.environ if env is None else env
    dirs: list[Path] = []
    if data_dir is not None:
        dirs.append(Path(data_dir).expanduser())
    if env.get(DATA_ENV):
        dirs.append(Path(env[DATA_ENV]).expanduser())
    dirs.append(default_cache_dir(env))
    out: list[Path] = []
    for d in dirs:
        d = d.resolve()
        if d not in out:
            out.append(d)
    return out


def find_file(relpath: str, dirs: list[Path]) -> Path:
    """First existing ``dir/relpath``; the error names the file and every place searched."""
    for d in dirs:
        p = d / relpath
        if p.is_file():
            return p
    places = "\n  ".join(str(d / relpath) for d in dirs)
    raise DataFileNotFoundError(
        f"benchmark file {relpath} not found. Searched:\n  {places}\n"
        f"Set --data-dir or {DATA_ENV}, or run 'nasbench-study data fetch'."
    )


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_HASH_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_checksum(path: Path, expected: str | None) -> str:
    """Hash ``path`` and compare with ``expected``; raise :class:`ChecksumError` on mismatch."""
    if expected is None:
        raise ChecksumError(
            f"{path}: no known sha256 for this file; pass the checksum you trust explicitly "
            "(it is never parsed unverified)"
        )
    digest = sha256_file(path)
    if digest != expected.lower():
        raise ChecksumError(
            f"{path}: sha256 {digest} does not match the expected {expected}; the file is corrupt, "
            "truncated or a different version. Delete it and run 'nasbench-study data fetch'."
        )
    return digest


class FileResolver:
    """Finds manifest files in the search directories and verifies each once per process object."""

    def __init__(self, data_dir: str | Path | None = None, env: Mapping[str, str] | None = None,
                 manifest: Mapping[str, ManifestEntry] | None = None) -> None:
        self.dirs = search_dirs(data_dir, env)
        self.manifest = dict(load_manifest() if manifest is None else manifest)
        self._verified: dict[tuple[str, int, int], str] = {}

    def entry(self, relpath: str) -> ManifestEntry:
        try:
            return self.manifest[relpath]
        except KeyError:
            raise UnknownNameError(f"{relpath} is not a file of the manifest") from None

    def path(self, relpath: str, sha256: str | None = None) -> Path:
        """Verified location of a manifest file (checksum from the manifest unless given)."""
        entry = self.entry(relpath)
        p = find_file(relpath, self.dirs)
        expected = sha256 or entry.sha256
        st = p.stat()
        key = (str(p), st.st_size, st.st_mtime_ns)
        if expected is None or self._verified.get(key) != expected:
            self._verified[key] = verify_checksum(p, expected)
        return p
