"""Few-shot transfer predictors: a new device's metric from k measurements plus source tables.

``sources`` are other devices' (or tasks') measurements of the same architectures; the
predictors combine them with the one-hot encoding (see :mod:`.model`), :func:`suggest` says
which architectures to measure first (see :mod:`.design`), :mod:`.sources` builds source
matrices with the leakage guard and :mod:`.measured` reads a user's measured CSV.
"""

from .design import suggest
from .model import TransferGP, TransferGPLive, TransferGPSuggested
from .sources import SourceMatrix, default_source_ids, device_of, load_sources

__all__ = [
    "SourceMatrix", "TransferGP", "TransferGPLive", "TransferGPSuggested", "default_source_ids", "device_of", "load_sources",
    "suggest",
]
