"""Command-line options of runs: argument types that validate at parse time, and the options every
long job shares (``--out``, ``--data-dir``, run mode, executor, progress).

Core layer, cheap to import (argparse only): the experiment contract's option hooks use these, so
an experiment below the command line (e.g. the simulator) declares its options with the same
types and messages as the CLI. A bad value is an ``argparse`` error naming it, which the command
line prints as one ``nasbench-study: error: ...`` line with exit status 2 before any work starts.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any, Callable

from ..errors import ParameterError, require

#: Seconds a ``--dask-scheduler`` connection may take before the command gives up with one line.
DASK_CONNECT_TIMEOUT_S = 10


# --------------------------------------------------------------------------- argument types
def int_at_least(text: str, low: int) -> int:
    """An integer >= ``low``; anything else is an argument error naming the value."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {value}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (counts: jobs, trials, epochs, channels ...)."""
    return int_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """An integer >= 0 (seeds, batches that may be zero ...)."""
    return int_at_least(text, 0)


def finite_float(text: str) -> float:
    """Any finite number (no nan / inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _float_above(text: str, strict: bool) -> float:
    value = finite_float(text)
    if value < 0 or (strict and value == 0):
        raise argparse.ArgumentTypeError(f"expected a number {'>' if strict else '>='} 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (seconds, learning rates ...)."""
    return _float_above(text, strict=True)


def non_negative_float(text: str) -> float:
    """A finite number >= 0 (weight decay, minimum learning rate ...)."""
    return _float_above(text, strict=False)


def probability(text: str) -> float:
    """A number in [0, 1] (Kendall's tau of a predictor, fractions)."""
    value = finite_float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def _existing(folder: bool) -> Callable[[str], Path]:
    """The argument type of a path that exists and is a folder (``folder``) or a regular file."""
    what, wrong = ("folder", "is a file") if folder else ("file", "is a folder")

    def existing(text: str) -> Path:
        path = Path(text)
        if path.is_dir() if folder else path.is_file():
            return path
        why = wrong if path.exists() else "does not exist"
        raise argparse.ArgumentTypeError(f"expected an existing {what}, but {text} {why}")

    existing.__name__ = existing.__qualname__ = "existing_dir" if folder else "existing_file"
    existing.__doc__ = f"A path that exists and is a {'folder' if folder else 'regular file'}."
    return existing


existing_file = _existing(folder=False)
existing_dir = _existing(folder=True)


def out_dir(text: str) -> Path:
    """An output folder: it may not exist yet, but it must not be a file."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file; --out is always a folder (the command writes fixed file names inside)")
    return path


def _no_duplicates(values: tuple[Any, ...], text: str, what: str) -> tuple[Any, ...]:
    dupes = sorted({v for v in values if values.count(v) > 1})
    if dupes:
        raise argparse.ArgumentTypeError(f"duplicate {what}(s) {', '.join(map(str, dupes))} in {text!r}")
    return values


def int_list(text: str, low: int = 0) -> tuple[int, ...]:
    """Comma-separated integers >= ``low``, without duplicates (``0,5,10``)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    return _no_duplicates(tuple(int_at_least(p, low) for p in parts), text, "value")


def positive_int_list(text: str) -> tuple[int, ...]:
    """Comma-separated integers >= 1 without duplicates (training sizes)."""
    return int_list(text, low=1)


def name_list(text: str) -> tuple[str, ...]:
    """Comma-separated non-empty names without duplicates."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return _no_duplicates(names, text, "name")


# --------------------------------------------------------------------------- shared options
def add_data_dir(parser: argparse.ArgumentParser) -> None:
    """``--data-dir``: always the benchmark-file folder (image folders have their own option)."""
    parser.add_argument(
        "--data-dir", default=None, metavar="DIR",
        help="benchmark data folder (searched before $NASBENCH_DATA and the per-user cache)",
    )


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
    from .executors import make_executor

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
    require("distributed", option)
    return require("dask", option)
