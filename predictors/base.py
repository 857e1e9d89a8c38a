"""The estimator contract every predictor follows (scikit-learn compatible).

A predictor maps an encoded architecture ``X`` (2-D float array, the encoding named by the
class attribute ``encoding``) to a hardware metric.  :class:`Predictor` validates inputs,
standardises targets with the *training* statistics (the protocol's choice: no test leakage)
and un-standardises predictions, so subclasses implement only ``_fit`` / ``_predict`` on
standardised targets.
"""

from __future__ import annotations

import inspect
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import validate_data

from nasbench_tools.errors import InputDataError, NasbenchError, ParameterError

from .constraints import Constraint, Seed, check_values, declaration_problems, tuning_space_problems
from .space import Distribution

if TYPE_CHECKING:
    import torch

    from nasbench_tools.spaces import SearchSpace

#: Below this many samples a target's std is not estimated (scale 1 is used instead).
_MIN_SCALE_SAMPLES = 2
#: A (non-constant) target whose std is below this keeps scale 1 (avoids dividing by ~0).
_EPS_SCALE = 1e-12
#: ``y_scale_`` of a constant target: every prediction is then exactly the constant.
CONSTANT_SCALE = 0.0
_FLOAT_MAX = float(np.finfo(np.float64).max)
#: What ``predict`` returns: predictions, or ``(mean, std)`` with ``return_std=True``.
Prediction = np.ndarray | tuple[np.ndarray, np.ndarray]


def one_line(exc: BaseException) -> str:
    """A scikit-learn validation message on one line: its first line plus any "Reshape ..."
    advice, without the array dumps it embeds."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    return " ".join([lines[0]] + [ln for ln in lines[1:] if ln.startswith("Reshape")])


def target_standardisation(y: np.ndarray) -> tuple[float, float]:
    """``(mean, scale)`` the targets are standardised with (the training statistics).

    Ordinary targets: ``y.mean()`` and ``y.std()`` (scale 1 below two samples or for a
    vanishing std).  A constant target gets scale :data:`CONSTANT_SCALE`, so predictions are
    exactly that constant.  Finite targets whose mean or std overflow (e.g. around 1e308) are
    reduced by ``max |y|`` first, so the statistics stay finite; ordinary targets never take
    that path, so their statistics are bit-identical to the plain formulas.
    """
    if np.all(y == y[0]):
        return float(y[0]), CONSTANT_SCALE
    with np.errstate(over="ignore", invalid="ignore"):
        mean = float(y.mean())
        scale = float(y.std()) if len(y) >= _MIN_SCALE_SAMPLES else 1.0
        scale = scale if scale > _EPS_SCALE else 1.0
        ok = np.isfinite(mean) and np.isfinite(scale) and bool(np.all(np.isfinite((y - mean) / scale)))
    if ok:
        return mean, scale
    big = float(np.max(np.abs(y)))
    small = y / big
    return float(small.mean()) * big, max(float(small.std()), _EPS_SCALE) * big


def standardise(y: np.ndarray, mean: float, scale: float) -> np.ndarray:
    """``(y - mean) / scale`` without overflow (zeros for a constant target)."""
    if scale == CONSTANT_SCALE:
        return np.zeros_like(y)
    with np.errstate(over="ignore", invalid="ignore"):
        z = (y - mean) / scale
    if np.all(np.isfinite(z)):
        return z
    big = float(np.max(np.abs(y)))
    return (y / big - mean / big) / (scale / big)


def unstandardise(z: Any, mean: float, scale: float) -> np.ndarray:
    """``z * scale + mean`` in float64; a result beyond the float range is clipped to it (a
    prediction extrapolated past ~1.8e308 is never inf)."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        out = z * scale + mean
    overflow = np.isinf(out) & np.isfinite(z)
    if np.any(overflow):
        out[overflow] = np.copysign(_FLOAT_MAX, out[overflow])
    return out


def seed_int(random_state: int | None, stream: int = 0) -> int:
    """A 31-bit integer seed for libraries that take ints, derived from ``random_state``
    (None -> fresh entropy) and a stream number (so sub-components get distinct seeds)."""
    ss = np.random.SeedSequence(None if random_state is None else [int(random_state), stream])
    return int(ss.generate_state(1, dtype=np.uint32)[0] >> 1)


