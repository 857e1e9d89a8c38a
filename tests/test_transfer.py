"""Transfer predictors (issue 13): contract, leakage guard, suggest(), CLI, study plumbing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau
from sklearn.base import clone

from nasbench_tools.cli import main
from nasbench_tools.datasets import DataStore
from nasbench_tools.encodings import encode
from nasbench_tools.spaces import get_space
from predictors import make
from predictors.transfer import default_source_ids, device_of, load_sources, suggest
from predictors.transfer.sources import guard

TARGET = "hwnas/cifar10/eyeriss_latency"
CPU_TABLE = Path(__file__).resolve().parents[1] / "results" / "latency" / "nb201_cifar10_cpu.csv"


@pytest.fixture(scope="module")
def space():
    return get_space("nb201")


@pytest.fixture(scope="module")
def onehot(space) -> np.ndarray:
    return encode(space, space.enumerate(), "onehot")


@pytest.fixture(scope="module")
def sources(store: DataStore):
    return load_sources(store, default_source_ids(store, "hwnas"))


def test_device_of_groups_all_datasets_and_metrics() -> None:
    assert device_of("hwnas/cifar10/eyeriss_latency") == device_of("hwnas/ImageNet16-120/eyeriss_energy")
    assert device_of("hwnas/cifar10/eyeriss_latency") != device_of("hwnas/cifar10/fpga_latency")
    assert device_of("transnas-micro/jigsaw/inference_time") != device_of("transnas-micro/room_layout/inference_time")


def test_leakage_guard_drops_every_column_of_the_target_device(sources) -> None:
    kept = guard(sources.names, TARGET)
    eyeriss = [n for n in sources.names if "/eyeriss_" in n]
    assert len(eyeriss) == 9  # 3 metrics x 3 image datasets
    assert not set(eyeriss) & set(kept)
    assert len(kept) == len(sources.names) - 9
    # EdgeTPU latency has missing values: never a source column
    assert not any("edgetpu" in n for n in sources.names)


def test_guard_changes_the_model_and_leaks_without_it(store, sources, onehot) -> None:
    y = store.load(TARGET).values
    train = np.random.default_rng(0).choice(len(y), 8, replace=False)
    # without the op counts, which alone rank this additive device at 0.95 from 8 points, the sources decide
    common = dict(sources=sources.values, source_names=sources.names, target=TARGET, use_lut=False, op_counts=False)
    guarded = make("transfer_gp", **common).fit(onehot[train], y[train])
    leaky = make("transfer_gp", leakage_guard=False, **common).fit(onehot[train], y[train])
    assert guarded.S_.shape[1] == len(sources.names) - 9
    assert leaky.S_.shape[1] == len(sources.names)
    tau_g = kendalltau(y, guarded.predict(onehot))[0]
    tau_l = kendalltau(y, leaky.predict(onehot))[0]
    assert tau_l > tau_g  # the device's own other columns are a near-perfect (leaking) source


def test_contract_fit_predict_std_clone(store, sources, onehot) -> None:
    y = store.load(TARGET).values
    train = np.random.default_rng(1).choice(len(y), 30, replace=False)
    model = make("transfer_gp", sources=sources.values, source_names=sources.names, target=TARGET)
    twin = clone(model)
    assert twin.get_params()["target"] == TARGET and twin.get_params()["sources"] is not None
    model.fit(onehot[train], y[train])
    mean, std = model.predict(onehot, return_std=True)
    assert mean.shape == std.shape == (len(y),)
    assert np.all(std >= 0) and np.all(np.isfinite(mean))
    test = np.setdiff1d(np.arange(len(y)), train)
    assert kendalltau(y[test], mean[test])[0] > 0.8
    assert np.array_equal(twin.fit(onehot[train], y[train]).predict(onehot), mean)  # deterministic
    logm = make("transfer_gp", sources=sources.values, target_transform="log").fit(onehot[train], y[train])
    assert np.all(logm.predict(onehot) > 0)
    with pytest.raises(ValueError, match="sources"):
        make("transfer_gp").fit(onehot[train], y[train])
    with pytest.raises(ValueError, match="target_transform"):
        make("transfer_gp", sources=sources.values, target_transform="sqrt").fit(onehot[train], y[train])


def test_suggest_is_deterministic_valid_and_takes_the_lut_first(space, sources) -> None:
    a = suggest(20, sources.values, random_state=0)
    b = suggest(20, sources.values, random_state=0)
    assert np.array_equal(a, b) and len(np.unique(a)) == 20 and a.min() >= 0 and a.max() < space.size
    cand = np.arange(0, space.size, 7)
    c = suggest(10, sources.values, candidates=cand)
    assert np.isin(c, cand).all()
    lut = space.index(space.lut_architectures())
    d = suggest(50, sources.values)  # LUT_FIRST_FACTOR * 25
    assert set(d[:len(lut)].tolist()) == set(lut.tolist())
    assert not set(lut.tolist()) <= set(suggest(30, sources.values).tolist())  # too few to check it
    with pytest.raises(ValueError, match="k=0"):
        suggest(0, sources.values)


def test_suggested_beats_random_at_k10(store, sources, onehot) -> None:
    target = "hwnas/cifar100/raspi4_latency"
    y = store.load(target).values
    S = sources.values[:, [n in set(guard(sources.names, target)) for n in sources.names]]
    sug = suggest(10, S)
    taus = []
    for train in [sug] + [np.random.default_rng(s).choice(len(y), 10, replace=False) for s in range(3)]:
        m = make("transfer_gp", sources=S).fit(onehot[train], y[train])
        taus.append(kendalltau(y, m.predict(onehot))[0])
    assert taus[0] > np.mean(taus[1:])


def _write_measured(path: Path, rows: list[tuple[str, object]]) -> Path:
    pd.DataFrame(rows, columns=["arch", "latency_ms"]).to_csv(path, index=False)
    return path


def test_cli_predict_and_suggest(data_dir, tmp_path, capsys) -> None:
    cpu = pd.read_csv(CPU_TABLE)[["arch", "latency_ms"]].iloc[:15]
    measured = _write_measured(tmp_path / "m.csv", list(cpu.itertuples(index=False, name=None)))
    out = tmp_path / "pred"
    args = ["transfer", "predict", "--data-dir", str(data_dir), "--measured", str(measured), "--out", str(out)]
    assert main(args) == 0
    df = pd.read_csv(out / "predictions.csv")
    assert list(df.columns) == ["arch", "prediction", "std"] and len(df) == 15625
    assert df["arch"].is_unique and (df["std"] >= 0).all()
    first = (out / "predictions.csv").read_bytes()
    assert main(args) == 0 and (out / "predictions.csv").read_bytes() == first  # resumed: untouched
    assert main(args[:-2] + ["--target-transform", "log", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    sug = tmp_path / "sug"
    assert main(["transfer", "suggest", "--data-dir", str(data_dir), "-k", "12", "--out", str(sug)]) == 0
    s = pd.read_csv(sug / "suggested.csv")
    assert len(s) == 12 and s["arch"].is_unique
    live = tmp_path / "sug-live"
    assert main(["transfer", "suggest", "--data-dir", str(data_dir), "-k", "12", "--cell-edges", "live",
                 "--out", str(live)]) == 0
    assert pd.read_csv(live / "suggested.csv")["arch"].tolist() != s["arch"].tolist()
    out_live = tmp_path / "pred-live"
    assert main(args[:-2] + ["--cell-edges", "live", "--out", str(out_live)]) == 0
    df_live = pd.read_csv(out_live / "predictions.csv")
    assert len(df_live) == 15625 and not np.allclose(df_live["prediction"], df["prediction"])


@pytest.mark.parametrize("bad, needle", [
    ("unknown", "line 3: unknown architecture"),
    ("duplicate", "line 3: architecture"),
    ("malformed", "line 3: malformed architecture"),
    ("nonpositive", "line 3: latency_ms=-1.0"),
    ("few", "at least 3"),
])
def test_cli_predict_rejects_bad_rows(data_dir, tmp_path, capsys, space, bad, needle) -> None:
    archs = space.format(space.arch(np.arange(0, 50, 10)))
    rows: list[tuple[str, object]] = [(a, 1.0 + i) for i, a in enumerate(archs)]
    if bad == "unknown":
        rows[1] = ("|foo_conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", 2.0)
    elif bad == "duplicate":
        rows[1] = (rows[0][0], 2.0)
    elif bad == "malformed":
        rows[1] = ("not an architecture", 2.0)
    elif bad == "nonpositive":
        rows[1] = (rows[1][0], -1.0)
    else:
        rows = rows[:2]
    measured = _write_measured(tmp_path / "m.csv", rows)
    out = tmp_path / "o"
    code = main(["transfer", "predict", "--data-dir", str(data_dir), "--measured", str(measured), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
    assert not (out / "predictions.csv").exists()


def test_tiny_study_with_the_preset_structure(store, tmp_path) -> None:
    from nasbench_tools.study.runner import run_study
    from nasbench_tools.study.spec import TRANSFER_PREDICTORS, StudySpec, TuningSpec, preset

    full = preset("transfer-lodo")
    assert set(TRANSFER_PREDICTORS) <= set(full.predictors) and 10 in full.train_sizes
    spec = StudySpec("tiny-transfer", (TARGET,), ("transfer_gp", "transfer_gp_suggested", "lookup_table"),
                     (5, 50), 100, (0,), TuningSpec(predictors=()))
    run_study(spec, tmp_path, store=store, progress=False)
    df = pd.read_csv(tmp_path / "results.csv")
    assert (df["status"] == "ok").all() and len(df) == 5
    assert not df["params"].str.contains("sources").any()
    sug = df[(df.predictor == "transfer_gp_suggested") & (df.train_size == 50)]["kendall_tau"].item()
    assert sug > 0.9  # the suggested 50 include the lookup-table architectures of an additive device


def test_op_cost_prior_is_learned_from_the_guarded_sources_only(store, sources, onehot) -> None:
    from predictors.transfer.prior import op_cost_prior

    kept = [n in set(guard(sources.names, TARGET)) for n in sources.names]
    S = sources.values[:, kept]
    prior = op_cost_prior(S, onehot)
    assert prior.mu.shape == (onehot.shape[1],) and prior.chol.shape == (onehot.shape[1],) * 2
    assert np.allclose(np.tril(prior.chol), prior.chol) and np.all(np.diag(prior.chol) > 0)
    # the typical device ranks every source column well (it is their average additive fit)
    typical = prior.mean_feature(onehot)[:, 0]
    assert np.mean([kendalltau(typical, S[:, j])[0] for j in range(S.shape[1])]) > 0.5
    # the fitted model's prior depends on the target only through the guard
    y = store.load(TARGET).values
    train = np.random.default_rng(2).choice(len(y), 10, replace=False)
    model = make("transfer_gp", sources=sources.values, source_names=sources.names, target=TARGET,
                 use_lut=False).fit(onehot[train], y[train])
    assert np.allclose(model.prior_.mu, prior.mu)
    # with 20 random measurements the meta-learned op-cost prior helps an additive device (eyeriss)
    # in a model without the op counts (which then do the same job): measured 0.94 vs 0.77 mean tau
    # over 3 seeds (scripts/transfer_quick.py); 3 draws here
    gains = []
    for seed in range(3):
        train = np.random.default_rng(seed).choice(len(y), 20, replace=False)
        test = np.setdiff1d(np.arange(len(y)), train)
        taus = [kendalltau(y[test], make("transfer_gp", sources=sources.values, source_names=sources.names,
                                         target=TARGET, use_lut=False, meta_prior=mp, op_counts=False)
                           .fit(onehot[train], y[train]).predict(onehot[test]))[0] for mp in (True, False)]
        gains.append(taus[0] - taus[1])
    assert np.mean(gains) > 0.05


def test_simulate_real_and_plan_accept_a_transfer_predictor(store) -> None:
    from simulation.planner import fitted_tau
    from simulation.real import fit_predictions

    pred, train = fit_predictions(TARGET, "transfer_gp_suggested", 10, 0, store)
    space = get_space("nb201")
    values = store.load(TARGET).values
    model = make("transfer_gp_suggested")
    from predictors.transfer.study import prepare_transfer

    expected = prepare_transfer(model, store, TARGET, values, np.arange(space.size), 10, 0)
    assert np.array_equal(np.sort(train), np.sort(expected))  # the suggested design, not a random draw
    assert model.target == TARGET and not any("/eyeriss_" in n for n in guard(model.source_names, TARGET))
    rest = np.setdiff1d(np.arange(space.size), train)
    assert kendalltau(pred[rest], values[rest])[0] > 0.5
    assert fitted_tau(TARGET, "transfer_gp", 10, 0, store) > 0.3


def test_save_load_round_trip_and_damaged_file(store, sources, onehot, tmp_path, space) -> None:
    from predictors.persistence import PredictorFileError, load, read_meta, save

    y = store.load(TARGET).values
    lut = space.index(space.lut_architectures())
    train = np.union1d(lut, np.random.default_rng(3).choice(len(y), 20, replace=False))  # lookup table on
    model = make("transfer_gp", sources=sources.values, source_names=sources.names, target=TARGET)
    model.fit(onehot[train], y[train])
    path = save(model, tmp_path / "t.npz")
    assert "sources" not in read_meta(path)["params"]  # the table is a state array, not JSON
    back = load(path, expected="transfer_gp")
    m0, s0 = model.predict(onehot, return_std=True)
    m1, s1 = back.predict(onehot, return_std=True)
    assert np.array_equal(m0, m1) and np.array_equal(s0, s1) and back.lut_only_ == model.lut_only_
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["state/gp_alpha"] = arrays["state/gp_alpha"][:-1]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(PredictorFileError, match="gp_alpha"):
        load(tmp_path / "bad.npz")


def test_live_edges_and_pruned_forms_by_hand(space) -> None:
    from nasbench_tools.networks.nb201 import live_edges as network_live_edges
    from nasbench_tools.spaces.cells import live_edges, pruned

    conv = 3
    assert live_edges([conv, 0, 0, 0, 0, 0]) == []  # node 1 never reaches the output
    assert live_edges([0, 0, 0, conv, 0, 0]) == [3]  # the direct input -> output edge
    assert live_edges([conv, 0, 0, 0, conv, 0]) == [0, 4]  # 0 -> 1 -> 3
    assert live_edges([0, 0, conv, 0, 0, conv]) == []  # node 1 is never reached from the input
    assert network_live_edges is live_edges  # the networks execute exactly these edges
    rows = space.enumerate()
    once = pruned(rows)
    assert np.array_equal(pruned(once), once)  # idempotent
    assert np.array_equal(once[(once != rows).any(axis=1)][:, 3], rows[(once != rows).any(axis=1)][:, 3])
    idx = space.pruned_index()
    assert np.array_equal(space.arch(idx), once) and 0.3 < np.mean(idx != np.arange(space.size)) < 0.5
    assert np.array_equal(get_space("nb201-nozero").pruned_index(), np.arange(get_space("nb201-nozero").size))


def test_live_cell_edges_model_on_the_measured_cpu_table(sources, onehot, space) -> None:
    """The CPU table was measured on networks that skip dead edges: the live model ranks it
    better than the all-edges model from the same 20 suggested measurements."""
    cpu = pd.read_csv(CPU_TABLE)
    idx = space.index(space.parse(cpu["arch"].tolist()))
    y = np.full(space.size, np.nan)
    y[idx] = cpu["latency_ms"].to_numpy()
    lut = space.index(space.lut_architectures())
    test = np.setdiff1d(idx, lut)[:600]
    pool = np.setdiff1d(idx, test)
    taus = {}
    for name in ("transfer_gp_suggested", "transfer_gp_live"):
        model = make(name).set_params(sources=sources.values, source_names=sources.names, target="custom/cpu/ms")
        train = model.suggest_training(y, pool, 20, 0)
        assert np.isin(train, pool).all() and len(set(train.tolist())) == 20
        taus[name] = kendalltau(model.fit(onehot[train], y[train]).predict(onehot[test]), y[test])[0]
    assert taus["transfer_gp_live"] > 0.7 and taus["transfer_gp_live"] > taus["transfer_gp_suggested"] + 0.1, taus


def test_live_model_saves_loads_and_refuses_a_space_without_dead_edges(store, sources, onehot, tmp_path) -> None:
    from nasbench_tools.errors import ParameterError
    from predictors.persistence import load, save

    y = store.load(TARGET).values
    train = np.random.default_rng(5).choice(len(y), 30, replace=False)
    model = make("transfer_gp_live", sources=sources.values, source_names=sources.names, target=TARGET)
    model.fit(onehot[train], y[train])
    back = load(save(model, tmp_path / "live.npz"), expected="transfer_gp_live")
    assert np.array_equal(back.predict(onehot), model.predict(onehot))
    assert len(back.train_groups_) == len(make("transfer_gp", sources=sources.values).fit(
        onehot[train], y[train]).train_groups_) + 1  # the pruned-form source group
    macro = get_space("nbmacro")  # no cell, nothing dead
    X = encode(macro, macro.enumerate()[:10], "onehot")
    table = 1.0 + np.arange(macro.size, dtype=float)[:, None] * np.ones((1, 2))
    with pytest.raises(ParameterError, match="cell_edges='live'"):
        make("transfer_gp_live", sources=table, space="nbmacro").fit(X, np.arange(10.0))
    with pytest.raises(ParameterError, match="cell_edges='live'"):
        suggest(5, table, "nbmacro", cell_edges="live")


def test_op_counts_by_hand_and_of_the_pruned_forms(space) -> None:
    from predictors.transfer.design import count_features

    none, skip, conv1, conv3, pool = range(5)
    rows = np.array([[conv3, conv3, skip, none, pool, conv1], [none] * 6])
    assert space.op_counts(rows).tolist() == [[1, 1, 1, 2, 1], [6, 0, 0, 0, 0]]
    counts = space.op_counts(space.enumerate())
    assert (counts.sum(axis=1) == space.n_slots).all()
    live = count_features(space, space.pruned_index()) * space.n_slots
    dead_conv = space.index([[conv3, none, none, none, none, none]])[0]  # node 1 never reaches the output
    assert live[dead_conv].tolist() == [6, 0, 0, 0, 0]  # run as the empty cell
    assert np.allclose(count_features(space) * space.n_slots, counts)


def test_op_count_group_ranks_an_additive_device_from_ten_measurements(store, sources, onehot, space) -> None:
    """Eyeriss latency costs the same per op on every edge: with the op counts (5 weights instead
    of 30) ten suggested measurements rank it nearly as well as the lookup table's 25 (0.955 here;
    the same ten without the group: 0.887; the design without the counts too, 3 image datasets
    and 3 seeds: 0.74)."""
    y = store.load(TARGET).values
    taus = {}
    for counts in (True, False):
        model = make("transfer_gp_suggested", sources=sources.values, source_names=sources.names, target=TARGET,
                     op_counts=counts)
        train = model.suggest_training(y, np.arange(space.size), 10, 0)
        rest = np.setdiff1d(np.arange(space.size), train)
        taus[counts] = kendalltau(model.fit(onehot[train], y[train]).predict(onehot[rest]), y[rest])[0]
    assert taus[True] > 0.93 and taus[True] > taus[False] + 0.03, taus


def test_lookup_table_alone_predicts_exactly_the_stand_alone_lookup_table(store, sources, onehot, space) -> None:
    """On an additive device the model hands over to the lookup table, and then its predictions are
    the stand-alone lookup table's bit for bit (its sums of equal op costs tie only to the last
    bit, so a lookup table fitted on other rows or standardised targets ranks differently)."""
    from predictors.lookup_table import LookupTable

    y = store.load(TARGET).values
    lut = space.index(space.lut_architectures())
    other = np.setdiff1d(np.random.default_rng(1).choice(space.size, 40, replace=False), lut)[:25]
    train = np.concatenate([other[:10], lut[::-1], other[10:]])  # any order, any mix
    model = make("transfer_gp", sources=sources.values, source_names=sources.names, target=TARGET)
    mean, std = model.fit(onehot[train], y[train]).predict(onehot, return_std=True)
    alone = LookupTable(space="nb201").fit(onehot[lut], y[lut]).predict(onehot)
    assert model.lut_only_ and np.array_equal(mean, alone)
    assert np.all(std == model.lut_rmse_) and 0 < model.lut_rmse_ < np.std(y)
    gp = make("transfer_gp", sources=sources.values, source_names=sources.names, target=TARGET, use_lut=False)
    assert not np.array_equal(gp.fit(onehot[train], y[train]).predict(onehot), alone)


def test_a_state_of_other_groups_is_refused(store, sources, onehot) -> None:
    from predictors.persistence import PredictorFileError

    y = store.load(TARGET).values
    train = np.random.default_rng(4).choice(len(y), 12, replace=False)
    model = make("transfer_gp", sources=sources.values, source_names=sources.names, target=TARGET)
    state = model.fit(onehot[train], y[train])._get_state()
    with pytest.raises(PredictorFileError, match="widths"):
        clone(model).set_params(op_counts=False)._set_state(state)
