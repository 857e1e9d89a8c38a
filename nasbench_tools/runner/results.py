"""Tidy CSV results with a run-config fingerprint, write-ahead journal, folder lock and resume.

Files, for ``results.csv``:
- ``results.csv``: header plus one block of rows per finished task key;
- ``results.csv.config.json``: the run configuration and its sha256 fingerprint (plus the library
  versions, which are recorded but not compared); a run with a different configuration is
  refused, naming the differing fields;
- ``results.csv.journal``: one JSON line per block (key, row count, file size after it, sha256 of
  the block's bytes).

The journal line of a block is written and fsynced *before* the block, so a block that is not
complete on disk is proven torn by its journal line: resume cuts it off and redoes the task, and a
killed and restarted run ends with exactly the rows of an uninterrupted one. Anything else that
does not match (a row edited in the middle, complete rows the journal does not cover, a header
or row count that differs) is refused with the line named and the files left untouched.
``finalize`` rewrites the CSV sorted by key (temp file + ``os.replace``) so the final file does
not depend on completion order; a finished run that is resumed is left byte-identical.
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

from ..errors import ConfigMismatchError, ResultsCorruptedError, RunExistsError
from ..utils.versions import library_versions, warn_if_versions_differ
from .lock import OutputLock

log = logging.getLogger(__name__)

CONFIG_SUFFIX = ".config.json"
JOURNAL_SUFFIX = ".journal"
FORMAT_VERSION = 1
#: Config field holding the checksums of the data files a run reads; runs written before it
#: existed lack it and are resumed with a warning instead of being refused.
DATA_FIELD = "data_files"
#: Suggestion appended to every refusal of an existing run.
OVERWRITE_HINT = "pass --overwrite to delete it and start again, or choose another --out"


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


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _entry_line(key: Sequence[str], rows: int, end: int, block: bytes) -> str:
    return json.dumps({"key": list(key), "rows": rows, "end": end, "sha256": _sha(block)})


def _line_of(data: bytes, offset: int) -> int:
    """1-based line number (header = 1) of the byte at ``offset``."""
    return data.count(b"\n", 0, offset) + 1


def config_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """``"field: stored X, now Y"`` for every differing top-level field."""
    fields = sorted(set(old) | set(new))
    return [f"{f}: stored {old.get(f, '<absent>')!r}, now {new.get(f, '<absent>')!r}"
            for f in fields if old.get(f) != new.get(f)]


class ResultsFile:
    """One results CSV of a grid run.

    Parameters
    ----------
    path: the CSV file.
    columns: all columns, in order.
    key_columns: the columns identifying one task (one block of rows).
    config: the run configuration (JSON-serialisable); stored beside the CSV.
    lock: take the exclusive lock of the CSV's folder in :meth:`open` (released by :meth:`close`);
        ``False`` when the caller holds an :class:`~.lock.OutputLock` of the folder itself.
    """

    def __init__(self, path: str | Path, columns: Sequence[str], key_columns: Sequence[str],
                 config: Mapping[str, Any], *, lock: bool = True) -> None:
        self.path = Path(path)
        self.columns = list(columns)
        self.key_columns = list(key_columns)
        missing = [k for k in self.key_columns if k not in self.columns]
        if missing:
            raise ValueError(f"key columns {missing} are not among the columns {self.columns}")
        self.config = json.loads(json.dumps(dict(config), default=str))
        self.config_path = self.path.with_name(self.path.name + CONFIG_SUFFIX)
        self.journal_path = self.path.with_name(self.path.name + JOURNAL_SUFFIX)
        self._lock = OutputLock(self.path.parent) if lock else None
        self._done: dict[tuple[str, ...], int] = {}
        self._size = 0
        self._appended = 0
        self._versions_warned = False

    # ------------------------------------------------------------------ opening
    @property
    def exists(self) -> bool:
        return self.path.exists()

    @property
    def header(self) -> bytes:
        return (",".join(self.columns) + "\n").encode()

    def outputs(self) -> list[Path]:
        """The files this results file consists of."""
        return [self.path, self.config_path, self.journal_path]

    def remove(self) -> None:
        """Delete the CSV, its config and journal (``--overwrite``)."""
        for p in self.outputs():
            if p.exists():
                p.unlink()
                log.info("removed %s (--overwrite)", p)

    def open(self, resume: bool = True, overwrite: bool = False) -> set[tuple[str, ...]]:
        """Create the files, or (``resume``) check and continue existing ones.

        Returns the finished keys (as tuples of strings). ``overwrite`` deletes an existing run
        first; without ``resume`` an existing run is refused (:class:`RunExistsError`); a run of
        another configuration is refused (:class:`ConfigMismatchError`) unless ``overwrite``.
        """
        if self._lock is not None:
            self._lock.acquire()
        try:
            return self._open(resume, overwrite)
        except BaseException:
            self.close()
            raise

    def _open(self, resume: bool, overwrite: bool) -> set[tuple[str, ...]]:
        if self.path.exists() and not self.path.is_file():
            raise ResultsCorruptedError(f"{self.path} exists and is not a file")
        if overwrite:
            self.remove()
        if not self.path.exists():
            if self.journal_path.exists() or self.config_path.exists():
                raise ResultsCorruptedError(
                    f"{self.path} is missing but {self.config_path.name}/{self.journal_path.name} exist; "
                    f"remove them, {OVERWRITE_HINT}"
                )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.config_path, self._config_bytes())
            _atomic_write(self.journal_path, b"")
            _atomic_write(self.path, self.header)
            self._size = len(self.header)
            self._done = {}
            return set()
        self.check(resume)
        self._load_and_repair()
        return set(self._done)

    def check(self, resume: bool = True) -> None:
        """Refuse an existing run as :meth:`open` does (without ``resume``, or written by another
        configuration) without reading its rows or writing anything; no run: nothing to check."""
        if not self.path.exists():
            return
        if not resume:
            raise RunExistsError(
                f"{self.path} already holds a run; resume it (the default: finished tasks are skipped), {OVERWRITE_HINT}"
            )
        self._check_config()

    def close(self) -> None:
        """Release the folder lock (the files stay as they are)."""
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> "ResultsFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _config_bytes(self) -> bytes:
        doc = {"format_version": FORMAT_VERSION, "columns": self.columns, "key_columns": self.key_columns,
               "config": self.config, "fingerprint": fingerprint(self.config),
               "library_versions": library_versions()}
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
        if not isinstance(old, dict):
            raise ResultsCorruptedError(f"{self.config_path}: unreadable run configuration (not an object)")
        if old_columns != self.columns:
            raise ConfigMismatchError(f"{self.path} has columns {old_columns}, this run writes {self.columns}; {OVERWRITE_HINT}")
        new = dict(self.config)
        if DATA_FIELD in new and DATA_FIELD not in old:
            log.warning("%s predates data checksums; the data files it read cannot be verified", self.path)
            new.pop(DATA_FIELD)
        if fingerprint(old) != fingerprint(new):
            diffs = config_differences(old, new)
            raise ConfigMismatchError(
                f"{self.path} was written by a different configuration; differing fields: " + "; ".join(diffs)
                + f". {OVERWRITE_HINT[0].upper()}{OVERWRITE_HINT[1:]}."
            )
        if not self._versions_warned:  # check() then open() on one file: one warning
            warn_if_versions_differ(stored.get("library_versions"), str(self.path))
            self._versions_warned = True

    def _read_journal(self) -> tuple[list[dict[str, Any]], bool]:
        """Journal entries and whether an incomplete last line was dropped."""
        try:
            lines = self.journal_path.read_text().splitlines()
        except FileNotFoundError:
            raise ResultsCorruptedError(f"{self.journal_path} is missing; cannot tell which rows of {self.path} are complete") from None
        except UnicodeDecodeError:
            raise ResultsCorruptedError(f"{self.journal_path}: not a journal (not text)") from None
        entries = []
        for no, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                e = json.loads(line)
                entry = {"key": tuple(str(k) for k in e["key"]), "rows": int(e["rows"]), "end": int(e["end"])}
                if "sha256" in e:
                    entry["sha256"] = str(e["sha256"])
                entries.append(entry)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                if no == len(lines):  # an interrupted journal write: its block was never written
                    log.warning("%s: ignoring an incomplete last line", self.journal_path)
                    return entries, True
                raise ResultsCorruptedError(f"{self.journal_path} line {no}: not a journal entry: {line[:80]!r}") from None
        return entries, False

    def _load_and_repair(self) -> None:
        entries, journal_torn = self._read_journal()
        data = self.path.read_bytes()
        header = self.header
        if not data.startswith(header):
            first = data.split(b"\n", 1)[0][:200]
            raise ResultsCorruptedError(f"{self.path}: header {first!r} differs from the expected {header.strip()!r}")
        done: dict[tuple[str, ...], int] = {}
        prev = len(header)
        torn_entry = False
        for i, e in enumerate(entries):
            if e["key"] in done:
                raise ResultsCorruptedError(f"{self.journal_path}: key {list(e['key'])} committed twice")
            if e["end"] <= prev and e["rows"] > 0:
                raise ResultsCorruptedError(f"{self.journal_path}: entry {i + 1} ends at byte {e['end']}, before its block starts")
            if e["end"] > len(data):
                if i == len(entries) - 1 and "sha256" in e:  # journalled, then killed while writing the block
                    torn_entry = True
                    break
                raise ResultsCorruptedError(
                    f"{self.path} has {len(data)} bytes but its journal records {e['end']} committed bytes "
                    f"(line {_line_of(data, len(data))}: file truncated?)"
                )
            block = data[prev:e["end"]]
            lines = f"line {_line_of(data, prev)}" + (f"-{_line_of(data, e['end'] - 1)}" if e["rows"] > 1 else "")
            if not block.endswith(b"\n") or ("sha256" in e and _sha(block) != e["sha256"]):
                raise ResultsCorruptedError(
                    f"{self.path} {lines} (task {list(e['key'])}): the rows differ from what the journal recorded "
                    f"(edited or damaged); {OVERWRITE_HINT}"
                )
            done[e["key"]] = e["rows"]
            prev = e["end"]
        committed = prev
        tail = data[committed:]
        legacy = bool(entries) and "sha256" not in entries[-1]  # journal line written after its block
        torn_fragment = b"\n" not in tail if not legacy else not tail.endswith(b"\n")
        if tail and not torn_entry and not torn_fragment:
            raise ResultsCorruptedError(
                f"{self.path} line {_line_of(data, committed)}: {len(tail)} bytes that the journal does not cover "
                f"(complete rows or notes, not an interrupted append); {OVERWRITE_HINT}"
            )
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
        if tail:
            log.warning("%s: removing %d bytes of an interrupted append (line %d)", self.path, len(tail),
                        _line_of(data, committed))
            with open(self.path, "r+b") as fh:
                fh.truncate(committed)
                fh.flush()
                os.fsync(fh.fileno())
        if torn_entry or journal_torn:
            kept = entries[:-1] if torn_entry else entries
            text = "".join(json.dumps({"key": list(e["key"]), "rows": e["rows"], "end": e["end"],
                                       **({"sha256": e["sha256"]} if "sha256" in e else {})}) + "\n" for e in kept)
            _atomic_write(self.journal_path, text.encode())
        self._done = done
        self._size = committed

    def _parse(self, data: bytes) -> pd.DataFrame:
        try:
            frame = pd.read_csv(io.BytesIO(data), dtype={k: str for k in self.key_columns}, keep_default_na=False,
                                na_values=[""], float_precision="round_trip")
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise ResultsCorruptedError(f"{self.path}: unreadable CSV ({exc})") from None
        if list(frame.columns) != self.columns:
            raise ResultsCorruptedError(f"{self.path}: columns {list(frame.columns)} differ from {self.columns}")
        return frame

    # ------------------------------------------------------------------ writing
    def key_of(self, values: Iterable[Any]) -> tuple[str, ...]:
        return tuple(_key_text(values))

    def append(self, key: Sequence[Any], rows: pd.DataFrame) -> None:
        """Commit the rows of one task: journal entry (fsynced) first, then one write + fsync."""
        key_t = self.key_of(key)
        if key_t in self._done:
            raise ValueError(f"{self.path}: key {key_t} is already committed")
        if list(rows.columns) != self.columns:
            raise ValueError(f"rows have columns {list(rows.columns)}, expected {self.columns}")
        block = rows.to_csv(header=False, index=False, lineterminator="\n").encode()
        end = self._size + len(block)
        with open(self.journal_path, "a") as fh:
            fh.write(_entry_line(key_t, len(rows), end, block) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, block)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._size = end
        self._done[key_t] = len(rows)
        self._appended += 1

    @property
    def done(self) -> set[tuple[str, ...]]:
        return set(self._done)

    def read(self) -> pd.DataFrame:
        return self._parse(self.path.read_bytes())

    def finalize(self, key_order: Sequence[Sequence[Any]]) -> None:
        """Rewrite the CSV with blocks in ``key_order`` (then any others), atomically.

        Nothing is rewritten when this session appended nothing and the blocks are in order
        already, so resuming a finished run leaves every byte as it was.
        """
        data = self.path.read_bytes()
        frame = self._parse(data)
        rank = {self.key_of(k): i for i, k in enumerate(key_order)}
        keys = [self.key_of(r) for r in frame[self.key_columns].itertuples(index=False, name=None)]
        order = [rank.get(k, len(rank)) for k in keys]
        if self._appended == 0 and order == sorted(order):
            return
        frame["_order"] = order
        frame = frame.sort_values("_order", kind="stable").drop(columns="_order")
        body = frame.to_csv(index=False, lineterminator="\n").encode()
        lines = []
        size = len(self.header)
        for key, block in frame.groupby(self.key_columns, sort=False):
            text = block.to_csv(header=False, index=False, lineterminator="\n").encode()
            size += len(text)
            lines.append(_entry_line(_key_text(key if isinstance(key, tuple) else (key,)), len(block), size, text))
        if size != len(body):  # the blocks must tile the body exactly, or the journal would lie
            raise ResultsCorruptedError(f"{self.path}: re-serialised blocks ({size} bytes) do not tile the file ({len(body)} bytes)")
        _atomic_write(self.path, body)
        _atomic_write(self.journal_path, ("\n".join(lines) + "\n").encode() if lines else b"")
        self._size = len(body)
        self._appended = 0
