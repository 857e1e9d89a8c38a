"""Executors: run a picklable function over picklable tasks, yielding results as they finish.

All three share one interface, ``executor.run(fn, tasks)`` -> iterator of ``(index, result)``
in completion order, and are context managers (the pool or cluster is closed on exit).
"""

from __future__ import annotations

import logging
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterator, Sequence

from ..errors import ParameterError, require

log = logging.getLogger(__name__)

#: Seconds to wait for a Dask scheduler before giving up with a clear error.
CONNECT_TIMEOUT_S = 10


class Executor:
    """Base class: serial execution in this process."""

    description = "serial"

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release workers (nothing to do for the serial executor)."""

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        for i, task in enumerate(tasks):
            yield i, fn(task)


class SerialExecutor(Executor):
    """Tasks one after another in this process (debuggable, no pickling)."""


class ProcessExecutor(Executor):
    """A local process pool with ``jobs`` workers; at most ``2 * jobs`` tasks in flight."""

    def __init__(self, jobs: int) -> None:
        if jobs < 1:
            raise ParameterError(f"--jobs must be >= 1, got {jobs}")
        self.jobs = jobs
        self.description = f"process pool ({jobs} workers)"
        self._pool = ProcessPoolExecutor(max_workers=jobs)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        pending: dict[Any, int] = {}
        todo = iter(enumerate(tasks))
        limit = 2 * self.jobs
        for i, task in todo:
            pending[self._pool.submit(fn, task)] = i
            if len(pending) >= limit:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                yield i, fut.result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending[self._pool.submit(fn, nxt[1])] = nxt[0]


class DaskExecutor(Executor):
    """Dask distributed: an existing scheduler (``address``) or a LocalCluster of ``local_workers``
    single-threaded worker processes. Tasks lost with a worker are re-run by Dask elsewhere."""

    def __init__(self, address: str | None = None, local_workers: int | None = None) -> None:
        distributed = require("dask.distributed", "Dask execution")
        Client, LocalCluster = distributed.Client, distributed.LocalCluster
        if (address is None) == (local_workers is None):
            raise ParameterError("give exactly one of a scheduler address or a number of local workers")
        self._cluster = None
        if address is None:
            if local_workers < 1:
                raise ParameterError(f"--dask-local must be >= 1, got {local_workers}")
            self._cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self.client = Client(self._cluster)
            self.description = f"Dask LocalCluster ({local_workers} workers)"
        else:
            try:
                self.client = Client(address, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ParameterError(f"--dask-scheduler {address}: cannot connect ({type(exc).__name__}: "
                                     f"{' '.join(str(exc).split())[:200]})") from None
            self.description = f"Dask scheduler {address}"

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        from dask.distributed import as_completed

        futures = {self.client.submit(fn, task, pure=False): i for i, task in enumerate(tasks)}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()
            fut.release()


def make_executor(jobs: int = 1, dask_scheduler: str | None = None, dask_local: int | None = None) -> Executor:
    """The executor for the usual command-line options (at most one of them)."""
    chosen = [n for n, v in (("--jobs", jobs if jobs != 1 else None), ("--dask-scheduler", dask_scheduler),
                             ("--dask-local", dask_local)) if v is not None]
    if len(chosen) > 1:
        raise ParameterError(f"choose one way to execute, got {' and '.join(chosen)}")
    if dask_scheduler is not None:
        return DaskExecutor(address=dask_scheduler)
    if dask_local is not None:
        return DaskExecutor(local_workers=dask_local)
    if jobs > 1:
        return ProcessExecutor(jobs)
    if jobs < 1:
        raise ParameterError(f"--jobs must be >= 1, got {jobs}")
    return SerialExecutor()

