"""Exception types of the toolkit: each names the file, field or value at fault."""

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
