"""Download missing benchmark files: progress bar, checksum before use, atomic write."""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterable, Mapping

from ..errors import ChecksumError, DownloadError
from .files import ManifestEntry

log = logging.getLogger(__name__)

#: Environment variable: base URL replacing ``https://raw.githubusercontent.com`` (mirrors, tests).
MIRROR_ENV = "NASBENCH_MIRROR"
GITHUB_RAW = "https://raw.githubusercontent.com"
_CHUNK = 1 << 16
DEFAULT_TIMEOUT_S = 60.0

ProgressFactory = Callable[[int | None, str], "ProgressLike"]


class ProgressLike:
    """What :func:`download` needs of a progress bar (``tqdm`` fits)."""

    def update(self, n: int) -> None: ...

    def close(self) -> None: ...


def resolve_url(url: str, mirror: str | None = None, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    mirror = mirror or env.get(MIRROR_ENV)
    if mirror and url.startswith(GITHUB_RAW):
        return mirror.rstrip("/") + url[len(GITHUB_RAW):]
    return url


def download(entry: ManifestEntry, dest_dir: Path, *, mirror: str | None = None,
             progress: ProgressFactory | None = None, timeout: float = DEFAULT_TIMEOUT_S,
             sha256: str | None = None) -> Path:
    """Download ``entry`` into ``dest_dir/entry.path``; verify its sha256 before the file appears.

    A failed, interrupted or corrupted transfer leaves nothing behind.
    """
    if entry.url is None:
        raise DownloadError(f"{entry.path} cannot be downloaded automatically: {entry.description}")
    expected = sha256 or entry.sha256
    if expected is None:
        raise DownloadError(f"{entry.path}: no known sha256, refusing to download an unverifiable file")
    url = resolve_url(entry.url, mirror)
    target = dest_dir / entry.path
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        received = 0
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp, os.fdopen(fd, "wb") as out:
                length = resp.headers.get("Content-Length")
                total = int(length) if length is not None else entry.size
                bar = progress(total, entry.path) if progress else None
                try:
                    while chunk := resp.read(_CHUNK):
                        out.write(chunk)
                        h.update(chunk)
                        received += len(chunk)
                        if bar:
                            bar.update(len(chunk))
                finally:
                    if bar:
                        bar.close()
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            raise DownloadError(f"{entry.path}: download from {url} failed after {received} bytes ({exc})") from None
        if length is not None and received != int(length):
            raise DownloadError(
                f"{entry.path}: transfer from {url} interrupted: received {received} of {length} bytes"
            )
        digest = h.hexdigest()
        if digest != expected:
            raise ChecksumError(
                f"{entry.path}: downloaded file from {url} has sha256 {digest}, expected {expected}; discarded"
            )
        os.replace(tmp, target)
        log.info("downloaded %s (%d bytes)", target, received)
        return target
    finally:
        if tmp.exists():
            tmp.unlink()


def fetch_missing(entries: Iterable[ManifestEntry], dirs: list[Path], dest_dir: Path, **kwargs) -> list[tuple[str, str]]:
    """Download every required entry not found in ``dirs``; returns ``(path, outcome)`` pairs."""
    results = []
    for e in entries:
        if any((d / e.path).is_file() for d in dirs):
            results.append((e.path, "present"))
            continue
        if not e.required:
            results.append((e.path, "optional, skipped"))
            continue
        if e.url is None:
            results.append((e.path, f"not downloadable: {e.description}"))
            continue
        download(e, dest_dir, **kwargs)
        results.append((e.path, "downloaded"))
    return results
