"""Live latency measurement of real networks: protocol, environment, resumable tables and
lookup tables from isolated op measurements."""

from ..errors import require

require("torch", "nasbench_tools.latency (live latency measurement)")

from .archs import read_architecture_file, select_architectures
from .environment import cpu_affinity, environment, set_cpu_affinity
from .protocol import (
    DeviceUnavailableError, MeasureConfig, Measurement, available_devices, measure_module, resolve_device, summarize,
)
from .table import COLUMNS, TableSpec, measure_architecture, measure_table

__all__ = [
    "COLUMNS", "DeviceUnavailableError", "MeasureConfig", "Measurement", "TableSpec", "available_devices",
    "cpu_affinity", "environment", "measure_architecture", "measure_module", "measure_table",
    "read_architecture_file", "resolve_device", "select_architectures", "set_cpu_affinity", "summarize",
]
