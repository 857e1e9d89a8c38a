"""Bad input about data (issue 12): custom tables, official benchmark files, ``DataStore``, and
downloads from hostile servers. The refusal contract and helpers: ``tests/bad_input_support.py``."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import pytest
from bad_input_support import STUDY, custom_csv, refused, snapshot, toml

from nasbench_tools.cli import main
from nasbench_tools.errors import NasbenchError


# ============================================================================ custom tables and data
CUSTOM_CASES = {
    "inf": ({5: "inf"}, "", r"row 7 column 'latency_ms' holds inf"),
    "minus_inf": ({9: "-inf"}, "", r"row 11 column 'latency_ms' holds -inf"),
    "huge_1e308": ({3: "1e308"}, "", r"row 5 column 'latency_ms' holds 1e\+308"),
    "overflow_1e400": ({4: "1e400"}, "", r"column 'latency_ms' row 6 holds '1e400'; expected a finite number"),
    "unit_suffix": ({2: "12.3ms"}, "", r"column 'latency_ms' row 4 holds '12.3ms'"),
    "word": ({7: "fast"}, "", r"column 'latency_ms' row 9 holds 'fast'"),
    "duplicate_arch": ({}, "DUP", r"appears 2 times"),
    "unknown_arch": ({}, "|conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|,1.0\n", r"conv_9x9|not a valid|unknown"),
}


@pytest.mark.parametrize("case", list(CUSTOM_CASES))
def test_custom_table_with_bad_cells_is_refused(case, tmp_path, capsys):
    cells, extra, fragment = CUSTOM_CASES[case]
    if extra == "DUP":
        text = custom_csv(cells)
        extra = text.splitlines()[1] + "\n"
    data = tmp_path / "data"
    (data / "custom").mkdir(parents=True)
    (data / "custom" / "mine.csv").write_text(custom_csv(cells, extra=extra))
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml({**STUDY, "datasets": ["custom/mine/latency_ms"], "test_size": 40}))
    line = refused(["study", "run", "--config", cfg, "--data-dir", data, "--out", tmp_path / "out"], capsys, tmp_path)
    assert "mine.csv" in line
    assert re.search(fragment, line), line
    assert not (tmp_path / "out" / "results.csv").exists()


@pytest.mark.parametrize("content, fragment", [
    ("", r"malformed CSV|no rows|empty"),
    ("arch,latency_ms\n", r"no rows"),
    ("name,latency_ms\nx,1\n", r"missing column\(s\) arch"),
    ("arch,device\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,cpu\n", r"no numeric metric column"),
    ("arch,latency_ms\nnot-an-arch,1.0\n", r"cannot tell the search space"),
    ("\x00\x01\x02garbage\xff\n", r"mine.csv"),
], ids=["empty", "header_only", "no_arch_column", "no_metric", "unparsable_arch", "binary"])
def test_malformed_custom_table_files(content, fragment, tmp_path, capsys):
    data = tmp_path / "data"
    (data / "custom").mkdir(parents=True)
    (data / "custom" / "mine.csv").write_bytes(content.encode("latin-1"))
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml({**STUDY, "datasets": ["custom/mine/latency_ms"]}))
    line = refused(["study", "run", "--config", cfg, "--data-dir", data, "--out", tmp_path / "out"], capsys, tmp_path)
    assert re.search(fragment, line), line


def test_unknown_custom_column_names_the_columns(tmp_path, capsys):
    data = tmp_path / "data"
    (data / "custom").mkdir(parents=True)
    (data / "custom" / "mine.csv").write_text(custom_csv())
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml({**STUDY, "datasets": ["custom/mine/energy"]}))
    line = refused(["study", "run", "--config", cfg, "--data-dir", data, "--out", tmp_path / "out"], capsys, tmp_path)
    assert "'energy'" in line and "latency_ms" in line


def test_corrupt_benchmark_copy_is_refused_by_checksum(tmp_path, data_dir, capsys):
    bad = tmp_path / "data" / "hw-nas-bench"
    bad.mkdir(parents=True)
    text = (data_dir / "hw-nas-bench" / "hw_cifar10.csv").read_bytes()
    (bad / "hw_cifar10.csv").write_bytes(text.replace(b"0.", b"9.", 1))
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml(STUDY))
    line = refused(["study", "run", "--config", cfg, "--data-dir", tmp_path / "data", "--out", tmp_path / "out"],
                   capsys, tmp_path)
    assert "hw_cifar10.csv" in line and "sha256" in line


@pytest.mark.parametrize("argv, fragment", [
    (["lut", "--dataset", "hwnas/cifar10/edgetpu_latency"], "edgetpu_latency"),
    (["lut", "--dataset", "hwnas/cifar10/edgegpu_latncy"], "did you mean"),
    (["lut", "--dataset", "nope"], "nope"),
    (["lut", "--dataset", "custom/mine/latency_ms", "--data-dir", "{tmp}/custom-inf"], "holds inf"),
], ids=["lut_edgetpu_missing_values", "lut_typo", "lut_bad_id", "lut_custom_inf"])
def test_data_commands(argv, fragment, tmp_path, capsys):
    (tmp_path / "custom-inf" / "custom").mkdir(parents=True)
    (tmp_path / "custom-inf" / "custom" / "mine.csv").write_text(custom_csv({1: "inf"}))
    line = refused([a.replace("{tmp}", str(tmp_path)) for a in argv], capsys, tmp_path)
    assert fragment in line


def test_data_list_shows_custom_tables_and_names_a_bad_cell(tmp_path, capsys):
    (tmp_path / "custom").mkdir()
    (tmp_path / "custom" / "mine.csv").write_text(custom_csv())
    (tmp_path / "custom" / "broken.csv").write_text(custom_csv({1: "inf"}))
    assert main(["data", "list", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "custom/mine/latency_ms" in out
    assert "broken.csv: row 3 column 'latency_ms' holds inf" in out  # listed as unavailable, with the cell


# ============================================================================ library-level data cases
def _lib_refused(fn: Callable[[], Any], fragment: str, *watch: Path) -> str:
    before = snapshot(*watch)
    with pytest.raises(NasbenchError) as err:
        fn()
    msg = str(err.value)
    assert "\n" not in msg and fragment in msg, msg
    assert snapshot(*watch) == before
    return msg


def test_datastore_custom_path_missing(tmp_path):
    from nasbench_tools.datasets import DataStore

    _lib_refused(lambda: DataStore(custom={"mine": tmp_path / "absent.csv"}), "absent.csv", tmp_path)


def _pickle_store(tmp_path: Path, obj: Any):
    import pickle

    from nasbench_tools.datasets import DataStore
    from nasbench_tools.datasets.store import HWNAS_PICKLE

    path = tmp_path / HWNAS_PICKLE
    path.parent.mkdir(parents=True)
    path.write_bytes(pickle.dumps(obj))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return DataStore(tmp_path, hwnas_source="pickle", checksums={HWNAS_PICKLE: sha}, env={})


@pytest.mark.parametrize("obj, fragment", [
    ({"nasbench201": ["not", "a", "dict"]}, "nasbench201"),
    ({"nasbench201": {"cifar10": {"config": 5}}}, "lacks field"),
    ({"nasbench201": {"cifar10": {**{m: [1.0] for m in (
        "edgegpu_latency", "edgegpu_energy", "raspi4_latency", "edgetpu_latency", "pixel3_latency", "eyeriss_latency",
        "eyeriss_energy", "eyeriss_arithmetic_intensity", "fpga_latency", "fpga_energy")}, "config": [None]}}}, "arch_str"),
    ({"nasbench201": {"cifar10": {**{m: [[1.0, "x"]] for m in (
        "edgegpu_latency", "edgegpu_energy", "raspi4_latency", "edgetpu_latency", "pixel3_latency", "eyeriss_latency",
        "eyeriss_energy", "eyeriss_arithmetic_intensity", "fpga_latency", "fpga_energy")},
        "config": [{"arch_str": "x"}]}}}, "HW-NAS-Bench"),
], ids=["list_not_dict", "missing_fields", "config_entry_none", "ragged_values"])
def test_malformed_official_pickle(obj, fragment, tmp_path):
    store = _pickle_store(tmp_path, obj)
    _lib_refused(lambda: store.load("hwnas/cifar10/edgegpu_latency"), fragment, tmp_path)


@pytest.mark.parametrize("obj, fragment", [
    ({"data": {"macro": {"64-41414-3_33_333": "not a dict"}}, "task_list": ["class_scene"]}, "TransNAS"),
    ({"data": {"macro": {"64-41414-3_33_333": {"class_scene": {"model_info": {"inference_time": "fast"}}}}},
      "task_list": ["class_scene"]}, "TransNAS"),
    ({"data": [], "task_list": []}, "macro"),
], ids=["entry_not_dict", "text_value", "data_not_dict"])
def test_malformed_official_transnas_file(obj, fragment, tmp_path):
    import torch

    from nasbench_tools.datasets import DataStore
    from nasbench_tools.datasets.store import TRANSNAS_OFFICIAL_FILE

    path = tmp_path / TRANSNAS_OFFICIAL_FILE
    path.parent.mkdir(parents=True)
    torch.save(obj, path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    store = DataStore(tmp_path, checksums={TRANSNAS_OFFICIAL_FILE: sha}, env={})
    _lib_refused(lambda: store.load("transnas-macro/class_scene/inference_time"), fragment, tmp_path)


# ============================================================================ downloads
class _Hostile:
    """A local HTTP server: ``endless`` streams forever, ``redirect`` points at ftp://, ``huge``
    announces more bytes than the manifest allows."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "ftp://127.0.0.1/file.csv")
                    self.end_headers()
                    return
                self.send_response(200)
                if mode == "huge":
                    self.send_header("Content-Length", str(10 ** 12))
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    for _ in range(100_000):  # ~6.5 GB unless the client stops reading
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def empty_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("NASBENCH_DATA", raising=False)
    monkeypatch.delenv("NASBENCH_MIRROR", raising=False)
    monkeypatch.setenv("NASBENCH_CACHE", str(tmp_path / "cache"))
    (tmp_path / "data").mkdir()
    return tmp_path / "data"


