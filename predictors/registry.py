"""Registry of the 18 predictors: names -> ``"module:Class"``, imported lazily on first use.

Lazy imports keep ``import predictors`` cheap (torch-geometric, gpytorch, xgboost ... are loaded
only when a predictor that needs them is built).
"""

from __future__ import annotations

import importlib
from typing import Any

from nasbench_tools.errors import EXTRA_OF_MODULE, MissingExtraError, UnknownNameError

from .base import Predictor

#: Registry name -> ``"module:Class"`` (absolute module path).
REGISTRY: dict[str, str] = {
    "linear_regression": "predictors.linear:LinearRegression",
    "ridge": "predictors.linear:Ridge",
    "bayesian_linear_regression": "predictors.linear:BayesianLinearRegression",
    "svr": "predictors.svr:SVR",
    "gp": "predictors.gp:GP",
    "sparse_gp": "predictors.gp:SparseGP",
    "random_forest": "predictors.forest:RandomForest",
    "xgboost": "predictors.boosting:XGBoost",
    "ngboost": "predictors.boosting:NGBoost",
    "lightgbm": "predictors.boosting:LightGBM",
    "bohamiann": "predictors.neural.bohamiann:Bohamiann",
    "bananas": "predictors.neural.bananas:Bananas",
    "bonas": "predictors.neural.bonas:Bonas",
    "gcn": "predictors.neural.gcn:GCN",
    "mlp_large": "predictors.neural.mlp:MLPLarge",
    "mlp_small": "predictors.neural.mlp:MLPSmall",
    "nao": "predictors.neural.nao:NAO",
    "lookup_table": "predictors.lookup_table:LookupTable",
    "transfer_gp": "predictors.transfer.model:TransferGP",
    "transfer_gp_suggested": "predictors.transfer.model:TransferGPSuggested",
    "transfer_gp_live": "predictors.transfer.model:TransferGPLive",
}


def available() -> tuple[str, ...]:
    """Names of every registered predictor (in the protocol's order)."""
    return tuple(REGISTRY)


def _unknown(name: Any) -> UnknownNameError:
    return UnknownNameError(f"unknown predictor {name!r}; available: {', '.join(REGISTRY)}")


def get_class(name: str) -> type[Predictor]:
    """The predictor class registered as ``name`` (imports its module)."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise _unknown(name)
    module_name, cls_name = REGISTRY[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if top in EXTRA_OF_MODULE:  # an optional dependency: say which extra provides it
            raise MissingExtraError(
                f"predictor {name!r} needs {top}, which is not installed; install it with: "
                f"pip install 'nasbench-study[{EXTRA_OF_MODULE[top]}]'", EXTRA_OF_MODULE[top]) from exc
        if exc.name and module_name.startswith(exc.name):
            raise ImportError(f"predictor {name!r}: its module {module_name} is not available ({exc})") from exc
        raise
    cls = getattr(module, cls_name)
    if not (isinstance(cls, type) and issubclass(cls, Predictor)):
        raise TypeError(f"predictor {name!r}: {REGISTRY[name]} is not a Predictor subclass")
    return cls


def class_path(cls: type) -> str:
    """``"module:Class"`` of a class (what the registry and saved files record)."""
    return f"{cls.__module__}:{cls.__qualname__}"


def name_of(cls: type) -> str:
    """Registry name of a predictor class (raises if it is not registered)."""
    path = class_path(cls)
    for name, registered in REGISTRY.items():
        if registered == path:
            return name
    raise UnknownNameError(f"class {path} is not a registered predictor; registered: {', '.join(REGISTRY.values())}")


def make(name: str, **params: Any) -> Predictor:
    """A new predictor ``name`` with ``params`` overriding its defaults.

    Unknown names and parameter names raise :class:`~nasbench_tools.errors.UnknownNameError`
    listing the valid ones; values outside the declared constraints raise
    :class:`~nasbench_tools.errors.ParameterError` (a ``ValueError``) naming the parameter.
    """
    cls = get_class(name)
    valid = cls._get_param_names()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise UnknownNameError(
            f"predictor {name!r} has no parameter(s) {', '.join(map(repr, unknown))}; valid: {', '.join(valid)}"
        )
    predictor = cls(**params)
    predictor.check_params()
    return predictor


def extra_of(name: str) -> str | None:
    """The pip extra predictor ``name`` needs (its class's ``extra``; None: the core install
    suffices), also when that extra is missing and the class cannot be imported."""
    try:
        return get_class(name).extra
    except MissingExtraError as exc:
        return exc.extra


def info(name: str) -> dict[str, Any]:
    """What the toolkit knows about predictor ``name`` without fitting it: defaults, constraints
    (``Constraint`` objects, ``describe()`` gives text), tuning space and capabilities."""
    cls = get_class(name)
    defaults = cls().get_params()
    return {
        "name": name,
        "class": class_path(cls),
        "encoding": cls.encoding,
        "defaults": defaults,
        "constraints": dict(cls.parameter_constraints),
        "tuning_space": dict(cls.tuning_space),
        "differentiable": bool(cls.differentiable),
        "probabilistic": bool(cls.probabilistic),
        "min_train_samples": int(cls.min_train_samples),
        "needs_space": bool(cls.needs_space),
        "uses_sources": bool(cls.uses_sources),
        "extra": cls.extra,
    }
