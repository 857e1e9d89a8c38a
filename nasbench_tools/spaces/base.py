"""Finite search spaces: every architecture is one op code per slot.

The canonical representation of an architecture is a row of small integers (one op code per
slot, codes index :attr:`SearchSpace.op_names`).  The canonical *order* of a space is the
lexicographic order of these rows (slot 0 most significant), so the canonical index of an
architecture is computed arithmetically and looked up in one vectorised step.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Sequence

import numpy as np

from ..errors import InvalidArchitectureError, UnknownNameError
from .capabilities import NO_CAPABILITIES, SpaceCapabilities
from .formats import DIGIT_TOKENS, ArchFormat, TokenTemplate, tuple_format

__all__ = ["DIGIT_TOKENS", "OPS_DTYPE", "ArchFormat", "LutBaseline", "SearchSpace", "TokenTemplate", "tuple_format"]

#: dtype of canonical op-code arrays (all spaces have fewer than 128 ops).
OPS_DTYPE = np.int8


@dataclass(frozen=True)
class LutBaseline:
    """One baseline of a lookup table and the slots whose single-op changes it measures."""

    arch: tuple[int, ...]
    slots: tuple[int, ...]


class SearchSpace:
    """A finite space of architectures with a canonical representation and order.

    Parameters
    ----------
    name: registry name, e.g. ``"nb201"``.
    slot_names: one name per slot (an edge of a cell, a layer of a macro network).
    op_names: the op vocabulary; op codes index it.
    allowed_ops: per slot the op codes it may take (default: all).
    edges: for cell spaces the ``(source, destination)`` node of every slot; ``None`` for
        sequential (macro) spaces.
    capabilities: what the toolkit can do with the space beyond enumerating, encoding and
        predicting (networks, super-network, latency, benchmarks); default: nothing more.
    """

    def __init__(
        self,
        name: str,
        slot_names: Sequence[str],
        op_names: Sequence[str],
        allowed_ops: Sequence[Sequence[int]] | None = None,
        edges: Sequence[tuple[int, int]] | None = None,
        description: str = "",
        capabilities: SpaceCapabilities = NO_CAPABILITIES,
    ) -> None:
        self.name = name
        self.capabilities = capabilities
        self.slot_names = tuple(slot_names)
        self.op_names = tuple(op_names)
        self.description = description
        if allowed_ops is None:
            allowed_ops = [range(len(self.op_names))] * len(self.slot_names)
        self.allowed_ops = tuple(tuple(int(o) for o in ops) for ops in allowed_ops)
        if len(self.allowed_ops) != len(self.slot_names):
            raise ValueError("allowed_ops needs one entry per slot")
        self.edges = None if edges is None else tuple((int(a), int(b)) for a, b in edges)
        self._formats: dict[str, ArchFormat] = {}

    # ------------------------------------------------------------------ basic facts
    @property
    def n_slots(self) -> int:
        return len(self.slot_names)

    @property
    def n_ops(self) -> int:
        """Size of the op vocabulary (the width of one slot in the one-hot encoding)."""
        return len(self.op_names)

    @property
    def is_cell(self) -> bool:
        return self.edges is not None

    @property
    def n_nodes(self) -> int:
        """Number of nodes of a cell (0 for sequential spaces)."""
        return 0 if self.edges is None else 1 + max(max(e) for e in self.edges)

    def __repr__(self) -> str:
        return f"<SearchSpace {self.name}: {self.n_slots} slots, {self.size} architectures>"

    # ------------------------------------------------------------ hooks for subclasses
    def _constraint(self, ops: np.ndarray) -> np.ndarray:
        """Boolean mask of rows that satisfy space-specific rules beyond ``allowed_ops``."""
        return np.ones(len(ops), dtype=bool)

    def _explain_constraint(self, row: np.ndarray) -> str:
        """Why one row violates the space-specific rules (only called when it does)."""
        return "violates the space's rules"

    # ------------------------------------------------------------------ enumeration
    @cached_property
    def _radix(self) -> np.ndarray:
        return self.n_ops ** np.arange(self.n_slots - 1, -1, -1, dtype=np.int64)

    @cached_property
    def _archs(self) -> np.ndarray:
        grids = np.meshgrid(*[np.asarray(a, dtype=OPS_DTYPE) for a in self.allowed_ops], indexing="ij")
        rows = np.stack([g.ravel() for g in grids], axis=1)
        rows = rows[self._constraint(rows)]
        rows.setflags(write=False)
        return rows

    @cached_property
    def _rank(self) -> np.ndarray:
        rank = np.full(self.n_ops**self.n_slots, -1, dtype=np.int32)
        rank[self.codes(self._archs)] = np.arange(len(self._archs), dtype=np.int32)
        return rank

    @property
    def size(self) -> int:
        return len(self._archs)

    def enumerate(self) -> np.ndarray:
        """All architectures, shape ``(size, n_slots)``, in canonical order (read-only)."""
        return self._archs

    def codes(self, ops: np.ndarray) -> np.ndarray:
        """Mixed-radix code of each row (monotone in the canonical order)."""
        return np.asarray(ops, dtype=np.int64) @ self._radix

    # ------------------------------------------------------------------- validation
    def _as_rows(self, ops: np.ndarray | Sequence[int] | Sequence[Sequence[int]]) -> np.ndarray:
        arr = np.asarray(ops)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.n_slots:
            raise InvalidArchitectureError(
                f"{self.name}: expected op codes of shape (n, {self.n_slots}), got shape {np.shape(ops)}"
            )
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
                raise InvalidArchitectureError(f"{self.name}: op codes must be integers, got {arr.dtype}")
        return arr.astype(np.int64, copy=False)

    def is_valid(self, ops: np.ndarray) -> np.ndarray:
        """Boolean mask: which rows are architectures of this space."""
        arr = self._as_rows(ops)
        ok = np.all((arr >= 0) & (arr < self.n_ops), axis=1)
        idx = np.full(len(arr), -1, dtype=np.int64)
        idx[ok] = self._rank[self.codes(arr[ok])]
        return idx >= 0

    def explain_invalid(self, row: Sequence[int]) -> str:
        """A human-readable reason why ``row`` is not in the space ('' if it is)."""
        row = np.asarray(row, dtype=np.int64)
        if row.shape != (self.n_slots,):
            return f"expected {self.n_slots} op codes, got {row.size}"
        for s, (op, allowed) in enumerate(zip(row, self.allowed_ops)):
            if op not in allowed:
                names = ", ".join(f"{a}={self.op_names[a]}" for a in allowed)
                return f"slot {s} ({self.slot_names[s]}) has op code {op}; expected one of {names}"
        if not self._constraint(row[None, :])[0]:
            return self._explain_constraint(row)
        return ""

    def validate(self, ops: np.ndarray | Sequence) -> np.ndarray:
        """Return ``ops`` as a canonical ``(n, n_slots)`` array; raise on the first invalid row."""
        arr = self._as_rows(ops)
        bad = np.flatnonzero(~self.is_valid(arr))
        if bad.size:
            i = int(bad[0])
            raise InvalidArchitectureError(
                f"{self.name}: architecture {tuple(int(v) for v in arr[i])} (row {i}) is invalid: "
                f"{self.explain_invalid(arr[i])}" + (f" ({bad.size} invalid rows in total)" if bad.size > 1 else "")
            )
        return arr.astype(OPS_DTYPE)

    def index(self, ops: np.ndarray | Sequence) -> np.ndarray:
        """Canonical index of each architecture (vectorised)."""
        arr = self.validate(ops)
        return self._rank[self.codes(arr)].astype(np.int64)

    def arch(self, index: int | np.ndarray) -> np.ndarray:
        """Op codes of the architecture(s) at canonical ``index``."""
        idx = np.asarray(index)
        if np.any((idx < 0) | (idx >= self.size)):
            raise InvalidArchitectureError(f"{self.name}: index out of range 0..{self.size - 1}: {index}")
        return self._archs[idx]

    def sample(self, n: int, rng: np.random.Generator, replace: bool = False) -> np.ndarray:
        """Canonical indices of ``n`` uniformly drawn architectures."""
        if not replace and n > self.size:
            raise ValueError(f"{self.name}: cannot draw {n} distinct architectures from {self.size}")
        return rng.choice(self.size, size=n, replace=replace)

    # ------------------------------------------------------------------- neighbours
    def op_counts(self, ops: np.ndarray | Sequence) -> np.ndarray:
        """``(n, n_ops)``: how many slots of each architecture hold each op (the encoding a device
        sees when an op costs the same in every slot, as on NB201's equal-width cell edges)."""
        rows = self._as_rows(ops)
        return (rows[:, :, None] == np.arange(self.n_ops)).sum(axis=1)

    def neighbours(self, ops: Sequence[int]) -> np.ndarray:
        """All valid architectures that differ from ``ops`` in exactly one slot."""
        row = self.validate(ops)[0]
        cands = []
        for s, allowed in enumerate(self.allowed_ops):
            for op in allowed:
                if op != row[s]:
                    c = row.copy()
                    c[s] = op
                    cands.append(c)
        if not cands:
            return np.empty((0, self.n_slots), dtype=OPS_DTYPE)
        cands_arr = np.stack(cands)
        return cands_arr[self.is_valid(cands_arr)]

    # ----------------------------------------------------------------- lookup table
    def lut_baselines(self) -> tuple[LutBaseline, ...]:
        """Baselines of the neighbour-difference lookup table; the first is the reference.

        Default: one baseline, the first architecture in canonical order, varying every slot.
        """
        return (LutBaseline(tuple(int(v) for v in self._archs[0]), tuple(range(self.n_slots))),)

    def lut_architectures(self) -> np.ndarray:
        """The architectures a lookup table measures (reference first, no duplicates)."""
        bases = self.lut_baselines()
        ref = np.asarray(bases[0].arch, dtype=OPS_DTYPE)
        rows = [ref]
        for base in bases:
            b = np.asarray(base.arch, dtype=OPS_DTYPE)
            rows.append(b)
            for s in base.slots:
                for op in self.allowed_ops[s]:
                    c = b.copy()
                    c[s] = op
                    rows.append(c)
        arr = self.validate(np.stack(rows))
        _, first = np.unique(self.codes(arr), return_index=True)
        return arr[np.sort(first)]

    # ---------------------------------------------------------------------- strings
    def add_format(self, fmt: ArchFormat, default: bool = False) -> None:
        self._formats[fmt.name] = fmt
        if default or len(self._formats) == 1:
            self._default_format = fmt.name

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(self._formats)

    @property
    def default_format(self) -> str:
        return self._default_format

    def _get_format(self, style: str | None) -> ArchFormat:
        style = self._default_format if style is None else style
        try:
            return self._formats[style]
        except KeyError:
            raise UnknownNameError(
                f"{self.name}: unknown architecture format {style!r}; known: {', '.join(self._formats)}"
            ) from None

    def format(self, ops: np.ndarray | Sequence, style: str | None = None) -> list[str]:
        """Architecture strings of ``ops`` rows in format ``style`` (default: the space's)."""
        fmt = self._get_format(style)
        return fmt.format_rows(self.validate(ops))

    def detect_format(self, text: str) -> str | None:
        """The unambiguous format ``text`` is written in, or None."""
        hits = [f.name for f in self._formats.values() if f.matches(text)]
        return hits[0] if len(hits) == 1 else None

    def _lookup(self, style: str) -> dict[str, int]:
        cache = self.__dict__.setdefault("_lookup_cache", {})
        if style not in cache:
            fmt = self._formats[style]
            cache[style] = {text: i for i, text in enumerate(fmt.format_rows(self._archs))}
        return cache[style]

    def parse(self, texts: str | Iterable[str], style: str | None = None) -> np.ndarray:
        """Op codes of architecture strings, shape ``(n, n_slots)``.

        ``style=None`` detects the format from the first string; tuple texts must name it.
        """
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if not texts:
            return np.empty((0, self.n_slots), dtype=OPS_DTYPE)
        if style is None:
            style = self.detect_format(str(texts[0]))
            if style is None:
                raise InvalidArchitectureError(
                    f"{self.name}: cannot tell the format of architecture string {texts[0]!r}; "
                    f"name it with style= one of {', '.join(self._formats)}"
                )
        return self._archs[self.parse_index(texts, style)]

    def parse_index(self, texts: Iterable[str], style: str) -> np.ndarray:
        """Canonical indices of architecture strings in format ``style``."""
        fmt = self._get_format(style)
        table = self._lookup(fmt.name)
        out = np.empty(len(texts := list(texts)), dtype=np.int64)
        for i, t in enumerate(texts):
            j = table.get(t)
            if j is None:
                j = self._parse_slow(fmt, t)
            out[i] = j
        return out

    def _parse_slow(self, fmt: ArchFormat, text: str) -> int:
        if not isinstance(text, str):
            raise InvalidArchitectureError(f"{self.name}: architecture must be a string, got {text!r}")
        try:
            row = np.asarray(fmt.parse_one(text.strip()), dtype=np.int64)
        except (ValueError, IndexError, KeyError) as exc:
            raise InvalidArchitectureError(
                f"{self.name}: {text!r} is not a valid {fmt.name!r} architecture string "
                f"({fmt.description}): {exc}"
            ) from None
        why = self.explain_invalid(row)
        if why:
            raise InvalidArchitectureError(f"{self.name}: {text!r} is not in the space: {why}")
        return int(self.index(row)[0])
