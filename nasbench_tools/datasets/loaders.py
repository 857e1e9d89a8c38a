"""Parsers of the benchmark files into :class:`BenchmarkTable` (canonical rows and columns).

Every loader receives a path whose checksum was verified already (see ``files.py``) and checks
the structure itself: columns, row counts, architecture strings, duplicates.
"""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import DataFormatError, InvalidArchitectureError
from ..spaces import SearchSpace, available_spaces, benchmark_space, get_space
from .table import BenchmarkTable, check_values

log = logging.getLogger(__name__)

HWNAS_DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
HWNAS_METRICS = (
    "edgegpu_latency", "edgegpu_energy", "raspi4_latency", "edgetpu_latency", "pixel3_latency",
    "eyeriss_latency", "eyeriss_energy", "eyeriss_arithmetic_intensity", "fpga_latency", "fpga_energy",
)
#: HW-NAS-Bench marks missing EdgeTPU measurements with this value.
HWNAS_MISSING = -1.0
NB201_SIZE = 15625
NB201_COLUMNS = {
    "CIFAR10TestAccuracy200Epochs": "cifar10/test_accuracy",
    "CIFAR100TestAccuracy200Epochs": "cifar100/test_accuracy",
    "ImageNetTestAccuracy200Epochs": "ImageNet16-120/test_accuracy",
}
NB201_ARCH_COLUMN = "ArchitectureString"
TRANSNAS_TASKS = ("class_scene", "class_object", "room_layout", "jigsaw", "segmentsemantic", "normal", "autoencoder")
TRANSNAS_MACRO_METRICS = ("inference_time", "test_loss")
TRANSNAS_LOSS_KEYS = ("test_loss", "test_l1_loss")
NBMACRO_FIELDS = {"mean_acc": "cifar10/test_accuracy", "params": "cifar10/params", "flops": "cifar10/flops"}


