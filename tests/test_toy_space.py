"""A search space defined only in this file runs end to end through the public APIs: a custom
table on disk, encodings, predictors, the predictor study and the selection simulator; what it
does not declare (networks, latency) fails with one line naming it. Nothing outside this file
knows the space: ``use_spaces`` makes it known for one ``with`` block."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import predictors
from nasbench_tools.datasets import DataStore
from nasbench_tools.encodings import encode
from nasbench_tools.errors import UnknownNameError
from nasbench_tools.spaces import ArchFormat, SearchSpace, available_spaces, capability, get_space, use_spaces
from nasbench_tools.study.runner import load_results, run_study
from nasbench_tools.study.spec import StudySpec, TuningSpec
from simulation import SimulationConfig, load_problem, run_simulation

TOY_OPS = ("a", "b", "c")
TOY_SLOTS = 4
#: Synthetic measurements: latency = base + sum of per-(slot, op) costs + noise (an additive
#: table a lookup table and a linear model can learn), accuracy grows with the cost.
BASE_MS, NOISE_MS, SEED = 2.0, 0.05, 0


class ToySpace(SearchSpace):
    """4 slots x 3 ops = 81 sequential architectures, written ``toy-abca``."""

    def __init__(self) -> None:
        super().__init__("toy", [f"slot{i}" for i in range(TOY_SLOTS)], TOY_OPS, description="toy space")
        self.add_format(ArchFormat(
            "toy", lambda row: "toy-" + "".join(TOY_OPS[int(v)] for v in row),
            lambda text: [TOY_OPS.index(c) for c in text.removeprefix("toy-")],
            re.compile(r"toy-[abc]{%d}" % TOY_SLOTS), "toy-<one op letter per slot>",
        ))


@pytest.fixture()
def toy(tmp_path: Path):
    """The toy space, known by name, and a data folder with its measured table ``custom/toy.csv``."""
    space = ToySpace()
    rng = np.random.default_rng(SEED)
    costs = rng.uniform(1.0, 5.0, size=(TOY_SLOTS, len(TOY_OPS)))
    ops = space.enumerate()
    cost = costs[np.arange(TOY_SLOTS), ops].sum(axis=1)
    table = pd.DataFrame({
        "arch": space.format(ops), "space": space.name,
        "latency_ms": BASE_MS + cost + rng.normal(0.0, NOISE_MS, len(ops)),
        "accuracy": 60.0 + 2.0 * cost + rng.normal(0.0, 1.0, len(ops)),
    })
    (tmp_path / "custom").mkdir()
    table.sample(frac=1.0, random_state=SEED).to_csv(tmp_path / "custom" / "toy.csv", index=False)  # any row order
    with use_spaces(space):
        yield space, DataStore(tmp_path, env={})


def _tau(a: np.ndarray, b: np.ndarray) -> float:
    return float(stats.kendalltau(a, b)[0])


def test_the_table_loads_and_encodes(toy) -> None:
    space, store = toy
    lat = store.load("custom/toy/latency_ms")
    assert space.size == 81 and lat.space is space and lat.is_complete and lat.unit == "ms"
    assert lat.value_of("toy-aaaa") == pytest.approx(lat.values[0])
    X = encode(space, space.enumerate(), "onehot")
    assert X.shape == (81, TOY_SLOTS * len(TOY_OPS)) and (X.sum(axis=1) == TOY_SLOTS).all()
    with pytest.raises(ValueError, match="does not apply to search space 'toy'"):
        encode(space, space.enumerate(), "graph")  # a sequential space has no cell graph


def test_predictors_fit_the_additive_table(toy) -> None:
    space, store = toy
    y = store.load("custom/toy/latency_ms").values
    rng = np.random.default_rng(SEED)
    train = rng.choice(space.size, 30, replace=False)
    test = np.setdiff1d(np.arange(space.size), train)
    X = encode(space, space.enumerate(), "onehot")
    for name in ("ridge", "gp"):
        model = predictors.make(name).fit(X[train], y[train])
        assert _tau(model.predict(X[test]), y[test]) > 0.8, name
    lut_rows = space.index(space.lut_architectures())
    lut = predictors.make("lookup_table", space="toy").fit(X[lut_rows], y[lut_rows])
    assert len(lut_rows) == 1 + TOY_SLOTS * (len(TOY_OPS) - 1)
    assert _tau(lut.predict(X), y) > 0.9


def test_the_predictor_study_runs_on_the_toy_table(toy, tmp_path: Path) -> None:
    _, store = toy
    spec = StudySpec("toy", ("custom/toy/latency_ms",), ("ridge", "gp", "lookup_table"), train_sizes=(20, 40),
                     test_size=30, seeds=(0, 1), tuning=TuningSpec(predictors=()))
    run_study(spec, tmp_path / "study", store=store, progress=False)
    res = load_results(tmp_path / "study" / "results.csv")
    assert len(res) == 2 * 2 + 2 * 2 + 2 * 1  # ridge and gp at two sizes, the lookup table at its own
    assert (res["status"] == "ok").all(), res["error"].tolist()
    assert (res.loc[res["predictor"] == "ridge", "kendall_tau"] > 0.8).all()
    assert (res.loc[res["predictor"] == "lookup_table", "train_size"] == 9).all()


def test_the_simulator_pairs_the_table_with_its_accuracy_column(toy, tmp_path: Path) -> None:
    _, store = toy
    problem = load_problem("custom/toy/latency_ms", store=store)
    assert problem.accuracy_id == "custom/toy/accuracy" and problem.size == 81
    config = SimulationConfig(datasets=("custom/toy/latency_ms",), sizes=(20, 81), stds=(0.0, 0.5), trials=5)
    df = pd.read_csv(run_simulation(config, tmp_path / "sim", store=store, progress=False))
    assert len(df) == 2 * 2 * 5 and set(df["accuracy_dataset"]) == {"custom/toy/accuracy"}
    assert df["kendall_tau"].between(-1, 1).all() and (df["hypervolume"] > 0).all()
    exact = df[df["std"] == 0.0]
    assert (exact["kendall_tau"] == 1.0).all() and (exact["mra_all"] == 0).all()


def test_undeclared_capabilities_fail_in_one_line(toy) -> None:
    space, _ = toy
    from nasbench_tools.networks import build_supernet, evaluation_network

    with pytest.raises(UnknownNameError, match="no super-network for search space 'toy'; known: nb201"):
        build_supernet(space)
    with pytest.raises(UnknownNameError, match="no evaluation networks for search space 'toy'"):
        evaluation_network("toy", [0] * TOY_SLOTS)
    with pytest.raises(UnknownNameError, match="no benchmark ground truth for search space 'toy'"):
        capability(space, "ground_truth", "benchmark ground truth")


def test_the_registration_is_scoped() -> None:
    assert "toy" not in available_spaces()
    with use_spaces(ToySpace()):
        assert get_space("toy").size == 81 and available_spaces()[-1] == "toy"
        with pytest.raises(UnknownNameError, match="'toy' is taken"):
            with use_spaces(ToySpace()):
                pass
    with pytest.raises(UnknownNameError, match="unknown search space 'toy'"):
        get_space("toy")
    nb201 = ToySpace()
    nb201.name = "nb201"
    with pytest.raises(UnknownNameError, match="'nb201' is taken"):
        with use_spaces(nb201):
            pass
