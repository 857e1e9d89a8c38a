"""Exception types of the toolkit, all in this module under :class:`NasbenchError`: each names the
file, field or value at fault.  Those that report a bad value are also ``ValueError`` (the CLI turns
every NasbenchError into one line and exit status 2)."""

from __future__ import annotations


class NasbenchError(Exception):
    """Base class of every error the toolkit raises on purpose."""


class InvalidArchitectureError(NasbenchError, ValueError):
    """An architecture (op codes or string) is not part of a search space."""


class UnknownNameError(NasbenchError, KeyError):
    """A registry lookup (space, encoding, dataset, predictor) failed."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class DataFileNotFoundError(NasbenchError, FileNotFoundError):
    """A benchmark file is in none of the searched places."""


class ChecksumError(NasbenchError):
    """A file's sha256 differs from the manifest's (the file is not parsed)."""


class DataFormatError(NasbenchError, ValueError):
    """A file is truncated, malformed or lacks an expected field."""


class DownloadError(NasbenchError):
    """A download failed or was interrupted."""


class ParameterError(NasbenchError, ValueError):
    """A parameter, option or config value is out of its allowed range (names it and the range)."""


class ConfigError(NasbenchError, ValueError):
    """A run configuration (TOML/JSON file, preset override) is invalid."""


class InputDataError(NasbenchError, ValueError):
    """Arrays passed to a predictor or encoder (X, y) are malformed: shape, width, dtype, values."""


class RunExistsError(NasbenchError):
    """An output folder already holds a run that the command will not continue or replace."""


class OutputLockedError(NasbenchError):
    """Another process holds the exclusive lock on an output folder."""


class MissingExtraError(NasbenchError, ImportError):
    """An optional dependency is not installed; the message names the extra that provides it
    (also in ``extra``, None where unknown)."""

    def __init__(self, message: str, extra: str | None = None) -> None:
        super().__init__(message)
        self.extra = extra


class ConfigMismatchError(RunExistsError):
    """The results file was written by a run with a different configuration."""


class ResultsCorruptedError(DataFormatError):
    """A results file (or its journal/config) is damaged; it is left as it is."""


class CommandUnavailableError(NasbenchError):
    """A sub-command whose module is not part of this installation."""


class PredictorFileError(NasbenchError, ValueError):
    """A predictor file is unreadable, from an incompatible toolkit version or of another class."""


class InputSizeError(NasbenchError, ValueError):
    """A network cannot take the requested input resolution."""


class DependencyError(NasbenchError, ValueError):
    """A dependency specification is malformed or not acyclic-prior."""


class CheckpointError(NasbenchError, ValueError):
    """A checkpoint is missing, malformed or belongs to a different configuration."""


class PopulationError(NasbenchError, ValueError):
    """A malformed ``--population`` value."""


class DeviceUnavailableError(NasbenchError, ValueError):
    """The requested device does not exist on this machine."""


class HeapStatsUnavailable(NasbenchError, RuntimeError):  # noqa: N818 - the name its callers import
    """This C library has no ``mallinfo2`` (not glibc >= 2.33)."""


#: Optional import name -> the ``pip install 'nasbench-study[EXTRA]'`` extra that provides it.
EXTRA_OF_MODULE: dict[str, str] = {
    "xgboost": "boosting",
    "lightgbm": "boosting",
    "ngboost": "boosting",
    "torch": "neural",
    "gpytorch": "neural",
    "torch_geometric": "graph",
    "matplotlib": "report",
    "dask": "distributed",
    "distributed": "distributed",
}


def require(module: str, purpose: str) -> object:
    """Import optional ``module`` or raise :class:`MissingExtraError` naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.split(".")[0]
        if exc.name is None or exc.name.split(".")[0] != top:
            raise
        extra = EXTRA_OF_MODULE.get(top, "all")
        raise MissingExtraError(
            f"{purpose} needs {top}, which is not installed; install it with: pip install 'nasbench-study[{extra}]'",
            extra,
        ) from exc
