"""Download missing benchmark files: progress bar, checksum before use, atomic write.

A download is treated as untrusted input: only ``http``/``https`` URLs are opened (the mirror and
every redirect), the manifest's size is a hard cap on the bytes accepted, connections and reads
time out, and the whole transfer has a deadline. The bytes go to ``.<name>.part`` beside the
target, locked while it is written (a concurrent fetch of the same file is refused) and truncated
when a later fetch finds it left over by a killed one; only a verified file is renamed into place.
"""

from __future__ import annotations

import fcntl
import hashlib
import http.client
import logging
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlparse

from ..errors import ChecksumError, DownloadError, ParameterError
from .files import ManifestEntry

log = logging.getLogger(__name__)

#: Environment variable: base URL replacing ``https://raw.githubusercontent.com`` (mirrors, tests).
MIRROR_ENV = "NASBENCH_MIRROR"
GITHUB_RAW = "https://raw.githubusercontent.com"
_CHUNK = 1 << 16
#: Seconds a connection attempt or a single read may take.
DEFAULT_TIMEOUT_S = 60.0
#: Slowest average transfer rate tolerated (bytes/s); with the timeout it sets the deadline.
MIN_RATE_BPS = 16 * 1024
#: Cap on a file whose manifest entry states no size.
DEFAULT_MAX_BYTES = 4 << 30
ALLOWED_SCHEMES = ("http", "https")
PART_SUFFIX = ".part"

ProgressFactory = Callable[[int | None, str], "ProgressLike"]


class ProgressLike:
    """What :func:`download` needs of a progress bar (``tqdm`` fits)."""

    def update(self, n: int) -> None: ...

    def close(self) -> None: ...


def check_mirror(mirror: str | None) -> None:
    """Refuse a mirror that is not an ``http(s)://host`` URL (``file://``, ``ftp://``, bare paths)."""
    if mirror is None:
        return
    parsed = urlparse(mirror)
    if parsed.scheme not in ALLOWED_SCHEMES or not parsed.netloc:
        raise ParameterError(f"--mirror {mirror!r}: expected an http:// or https:// URL with a host")


def resolve_url(url: str, mirror: str | None = None, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    mirror = mirror or env.get(MIRROR_ENV)
    check_mirror(mirror)
    if mirror and url.startswith(GITHUB_RAW):
        return mirror.rstrip("/") + url[len(GITHUB_RAW):]
    return url


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s) URLs (the default handler also follows ``ftp://``)."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        if urlparse(newurl).scheme not in ALLOWED_SCHEMES:
            raise DownloadError(f"{req.full_url} redirects to {newurl!r}; only http(s) redirects are followed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    """An opener that speaks http(s) only: no file://, ftp:// or data: handlers."""
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), urllib.request.UnknownHandler(), urllib.request.HTTPHandler(),
                    urllib.request.HTTPSHandler(), urllib.request.HTTPDefaultErrorHandler(), _HttpOnlyRedirects(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def _remove_leftovers(target: Path) -> None:
    """Delete ``.part`` files of older, randomly named temporary files of ``target``."""
    for old in target.parent.glob(f".{target.name}.*{PART_SUFFIX}"):
        log.info("removing %s left over by an interrupted fetch", old)
        old.unlink(missing_ok=True)


def download(entry: ManifestEntry, dest_dir: Path, *, mirror: str | None = None,
             progress: ProgressFactory | None = None, timeout: float = DEFAULT_TIMEOUT_S,
             sha256: str | None = None) -> Path:
    """Download ``entry`` into ``dest_dir/entry.path``; verify its sha256 before the file appears.

    A failed, interrupted, oversized or corrupted transfer leaves nothing behind.
    """
    if entry.url is None:
        raise DownloadError(f"{entry.path} cannot be downloaded automatically: {entry.description}")
    expected = sha256 or entry.sha256
    if expected is None:
        raise DownloadError(f"{entry.path}: no known sha256, refusing to download an unverifiable file")
    url = resolve_url(entry.url, mirror)
    if urlparse(url).scheme not in ALLOWED_SCHEMES:
        raise DownloadError(f"{entry.path}: refusing to open {url!r}; only http(s) URLs are downloaded")
    cap = entry.size if entry.size is not None else DEFAULT_MAX_BYTES
    deadline = time.monotonic() + timeout + cap / MIN_RATE_BPS
    target = dest_dir / entry.path
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(target)
    part = target.with_name(f".{target.name}{PART_SUFFIX}")
    fd = os.open(part, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DownloadError(f"{entry.path}: another process is downloading it into {part}; wait for it") from None
    ok = False
    try:
        if os.fstat(fd).st_size:
            log.info("discarding %s left over by an interrupted fetch", part)
        os.ftruncate(fd, 0)
        received = _transfer(entry, url, fd, cap, deadline, timeout, expected, progress)
        os.replace(part, target)
        ok = True
        log.info("downloaded %s (%d bytes)", target, received)
        return target
    finally:
        if not ok:
            part.unlink(missing_ok=True)
        os.close(fd)


def _transfer(entry: ManifestEntry, url: str, fd: int, cap: int, deadline: float, timeout: float,
              expected: str, progress: ProgressFactory | None) -> int:
    """Stream ``url`` into ``fd`` within the size cap and deadline; returns the bytes received."""
    h = hashlib.sha256()
    received = 0
    length = None
    try:
        with _opener().open(url, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            if length is not None and (not length.isdigit() or int(length) > cap):
                raise DownloadError(f"{entry.path}: {url} announces {length} bytes; the manifest allows {cap}")
            total = int(length) if length is not None else entry.size
            bar = progress(total, entry.path) if progress else None
            try:
                while chunk := resp.read(_CHUNK):
                    received += len(chunk)
                    if received > cap:
                        raise DownloadError(
                            f"{entry.path}: {url} sent more than the manifest's {cap} bytes; stopped and discarded"
                        )
                    if time.monotonic() > deadline:
                        raise DownloadError(f"{entry.path}: {url} is too slow ({received} bytes before the deadline)")
                    os.write(fd, chunk)
                    h.update(chunk)
                    if bar:
                        bar.update(len(chunk))
            finally:
                if bar:
                    bar.close()
        os.fsync(fd)
    except DownloadError:
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        raise DownloadError(f"{entry.path}: download from {url} failed after {received} bytes ({exc})") from None
    if length is not None and received != int(length):
        raise DownloadError(f"{entry.path}: transfer from {url} interrupted: received {received} of {length} bytes")
    digest = h.hexdigest()
    if digest != expected:
        raise ChecksumError(
            f"{entry.path}: downloaded file from {url} has sha256 {digest}, expected {expected}; discarded"
        )
    return received


def fetch_missing(entries: Iterable[ManifestEntry], dirs: list[Path], dest_dir: Path, **kwargs: Any) -> list[tuple[str, str]]:
    """Download every required entry not found in ``dirs``; returns ``(path, outcome)`` pairs.

    The mirror is checked first, so a bad one is refused even when nothing is missing.
    """
    check_mirror(kwargs.get("mirror"))
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
