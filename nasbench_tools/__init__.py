"""nasbench-study: data, search spaces and encodings for hardware-metric prediction in NAS."""

__version__ = "0.1.0"

__all__ = ["__version__"]
