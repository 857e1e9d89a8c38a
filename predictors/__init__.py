"""Hardware-metric predictors behind one scikit-learn-style estimator API."""

from .base import Predictor
from .pipeline import ArchEncoder, ArchPipeline, arch_pipeline
from .registry import available, get_class, info, make
from .space import Choice, Distribution, IntUniform, Uniform

__all__ = ["ArchEncoder", "ArchPipeline", "Predictor", "Choice", "Distribution", "IntUniform", "Uniform",
           "arch_pipeline", "available", "get_class", "info", "make"]
