"""Super-network training with conditional (split) weights and its evaluation (Chapter 6)."""

from __future__ import annotations

from ..errors import require

require("torch", "nasbench_tools.supernet (the super-network trainer)")

from .config import ConfigError, TrainConfig, space_name
from .trainer import CheckpointError, TrainResult, load_checkpoint, model_from_checkpoint, train_supernet

__all__ = [
    "TrainConfig", "ConfigError", "CheckpointError", "TrainResult", "train_supernet", "load_checkpoint",
    "model_from_checkpoint", "space_name",
]
