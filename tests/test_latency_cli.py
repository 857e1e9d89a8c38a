"""``nasbench-study latency measure`` end to end on CPU: a custom table that the data layer, the
predictors, the study runner and the simulator use as it is; resume; clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from nasbench_tools.cli import main
from nasbench_tools.datasets import DataStore
from nasbench_tools.latency import table as table_mod
from nasbench_tools.latency.studies import read_isolated
from nasbench_tools.spaces import get_space

#: Tiny, fast protocol for tests (the timing values themselves are not asserted).
FAST = ["--input-size", "8", "--warmup", "1", "--repeats", "3", "--threads", "1", "--no-progress"]
N_EXTRA = 15


@pytest.fixture(autouse=True)
def keep_torch_threads():
    """The CLI sets torch's thread count for its process; give other tests theirs back."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def arch_file(tmp_path_factory):
    """The 25 lookup-table architectures of NB201 plus 15 random ones."""
    space = get_space("nb201")
    lut = space.index(space.lut_architectures())
    rng = np.random.default_rng(0)
    extra = rng.choice(np.setdiff1d(np.arange(space.size), lut), N_EXTRA, replace=False)
    path = tmp_path_factory.mktemp("archs") / "archs.txt"
    path.write_text("\n".join(space.format(space.arch(np.concatenate([lut, extra])))) + "\n")
    return path


