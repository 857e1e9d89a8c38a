"""Options, argument types and output helpers shared by the sub-commands.

Everything here is cheap to import (no numpy, pandas or torch): the top-level parser and
``--version`` load this module.  Argument types validate values at parse time, so a bad value
is one ``nasbench-study: error: ...`` line with exit status 2 before any work starts.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, Sequence

from ..errors import ParameterError

#: Output formats of the listing commands (``data list``, ``data verify``, ``lut``, ``predictors list|info``).
FORMATS = ("text", "json")
#: Seconds a ``--dask-scheduler`` connection may take before the command gives up with one line.
DASK_CONNECT_TIMEOUT_S = 10


# --------------------------------------------------------------------------- argument types
def positive_int(text: str) -> int:
    """An integer >= 1 (counts: jobs, trials, epochs, channels ...)."""
    return int_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """An integer >= 0 (seeds, batches that may be zero ...)."""
    return int_at_least(text, 0)


def int_at_least(text: str, low: int) -> int:
    """An integer >= ``low``; anything else is an argument error naming the value."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {value}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (seconds, learning rates ...)."""
    return _float_above(text, strict=True)


def non_negative_float(text: str) -> float:
    """A finite number >= 0 (weight decay, minimum learning rate ...)."""
    return _float_above(text, strict=False)


def _float_above(text: str, strict: bool) -> float:
    value = finite_float(text)
    if value < 0 or (strict and value == 0):
        raise argparse.ArgumentTypeError(f"expected a number {'>' if strict else '>='} 0, got {text!r}")
    return value


def finite_float(text: str) -> float:
    """Any finite number (no nan / inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def probability(text: str) -> float:
    """A number in [0, 1] (Kendall's tau of a predictor, fractions)."""
    value = finite_float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def existing_file(text: str) -> Path:
    """A path that exists and is a regular file."""
    path = Path(text)
    if not path.is_file():
        why = "is a folder" if path.is_dir() else "does not exist"
        raise argparse.ArgumentTypeError(f"expected an existing file, but {text} {why}")
    return path


def existing_dir(text: str) -> Path:
    """A path that exists and is a folder."""
    path = Path(text)
    if not path.is_dir():
        why = "is a file" if path.exists() else "does not exist"
        raise argparse.ArgumentTypeError(f"expected an existing folder, but {text} {why}")
    return path


def out_dir(text: str) -> Path:
    """An output folder: it may not exist yet, but it must not be a file."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file; --out is always a folder (the command writes fixed file names inside)")
    return path


def int_list(text: str, low: int = 0) -> tuple[int, ...]:
    """Comma-separated integers >= ``low``, without duplicates (``0,5,10``)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    values = tuple(int_at_least(p, low) for p in parts)
    dupes = sorted({v for v in values if values.count(v) > 1})
    if dupes:
        raise argparse.ArgumentTypeError(f"duplicate value(s) {', '.join(map(str, dupes))} in {text!r}")
    return values


def positive_int_list(text: str) -> tuple[int, ...]:
    """Comma-separated integers >= 1 without duplicates (training sizes)."""
    return int_list(text, low=1)


def name_list(text: str) -> tuple[str, ...]:
    """Comma-separated non-empty names without duplicates."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise argparse.ArgumentTypeError(f"duplicate name(s) {', '.join(dupes)} in {text!r}")
    return names


# --------------------------------------------------------------------------- shared options
def add_data_dir(parser: argparse.ArgumentParser) -> None:
    """``--data-dir``: always the benchmark-file folder (image folders have their own option)."""
    parser.add_argument(
        "--data-dir", default=None, metavar="DIR",
        help="benchmark data folder (searched before $NASBENCH_DATA and the per-user cache)",
    )


def add_format(parser: argparse.ArgumentParser) -> None:
    """``--format text|json``."""
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (aligned table, default) or json (one JSON document on stdout)")


def add_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def add_out_dir(parser: argparse.ArgumentParser, what: str, required: bool = True) -> None:
    """``--out DIR``: always a folder; ``what`` names the fixed files written inside."""
    parser.add_argument("--out", type=out_dir, required=required, metavar="DIR",
                        help=f"output folder (created if missing): {what}")


def add_run_mode(parser: argparse.ArgumentParser) -> None:
    """``--resume`` (default) | ``--no-resume`` | ``--overwrite`` for every long job."""
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--resume", dest="run_mode", action="store_const", const="resume",
                   help="continue a run with the same configuration in --out (the default); a finished run is "
                        "left as it is")
    g.add_argument("--no-resume", dest="run_mode", action="store_const", const="refuse",
                   help="refuse to touch an existing run in --out instead of continuing it")
    g.add_argument("--overwrite", dest="run_mode", action="store_const", const="overwrite",
                   help="delete the run's existing outputs in --out and start again")
    parser.set_defaults(run_mode="resume")


def run_mode_kwargs(args: argparse.Namespace) -> dict[str, bool]:
    """``resume=`` / ``overwrite=`` keyword arguments of the library's long-job functions."""
    mode = getattr(args, "run_mode", "resume")
    return {"resume": mode == "resume", "overwrite": mode == "overwrite"}


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    """``--jobs N | --dask-local N | --dask-scheduler ADDRESS`` (validated at parse time)."""
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--jobs", type=positive_int, default=1, metavar="N",
                   help="local worker processes (default 1: serial)")
    g.add_argument("--dask-local", type=positive_int, default=None, metavar="N",
                   help="start a Dask LocalCluster with N single-threaded workers")
    g.add_argument("--dask-scheduler", default=None, metavar="ADDRESS",
                   help="use a running Dask scheduler, e.g. tcp://host:8786")


