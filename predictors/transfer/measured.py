"""A user's measured CSV: column ``arch`` (any string format of the space) and one numeric column.

Every problem is reported in one line naming the file, the line and the value: unknown or
malformed architectures, duplicates, missing or non-positive measurements, too few rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nasbench_tools.errors import DataFormatError, InvalidArchitectureError
from nasbench_tools.spaces import SearchSpace

ARCH_COLUMN = "arch"
#: Fewest measured architectures a transfer predictor is fitted on.
MIN_MEASURED = 3
#: CSV line of the first data row (line 1 is the header).
_FIRST_LINE = 2


@dataclass(frozen=True)
class Measured:
    """Canonical indices of the measured architectures, their values and the value column."""

    index: np.ndarray
    values: np.ndarray
    column: str


def read_measured(path: str | Path, space: SearchSpace, min_rows: int = MIN_MEASURED) -> Measured:
    """Read and check a measured CSV (see the module docstring)."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype={ARCH_COLUMN: str}, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{path}: cannot read the measured CSV ({type(exc).__name__}: {exc})") from None
    if ARCH_COLUMN not in df.columns:
        raise DataFormatError(f"{path}: no column {ARCH_COLUMN!r}; found {', '.join(map(str, df.columns))}")
    others = [c for c in df.columns if c not in (ARCH_COLUMN, "space")]
    if len(others) != 1:
        raise DataFormatError(f"{path}: expected exactly one measurement column besides {ARCH_COLUMN!r}, "
                              f"found {others}")
    column = str(others[0])
    if len(df) < min_rows:
        raise DataFormatError(f"{path}: {len(df)} measured architecture(s); at least {min_rows} are needed")
    index = np.empty(len(df), dtype=np.int64)
    values = np.empty(len(df), dtype=np.float64)
    seen: dict[int, int] = {}
    for row, (text, raw) in enumerate(zip(df[ARCH_COLUMN], df[column])):
        line = row + _FIRST_LINE
        text = "" if pd.isna(text) else str(text).strip()
        style = space.detect_format(text) if text else None
        if style is None:
            raise DataFormatError(f"{path}: line {line}: malformed architecture {text!r}; expected a {space.name} "
                                  f"string in one of the formats {', '.join(space.formats)}")
        try:
            idx = int(space.parse_index([text], style)[0])
        except InvalidArchitectureError as exc:
            raise DataFormatError(f"{path}: line {line}: unknown architecture {text!r} ({exc})") from None
        if idx in seen:
            raise DataFormatError(f"{path}: line {line}: architecture {text!r} duplicates line {seen[idx]}")
        seen[idx] = line
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = float("nan")
        if not np.isfinite(value) or value <= 0:
            raise DataFormatError(f"{path}: line {line}: {column}={raw!r} for {text!r}; expected a positive number")
        index[row], values[row] = idx, value
    return Measured(index, values, column)
