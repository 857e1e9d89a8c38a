"""Figures without global state: object-oriented matplotlib (no pyplot, no backend switch at
import), written atomically, imported only when a figure is made (the ``report`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from ..errors import require
from .io import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Resolution of PNG figures.
FIG_DPI = 150
#: Formats every figure is written in.
FIG_FORMATS = ("png", "pdf")


def subplots(*args: Any, figsize: tuple[float, float] = (6.4, 4.8), **kwargs: Any) -> tuple["Figure", Any]:
    """``(figure, axes)`` like ``pyplot.subplots`` but on a free-standing ``Figure`` (Agg canvas),
    so nothing is registered in pyplot's global figure list and no backend is switched."""
    require("matplotlib", "figures")
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)


def colormap(name: str) -> Any:
    """A registered matplotlib colormap by name."""
    matplotlib = require("matplotlib", "figures")
    return matplotlib.colormaps[name]  # type: ignore[attr-defined]


def save_figure(fig: "Figure", out: Path, name: str, formats: Iterable[str] = FIG_FORMATS,
                dpi: int = FIG_DPI) -> list[Path]:
    """Write ``out/name.<ext>`` for every format through a temp file + rename; returns the paths."""
    paths = []
    for ext in formats:
        path = Path(out) / f"{name}.{ext}"
        with atomic_write(path, "wb") as fh:
            fig.savefig(fh, format=ext, dpi=dpi, bbox_inches="tight")
        paths.append(path)
    return paths
