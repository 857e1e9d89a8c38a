"""An exclusive lock on an output folder, so two writers never interleave rows in one run.

``fcntl.flock`` on ``DIR/.lock``: the kernel releases it when the holding process exits (also on
SIGKILL), so a stale lock file of a dead process never blocks. The file records the holder (pid,
host, start time) so that the refusal can name it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from ..errors import OutputLockedError, ParameterError

log = logging.getLogger(__name__)

LOCK_NAME = ".lock"


def _holder_text(raw: str) -> str:
    try:
        info = json.loads(raw)
        return f"pid {info['pid']} on {info['host']} since {info['started']}"
    except (json.JSONDecodeError, KeyError, TypeError):
        return "another process"


class OutputLock:
    """Exclusive, non-blocking lock of ``folder`` (created when missing); a context manager.

    A second writer gets :class:`OutputLockedError` naming the folder and the holder.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> "OutputLock":
        if self._fd is not None:
            return self
        if self.folder.exists() and not self.folder.is_dir():
            raise ParameterError(f"--out {self.folder} is a file; expected a folder (existing or new)")
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = _holder_text(os.read(fd, 4096).decode(errors="replace"))
            finally:
                os.close(fd)
            raise OutputLockedError(
                f"{self.folder} is in use by {holder}; wait for that run to finish or choose another --out"
            ) from None
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        log.debug("locked %s", self.folder)
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:  # a forgotten lock must not outlive its owner object
        self.release()

    def __enter__(self) -> "OutputLock":
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
