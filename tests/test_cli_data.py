"""`nasbench-study data verify|list` on the real files and on a broken data directory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from nasbench_tools.cli import main
from nasbench_tools.datasets import load_manifest


def test_verify_and_list_on_shared_data(data_dir: Path, capsys) -> None:
    assert main(["data", "verify", "--data-dir", str(data_dir)]) == 0
    assert "problem" not in capsys.readouterr().out
    assert main(["data", "list", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    ids = re.findall(r"^(\S+/\S+/\S+)\s+(\d+)\s+(\d+)", out, flags=re.M)
    by_bench: dict[str, int] = {}
    for ds_id, n, missing in ids:
        by_bench[ds_id.split("/")[0]] = by_bench.get(ds_id.split("/")[0], 0) + 1
        if ds_id.endswith("edgetpu_latency"):
            assert (n, missing) == ("15625", "4699")
    assert by_bench == {"hwnas": 30, "nb201": 3, "transnas-micro": 7, "nbmacro": 3}
    assert "unavailable: transnas-macro" in out


def test_verify_fails_on_a_corrupt_file(data_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("NASBENCH_DATA", raising=False)
    monkeypatch.setenv("NASBENCH_CACHE", str(tmp_path / "cache"))
    for e in load_manifest().values():
        if e.required:
            (tmp_path / e.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(data_dir / e.path, tmp_path / e.path)
    assert main(["data", "verify", "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    p = tmp_path / "nas-bench-macro" / "nas-bench-macro_cifar10.json"
    p.write_bytes(p.read_bytes()[:-100])
    (tmp_path / "hw-nas-bench" / "hw_cifar100.csv").unlink()
    assert main(["data", "verify", "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "problem: nas-bench-macro/nas-bench-macro_cifar10.json: checksum-mismatch" in out
    assert "problem: hw-nas-bench/hw_cifar100.csv: missing" in out


def test_console_script_is_installed(data_dir: Path, tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "nasbench-study"
    env = dict(os.environ, NASBENCH_DATA=str(data_dir))
    res = subprocess.run([str(exe), "data", "list"], capture_output=True, text=True, env=env, check=False)
    assert res.returncode == 0, res.stderr
    assert "43 datasets available" in res.stdout
    bad = subprocess.run([str(exe), "data", "list", "--data-dir", "/nonexistent"], capture_output=True,
                         text=True, check=False,
                         env={**{k: v for k, v in env.items() if k != "NASBENCH_DATA"}, "NASBENCH_CACHE": str(tmp_path)})
    assert "unavailable: hwnas" in bad.stdout
