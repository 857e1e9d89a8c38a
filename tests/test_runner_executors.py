"""Executors: serial, process pool and a real Dask LocalCluster give the same results, also when
a Dask worker is killed mid-run."""

from __future__ import annotations

import os
import signal
import time

import pandas as pd
import pytest

from nasbench_tools.runner import DaskExecutor, ProcessExecutor, SerialExecutor, make_executor
from simulation.grid import SimulationConfig, make_tasks, run_simulation, run_task

TINY = SimulationConfig(datasets=("hwnas/cifar10/edgegpu_latency", "hwnas/cifar100/pixel3_latency"),
                        sizes=(100, 500), stds=(0.0, 0.5), trials=12, seed=3, name="test")


def _slow_square(x: int) -> int:
    time.sleep(0.3)
    return x * x


def test_make_executor_choices():
    assert isinstance(make_executor(), SerialExecutor)
    with make_executor(jobs=2) as ex:
        assert isinstance(ex, ProcessExecutor)
    with pytest.raises(ValueError, match="choose one"):
        make_executor(jobs=2, dask_local=2)
    with pytest.raises(ValueError, match="--jobs"):
        make_executor(jobs=0)


def test_process_pool_streams_all_results():
    with ProcessExecutor(2) as ex:
        got = dict(ex.run(_slow_square, list(range(6))))
    assert got == {i: i * i for i in range(6)}


def test_dask_local_cluster_equals_serial_run_even_after_a_worker_is_killed(tmp_path, store):
    serial = run_simulation(TINY, tmp_path / "serial", progress=False, store=store)
    with DaskExecutor(local_workers=2) as ex:
        dask_csv = run_simulation(TINY, tmp_path / "dask", executor=ex, progress=False, store=store)
        assert dask_csv.read_bytes() == serial.read_bytes()
        # --dask-scheduler ADDRESS: a second client on the same (running) scheduler
        with DaskExecutor(address=ex.client.scheduler.address) as remote:
            assert dict(remote.run(_slow_square, [2, 3])) == {0: 4, 1: 9}
        # a worker dies while tasks run: Dask re-runs its tasks elsewhere, results are unchanged
        tasks = make_tasks(TINY, store)
        pids = ex.client.run(os.getpid)
        results = {}
        for i, rows in ex.run(_slow_task, tasks):
            if not results:
                os.kill(next(iter(pids.values())), signal.SIGKILL)
            results[i] = rows
    assert sorted(results) == list(range(len(tasks)))
    for i, task in enumerate(tasks):
        pd.testing.assert_frame_equal(results[i], run_task(task))


def _slow_task(task):
    time.sleep(0.2)
    return run_task(task)
