"""Atomic file writes: a failed run never leaves a half-written result behind."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    import pandas as pd

_FILE_MODE = 0o666


@contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Write to a temporary file beside ``path`` and rename it into place on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, _FILE_MODE & ~umask)  # mkstemp creates 0600; results are ordinary files
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_csv_atomic(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """``df.to_csv`` through :func:`atomic_write` (no index unless asked)."""
    kwargs.setdefault("index", False)
    with atomic_write(path, "w") as fh:
        df.to_csv(fh, **kwargs)
    return Path(path)
