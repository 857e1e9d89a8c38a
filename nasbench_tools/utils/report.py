"""Report helpers of every experiment: a results CSV read back checked for its columns, tables
written as CSV + Markdown, figures written with the table they are drawn from, all atomically.

Figures go through :mod:`.figures` (object-oriented matplotlib, no backend switch, imported only
when a figure is made), so importing a report module costs no plotting library.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..errors import DataFormatError
from .figures import save_figure
from .io import atomic_write, write_csv_atomic

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

#: Format of the float cells of Markdown tables unless a table asks for another.
FLOAT_FORMAT = "{:.3f}"


def read_results(path: str | Path, columns: Sequence[str], what: str, *, run_command: str | None = None) -> pd.DataFrame:
    """The results CSV at ``path``, checked for ``columns``; one-line errors naming the file.

    ``what`` names the experiment in the messages ("study", "simulation"). With ``run_command``
    a file without rows (only a header) is refused too, telling the user to run that first.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: {what} results file not found")
    try:
        df = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFormatError(f"{path}: cannot read {what} results ({exc})") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataFormatError(f"{path}: not a {what} results file; missing column(s) {', '.join(missing)}")
    if run_command is not None and len(df) == 0:
        raise DataFormatError(f"{path}: no result rows (only a header); run '{run_command}' first")
    return df


def markdown_table(df: pd.DataFrame, float_format: str = FLOAT_FORMAT) -> str:
    """``df`` (index included) as a Markdown table; missing floats are empty cells."""
    idx_names = [n or "" for n in (df.index.names if df.index.nlevels > 1 else [df.index.name])]
    header = idx_names + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for idx, row in df.iterrows():
        idx_vals = list(idx) if isinstance(idx, tuple) else [idx]
        cells = [str(v) for v in idx_vals] + [_cell(v, float_format) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: object, float_format: str) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else float_format.format(value)
    return str(value)


def write_table(df: pd.DataFrame, out: Path, name: str, float_format: str = FLOAT_FORMAT) -> list[Path]:
    """``out/name.csv`` (index included) and ``out/name.md``; returns both paths."""
    csv = write_csv_atomic(df, Path(out) / f"{name}.csv", index=True)
    md = Path(out) / f"{name}.md"
    with atomic_write(md) as fh:
        fh.write(markdown_table(df, float_format) + "\n")
    return [csv, md]


def save_figure_with_data(fig: Figure, out: Path, name: str, table: pd.DataFrame) -> list[Path]:
    """The figure (PNG, PDF) and the table it is drawn from (``name.csv``); returns the paths."""
    return save_figure(fig, out, name) + [write_csv_atomic(table, Path(out) / f"{name}.csv")]
