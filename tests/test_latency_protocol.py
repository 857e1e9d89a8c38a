"""The measurement protocol: robust summary, warm-up and timed runs, inference mode, devices,
environment, architecture selection, isolated-op costs."""

from __future__ import annotations

import gc

import numpy as np
import pytest
import torch
from torch import nn

from nasbench_tools.errors import DataFormatError, NasbenchError
from nasbench_tools.latency import (
    DeviceUnavailableError, MeasureConfig, available_devices, environment, measure_module, resolve_device,
    select_architectures, summarize,
)
from nasbench_tools.latency.isolated import measure_isolated, network_parts
from nasbench_tools.spaces import get_space


class Recorder(nn.Module):
    """Counts calls and records whether each ran in inference mode and eval mode."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.calls: list[tuple[bool, bool, tuple[int, ...]]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append((torch.is_inference_mode_enabled(), self.training, tuple(x.shape)))
        return self.lin(x)


def test_summary_is_median_and_iqr_and_counts_outliers():
    times = [1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0, 40.0]
    m = summarize(times)
    assert m.median_ms == pytest.approx(1.0)
    q1, q3 = np.percentile(times, [25, 75])
    assert m.iqr_ms == pytest.approx(q3 - q1)
    assert m.outliers == 1 and m.repeats == 8 and m.min_ms == 0.9
    assert m.mean_ms > 5 > m.median_ms  # the mean is what a single interrupted run moves


def test_measure_runs_warmup_then_timed_runs_in_inference_and_eval_mode():
    net = Recorder().train()
    cfg = MeasureConfig(batch_size=3, warmup=4, repeats=7)
    gc.enable()
    m = measure_module(net, (4,), cfg)
    assert len(net.calls) == 4 + 7
    assert all(inf and not training and shape == (3, 4) for inf, training, shape in net.calls)
    assert m.repeats == 7 and len(m.times_ms) == 7 and np.all(m.times_ms > 0)
    assert m.min_ms <= m.median_ms <= m.times_ms.max()
    assert gc.isenabled()  # paused only during the timed runs


def test_same_seed_same_input():
    seen = []

    class Keep(nn.Module):
        def forward(self, x):
            seen.append(x.clone())
            return x

    measure_module(Keep(), (2, 3), MeasureConfig(warmup=0, repeats=3, seed=5))
    measure_module(Keep(), (2, 3), MeasureConfig(warmup=0, repeats=3, seed=5))
    measure_module(Keep(), (2, 3), MeasureConfig(warmup=0, repeats=3, seed=6))
    assert torch.equal(seen[0], seen[3]) and not torch.equal(seen[0], seen[6])


@pytest.mark.parametrize("field,value", [("batch_size", 0), ("warmup", -1), ("repeats", 2), ("repeats", 2.5)])
def test_bad_protocol_settings_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        MeasureConfig(**{field: value})


def test_devices_are_resolved_or_refused_naming_the_available_ones():
    assert resolve_device("cpu") == torch.device("cpu")
    assert available_devices()[0] == "cpu"
    if torch.cuda.is_available():
        assert resolve_device("cuda").type == "cuda"
    else:
        with pytest.raises(DeviceUnavailableError, match="available here: cpu"):
            resolve_device("cuda")
    with pytest.raises(DeviceUnavailableError, match="available here"):
        resolve_device(f"cuda:{torch.cuda.device_count() + 3}")
    with pytest.raises(DeviceUnavailableError, match="available here"):
        resolve_device("gpu0")


def test_environment_records_threads_affinity_and_shape():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        env = environment(torch.device("cpu"), (3, 32, 32), 2)
    finally:
        torch.set_num_threads(before)
    assert env["threads"] == 1 and env["input_shape"] == "2x3x32x32" and env["batch_size"] == 2
    assert env["torch_version"] == torch.__version__ and env["device"] == "cpu" and env["device_name"]
    assert env["cpu_affinity"] != ""


def test_architecture_selection(tmp_path):
    space = get_space("nb201")
    assert len(select_architectures(space, "all")) == space.size
    a = select_architectures(space, "random:20:3")
    assert len(np.unique(space.index(a))) == 20
    assert np.array_equal(a, select_architectures(space, "random:20:3"))
    assert not np.array_equal(a, select_architectures(space, "random:20:4"))
    f = tmp_path / "a.txt"
    f.write_text("# two architectures\n" + "\n".join(space.format(a[:2])) + "\n\n")
    assert np.array_equal(select_architectures(space, str(f)), a[:2])
    c = tmp_path / "a.csv"
    c.write_text("arch,note\n" + "\n".join(f"{s},x" for s in space.format(a[:3])) + "\n")
    assert np.array_equal(select_architectures(space, str(c)), a[:3])
    bad = tmp_path / "bad.txt"
    bad.write_text(space.format(a[:1])[0] + "\n|conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|\n")
    with pytest.raises(DataFormatError, match="line 2"):
        select_architectures(space, str(bad))
    dup = tmp_path / "dup.txt"
    dup.write_text("\n".join(space.format(a[[0, 1, 0]])))
    with pytest.raises(DataFormatError, match=r"twice \(lines \[1, 3\]\)"):
        select_architectures(space, str(dup))
    with pytest.raises(DataFormatError, match="neither"):
        select_architectures(space, str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match="random:N"):
        select_architectures(space, "random:x")
    with pytest.raises(ValueError, match="space size"):
        select_architectures(space, "random:0")


def test_isolated_costs_cover_every_op_and_predict_additively():
    cfg = MeasureConfig(warmup=1, repeats=3)
    costs = measure_isolated("nbmacro", cfg, input_size=(8, 8))
    space = get_space("nbmacro")
    assert costs.op_costs.shape == (space.n_slots, space.n_ops) and np.all(costs.op_costs >= 0)
    assert costs.base_cost > 0 and costs.parts > 0
    # layers 3 and 4 (and 6 and 7) take the same modules at the same shape: measured once, shared
    np.testing.assert_array_equal(costs.op_costs[3], costs.op_costs[4])
    np.testing.assert_array_equal(costs.op_costs[6], costs.op_costs[7])
    assert costs.parts == 1 + 1 + 3 * 6  # stem, head, 3 ops x 6 distinct layer shapes
    lut = costs.lookup_table()
    from nasbench_tools.encodings import encode

    rows = space.arch(np.arange(5))
    expected = costs.base_cost + costs.op_costs[np.arange(space.n_slots), rows].sum(axis=1)
    np.testing.assert_allclose(lut.predict(encode(space, rows, "onehot")), expected)


def test_isolated_parts_of_nb201_repeat_each_op_once_per_cell():
    fixed, ops = network_parts("nb201", input_size=(8, 8))
    assert [p.name for p in fixed] == ["stem", "reduction1", "reduction2", "head"]
    assert ops[(0, 0)] == []  # none never runs
    conv = ops[(5, 3)]
    assert [p.input_shape for p in conv] == [(16, 8, 8), (32, 4, 4), (64, 2, 2)] and {p.count for p in conv} == {5}
    with pytest.raises(NasbenchError, match="depends on the modules before it"):
        network_parts("transnas-macro")


def test_running_slots_match_the_cell_plan():
    from nasbench_tools.latency.isolated import running_slots
    from nasbench_tools.networks.evaluation import evaluation_network

    space = get_space("nb201")
    rows = space.arch(np.random.default_rng(4).choice(space.size, 200, replace=False))
    mask = running_slots("nb201", rows)
    for row, m in zip(rows[:40], mask[:40]):
        net = evaluation_network("nb201", row)
        steps = {(src, dst) for src, dst, _ in net._normal[0]._steps}
        assert steps == {space.edges[s] for s in np.flatnonzero(m)}
    # an edge into node 1 runs only if node 1 reaches the output
    assert not running_slots("nb201", np.array([[3, 0, 0, 0, 0, 0]]))[0, 0]
    assert running_slots("nb201", np.array([[3, 0, 0, 0, 2, 0]]))[0].tolist() == [True, False, False, False, True, False]
    assert running_slots("nbmacro", np.zeros((2, 8), dtype=int)).all()
