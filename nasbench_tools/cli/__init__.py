"""The ``nasbench-study`` command: one sub-command module per job, imported only when used.

The top-level parser knows every sub-command's name and help line from :data:`COMMANDS`
without importing its module (torch, matplotlib and pandas stay unloaded for ``--version`` and
``--help``).  A sub-command's module is imported when it runs or when its own ``--help`` is
asked for; each module has ``register(subparsers)`` that adds its parser and sets ``func``.

Error contract: every user mistake prints one line ``nasbench-study: error: <message>`` on
stderr and returns 2 (argument errors included); ``-v`` adds the rest of a multi-line message.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import Iterable, NamedTuple, NoReturn, Sequence

from .. import __version__
from ..errors import CommandUnavailableError, NasbenchError
from ..experiments import EXPERIMENTS

PROG = "nasbench-study"
#: Exit status of a user mistake (bad option, bad file, refused run).
EXIT_USER_ERROR = 2
#: Exit status after Ctrl-C.
EXIT_INTERRUPTED = 130

log = logging.getLogger(__name__)


class Command(NamedTuple):
    """One sub-command: its name, the module that implements it, its one-line help."""

    name: str
    module: str
    help: str


#: The tools listed before the experiments.
_TOOLS: tuple[Command, ...] = (
    Command("data", "nasbench_tools.cli.data", "benchmark files: fetch, verify, list datasets"),
    Command("lut", "nasbench_tools.cli.lut", "lookup-table predictor: architectures measured and Kendall's tau"),
    Command("predictors", "nasbench_tools.cli.predictors",
            "the predictor catalogue: list, info, fit on a CSV, predict architectures"),
)
#: The commands listed after the experiments.
_MORE: tuple[Command, ...] = (
    Command("reproduce", "nasbench_tools.cli.study", "the main job: run a study preset and write its report"),
    Command("supernet", "nasbench_tools.cli.supernet",
            "train and evaluate super-networks with conditional (split) weights"),
    Command("latency", "nasbench_tools.cli.latency", "measure the latency of real networks (resumable custom tables)"),
    Command("transfer", "nasbench_tools.cli.transfer", "few-shot prediction for a new device: what to measure, then predict the rest"),
    Command("presets", "nasbench_tools.cli.experiment", "the presets of every experiment: name and description"),
)
#: Every sub-command, in the order ``--help`` lists them: the experiments come from the registry
#: (:mod:`nasbench_tools.experiments`), each registered by its entry's ``cli`` module.
COMMANDS: tuple[Command, ...] = (
    _TOOLS + tuple(Command(name, entry.cli, entry.summary) for name, entry in EXPERIMENTS.items()) + _MORE
)
_BY_NAME = {c.name: c for c in COMMANDS}


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``nasbench-study: error: ...`` line (exit 2)."""

    def error(self, message: str) -> NoReturn:
        where = self.prog[len(PROG):].strip()
        prefix = f"{where}: " if where else ""
        self.exit(EXIT_USER_ERROR, f"{PROG}: error: {prefix}{message} (see '{self.prog} --help')\n")


def _import_command(command: Command):  # noqa: ANN202 - a sub-command module
    try:
        return importlib.import_module(command.module)
    except ModuleNotFoundError as exc:
        if exc.name == command.module:
            raise CommandUnavailableError(
                f"the '{command.name}' command is not available in this installation ({command.module} is missing)"
            ) from None
        raise


def build_parser(load: Iterable[str] | None = None, *, skip_unavailable: bool = True) -> argparse.ArgumentParser:
    """The full parser.

    ``load``: names of the sub-commands whose modules are imported and registered; ``None``
    loads all of them (for tests that walk every parser).  The others get a placeholder parser
    with their help line only.  ``skip_unavailable`` leaves out (as placeholders) commands whose
    module is missing instead of raising.  A module registers all its commands with
    ``register(sub)``, or one at a time with ``register_command(sub, name)`` (the generic
    experiment module, so that running one experiment imports no other).
    """
    parser = OneLineParser(
        prog=PROG,
        description="Hardware-metric predictors for NAS: benchmark data, predictors, studies, simulation.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print the version and exit")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug); errors show their full message")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    names = set(_BY_NAME) if load is None else set(load)
    wanted_modules = {c.module for c in COMMANDS if c.name in names}
    loaded_modules: set[str] = set()
    for command in COMMANDS:
        if command.name in sub.choices:  # registered with an earlier command of the same module
            continue
        module = None
        if command.module in wanted_modules:
            try:
                module = _import_command(command)
            except CommandUnavailableError:
                if not skip_unavailable:
                    raise
        one_at_a_time = getattr(module, "register_command", None)
        if one_at_a_time is not None and command.name in names:
            one_at_a_time(sub, command.name)
        elif module is not None and one_at_a_time is None and command.module not in loaded_modules:
            module.register(sub)
            loaded_modules.add(command.module)
        else:
            sub.add_parser(command.name, help=command.help, add_help=False)
    return parser


def _requested_command(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (top-level options take no values, so it is the first word)."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word
    return None


def _count_verbose(words: Sequence[str]) -> int:
    """How many ``-v`` were given before the sub-command (for errors raised before parsing ends)."""
    return sum(len(w) - 1 for w in words if len(w) > 1 and w[0] == "-" and set(w[1:]) == {"v"}) + \
        sum(1 for w in words if w == "--verbose")


def one_line(message: str) -> tuple[str, list[str]]:
    """A message's first line and the rest; a first line ending in ':' keeps the indented list it introduces."""
    lines = message.strip().splitlines() or [""]
    first, rest = lines[0].rstrip(), lines[1:]
    if first.endswith(":"):
        items = []
        while rest and rest[0][:1].isspace():
            items.append(rest.pop(0).strip())
        first = f"{first} {', '.join(items)}" if items else first[:-1]
    return first, rest


def _report(exc: BaseException, verbose: int) -> None:
    first, rest = one_line(str(exc))
    print(f"{PROG}: error: {first or type(exc).__name__}", file=sys.stderr)
    if verbose and rest:
        print("\n".join(rest), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    name = _requested_command(argv)
    verbose = _count_verbose(argv[: argv.index(name)] if name is not None else argv)
    try:
        if name in _BY_NAME:
            _import_command(_BY_NAME[name])  # fail on a missing command before parsing its options
        parser = build_parser(load=[name] if name in _BY_NAME else [], skip_unavailable=False)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, --version and argument errors (already printed)
            return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else EXIT_USER_ERROR
        verbose = args.verbose
        level = logging.WARNING - 10 * min(args.verbose, 2)
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
        return int(args.func(args) or 0)
    except NasbenchError as exc:
        log.debug("user error", exc_info=True)
        _report(exc, verbose)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # the reader of our output went away (e.g. ``| head``): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's documented recipe
        return 0
    except OSError as exc:
        if exc.filename is None:  # not about a path the user gave: a real failure, keep the traceback
            raise
        _report(OSError(f"{exc.filename}: {exc.strerror or exc}"), verbose)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
