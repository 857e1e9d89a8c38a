"""Downloads against a local HTTP server on 127.0.0.1: success, corruption, interruption."""

from __future__ import annotations

import hashlib
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import pytest

from nasbench_tools.cli import main
from nasbench_tools.datasets import load_manifest
from nasbench_tools.datasets.fetch import GITHUB_RAW, download
from nasbench_tools.datasets.files import ManifestEntry
from nasbench_tools.errors import ChecksumError, DownloadError

PAYLOAD = b"arch,latency\n" + b"".join(b"%d,%d.5\n" % (i, i) for i in range(5000))


class _Server:
    """Serves ``routes`` {url path: bytes}; mode 'ok' | 'corrupt' | 'interrupt'."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.mode = "ok"
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                body = server.routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                if server.mode == "corrupt":
                    body = body[:-10] + b"0123456789"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.mode == "interrupt":
                    self.wfile.write(body[: len(body) // 3])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server() -> Iterator[_Server]:
    s = _Server()
    yield s
    s.close()


def _entry(path: str = "bench/file.csv", payload: bytes = PAYLOAD) -> ManifestEntry:
    return ManifestEntry(path=path, benchmark="test", url=f"{GITHUB_RAW}/owner/repo/abc123/{path}",
                         sha256=hashlib.sha256(payload).hexdigest(), size=len(payload), license="MIT",
                         required=True, description="test file")


def _leftovers(d: Path) -> list[Path]:
    return [p for p in d.rglob("*") if p.is_file()]


def test_download_ok_with_progress(server: _Server, tmp_path: Path) -> None:
    e = _entry()
    server.routes[urlparse(_entry().url).path] = PAYLOAD
    seen = []

    class Bar:
        def update(self, n: int) -> None:
            seen.append(n)

        def close(self) -> None:
            seen.append(-1)

    out = download(e, tmp_path, mirror=server.base, progress=lambda total, name: Bar())
    assert out == tmp_path / "bench" / "file.csv"
    assert out.read_bytes() == PAYLOAD
    assert sum(n for n in seen if n > 0) == len(PAYLOAD) and seen[-1] == -1
    assert _leftovers(tmp_path) == [out]


def test_corrupted_download_leaves_nothing(server: _Server, tmp_path: Path) -> None:
    server.routes[urlparse(_entry().url).path] = PAYLOAD
    server.mode = "corrupt"
    with pytest.raises(ChecksumError, match="expected .*discarded"):
        download(_entry(), tmp_path, mirror=server.base)
    assert _leftovers(tmp_path) == []


def test_interrupted_download_leaves_nothing(server: _Server, tmp_path: Path) -> None:
    server.routes[urlparse(_entry().url).path] = PAYLOAD
    server.mode = "interrupt"
    with pytest.raises(DownloadError, match="bench/file.csv"):
        download(_entry(), tmp_path, mirror=server.base)
    assert _leftovers(tmp_path) == []


def test_http_error_and_undownloadable(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="404"):
        download(_entry(), tmp_path, mirror=server.base)
    e = ManifestEntry("x/y.csv", "t", None, "0" * 64, None, "", True, "derived from somewhere")
    with pytest.raises(DownloadError, match="cannot be downloaded automatically: derived"):
        download(e, tmp_path)
    assert _leftovers(tmp_path) == []


def test_cli_fetch_then_verify_end_to_end(server: _Server, tmp_path: Path, data_dir: Path, monkeypatch, capsys) -> None:
    """`data fetch --mirror` fills an empty data directory from the local server (the shared
    files serve as the remote), then verifies every checksum."""
    manifest = load_manifest()
    for e in manifest.values():
        if e.url and e.required:
            server.routes[urlparse(e.url).path] = (data_dir / e.path).read_bytes()
        elif e.required:  # derived files cannot be downloaded: the user supplies them
            (tmp_path / "data" / e.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(data_dir / e.path, tmp_path / "data" / e.path)
    monkeypatch.delenv("NASBENCH_DATA", raising=False)
    monkeypatch.setenv("NASBENCH_CACHE", str(tmp_path / "cache"))
    rc = main(["data", "fetch", "--data-dir", str(tmp_path / "data"), "--mirror", server.base, "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert out.count("downloaded") == sum(1 for e in manifest.values() if e.url and e.required)
    assert "7 of 9 files ok" not in out and "9 of 9 files ok" in out
    # a second fetch downloads nothing
    n_requests = len(server.requests)
    assert main(["data", "fetch", "--data-dir", str(tmp_path / "data"), "--mirror", server.base, "--no-progress"]) == 0
    assert len(server.requests) == n_requests