def executor_from_args(args: argparse.Namespace) -> Any:
    """The executor for ``--jobs/--dask-local/--dask-scheduler``; an unreachable scheduler is one line."""
    from ..runner import make_executor

    if args.dask_scheduler is None:
        if args.dask_local is not None:
            _require_dask("--dask-local")
        return make_executor(args.jobs, None, args.dask_local)
    dask = _require_dask("--dask-scheduler")
    try:
        with dask.config.set({"distributed.comm.timeouts.connect": f"{DASK_CONNECT_TIMEOUT_S}s"}):
            return make_executor(1, args.dask_scheduler, None)
    except (OSError, TimeoutError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ParameterError(
            f"--dask-scheduler {args.dask_scheduler}: cannot connect within {DASK_CONNECT_TIMEOUT_S} s ({first})"
        ) from None


def _require_dask(option: str) -> Any:
    """The ``dask`` module, or a one-line error naming the ``distributed`` extra."""
    from ..errors import require

    require("distributed", option)
    return require("dask", option)


# --------------------------------------------------------------------------- output
def print_json(document: Any) -> None:
    """One JSON document on stdout (non-finite numbers as null)."""
    json.dump(_clean(document), sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _clean(value.item())
    if isinstance(value, Path):
        return str(value)
    return value


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain aligned text table (numbers right-aligned)."""
    cells = [[str(h) for h in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    numeric = [all(_is_number(r[i]) for r in cells[1:]) and len(cells) > 1 for i in range(len(header))]

    def line(r: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(r, widths, numeric)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- single-file runs
#: How a refused run tells the user what to do.
OVERWRITE_HINT = "pass --overwrite to delete it and start again, or choose another --out"


def check_existing_output(result: Path, config_path: Path, config: dict[str, Any], args: argparse.Namespace) -> bool:
    """Apply the resume convention to a command whose run is one result file plus its config.

    Returns True when ``result`` already holds the finished run of ``config`` (nothing to do);
    False when the command should (re)compute it (with ``--overwrite`` the old result is deleted
    first). An existing run is refused under ``--no-resume``, and a run of another
    configuration is refused naming the differing fields.
    """
    from ..errors import RunExistsError

    mode = run_mode_kwargs(args)
    if not result.exists():
        return False
    if mode["overwrite"]:
        result.unlink()
        return False
    if not mode["resume"]:
        raise RunExistsError(f"{result} already holds a run; resume it (the default) or {OVERWRITE_HINT}")
    try:
        stored = json.loads(config_path.read_text())
    except (OSError, json.JSONDecodeError):
        raise RunExistsError(f"{result} has no readable {config_path.name}; {OVERWRITE_HINT}") from None
    if stored != config:
        old = stored if isinstance(stored, dict) else {}
        diff = [f"{k}: stored {old.get(k)!r}, now {config.get(k)!r}"
                for k in sorted(set(old) | set(config)) if old.get(k) != config.get(k)]
        raise RunExistsError(f"{result} was written with a different configuration ({'; '.join(diff)}); {OVERWRITE_HINT}")
    return True


def write_config(config_path: Path, config: dict[str, Any]) -> None:
    """The run configuration beside its result (written before the result: a crash leaves no result to trust)."""
    from ..utils.io import atomic_write

    with atomic_write(config_path) as fh:
        json.dump(config, fh, indent=2, sort_keys=True)
        fh.write("\n")


def jsonable(value: Any) -> Any:
    """``value`` as it reads back from JSON (so stored and new configurations compare equal)."""
    return json.loads(json.dumps(_clean(value), default=str))
