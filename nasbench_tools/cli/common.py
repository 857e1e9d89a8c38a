"""Options, argument types and output helpers shared by the sub-commands.

Everything here is cheap to import (no numpy, pandas or torch).  Argument types validate values
at parse time, so a bad value is one ``nasbench-study: error: ...`` line with exit status 2
before any work starts.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, Sequence

from ..runner.options import (DASK_CONNECT_TIMEOUT_S, add_data_dir, add_executor_options, add_out_dir,  # noqa: F401
                              add_progress, add_run_mode, executor_from_args, existing_dir, existing_file,
                              finite_float, int_at_least, int_list, name_list, non_negative_float, non_negative_int,
                              out_dir, positive_float, positive_int, positive_int_list, probability, run_mode_kwargs)

# The argument types and run options above live in :mod:`nasbench_tools.runner.options` (the core
# layer, so that experiments below the command line declare their options with them) and are
# re-exported here for the sub-command modules.

#: Output formats of the listing commands (``data list``, ``data verify``, ``lut``, ``predictors list|info``).
FORMATS = ("text", "json")


def add_format(parser: argparse.ArgumentParser) -> None:
    """``--format text|json``."""
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (aligned table, default) or json (one JSON document on stdout)")


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
