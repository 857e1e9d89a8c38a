"""Data pairing (default and original-code compatibility mode) and bad-input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nasbench_tools.datasets import Dataset, DataStore
from nasbench_tools.errors import DataFormatError, UnknownNameError
from nasbench_tools.spaces import get_space
from simulation.engine import simulate_cell
from simulation.problem import HARD_DATASETS, accuracy_id, load_problem, make_problem, problem_from_datasets, text_order

EDGEGPU = "hwnas/cifar10/edgegpu_latency"


@pytest.fixture(scope="module")
def default_problem(store):
    return load_problem(EDGEGPU, store=store)


@pytest.fixture(scope="module")
def compat_problem(store):
    return load_problem(EDGEGPU, mode="original-code", store=store)


def test_default_mode_keeps_each_architectures_own_pair(store, default_problem):
    acc = store.load("nb201/cifar10/test_accuracy").values
    hw = store.load(EDGEGPU).values
    p = default_problem
    assert p.size == 15625
    np.testing.assert_array_equal(p.accuracy, acc[p.index])
    np.testing.assert_allclose(p.hardware, (hw[p.index] - hw.mean()) / hw.std())
    assert np.all(np.diff(p.hardware) >= 0)
    assert p.deviation_variant == "text" and p.reference_rule == "front"


def test_compat_mode_breaks_the_pairing_like_the_original_code(store, compat_problem):
    acc = store.load("nb201/cifar10/test_accuracy").values
    hw = store.load(EDGEGPU).values
    p = compat_problem
    ops = store.load(EDGEGPU).space.enumerate()
    order = text_order(ops)
    # the architecture at position i of the op-code-tuple text order gets the i-th smallest value
    hw_by_arch = np.empty(p.size)
    hw_by_arch[p.index] = p.hardware
    np.testing.assert_allclose(hw_by_arch[order], np.sort((hw - hw.mean()) / hw.std()))
    acc_by_arch = np.empty(p.size)
    acc_by_arch[p.index] = p.accuracy
    np.testing.assert_array_equal(acc_by_arch, acc)  # accuracies stay with their architectures
    assert p.deviation_variant == "original-code" and p.reference_rule == "subset"
    # and the broken pairing is not a no-op: most architectures get another hardware value
    assert np.mean(hw_by_arch != (hw - hw.mean()) / hw.std()) > 0.9


def test_text_order_is_lexicographic_tuple_order():
    ops = np.array([[1, 0], [0, 3], [0, 1], [1, 1]])
    assert text_order(ops).tolist() == [2, 1, 0, 3]


def test_compat_mode_changes_the_published_quantities(default_problem, compat_problem):
    a = simulate_cell(default_problem, 15625, 0.0, 1, np.random.default_rng(0))
    b = simulate_cell(compat_problem, 15625, 0.0, 1, np.random.default_rng(0))
    assert a["kendall_tau"][0] == b["kendall_tau"][0] == pytest.approx(1.0)
    assert a["hypervolume_true_front"][0] != pytest.approx(b["hypervolume_true_front"][0], rel=0.05)


def test_same_seed_same_scores_and_zero_noise_selects_the_true_front(default_problem):
    a = simulate_cell(default_problem, 500, 0.3, 7, np.random.default_rng(3))
    b = simulate_cell(default_problem, 500, 0.3, 7, np.random.default_rng(3))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    z = simulate_cell(default_problem, 500, 0.0, 5, np.random.default_rng(3))
    assert np.all(z["mra_all"] == 0) and np.all(z["mra_pareto"] == 0)
    np.testing.assert_allclose(z["hypervolume"], z["hypervolume_true_front"])


def test_bad_input_errors(store, default_problem):
    with pytest.raises(ValueError, match="std must be"):
        simulate_cell(default_problem, 100, -0.1, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="subset size 20000"):
        simulate_cell(default_problem, 20000, 0.1, 3, np.random.default_rng(0))
    with pytest.raises(UnknownNameError, match="unknown dataset ID"):
        load_problem("hwnas/cifar10/edgegpu_latencyy", store=store)
    with pytest.raises(UnknownNameError, match="cannot pair"):
        accuracy_id("nb201/cifar10/test_accuracy")


def test_nan_values_name_the_architectures(store):
    acc = store.load("nb201/cifar10/test_accuracy")
    hw = store.load(EDGEGPU)
    vals = hw.values.copy()
    vals[[3, 7]] = np.nan
    broken = Dataset(hw.id, hw.space, vals, hw.unit)
    with pytest.raises(DataFormatError) as err:
        problem_from_datasets(acc, broken)
    names = hw.space.format(hw.space.arch(np.array([3, 7])))
    assert "2 architecture(s)" in str(err.value) and names[0] in str(err.value) and names[1] in str(err.value)


def test_mismatched_tables_are_refused(store):
    acc = store.load("nb201/cifar10/test_accuracy")
    other = store.load("transnas-micro/class_scene/inference_time")
    with pytest.raises(DataFormatError, match="not tables of the same space"):
        problem_from_datasets(acc, other)
    with pytest.raises(DataFormatError, match="same architectures"):
        make_problem(np.ones(5), np.arange(4.0))
    with pytest.raises(DataFormatError, match="all hardware values are equal"):
        make_problem(np.arange(5.0), np.ones(5))


def test_the_five_hard_datasets_load(store):
    for d in HARD_DATASETS:
        p = load_problem(d, store=store)
        assert p.accuracy_id == accuracy_id(d) and p.size == 15625


def test_custom_tables_pair_with_their_own_accuracy_column(tmp_path):
    assert accuracy_id("custom/lab/latency_ms") == "custom/lab/accuracy"
    with pytest.raises(UnknownNameError, match="cannot pair 'custom/lab/accuracy'"):
        accuracy_id("custom/lab/accuracy")
    space = get_space("nb201-onlyconv")  # 64 architectures: a complete table is small
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"arch": space.format(space.enumerate()), "space": space.name,
                          "latency_ms": rng.uniform(1, 2, space.size), "accuracy": rng.uniform(80, 90, space.size)})
    (tmp_path / "custom").mkdir()
    frame.to_csv(tmp_path / "custom" / "lab.csv", index=False)
    frame.drop(columns="accuracy").to_csv(tmp_path / "custom" / "noacc.csv", index=False)
    store = DataStore(tmp_path, env={})
    p = load_problem("custom/lab/latency_ms", store=store)
    assert p.accuracy_id == "custom/lab/accuracy" and p.size == 64
    np.testing.assert_array_equal(np.sort(p.accuracy), np.sort(frame["accuracy"].to_numpy()))
    with pytest.raises(UnknownNameError, match="cannot pair 'custom/noacc/latency_ms' with the accuracy dataset "
                                               "'custom/noacc/accuracy': custom table 'noacc'"):
        load_problem("custom/noacc/latency_ms", store=store)
