"""Which architectures to measure: ``all``, ``random:N[:SEED]`` or a file of architecture strings."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from ..errors import DataFormatError, InvalidArchitectureError
from ..spaces import OPS_DTYPE, SearchSpace

_RANDOM = re.compile(r"random:(\d+)(?::(\d+))?")
#: Column of an architecture CSV (the custom-table column).
ARCH_COLUMN = "arch"
COMMENT = "#"


def select_architectures(space: SearchSpace, spec: str) -> np.ndarray:
    """Op-code rows named by ``spec``: ``all`` (canonical order), ``random:N`` / ``random:N:SEED``
    (N distinct architectures drawn with seed SEED, default 0), or a path to a file with one
    architecture string per line (any format of the space; ``#`` comments) or a CSV with an
    ``arch`` column."""
    spec = spec.strip()
    if spec == "all":
        return space.enumerate()
    m = _RANDOM.fullmatch(spec)
    if m:
        n, seed = int(m.group(1)), int(m.group(2) or 0)
        if not 1 <= n <= space.size:
            raise ValueError(f"--archs {spec}: N must be between 1 and the space size {space.size}, got {n}")
        idx = np.random.default_rng(seed).choice(space.size, size=n, replace=False)
        return space.arch(idx)
    if spec.startswith("random"):
        raise ValueError(f"--archs {spec!r}: expected random:N or random:N:SEED (e.g. random:100:0)")
    return read_architecture_file(space, Path(spec))


def read_architecture_file(space: SearchSpace, path: Path) -> np.ndarray:
    """Architectures of ``space`` listed in ``path`` (text lines or a CSV with column ``arch``)."""
    if not path.is_file():
        raise DataFormatError(f"--archs: {path} is neither 'all', 'random:N[:SEED]' nor an existing file")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{path}: cannot read the architecture file ({exc})") from None
    lines = text.splitlines()
    first = next((ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith(COMMENT)), None)
    if first is None:
        raise DataFormatError(f"{path}: no architectures (the file is empty or only comments)")
    entries: list[tuple[int, str]] = []
    if first.split(",")[0].strip() == ARCH_COLUMN:
        reader = csv.DictReader(ln for ln in lines if not ln.lstrip().startswith(COMMENT))
        for no, rec in enumerate(reader, 2):
            value = (rec.get(ARCH_COLUMN) or "").strip()
            if not value:
                raise DataFormatError(f"{path} line {no}: empty '{ARCH_COLUMN}' cell")
            entries.append((no, value))
    else:
        entries = [(no, ln.strip()) for no, ln in enumerate(lines, 1)
                   if ln.strip() and not ln.lstrip().startswith(COMMENT)]
    rows = []
    for no, value in entries:
        try:
            rows.append(space.parse([value])[0])
        except (InvalidArchitectureError, ValueError) as exc:
            raise DataFormatError(
                f"{path} line {no}: {value!r} is not a {space.name} architecture ({exc}); expected one of the "
                f"formats {', '.join(space.formats)}"
            ) from None
    ops = np.asarray(rows, dtype=OPS_DTYPE)
    codes = space.index(ops)
    uniq, counts = np.unique(codes, return_counts=True)
    if (counts > 1).any():
        dup = int(uniq[np.argmax(counts > 1)])
        where = [entries[i][0] for i in np.flatnonzero(codes == dup)]
        raise DataFormatError(f"{path}: architecture {space.format(space.arch([dup]))[0]} is listed twice (lines {where})")
    return ops
