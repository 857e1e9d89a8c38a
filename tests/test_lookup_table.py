"""The lookup-table predictor and the ``nasbench-study lut`` command."""

from __future__ import annotations

import numpy as np
import pytest

import predictors
from nasbench_tools.cli import main
from nasbench_tools.cli.lut import PAPER_TABLE_5_1, complete_hwnas_ids
from nasbench_tools.datasets import HWNAS_DATASETS
from nasbench_tools.encodings import encode
from nasbench_tools.spaces import get_space
from nasbench_tools.study.lut import evaluate_lut
from predictors.lookup_table import LookupTable

LUT_SIZES = {"nb201": 25, "transnas-macro": 21, "transnas-micro": 19, "nbmacro": 17}


def _additive(space, seed):
    """A random additive metric: per-slot op costs plus a constant."""
    costs = np.random.default_rng(seed).uniform(0, 5, size=(space.n_slots, space.n_ops))
    return costs, lambda ops: 3.0 + costs[np.arange(space.n_slots), ops].sum(axis=1)


@pytest.mark.parametrize("space_name, size", LUT_SIZES.items())
def test_fitted_from_the_baseline_neighbours_recovers_an_additive_metric(space_name, size):
    space = get_space(space_name)
    needed = space.lut_architectures()
    assert len(needed) == size == 1 + sum(len(space.allowed_ops[s]) - 1 for s in range(space.n_slots))
    _, metric = _additive(space, 0)
    lut = LookupTable(space=space_name).fit(encode(space, needed), metric(needed.astype(int)))
    everything = space.enumerate()
    np.testing.assert_allclose(lut.predict(encode(space, everything)), metric(everything.astype(int)), rtol=1e-12)


def test_missing_architectures_are_named():
    space = get_space("nb201")
    needed = space.lut_architectures()
    keep = np.ones(len(needed), dtype=bool)
    keep[[3, 10]] = False
    with pytest.raises(ValueError, match="2 missing: " + "\\|.*, \\|") as err:
        LookupTable().fit(encode(space, needed[keep]), np.arange(keep.sum(), dtype=float))
    for arch in space.format(needed[~keep]):
        assert arch in str(err.value)


def test_duplicates_are_averaged_and_other_rows_ignored():
    space = get_space("nbmacro")
    needed = space.lut_architectures()
    _, metric = _additive(space, 1)
    y = metric(needed.astype(int))
    extra = space.arch(np.array([100, 2000]))
    X = encode(space, np.concatenate([needed, needed[:1], extra]))
    y_all = np.concatenate([y + 1.0 * (np.arange(len(y)) == 0), y[:1] - 1.0, [1e6, -1e6]])
    lut = LookupTable(space="nbmacro").fit(X, y_all)
    np.testing.assert_allclose(lut.predict(encode(space, space.enumerate())),
                               metric(space.enumerate().astype(int)), rtol=1e-12)


def test_user_supplied_op_costs():
    space = get_space("nb201")
    per_op = [0.0, 0.1, 1.0, 3.0, 0.5]
    archs = space.arch(np.arange(0, space.size, 97))
    lut = LookupTable(op_costs=per_op, base_cost=2.0).fit(encode(space, archs[:5]), np.arange(5.0))
    expected = 2.0 + np.asarray(per_op)[archs.astype(int)].sum(axis=1)
    np.testing.assert_allclose(lut.predict(encode(space, archs)), expected)
    table = np.tile(per_op, (6, 1))
    table[0] *= 2
    lut2 = LookupTable(op_costs=table.tolist()).fit(encode(space, archs[:2]), [1.0, 2.0])
    np.testing.assert_allclose(lut2.predict(encode(space, archs)), expected - 2.0 + table[0, archs[:, 0]] / 2)
    with pytest.raises(ValueError, match=r"parameter op_costs=.*shape \(5,\) or \(6, 5\)"):
        predictors.make("lookup_table", op_costs=[1.0, 2.0])


def test_bad_space_and_bad_rows():
    with pytest.raises(ValueError, match="space='nb999'"):
        predictors.make("lookup_table", space="nb999")
    space = get_space("nb201")
    X = encode(space, space.lut_architectures())
    soft = X.copy()
    soft[4, :5] = 0.2
    with pytest.raises(ValueError, match="row 4 .*not a one-hot"):
        LookupTable().fit(soft, np.arange(len(X), dtype=float))
    with pytest.raises(ValueError, match="one-hot encoding of space transnas-micro has 24"):
        LookupTable(space="transnas-micro").fit(X, np.arange(len(X), dtype=float))
    nozero = get_space("nb201-nozero")
    with pytest.raises(ValueError, match="not in nb201-nozero"):
        LookupTable(space="nb201-nozero").fit(encode(space, space.arch([0, 1])), [1.0, 2.0])
    assert len(nozero.lut_architectures()) == 19


def test_real_additive_metric_is_exact(store):
    n, tau = evaluate_lut(store.load("nbmacro/cifar10/params"))
    assert n == 17 and tau > 0.9999  # parameter counts add up per layer (ties broken by rounding only)


def test_hwnas_device_means_match_the_paper(store):
    """Table 5.1: the toolkit's lookup table reproduces the published per-device means."""
    taus = {i: evaluate_lut(store.load(i))[1] for i in complete_hwnas_ids()}
    assert len(taus) == 27 and not any("edgetpu" in i for i in taus)
    for metric, paper in PAPER_TABLE_5_1.items():
        mean = np.mean([taus[f"hwnas/{d}/{metric}"] for d in HWNAS_DATASETS])
        assert mean == pytest.approx(paper, abs=0.015), metric


def test_cli_single_dataset(capsys, data_dir):
    assert main(["lut", "--data-dir", str(data_dir), "--dataset", "transnas-micro/jigsaw/inference_time"]) == 0
    out = capsys.readouterr().out
    assert "from 19 measured architectures" in out
    tau = float(out.rsplit(" ", 1)[-1])
    assert 0 < tau < 1


def test_cli_all_hwnas(capsys, data_dir):
    assert main(["lut", "--data-dir", str(data_dir), "--all-hwnas", "--no-progress"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("hwnas/")]
    assert len(rows) == 27 and all(r[1] == "25" for r in rows)
    summary = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.split() and line.split()[0] in PAPER_TABLE_5_1}
    assert float(summary["edgegpu_latency"][0]) == pytest.approx(0.21, abs=0.015)
    assert float(summary["raspi4_latency"][0]) == pytest.approx(0.45, abs=0.015)
    assert float(summary["eyeriss_latency"][0]) == pytest.approx(0.99, abs=0.015)


def test_cli_unknown_dataset(capsys, data_dir):
    assert main(["lut", "--data-dir", str(data_dir), "--dataset", "hwnas/cifar10/nope"]) == 2
    assert "nope" in capsys.readouterr().err
