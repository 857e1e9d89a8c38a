"""Hardware-metric predictors behind one scikit-learn-style estimator API."""

from .base import Predictor
from .registry import available, get_class, info, make
from .space import Choice, Distribution, IntUniform, Uniform

__all__ = ["Predictor", "Choice", "Distribution", "IntUniform", "Uniform", "available", "get_class", "info", "make"]
