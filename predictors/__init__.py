"""Hardware-metric predictors behind one scikit-learn-style estimator API."""

from .base import Predictor
from .space import Choice, Distribution, IntUniform, Uniform

__all__ = ["Predictor", "Choice", "Distribution", "IntUniform", "Uniform"]