@pytest.fixture(scope="module")
def measured(arch_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("table")
    before = torch.get_num_threads()
    try:
        assert main(["latency", "measure", "--space", "nb201", "--archs", str(arch_file), "--out", str(folder),
                     "--name", "mycpu", *FAST]) == 0
    finally:
        torch.set_num_threads(before)  # module-scoped: the autouse fixture does not cover it
    return folder / "mycpu.csv"


def test_table_has_the_custom_format_and_the_environment(measured, data_dir):
    df = pd.read_csv(measured)
    assert len(df) == 25 + N_EXTRA and df["arch"].is_unique
    assert (df["space"] == "nb201").all() and (df["repeats"] == 3).all() and (df["warmup"] == 1).all()
    assert (df["latency_ms"] > 0).all() and (df["latency_iqr_ms"] >= 0).all()
    assert (df["threads"] == 1).all() and (df["input_shape"] == "1x3x8x8").all()
    assert (df["torch_version"] == torch.__version__).all() and (df["device"] == "cpu").all()
    store = DataStore(data_dir, custom={"mycpu": measured})
    ds = store.load("custom/mycpu/latency_ms")
    assert ds.space.name == "nb201" and len(ds.available) == 25 + N_EXTRA
    idx = ds.space.index(ds.space.parse(df["arch"].tolist()))
    np.testing.assert_allclose(ds.values[idx], df["latency_ms"].to_numpy())


def test_table_feeds_predictors_study_runner_and_simulator(measured, data_dir, tmp_path):
    from predictors.convenience import fit_architectures
    from nasbench_tools.study.lut import evaluate_lut
    from simulation import make_problem, simulate_cell

    from nasbench_tools.study.runner import load_results, run_study
    from nasbench_tools.study.spec import StudySpec, TuningSpec

    store = DataStore(data_dir, custom={"mycpu": measured})
    ds = store.load("custom/mycpu/latency_ms")
    n, tau = evaluate_lut(ds)
    assert n == 25 and -1 <= tau <= 1
    have = ds.available
    model = fit_architectures("ridge", ds.space, ds.space.arch(have), ds.values[have])
    assert np.isfinite(model.predict(ds.space.arch(have))).all()

    spec = StudySpec(name="latency-e2e", datasets=("custom/mycpu/latency_ms",), predictors=("ridge", "lookup_table"),
                     train_sizes=(10,), test_size=10, seeds=(0,), tuning=TuningSpec(predictors=()))
    run_study(spec, tmp_path / "study", store=store, progress=False)
    res = load_results(tmp_path / "study" / "results.csv")
    assert set(res["predictor"]) == {"ridge", "lookup_table"} and (res["status"] == "ok").all()
    assert res["kendall_tau"].notna().all()

    acc = store.load("nb201/cifar10/test_accuracy")
    problem = make_problem(acc.values[have], ds.values[have], hardware_id=ds.id, accuracy_id=acc.id)
    scores = simulate_cell(problem, 20, 0.5, 5, np.random.default_rng(0))
    assert np.isfinite(scores["hypervolume"]).all() and (scores["n_selected"] >= 1).all()


def test_table_measured_into_a_custom_folder_loads_by_name(tmp_path):
    """``--out <data dir>/custom --name lab`` needs no ``custom=`` mapping to load."""
    assert main(["latency", "measure", "--space", "nb201", "--archs", "random:3", "--out", str(tmp_path / "custom"),
                 "--name", "lab", *FAST]) == 0
    ds = DataStore(tmp_path).load("custom/lab/latency_ms")
    assert ds.space.name == "nb201" and len(ds.available) == 3


def test_resume_skips_finished_rows_and_keeps_them_after_an_interruption(arch_file, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "tables"
    out = folder / "t.csv"
    cmd = ["latency", "measure", "--space", "nb201", "--archs", str(arch_file), "--out", str(folder), "--name", "t"]
    real = table_mod.measure_architecture
    calls = {"n": 0}

    def flaky(spec, ops, device):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        return real(spec, ops, device)

    monkeypatch.setattr(table_mod, "measure_architecture", flaky)
    assert main([*cmd, *FAST]) == 130
    kept = pd.read_csv(out)
    assert len(kept) == 5
    with open(out, "a") as fh:  # a torn append left by a crash mid-write
        fh.write("|nor_conv_3x3~0|+|none~0|none~1|+|no")
    monkeypatch.setattr(table_mod, "measure_architecture", real)
    capsys.readouterr()
    assert main([*cmd, *FAST]) == 0
    assert "measured 35, already there 5" in capsys.readouterr().out
    final = pd.read_csv(out)
    assert len(final) == 40 and final["arch"].is_unique
    pd.testing.assert_frame_equal(final.set_index("arch").loc[kept["arch"]].reset_index(), kept)
    # a different protocol is refused instead of mixing two set-ups in one table
    finished = out.read_bytes()
    rc = main([*cmd, *[a if a != "3" else "4" for a in FAST]])
    err = capsys.readouterr().err
    assert rc == 2 and "repeats" in err and err.count("\n") == 1
    rc = main([*cmd, *FAST, "--no-resume"])
    err = capsys.readouterr().err
    assert rc == 2 and "already" in err and "--overwrite" in err
    assert out.read_bytes() == finished
    assert main([*cmd, *FAST]) == 0  # a finished table resumed: nothing measured, file unchanged
    assert "measured 0, already there 40" in capsys.readouterr().out and out.read_bytes() == finished
    archs5 = tmp_path / "five.txt"
    archs5.write_text("\n".join(arch_file.read_text().splitlines()[:5]) + "\n")
    assert main(["latency", "measure", "--space", "nb201", "--archs", str(archs5), "--out", str(folder), "--name", "t",
                 *FAST, "--overwrite"]) == 0
    assert len(pd.read_csv(out)) == 5


def test_isolated_op_costs_through_the_cli(tmp_path):
    from predictors import make

    from nasbench_tools.encodings import encode

    out = tmp_path / "isolated_ops.csv"
    assert main(["latency", "isolated", "--space", "nb201", "--out", str(tmp_path), *FAST[:-1]]) == 0
    df = pd.read_csv(out, float_precision="round_trip")  # the default parser may miss the last digit
    space = get_space("nb201")
    assert len(df) == space.n_slots * space.n_ops + 1 and (df["cost_ms"] >= 0).all()
    assert (df.loc[df["op"] == "none", "cost_ms"] == 0).all()
    table = df[df.slot >= 0].pivot(index="slot", columns="op", values="cost_ms")[list(space.op_names)].to_numpy()
    base = float(df.loc[df.slot == -1, "cost_ms"].iloc[0])
    rows = space.arch(np.arange(3))
    lut = make("lookup_table", space="nb201", op_costs=table, base_cost=base).fit(
        encode(space, rows, "onehot"), np.arange(3.0))
    np.testing.assert_allclose(lut.predict(encode(space, rows, "onehot")),
                               base + table[np.arange(6), rows.astype(int)].sum(axis=1))
    iso = read_isolated(out, "nb201")  # what the latency studies read: the costs and the meta beside them
    np.testing.assert_array_equal(np.nan_to_num(iso.op_costs), table)  # exact floats, both read round-trip
    assert iso.base_cost == base
    assert iso.parts > 0 and iso.wall_s > 0 and (tmp_path / "isolated_ops.json").is_file()


@pytest.mark.parametrize("space,archs", [("transnas-micro", "random:2"), ("transnas-macro", "random:2"),
                                         ("nbmacro", "random:2")])
def test_other_spaces_measure_and_load(space, archs, tmp_path, data_dir):
    out = tmp_path / "x.csv"
    assert main(["latency", "measure", "--space", space, "--archs", archs, "--out", str(tmp_path), "--name", "x",
                 *FAST]) == 0
    ds = DataStore(data_dir, custom={"x": out}).load("custom/x/latency_ms")
    assert ds.space.name == space and len(ds.available) == 2


def test_clear_errors(tmp_path, capsys, arch_file):
    base = ["latency", "measure", "--out", str(tmp_path / "e"), *FAST]
    assert main([*base, "--space", "nb301"]) == 2
    assert "invalid choice: 'nb301'" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main([*base, "--space", "nb201", "--device", "cuda"]) == 2
        assert "available here: cpu" in capsys.readouterr().err
    bad = tmp_path / "bad.txt"
    bad.write_text("|nor_conv_3x3~0|+|none~0|none~1|\n")
    assert main([*base, "--space", "nb201", "--archs", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.txt line 1" in err and "nb201" in err
    assert main(["latency", "measure", "--out", str(tmp_path / "e"), "--space", "nb201", "--input-size", "30"]) == 2
    assert "divisible by 4" in capsys.readouterr().err
    assert main([*base, "--space", "nb201", "--archs", "random:5", "--dataset", "imagenet"]) == 2
    assert "unknown dataset" in capsys.readouterr().err
    assert not (tmp_path / "e" / "latency.csv").exists()
    (tmp_path / "file.csv").write_text("arch\n")
    assert main(["latency", "measure", "--out", str(tmp_path / "file.csv"), "--space", "nb201", *FAST]) == 2
    assert "is a file; --out is always a folder" in capsys.readouterr().err
