"""The ``nasbench-study`` command: one sub-command module per job."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from .. import __version__
from ..errors import NasbenchError
from . import data as data_cmd
from . import simulate as simulate_cmd
from . import supernet as supernet_cmd
from . import lut as lut_cmd
from . import study as study_cmd
from . import latency as latency_cmd

#: Sub-command modules; each has ``register(subparsers)`` that sets ``func`` on its parsers.
COMMANDS = (data_cmd, lut_cmd, study_cmd, supernet_cmd, simulate_cmd, latency_cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nasbench-study",
        description="Hardware-metric predictors for NAS: benchmark data, predictors, studies, simulation.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except NasbenchError as exc:
        print(f"nasbench-study: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nasbench-study: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