class Predictor(RegressorMixin, BaseEstimator):
    """Base class: subclasses declare parameters in ``__init__`` and implement ``_fit``/``_predict``.

    Class attributes declare what the toolkit needs to know without fitting:

    ``name``                  registry name;
    ``encoding``              the encoding ``X`` must be in (see ``nasbench_tools.encodings``);
    ``differentiable``        whether :meth:`torch_function` exists;
    ``probabilistic``         whether ``predict(X, return_std=True)`` gives a predictive std;
    ``min_train_samples``     fewest samples ``fit`` accepts;
    ``parameter_constraints`` ``{param: Constraint}`` every ``__init__`` parameter must satisfy
                              (``predictors.constraints``); a subclass lists its own, merged
                              with its parents' (``random_state`` is declared here);
    ``tuning_space``          ``{param: Distribution}`` searched by the tuner (inside the
                              constraints: checked when the class is defined);
    ``needs_space``           whether it has a ``space`` parameter (a search-space name) that
                              callers set from the data (the study runner, ``arch_pipeline``);
    ``uses_sources``          whether it takes other devices' values (parameters ``sources``,
                              ``source_names``, ``target``: the transfer predictors);
    ``extra``                 the pip extra its dependencies come from (None: core install).

    Hooks callers use instead of testing names: :meth:`fixed_training_set` (a predictor that
    must be trained on given architectures) and :meth:`suggest_training` (one that chooses them).
    """

    name: ClassVar[str] = ""
    encoding: ClassVar[str] = "onehot"
    differentiable: ClassVar[bool] = False
    probabilistic: ClassVar[bool] = False
    min_train_samples: ClassVar[int] = 2
    parameter_constraints: ClassVar[Mapping[str, Constraint]] = {"random_state": Seed()}
    tuning_space: ClassVar[Mapping[str, Distribution]] = {}
    needs_space: ClassVar[bool] = False
    uses_sources: ClassVar[bool] = False
    extra: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Merge ``parameter_constraints`` along the MRO (a subclass's entries win); a class with
        parameters must constrain exactly them, and its tuning space must lie inside them."""
        super().__init_subclass__(**kwargs)
        merged: dict[str, Constraint] = {}
        for base in reversed(cls.__mro__):
            merged.update(base.__dict__.get("parameter_constraints", {}))
        cls.parameter_constraints = MappingProxyType(merged)
        names = cls._get_param_names()
        if names:  # abstract intermediate classes have no __init__ of their own
            label = cls.name or cls.__name__
            defaults = {k: v.default for k, v in inspect.signature(cls.__init__).parameters.items() if k != "self"}
            problems = declaration_problems(label, merged, names)
            problems += tuning_space_problems(label, merged, cls.tuning_space, defaults)
            if problems:
                raise TypeError("; ".join(problems))

    # ---------------------------------------------------------------- subclass hooks
    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        raise NotImplementedError

    def _predict(self, X: np.ndarray, return_std: bool) -> Prediction:
        raise NotImplementedError

    @classmethod
    def fixed_training_set(cls, space: "SearchSpace") -> np.ndarray | None:
        """Indices (canonical order of ``space``) of the architectures this predictor is always
        trained on, whatever training size is asked for (the lookup table: its baseline's
        neighbours); None: any training set.  The study fits such a predictor once per seed, on
        exactly these, and reports their count as the training size."""
        return None

    def suggest_training(self, values: np.ndarray, pool: np.ndarray, size: int, seed: int) -> np.ndarray | None:
        """Indices of the ``size`` architectures this predictor wants measured for training, chosen
        from ``pool`` given the space's known ``values`` (a transfer predictor's suggested design);
        None: the caller draws them at random (the default)."""
        return None

    def probe_input(self, rows: int) -> np.ndarray:
        """``rows`` valid inputs for a smoke prediction of a loaded model (zeros; a predictor that
        only takes encodings of its search space returns some of those)."""
        return np.zeros((rows, self.n_features_in_))

    def _store_params(self, values: Mapping[str, Any]) -> None:
        """Store every ``__init__`` parameter unchanged from ``values`` (pass ``locals()``): the
        whole body of a predictor's ``__init__``, as scikit-learn requires."""
        for name in self._get_param_names():
            setattr(self, name, values[name])

    def check_params(self) -> None:
        """Raise :class:`~nasbench_tools.errors.ParameterError` (a ``ValueError``) naming the first
        parameter outside its declared constraint (see ``parameter_constraints``)."""
        check_values(self._label(), self.parameter_constraints, self.get_params(deep=False))

    # ------------------------------------------------------------------- public API
    def fit(self, X: Any, y: Any) -> "Predictor":
        X, y = self._validate_fit(X, y)
        self.check_params()
        self.y_mean_, self.y_scale_ = target_standardisation(y)
        self._fit(X, standardise(y, self.y_mean_, self.y_scale_))
        return self

    def predict(self, X: Any, return_std: bool = False) -> Prediction:
        if not hasattr(self, "y_mean_"):
            raise NotFittedError(f"{self._label()}: call fit() before predict()")
        if return_std and not self.probabilistic:
            raise ParameterError(f"{self._label()}: this predictor gives no predictive std (probabilistic=False)")
        X = self._check_X(X, fitting=False)
        out = self._predict(X, return_std)
        if return_std:
            mean, std = out  # type: ignore[misc]
            return (unstandardise(mean, self.y_mean_, self.y_scale_),
                    unstandardise(std, 0.0, self.y_scale_))
        return unstandardise(out, self.y_mean_, self.y_scale_)

    def torch_function(self, space: "SearchSpace") -> "Callable[[torch.Tensor], torch.Tensor]":
        """A differentiable function from architecture weights ``(n, n_slots, n_ops)`` (soft
        one-hot per slot) to predictions in the target's units, for gradient-based NAS."""
        if not self.differentiable:
            raise NotImplementedError(f"{self._label()} is not differentiable")
        if not hasattr(self, "y_mean_"):
            raise NotFittedError(f"{self._label()}: call fit() before torch_function()")
        core = self._torch_function(space)
        mean, scale = self.y_mean_, self.y_scale_

        def fn(w: "torch.Tensor") -> "torch.Tensor":
            return core(w) * scale + mean

        return fn

    def _torch_function(self, space: "SearchSpace") -> "Callable[[torch.Tensor], torch.Tensor]":
        """Subclass hook: weights -> standardised prediction (see :meth:`torch_function`)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> dict[str, np.ndarray]:
        """Subclass hook: the fitted state as named numpy arrays (see predictors.persistence)."""
        raise NotImplementedError(
            f"{self._label()} ({type(self).__module__}.{type(self).__qualname__}) does not implement "
            "_get_state(), so it cannot be saved; implement _get_state/_set_state to support persistence"
        )

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        """Subclass hook: restore the fitted state written by :meth:`_get_state`."""
        raise NotImplementedError(
            f"{self._label()} ({type(self).__module__}.{type(self).__qualname__}) does not implement "
            "_set_state(), so it cannot be loaded; implement _get_state/_set_state to support persistence"
        )

    # ---------------------------------------------------------------------- helpers
    def _label(self) -> str:
        return self.name or type(self).__name__

    def _validate_fit(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Training data checked with scikit-learn's ``validate_data`` (sets ``n_features_in_``)."""
        if y is None:
            raise InputDataError(f"{self._label()}: requires y to be passed, but the target y is None")
        X, y = self._validated(X, y, reset=True)
        if len(y) < self.min_train_samples:
            raise InputDataError(f"{self._label()}: needs at least {self.min_train_samples} training samples, "
                                 f"got n_samples={len(y)}")
        return X, y

    def _check_X(self, X: Any, fitting: bool) -> np.ndarray:
        """``X`` checked like scikit-learn does; at predict time also its width (``n_features_in_``)."""
        return self._validated(X, None, reset=fitting)

    def _validated(self, X: Any, y: Any, reset: bool) -> Any:
        """``validate_data`` for dense, finite, real float64 input; its errors become one-line
        :class:`~nasbench_tools.errors.InputDataError` messages prefixed with the predictor."""
        if issparse(X):
            raise InputDataError(f"{self._label()}: sparse input is not supported; pass a dense array "
                                 "(e.g. X.toarray())")
        kwargs: dict[str, Any] = {"dtype": np.float64, "accept_sparse": False, "ensure_min_samples": 1,
                                  "ensure_min_features": 1}
        try:
            if y is None:
                return validate_data(self, X, reset=reset, **kwargs)
            X, y = validate_data(self, X, y, reset=reset, y_numeric=True, **kwargs)
            if np.iscomplexobj(y):
                raise ValueError("Complex data not supported (y holds complex values)")
            return X, np.asarray(y, dtype=np.float64)
        except ValueError as exc:
            if isinstance(exc, NasbenchError):
                raise
            hint = f" ({self.encoding} encoding)" if "features" in str(exc) and not reset else ""
            raise InputDataError(f"{self._label()}: {one_line(exc)}{hint}") from None

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.random_state)  # type: ignore[attr-defined]

    def __sklearn_tags__(self) -> Any:  # scikit-learn >= 1.6 tag protocol
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
