"""Tidy CSV results with a run-config fingerprint, atomic appends and resume.

Files, for ``results.csv``:
- ``results.csv``: header plus one block of rows per finished task key;
- ``results.csv.config.json``: the run configuration and its sha256 fingerprint; a run with a
  different configuration is refused, naming the differing fields;
- ``results.csv.journal``: one JSON line per committed block (key, row count, file size after it).

A block is written with one ``write`` and fsynced before its journal line; bytes past the last
journal entry are an interrupted append and are cut off on resume, so a killed and restarted run
ends with exactly the rows of an uninterrupted one. Anything else that does not match (header,
row counts, unparsable text) is reported as corruption and the files are left untouched.
``finalize`` rewrites the CSV sorted by key (temp file + ``os.replace``) so the final file does not
depend on completion order.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ..errors import DataFormatError, NasbenchError

log = logging.getLogger(__name__)

CONFIG_SUFFIX = ".config.json"
JOURNAL_SUFFIX = ".journal"
FORMAT_VERSION = 1


class ConfigMismatchError(NasbenchError):
    """The results file was written by a run with a different configuration."""


class ResultsCorruptedError(DataFormatError):
    """A results file (or its journal/config) is damaged; it is left as it is."""


def fingerprint(config: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _key_text(key: Sequence[Any]) -> list[str]:
    return [str(k) for k in key]


class ResultsFile:
    """One results CSV of a grid run.

    Parameters
    ----------
    path: the CSV file.
    columns: all columns, in order.
    key_columns: the columns identifying one task (one block of rows).
    config: the run configuration (JSON-serialisable); stored beside the CSV.
    """

    def __init__(self, path: str | Path, columns: Sequence[str], key_columns: Sequence[str],
                 config: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self.columns = list(columns)
        self.key_columns = list(key_columns)
        missing = [k for k in self.key_columns if k not in self.columns]
        if missing:
            raise ValueError(f"key columns {missing} are not among the columns {self.columns}")
        self.config = json.loads(json.dumps(dict(config), default=str))
        self.config_path = self.path.with_name(self.path.name + CONFIG_SUFFIX)
        self.journal_path = self.path.with_name(self.path.name + JOURNAL_SUFFIX)
        self._done: dict[tuple[str, ...], int] = {}
        self._size = 0

    # ------------------------------------------------------------------ opening
    @property
    def exists(self) -> bool:
        return self.path.exists()

    def open(self, resume: bool) -> set[tuple[str, ...]]:
        """Create the files, or (``resume``) check and continue existing ones.

        Returns the finished keys (as tuples of strings). Without ``resume``, an existing
        results file is refused rather than overwritten.
        """
        if not self.path.exists():
            if self.journal_path.exists() or self.config_path.exists():
                raise ResultsCorruptedError(
                    f"{self.path} is missing but {self.config_path.name}/{self.journal_path.name} exist; "
                    "remove them or choose another output directory"
                )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            header = (",".join(self.columns) + "\n").encode()
            _atomic_write(self.config_path, self._config_bytes())
            _atomic_write(self.journal_path, b"")
            _atomic_write(self.path, header)
            self._size = len(header)
            self._done = {}
            return set()
        if not resume:
            raise NasbenchError(
                f"{self.path} exists; pass --resume to continue it (finished tasks are skipped) "
                "or choose another output directory"
            )
        self._check_config()
        self._load_and_repair()
        return set(self._done)

    def _config_bytes(self) -> bytes:
        doc = {"format_version": FORMAT_VERSION, "columns": self.columns, "key_columns": self.key_columns,
               "config": self.config, "fingerprint": fingerprint(self.config)}
        return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()

    def _check_config(self) -> None:
        try:
            stored = json.loads(self.config_path.read_text())
            old = stored["config"]
            old_columns = stored["columns"]
        except FileNotFoundError:
            raise ResultsCorruptedError(f"{self.config_path} is missing; cannot tell which run wrote {self.path}") from None
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ResultsCorruptedError(f"{self.config_path}: unreadable run configuration ({exc})") from None
        if old_columns != self.columns:
            raise ConfigMismatchError(f"{self.path} has columns {old_columns}, this run writes {self.columns}")
        if fingerprint(old) != fingerprint(self.config):
            fields = sorted(set(old) | set(self.config))
            diffs = [f"{f}: stored {old.get(f, '<absent>')!r}, now {self.config.get(f, '<absent>')!r}"
                     for f in fields if old.get(f) != self.config.get(f)]
            raise ConfigMismatchError(
                f"{self.path} was written by a different configuration; differing fields: " + "; ".join(diffs)
                + ". Use another output directory."
            )

    def _read_journal(self) -> list[dict[str, Any]]:
        try:
            lines = self.journal_path.read_text().splitlines()
        except FileNotFoundError:
            raise ResultsCorruptedError(f"{self.journal_path} is missing; cannot tell which rows of {self.path} are complete") from None
        entries = []
        for no, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                e = json.loads(line)
                entries.append({"key": tuple(e["key"]), "rows": int(e["rows"]), "end": int(e["end"])})
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                if no == len(lines):  # an interrupted journal append: the block is redone
                    log.warning("%s: ignoring an incomplete last line", self.journal_path)
                    break
                raise ResultsCorruptedError(f"{self.journal_path} line {no}: not a journal entry: {line[:80]!r}") from None
        return entries

    def _load_and_repair(self) -> None:
        entries = self._read_journal()
        data = self.path.read_bytes()
        header = (",".join(self.columns) + "\n").encode()
        if not data.startswith(header):
            first = data.split(b"\n", 1)[0][:200]
            raise ResultsCorruptedError(f"{self.path}: header {first!r} differs from the expected {header.strip()!r}")
        committed = entries[-1]["end"] if entries else len(header)
        if len(data) < committed:
            raise ResultsCorruptedError(
                f"{self.path} has {len(data)} bytes but its journal records {committed} committed bytes (file truncated?)"
            )
        done: dict[tuple[str, ...], int] = {}
        for e in entries:
            if e["key"] in done:
                raise ResultsCorruptedError(f"{self.journal_path}: key {e['key']} committed twice")
            done[e["key"]] = e["rows"]
        frame = self._parse(data[:committed])
        counts = frame.groupby(self.key_columns, sort=False).size() if len(frame) else pd.Series(dtype=int)
        found = {tuple(_key_text(k if isinstance(k, tuple) else (k,))): int(c) for k, c in counts.items()}
        if found != done:
            extra = sorted(set(found) - set(done))[:3]
            wrong = sorted(k for k in done if found.get(k) != done[k])[:3]
            raise ResultsCorruptedError(
                f"{self.path}: rows do not match its journal (keys without journal entry: {extra}; "
                f"keys with a wrong row count: {wrong})"
            )
        if len(data) > committed:
            log.warning("%s: removing %d bytes of an interrupted append (not in the journal)", self.path, len(data) - committed)
            with open(self.path, "r+b") as fh:
                fh.truncate(committed)
                fh.flush()
                os.fsync(fh.fileno())
        self._done = done
        self._size = committed

    def _parse(self, data: bytes) -> pd.DataFrame:
        try:
            frame = pd.read_csv(io.BytesIO(data), dtype={k: str for k in self.key_columns}, keep_default_na=False,
                                na_values=[""])
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise ResultsCorruptedError(f"{self.path}: unreadable CSV ({exc})") from None
        if list(frame.columns) != self.columns:
            raise ResultsCorruptedError(f"{self.path}: columns {list(frame.columns)} differ from {self.columns}")
        return frame

    # ------------------------------------------------------------------ writing
    def key_of(self, values: Iterable[Any]) -> tuple[str, ...]:
        return tuple(_key_text(values))

    def append(self, key: Sequence[Any], rows: pd.DataFrame) -> None:
        """Commit the rows of one task: one write + fsync, then the journal entry."""
        key_t = self.key_of(key)
        if key_t in self._done:
            raise ValueError(f"{self.path}: key {key_t} is already committed")
        if list(rows.columns) != self.columns:
            raise ValueError(f"rows have columns {list(rows.columns)}, expected {self.columns}")
        block = rows.to_csv(header=False, index=False, lineterminator="\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, block)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._size += len(block)
        entry = json.dumps({"key": list(key_t), "rows": len(rows), "end": self._size}) + "\n"
        with open(self.journal_path, "a") as fh:
            fh.write(entry)
            fh.flush()
            os.fsync(fh.fileno())
        self._done[key_t] = len(rows)

    @property
    def done(self) -> set[tuple[str, ...]]:
        return set(self._done)

    def read(self) -> pd.DataFrame:
        return self._parse(self.path.read_bytes())

    def finalize(self, key_order: Sequence[Sequence[Any]]) -> None:
        """Rewrite the CSV with blocks in ``key_order`` (then any others), atomically."""
        data = self.path.read_bytes()
        frame = self._parse(data)
        rank = {self.key_of(k): i for i, k in enumerate(key_order)}
        keys = [self.key_of(r) for r in frame[self.key_columns].itertuples(index=False, name=None)]
        frame["_order"] = [rank.get(k, len(rank)) for k in keys]
        frame = frame.sort_values("_order", kind="stable").drop(columns="_order")
        body = frame.to_csv(index=False, lineterminator="\n").encode()
        if len(body) != len(data):
            log.debug("%s: re-serialised size differs (%d vs %d bytes)", self.path, len(body), len(data))
        entries = []
        size = len((",".join(self.columns) + "\n").encode())
        for key, block in frame.groupby(self.key_columns, sort=False):
            text = block.to_csv(header=False, index=False, lineterminator="\n").encode()
            size += len(text)
            entries.append(json.dumps({"key": _key_text(key if isinstance(key, tuple) else (key,)),
                                       "rows": len(block), "end": size}))
        _atomic_write(self.path, body)
        _atomic_write(self.journal_path, ("\n".join(entries) + "\n").encode() if entries else b"")
        self._size = len(body)