@pytest.mark.parametrize("mirror", ["file:///etc", "ftp://127.0.0.1/pub", "/srv/mirror", "http://"],
                         ids=["file", "ftp", "bare_path", "no_host"])
def test_fetch_mirror_schemes(mirror, empty_data, capsys):
    line = refused(["data", "fetch", "--data-dir", empty_data, "--mirror", mirror, "--no-progress"], capsys,
                   empty_data.parent)
    assert "--mirror" in line and mirror in line
    assert not list(empty_data.rglob("*.part"))


@pytest.mark.parametrize("mode, fragment", [("endless", "more than the manifest"), ("redirect", "ftp://"),
                                            ("huge", "announces")])
def test_fetch_from_a_hostile_server(mode, fragment, empty_data, capsys):
    server = _Hostile(mode)
    try:
        t0 = time.perf_counter()
        line = refused(["data", "fetch", "--data-dir", empty_data, "--mirror", server.base, "--no-progress"], capsys,
                       empty_data.parent)
        assert time.perf_counter() - t0 < 60
    finally:
        server.close()
    assert fragment in line
    assert [p for p in empty_data.rglob("*") if p.is_file()] == []  # nothing kept, no .part left


def test_fetch_removes_a_leftover_part_file(tmp_path):
    # the well-behaved server of the fetch tests (pytest puts tests/ on sys.path)
    from urllib.parse import urlparse

    from test_fetch import PAYLOAD, _entry, _Server

    from nasbench_tools.datasets.fetch import download

    server = _Server()
    try:
        server.routes[urlparse(_entry().url).path] = PAYLOAD
        target_dir = tmp_path / "bench"
        target_dir.mkdir()
        (target_dir / ".file.csv.part").write_bytes(b"half of an old download")
        (target_dir / ".file.csv.abc123.part").write_bytes(b"an older temporary name")
        out = download(_entry(), tmp_path, mirror=server.base)
    finally:
        server.close()
    assert out.read_bytes() == PAYLOAD
    assert sorted(p.name for p in target_dir.iterdir()) == ["file.csv"]
