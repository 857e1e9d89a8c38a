"""Loaders on the real benchmark files, the official formats on small files, and bad input."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from nasbench_tools.datasets import DataStore, HWNAS_DATASETS, HWNAS_METRICS, sha256_file
from nasbench_tools.datasets import loaders as L
from nasbench_tools.errors import (
    ChecksumError, DataFileNotFoundError, DataFormatError, UnknownNameError,
)
from nasbench_tools.spaces import get_space

README_CELL = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
BEST_CIFAR10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def isolated_store(data_dir: Path, tmp_path: Path, **kwargs) -> DataStore:
    """A store that searches only ``data_dir`` (and an empty cache), not $NASBENCH_DATA."""
    return DataStore(data_dir, env={"NASBENCH_CACHE": str(tmp_path / "cache")}, **kwargs)


# ----------------------------------------------------------------------------- real data
def test_dataset_ids_and_missing_counts(store: DataStore) -> None:
    hw = [i for i in store.dataset_ids("hwnas")]
    assert len(hw) == 30
    for ds in HWNAS_DATASETS:
        for m in HWNAS_METRICS:
            d = store.load(f"hwnas/{ds}/{m}")
            assert len(d.values) == 15625
            assert d.n_missing == (4699 if m == "edgetpu_latency" else 0)
    assert len(store.table("nb201").dataset_ids) == 3
    assert len(store.table("transnas-micro").dataset_ids) == 7
    assert len(store.table("nbmacro").dataset_ids) == 3


def test_issue_reference_values(store: DataStore) -> None:
    lat = store.load("hwnas/cifar10/edgegpu_latency")
    assert lat.value_of(README_CELL) == pytest.approx(5.8074, abs=5e-5)
    acc = store.load("nb201/cifar10/test_accuracy")
    assert np.nanmax(acc.values) == pytest.approx(94.37, abs=5e-3)
    # the best cell reaches the maximum (another cell ties with it to the last digit)
    assert acc.value_of(BEST_CIFAR10) == np.nanmax(acc.values)
    assert store.table("nb201").extra["nb201_index"][acc.space.index(acc.space.parse(BEST_CIFAR10))[0]] == 6111


def test_hwnas_and_nb201_rows_join_by_architecture(store: DataStore, data_dir: Path) -> None:
    """Both shared files are in NB201 index order: row i of the HW-NAS CSV (NASLib tuple) and row i
    of nats_bench.csv (NB201 string) are the same cell, so their canonical rows must agree."""
    space = get_space("nb201")
    hw = pd.read_csv(data_dir / "hw-nas-bench" / "hw_cifar10.csv", dtype={"net": str}, float_precision="round_trip")
    nats = pd.read_csv(data_dir / "nas-bench-201" / "nats_bench.csv", float_precision="round_trip")
    a = space.parse(hw["net"].tolist(), style="naslib")
    b = space.parse(nats["ArchitectureString"].tolist(), style="nb201")
    assert np.array_equal(a, b)
    # and the loaded tables place each file's row i at that same canonical index
    idx = space.index(a)
    lat = store.load("hwnas/cifar10/edgegpu_latency").values
    acc = store.load("nb201/cifar10/test_accuracy").values
    assert np.array_equal(lat[idx], hw["edgegpu_latency"].to_numpy())
    assert np.array_equal(acc[idx], nats["CIFAR10TestAccuracy200Epochs"].to_numpy())


def test_nbmacro_and_transnas_micro_values(store: DataStore, data_dir: Path) -> None:
    raw = json.loads((data_dir / "nas-bench-macro" / "nas-bench-macro_cifar10.json").read_text())
    for key in list(raw)[:50]:
        for field, col in (("mean_acc", "test_accuracy"), ("params", "params"), ("flops", "flops")):
            assert store.load(f"nbmacro/cifar10/{col}").value_of(key) == raw[key][field]
    micro = pd.read_csv(data_dir / "transnas-bench-101" / "micro_inference_time_ms.csv", float_precision="round_trip")
    d = store.load("transnas-micro/jigsaw/inference_time")
    for _, row in micro.sample(50, random_state=0).iterrows():
        assert d.value_of(row["arch"]) == row["jigsaw"]


def test_unknown_dataset_ids(store: DataStore) -> None:
    with pytest.raises(UnknownNameError, match="did you mean hwnas/cifar10/edgegpu_latency"):
        store.load("hwnas/cifar10/edgegpu_latncy")
    with pytest.raises(UnknownNameError, match="benchmark/dataset/metric"):
        store.load("hwnas/cifar10")


def test_benchmarks_name_their_files_and_refuse_unknown_names(store: DataStore) -> None:
    assert store.benchmarks == ("hwnas", "nb201", "transnas-micro", "transnas-macro", "nbmacro")
    assert store.files_of("nb201") == ["nas-bench-201/nats_bench.csv"] and len(store.files_of("hwnas")) == 3
    assert store.table("nbmacro").space is get_space("nbmacro")
    for call in (store.table, store.files_of):
        with pytest.raises(UnknownNameError, match="unknown benchmark 'nb101'; known: hwnas, nb201, .*custom/<name>"):
            call("nb101")


def test_transnas_macro_without_official_file_says_so(data_dir: Path, tmp_path: Path) -> None:
    s = isolated_store(data_dir, tmp_path)
    with pytest.raises(DataFileNotFoundError, match="not available offline"):
        s.load("transnas-macro/jigsaw/inference_time")


# ----------------------------------------------------------------------------- files
def copy_benchmarks(data_dir: Path, dest: Path, *relpaths: str) -> None:
    for rel in relpaths:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data_dir / rel, dest / rel)


def test_missing_file_names_every_place_searched(tmp_path: Path) -> None:
    s = DataStore(tmp_path / "explicit", env={"NASBENCH_DATA": str(tmp_path / "env"), "NASBENCH_CACHE": str(tmp_path / "c")})
    with pytest.raises(DataFileNotFoundError) as exc:
        s.load("nb201/cifar10/test_accuracy")
    msg = str(exc.value)
    for place in ("explicit", "env", "c"):
        assert str(tmp_path / place / "nas-bench-201" / "nats_bench.csv") in msg


def test_wrong_checksum_is_never_parsed(data_dir: Path, tmp_path: Path, monkeypatch) -> None:
    rel = "nas-bench-201/nats_bench.csv"
    copy_benchmarks(data_dir, tmp_path, rel)
    with open(tmp_path / rel, "a") as fh:
        fh.write("\n")
    calls = []
    monkeypatch.setattr(L, "load_nb201", lambda p: calls.append(p))
    with pytest.raises(ChecksumError, match="does not match"):
        isolated_store(tmp_path, tmp_path).load("nb201/cifar10/test_accuracy")
    assert calls == []


@pytest.fixture()
def hw_csv(data_dir: Path) -> pd.DataFrame:
    return pd.read_csv(data_dir / "hw-nas-bench" / "hw_cifar10.csv", dtype={"net": str}, float_precision="round_trip")


def _write_hw(tmp_path: Path, df: pd.DataFrame, data_dir: Path) -> dict:
    paths = {ds: data_dir / f"hw-nas-bench/hw_{ds}.csv" for ds in HWNAS_DATASETS}
    paths["cifar10"] = tmp_path / "hw_cifar10.csv"
    df.to_csv(paths["cifar10"], index=False)
    return paths


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (lambda df: df.iloc[:1000], "expected 15625 rows"),
        (lambda df: df.drop(columns=["pixel3_latency"]), "missing column(s) pixel3_latency"),
        (lambda df: df.assign(net=df["net"].where(df.index != 5, "(4, 3, 3, 0, 0, 9)")), "out of range"),
        (lambda df: df.assign(net=df["net"].where(df.index != 5, "(4, 3, 3)")), "expected 6 op codes"),
        (lambda df: df.assign(net=df["net"].where(df.index != 5, df["net"][0])), "appears 2 times"),
        (lambda df: df.assign(fpga_energy=df["fpga_energy"].astype(object).where(df.index != 7, "abc")),
         "column 'fpga_energy' row 9 holds 'abc'"),
    ],
)
def test_malformed_hwnas_csv(hw_csv, tmp_path: Path, data_dir: Path, mutate, fragment: str) -> None:
    paths = _write_hw(tmp_path, mutate(hw_csv), data_dir)
    with pytest.raises(DataFormatError) as exc:
        L.load_hwnas_csv(paths)
    assert fragment in str(exc.value)
    assert "hw_cifar10.csv" in str(exc.value)


def test_truncated_json_and_garbage_csv(tmp_path: Path, data_dir: Path) -> None:
    text = (data_dir / "nas-bench-macro" / "nas-bench-macro_cifar10.json").read_text()
    (tmp_path / "m.json").write_text(text[: len(text) // 2])
    with pytest.raises(DataFormatError, match="m.json: malformed JSON"):
        L.load_nbmacro(tmp_path / "m.json")
    (tmp_path / "x.csv").write_bytes(b"\x00\xff\xfe garbage")
    with pytest.raises(DataFormatError, match="x.csv"):
        L.load_transnas_micro(tmp_path / "x.csv")


# ----------------------------------------------------------------------------- official formats
def test_hwnas_official_pickle_equals_csv_export(store: DataStore, tmp_path: Path, data_dir: Path) -> None:
    """A pickle in the official structure (written here from the CSVs, in a shuffled order)
    loads to exactly the table of the CSV export."""
    space = get_space("nb201")
    rng = np.random.default_rng(0)
    order = rng.permutation(space.size)
    table = store.table("hwnas").values
    strings = space.format(space.enumerate()[order])
    raw = {"nasbench201": {}, "fbnet": {}}
    for ds in HWNAS_DATASETS:
        part = {m: [float(-1.0 if np.isnan(v) else v) for v in table[f"{ds}/{m}"].to_numpy()[order]] for m in HWNAS_METRICS}
        part["config"] = [{"arch_str": s, "name": "infer.tiny"} for s in strings]
        raw["nasbench201"][ds] = part
    rel = "hw-nas-bench/HW-NAS-Bench-v1_0.pickle"
    (tmp_path / rel).parent.mkdir(parents=True)
    with open(tmp_path / rel, "wb") as fh:
        pickle.dump(raw, fh)
    # without a trusted checksum the file is not loaded
    with pytest.raises(ChecksumError, match="no known sha256"):
        isolated_store(tmp_path, tmp_path, hwnas_source="pickle").table("hwnas")
    s = isolated_store(tmp_path, tmp_path, hwnas_source="pickle", checksums={rel: sha256_file(tmp_path / rel)})
    loaded = s.table("hwnas").values
    pd.testing.assert_frame_equal(loaded, table)


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_pickle_with_code_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "evil.pickle"
    p.write_bytes(pickle.dumps({"nasbench201": _Evil()}))
    with pytest.raises(DataFormatError, match="refusing to load builtins.print"):
        L.load_hwnas_pickle(p)


def test_transnas_official_pth_structure(tmp_path: Path) -> None:
    space = get_space("transnas-macro")
    names = space.format(space.enumerate()[[0, 5, 100]])
    data = {}
    for k, name in enumerate(names):
        data[name] = {
            "class_scene": {"model_info": {"inference_time": 10.0 + k, "encoder_params": 1},
                            "metrics": {"test_loss": [3.0, 2.0, 1.0 + k]}, "total_epochs": 3},
            "normal": {"model_info": {"inference_time": 20.0 + k},
                       "metrics": {"test_l1_loss": [0.5, 0.4 + k]}, "total_epochs": 2},
        }
    raw = {"metrics_dict": {"class_scene": ["test_loss"], "normal": ["test_l1_loss"]},
           "info_names": ["inference_time", "encoder_params"], "task_list": ["class_scene", "normal"],
           "data": {"macro": data, "micro": {}}}
    rel = "transnas-bench-101/transnas-bench_v10141024.pth"
    (tmp_path / rel).parent.mkdir(parents=True)
    torch.save(raw, tmp_path / rel)
    s = isolated_store(tmp_path, tmp_path, checksums={rel: sha256_file(tmp_path / rel)})
    inf = s.load("transnas-macro/class_scene/inference_time")
    loss = s.load("transnas-macro/normal/test_loss")
    assert len(inf.values) == 3256 and inf.n_missing == 3253
    for k, name in enumerate(names):
        assert inf.value_of(name) == 10.0 + k
        assert s.load("transnas-macro/class_scene/test_loss").value_of(name) == 1.0 + k
        assert loss.value_of(name) == pytest.approx(0.4 + k)
    # a malformed structure names what is missing
    torch.save({"data": {}, "task_list": []}, tmp_path / "bad.pth")
    with pytest.raises(DataFormatError, match="missing search space 'macro'"):
        L.load_transnas_official(tmp_path / "bad.pth")


# ----------------------------------------------------------------------------- custom tables
def test_custom_table(tmp_path: Path) -> None:
    space = get_space("nb201")
    rows = space.enumerate()[[3, 10, 99]]
    df = pd.DataFrame({"arch": space.format(rows), "latency_ms": [1.5, 2.5, 3.5],
                       "latency_iqr_ms": [0.1, 0.2, 0.3], "device": ["cpu"] * 3})
    (tmp_path / "custom").mkdir()
    df.to_csv(tmp_path / "custom" / "mycpu.csv", index=False)
    s = isolated_store(tmp_path, tmp_path)
    d = s.load("custom/mycpu/latency_ms")
    assert d.space.name == "nb201" and d.n_missing == 15625 - 3
    assert d.values[[3, 10, 99]].tolist() == [1.5, 2.5, 3.5]
    assert d.unit == "ms"
    with pytest.raises(UnknownNameError, match="no metric column 'device'.*latency_ms, latency_iqr_ms"):
        s.load("custom/mycpu/device")
    # explicit path, space column, other formats
    macro = get_space("nbmacro")
    pd.DataFrame({"arch": ["01201201", "22222222"], "space": "nbmacro", "energy": [1.0, 2.0]}).to_csv(
        tmp_path / "m.csv", index=False)
    s2 = DataStore(tmp_path, custom={"m": tmp_path / "m.csv"}, env={})
    assert s2.load("custom/m/energy").value_of("22222222") == 2.0
    assert s2.load("custom/m/energy").space is macro


@pytest.mark.parametrize(
    "frame, fragment",
    [
        ({"arch": ["(0, 0, 0, 0, 0, 0)"], "lat": [1.0]}, "cannot tell the search space"),
        ({"arch": [README_CELL, README_CELL], "lat": [1.0, 2.0]}, "appears 2 times"),
        ({"arch": [README_CELL], "note": ["x"]}, "no numeric metric column"),
        ({"name": [README_CELL], "lat": [1.0]}, "missing column(s) arch"),
        ({"arch": [README_CELL, "|bad~0|"], "lat": [1.0, 2.0]}, "'|bad~0|' is not a valid"),
    ],
)
def test_custom_table_errors(tmp_path: Path, frame, fragment: str) -> None:
    pd.DataFrame(frame).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataFormatError) as exc:
        L.load_custom(tmp_path / "t.csv", "t")
    assert fragment in str(exc.value) and "t.csv" in str(exc.value)
