"""String formats of architectures: how a space writes an op-code row and reads it back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

#: Op codes written as single digits (formats that spell codes, not names).
DIGIT_TOKENS = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class ArchFormat:
    """A string format of architectures: how to write one and how to read one back.

    ``detect`` is True only for formats that can be recognised without ambiguity; tuple texts
    (several spaces use different code conventions) must be named explicitly.
    """

    name: str
    format_one: Callable[[np.ndarray], str]
    parse_one: Callable[[str], Sequence[int]]
    pattern: re.Pattern[str] | None = None
    description: str = ""
    #: Vectorised ``format_one`` over rows ``(n, n_slots)`` (optional; building a space's string
    #: lookup table is then a few array operations instead of one Python call per architecture).
    format_many: Callable[[np.ndarray], list[str]] | None = None

    def matches(self, text: str) -> bool:
        return self.pattern is not None and self.pattern.fullmatch(text.strip()) is not None

    def format_rows(self, rows: np.ndarray) -> list[str]:
        """Every row written in this format."""
        if self.format_many is not None:
            return self.format_many(rows)
        return [self.format_one(r) for r in rows]


@dataclass(frozen=True)
class TokenTemplate:
    """A string format that writes each slot's op code as a token between fixed literals:
    ``literals[0] + token(slot_order[0]) + literals[1] + ... + literals[-1]``.

    ``tokens[i][code]`` is the text of op ``code`` at position ``i``. Formatting many rows is a
    handful of element-wise concatenations of object arrays (no per-row Python call).
    """

    slot_order: tuple[int, ...]
    tokens: tuple[tuple[str, ...], ...]
    literals: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.slot_order) or len(self.literals) != len(self.slot_order) + 1:
            raise ValueError("a token template needs one token table per slot and one literal more than slots")

    def one(self, row: np.ndarray) -> str:
        parts = [self.literals[0]]
        for pos, slot in enumerate(self.slot_order):
            parts.append(self.tokens[pos][int(row[slot])])
            parts.append(self.literals[pos + 1])
        return "".join(parts)

    def many(self, rows: np.ndarray) -> list[str]:
        rows = np.asarray(rows)
        out = np.full(len(rows), self.literals[0], dtype=object)
        for pos, slot in enumerate(self.slot_order):
            out = out + np.asarray(self.tokens[pos], dtype=object)[rows[:, slot]] + self.literals[pos + 1]
        return out.tolist()


# ------------------------------------------------------------------ shared format pieces
def tuple_format(n_slots: int, name: str = "ops", description: str = "") -> ArchFormat:
    """A tuple text of op codes, e.g. ``(0, 1, 2)`` (never auto-detected)."""

    def fmt(row: np.ndarray) -> str:
        return "(" + ", ".join(str(int(v)) for v in row) + ")"

    def parse(text: str) -> list[int]:
        inner = text.strip()
        if not (inner.startswith("(") and inner.endswith(")")) and not (
            inner.startswith("[") and inner.endswith("]")
        ):
            raise ValueError("expected a parenthesised tuple of integers")
        parts = [p.strip() for p in inner[1:-1].split(",") if p.strip()]
        if len(parts) != n_slots:
            raise ValueError(f"expected {n_slots} op codes, got {len(parts)}")
        return [int(p) for p in parts]

    return ArchFormat(name, fmt, parse, None, description or f"tuple of {n_slots} op codes")