# ------------------------------------------------------------------------------ helpers
def read_csv(path: Path, required: Sequence[str], n_rows: int | None = None,
             dtypes: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Read a CSV, naming the file and the problem when it is malformed."""
    try:
        df = pd.read_csv(path, dtype=dtypes, float_precision="round_trip")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise DataFormatError(f"{path}: malformed CSV ({exc})") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataFormatError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}"
        )
    if n_rows is not None and len(df) != n_rows:
        raise DataFormatError(f"{path}: expected {n_rows} rows, found {len(df)} (truncated or wrong file?)")
    return df


def numeric_columns(df: pd.DataFrame, columns: Iterable[str], path: Path | str) -> pd.DataFrame:
    """The given columns as float64; a non-numeric cell is reported with its row and column."""
    out = {}
    for c in columns:
        col = pd.to_numeric(df[c], errors="coerce")
        bad = col.isna() & df[c].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataFormatError(f"{path}: column {c!r} row {i + 2} holds {df[c].iloc[i]!r}; expected a finite number")
        out[c] = col.astype(np.float64)
        check_values(out[c].to_numpy(), str(path), c, lambda i: f"row {i + 2}")
    return pd.DataFrame(out)


def arch_indices(space: SearchSpace, texts: Sequence[str], style: str | None, path: Path | str,
                 column: str = "architecture") -> np.ndarray:
    """Canonical indices of architecture strings, failing on unknown or duplicated entries."""
    texts = [str(t) for t in texts]
    if style is None and texts:
        style = space.detect_format(texts[0])
        if style is None:
            raise DataFormatError(
                f"{path}: cannot tell the format of {column} {texts[0]!r} in space {space.name}; "
                f"expected one of the formats {', '.join(space.formats)}"
            )
    try:
        idx = space.parse_index(texts, style)  # type: ignore[arg-type]
    except InvalidArchitectureError as exc:
        raise DataFormatError(f"{path}: column {column!r}: {exc}") from None
    counts = np.bincount(idx, minlength=space.size)
    if counts.max(initial=0) > 1:
        dup = int(np.argmax(counts))
        rows = (np.flatnonzero(idx == dup) + 2).tolist()
        raise DataFormatError(
            f"{path}: architecture {space.format(space.arch(dup))[0]} appears {counts[dup]} times "
            f"(lines {rows}); expected each architecture once"
        )
    return idx


def scatter(space: SearchSpace, idx: np.ndarray, values: pd.DataFrame) -> pd.DataFrame:
    """Place rows ``values`` at canonical positions ``idx`` of a full-space table (NaN elsewhere)."""
    full = np.full((space.size, values.shape[1]), np.nan)
    full[idx] = values.to_numpy(dtype=np.float64)
    return pd.DataFrame(full, columns=list(values.columns))


# ------------------------------------------------------------------------------ HW-NAS-Bench
def load_hwnas_csv(paths: Mapping[str, Path]) -> BenchmarkTable:
    """HW-NAS-Bench from the CSV export: one file per image dataset, NASLib tuple strings."""
    space = benchmark_space("hwnas")
    frames = []
    for ds in HWNAS_DATASETS:
        path = paths[ds]
        df = read_csv(path, ("net",) + HWNAS_METRICS, NB201_SIZE, dtypes={"net": str})
        vals = numeric_columns(df, HWNAS_METRICS, path).replace(HWNAS_MISSING, np.nan)
        vals.columns = [f"{ds}/{m}" for m in HWNAS_METRICS]
        idx = arch_indices(space, df["net"].tolist(), "naslib", path, "net")
        frames.append(scatter(space, idx, vals))
    return BenchmarkTable("hwnas", space, pd.concat(frames, axis=1), tuple(str(paths[d]) for d in HWNAS_DATASETS))


class _PlainUnpickler(pickle.Unpickler):
    """Unpickler for benchmark data: builtin containers and numbers only (plus numpy arrays)."""

    _ALLOWED = {
        ("builtins", "dict"), ("builtins", "list"), ("builtins", "tuple"), ("builtins", "set"),
        ("collections", "OrderedDict"), ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a benchmark pickle")
        return super().find_class(module, name)


#: What a malformed nested structure raises while it is walked (reported as DataFormatError).
STRUCTURE_ERRORS = (AttributeError, TypeError, KeyError, IndexError, ValueError, OverflowError)


def _walk(parse: Callable[[dict, Path], BenchmarkTable], raw: dict, path: Path, what: str) -> BenchmarkTable:
    """``parse(raw, path)``; a malformed nested structure becomes one DataFormatError naming the file."""
    try:
        return parse(raw, path)
    except DataFormatError:
        raise
    except STRUCTURE_ERRORS as exc:
        raise DataFormatError(f"{path}: unexpected {what} structure ({type(exc).__name__}: {exc})") from None


def load_hwnas_pickle(path: Path) -> BenchmarkTable:
    """HW-NAS-Bench from the official pickle (``{'nasbench201': {dataset: {metric: [...],
    'config': [{'arch_str': ...}]}}}``); values are joined by each entry's NB201 string."""
    try:
        with open(path, "rb") as fh:
            raw = _PlainUnpickler(fh).load()
    except (pickle.UnpicklingError, EOFError, ValueError, AttributeError, TypeError, IndexError,
            KeyError, MemoryError) as exc:
        raise DataFormatError(f"{path}: not a readable HW-NAS-Bench pickle ({type(exc).__name__}: {exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("nasbench201"), dict):
        raise DataFormatError(f"{path}: expected a dict with a dict under key 'nasbench201'")
    return _walk(_hwnas_from_pickle, raw, path, "HW-NAS-Bench pickle")


def _hwnas_from_pickle(raw: dict, path: Path) -> BenchmarkTable:
    space = benchmark_space("hwnas")
    frames = []
    for ds in HWNAS_DATASETS:
        part = raw["nasbench201"].get(ds)
        if not isinstance(part, dict):
            raise DataFormatError(f"{path}: missing dataset {ds!r} under 'nasbench201'")
        missing = [m for m in HWNAS_METRICS + ("config",) if m not in part]
        if missing:
            raise DataFormatError(f"{path}: nasbench201/{ds} lacks field(s) {', '.join(missing)}")
        try:
            archs = [c["arch_str"] for c in part["config"]]
        except (TypeError, KeyError):
            raise DataFormatError(f"{path}: nasbench201/{ds}/config entries need an 'arch_str'") from None
        cols = {}
        for m in HWNAS_METRICS:
            v = np.asarray(part[m], dtype=np.float64).ravel()
            if len(v) != len(archs):
                raise DataFormatError(
                    f"{path}: nasbench201/{ds}/{m} has {len(v)} values for {len(archs)} architectures"
                )
            cols[f"{ds}/{m}"] = np.where(v == HWNAS_MISSING, np.nan, v)
            check_values(cols[f"{ds}/{m}"], str(path), f"nasbench201/{ds}/{m}", lambda i: f"entry {i}")
        if len(archs) != NB201_SIZE:
            raise DataFormatError(f"{path}: nasbench201/{ds} has {len(archs)} architectures; expected {NB201_SIZE}")
        idx = arch_indices(space, archs, "nb201", path, f"nasbench201/{ds}/config/arch_str")
        frames.append(scatter(space, idx, pd.DataFrame(cols)))
    return BenchmarkTable("hwnas", space, pd.concat(frames, axis=1), (str(path),))


# ------------------------------------------------------------------------------ NAS-Bench-201
def load_nb201(path: Path) -> BenchmarkTable:
    """NAS-Bench-201 200-epoch test accuracies; ``extra['nb201_index']`` keeps the file order."""
    space = benchmark_space("nb201")
    df = read_csv(path, (NB201_ARCH_COLUMN,) + tuple(NB201_COLUMNS), NB201_SIZE, dtypes={NB201_ARCH_COLUMN: str})
    vals = numeric_columns(df, NB201_COLUMNS, path).rename(columns=NB201_COLUMNS)
    idx = arch_indices(space, df[NB201_ARCH_COLUMN].tolist(), "nb201", path, NB201_ARCH_COLUMN)
    extra = pd.DataFrame({"nb201_index": np.full(space.size, -1, dtype=np.int64)})
    extra.loc[idx, "nb201_index"] = np.arange(len(idx))
    return BenchmarkTable("nb201", space, scatter(space, idx, vals), (str(path),), extra)


# ------------------------------------------------------------------------------ TransNAS-Bench-101
def load_transnas_micro(path: Path) -> BenchmarkTable:
    """TransNAS-Bench-101 micro-cell inference times (ms), one column per task."""
    space = benchmark_space("transnas-micro")
    df = read_csv(path, ("arch",) + TRANSNAS_TASKS, space.size, dtypes={"arch": str})
    vals = numeric_columns(df, TRANSNAS_TASKS, path)
    vals.columns = [f"{t}/inference_time" for t in TRANSNAS_TASKS]
    idx = arch_indices(space, df["arch"].tolist(), "transnas", path, "arch")
    return BenchmarkTable("transnas-micro", space, scatter(space, idx, vals), (str(path),))


def load_transnas_macro_names(path: Path) -> np.ndarray:
    """Canonical indices of the official macro architecture list (official order)."""
    space = benchmark_space("transnas-macro")
    df = read_csv(path, ("arch",), space.size, dtypes={"arch": str})
    return arch_indices(space, df["arch"].tolist(), "transnas", path, "arch")


def _final_value(series: Any, where: str) -> float:
    if isinstance(series, (list, tuple)) and series:
        return float(series[-1])
    if isinstance(series, (int, float)):
        return float(series)
    raise DataFormatError(f"{where}: expected a number or a per-epoch list, got {type(series).__name__}")


def load_transnas_official(path: Path) -> BenchmarkTable:
    """TransNAS-Bench-101 macro space from the official ``.pth`` file.

    Columns ``<task>/inference_time`` (``model_info``) and ``<task>/test_loss`` (the last
    epoch of ``test_loss``, or ``test_l1_loss`` for the tasks that report that instead).
    """
    import torch

    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, ValueError, AttributeError, TypeError, KeyError) as exc:
        raise DataFormatError(f"{path}: not a readable TransNAS-Bench-101 file ({exc})") from None
    if not isinstance(raw, dict) or not {"data", "task_list"} <= set(raw):
        raise DataFormatError(f"{path}: expected a dict with keys 'data' and 'task_list'")
    return _walk(_transnas_from_official, raw, path, "TransNAS-Bench-101")


def _transnas_from_official(raw: dict, path: Path) -> BenchmarkTable:
    space = benchmark_space("transnas-macro")
    macro = raw["data"].get("macro") if isinstance(raw["data"], dict) else None
    if not isinstance(macro, dict):
        raise DataFormatError(f"{path}: missing search space 'macro' under 'data'")
    tasks = [t for t in raw["task_list"]]
    names = list(macro)
    idx = arch_indices(space, names, "transnas", path, "data/macro")
    cols: dict[str, np.ndarray] = {}
    for task in tasks:
        inf = np.full(len(names), np.nan)
        loss = np.full(len(names), np.nan)
        for i, name in enumerate(names):
            entry = macro[name].get(task)
            if entry is None:
                continue
            where = f"{path}: data/macro/{name}/{task}"
            info = entry.get("model_info", {})
            if "inference_time" in info:
                inf[i] = _final_value(info["inference_time"], where + "/model_info/inference_time")
            metrics = entry.get("metrics", {})
            for key in TRANSNAS_LOSS_KEYS:
                if key in metrics:
                    loss[i] = _final_value(metrics[key], f"{where}/metrics/{key}")
                    break
        cols[f"{task}/inference_time"] = inf
        cols[f"{task}/test_loss"] = loss
        for c in (f"{task}/inference_time", f"{task}/test_loss"):
            check_values(cols[c], str(path), f"data/macro/*/{c}", lambda i: f"architecture {names[i]!r}")
    return BenchmarkTable("transnas-macro", space, scatter(space, idx, pd.DataFrame(cols)), (str(path),))


# ------------------------------------------------------------------------------ NAS-Bench-Macro
def load_nbmacro(path: Path) -> BenchmarkTable:
    """NAS-Bench-Macro CIFAR-10: mean test accuracy, parameters and FLOPs."""
    space = benchmark_space("nbmacro")
    try:
        raw = json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{path}: malformed JSON ({exc})") from None
    if not isinstance(raw, dict) or len(raw) != space.size:
        n = len(raw) if isinstance(raw, dict) else type(raw).__name__
        raise DataFormatError(f"{path}: expected a dict of {space.size} architectures, found {n}")
    keys = list(raw)
    cols = {}
    for field, column in NBMACRO_FIELDS.items():
        vals = np.empty(len(keys))
        for i, k in enumerate(keys):
            entry = raw[k]
            if not isinstance(entry, dict) or field not in entry:
                raise DataFormatError(f"{path}: entry {k!r} lacks the field {field!r}")
            try:
                vals[i] = float(entry[field])
            except (TypeError, ValueError):
                raise DataFormatError(f"{path}: entry {k!r} field {field!r} is {entry[field]!r}; expected a number") from None
        check_values(vals, str(path), field, lambda i: f"entry {keys[i]!r}")
        cols[column] = vals
    idx = arch_indices(space, keys, "nbmacro", path, "key")
    return BenchmarkTable("nbmacro", space, scatter(space, idx, pd.DataFrame(cols)), (str(path),))


# ------------------------------------------------------------------------------ custom tables
#: Columns of a custom table that are not metrics.
CUSTOM_ARCH_COLUMN = "arch"
CUSTOM_SPACE_COLUMN = "space"


def _mostly_numeric(column: pd.Series) -> bool:
    """Whether more than half of a text column's non-empty cells are numbers (a metric column with
    a few bad cells such as ``12.3ms``, which must be reported, not silently dropped)."""
    cells = column.dropna()
    if cells.empty:
        return False
    return bool(pd.to_numeric(cells, errors="coerce").notna().mean() > 0.5)


def detect_space(text: str) -> str | None:
    """The first known search space (built-in order, then spaces registered with
    :func:`~nasbench_tools.spaces.use_spaces`) whose formats recognise ``text``."""
    for name in available_spaces():
        if get_space(name).detect_format(text) is not None:
            return name
    return None


def load_custom(path: Path, name: str, space_name: str | None = None) -> BenchmarkTable:
    """A user's CSV: column ``arch`` (any detectable string format), optional ``space``, and
    numeric metric columns (text columns are kept out as metadata).  Columns become
    ``custom/<name>/<column>``; architectures not in the file are NaN."""
    df = read_csv(path, (CUSTOM_ARCH_COLUMN,), dtypes={CUSTOM_ARCH_COLUMN: str})
    if len(df) == 0:
        raise DataFormatError(f"{path}: custom table has no rows")
    if space_name is None and CUSTOM_SPACE_COLUMN in df.columns:
        names = df[CUSTOM_SPACE_COLUMN].dropna().unique()
        if len(names) != 1:
            raise DataFormatError(f"{path}: column 'space' must hold one search space, found {list(names)}")
        space_name = str(names[0])
    if space_name is None:
        space_name = detect_space(str(df[CUSTOM_ARCH_COLUMN].iloc[0]))
        if space_name is None:
            raise DataFormatError(
                f"{path}: cannot tell the search space of architecture {df[CUSTOM_ARCH_COLUMN].iloc[0]!r}; "
                f"add a 'space' column naming one of {', '.join(available_spaces())}"
            )
    space = get_space(space_name)
    metric_cols = []
    for c in df.columns:
        if c in (CUSTOM_ARCH_COLUMN, CUSTOM_SPACE_COLUMN):
            continue
        if pd.api.types.is_numeric_dtype(df[c]) or _mostly_numeric(df[c]):
            metric_cols.append(c)  # a bad cell of a mostly numeric column is named by numeric_columns
        else:
            log.info("%s: column %r is not numeric; kept out of the metrics", path, c)
    if not metric_cols:
        raise DataFormatError(f"{path}: custom table has no numeric metric column besides 'arch'")
    vals = numeric_columns(df, metric_cols, path)
    idx = arch_indices(space, df[CUSTOM_ARCH_COLUMN].tolist(), None, path, CUSTOM_ARCH_COLUMN)
    table = scatter(space, idx, vals)
    table.columns = [f"{name}/{c}" for c in metric_cols]
    return BenchmarkTable("custom", space, table, (str(path),))
