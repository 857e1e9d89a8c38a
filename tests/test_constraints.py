"""Declared parameter constraints: complete for every predictor, inside every tuning space, one
error shape everywhere (construction, fit, loading); capabilities as class attributes; every
error class in ``nasbench_tools.errors``."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

import numpy as np
import pytest

import predictors
from nasbench_tools.errors import NasbenchError, ParameterError, PredictorFileError
from nasbench_tools.spaces import get_space
from predictors.constraints import (COUNT, NO_PARAMS, AnyOf, Bool, Int, NoneOr, Options, Real, Seed, SpaceName,
                                    declaration_problems, tuning_space_problems)
from predictors.linear import Ridge
from predictors.space import Choice, IntUniform, Uniform

REPO = Path(__file__).resolve().parents[1]
NAMES = predictors.available()
#: Packages whose exception classes must all live in nasbench_tools/errors.py.
PACKAGES = ("nasbench_tools", "predictors", "simulation")


def _init_params(cls: type) -> list[str]:
    return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]


# ------------------------------------------------------------------ every predictor
@pytest.mark.parametrize("name", NAMES)
def test_every_init_parameter_has_exactly_one_constraint(name):
    cls = predictors.get_class(name)
    assert set(cls.parameter_constraints) == set(_init_params(cls))
    assert declaration_problems(name, cls.parameter_constraints, _init_params(cls)) == []
    predictors.make(name).check_params()  # the defaults satisfy them


@pytest.mark.parametrize("name", NAMES)
def test_tuning_space_lies_inside_the_constraints(name):
    cls = predictors.get_class(name)
    defaults = cls().get_params()
    for param, dist in cls.tuning_space.items():
        ends = dist.options if isinstance(dist, Choice) else (dist.low, dist.high)
        for value in ends:
            assert cls.parameter_constraints[param].is_valid(value, {**defaults, param: value}), (param, value)
            predictors.make(name, **{param: value})  # the registry accepts it too
    assert tuning_space_problems(name, cls.parameter_constraints, cls.tuning_space, defaults) == []


@pytest.mark.parametrize("name", NAMES)
def test_info_describes_each_constraint(name):
    info = predictors.info(name)
    assert set(info["constraints"]) == set(info["defaults"])
    assert all(isinstance(c.describe(), str) and c.describe() for c in info["constraints"].values())
    cls = predictors.get_class(name)
    assert (info["needs_space"], info["uses_sources"], info["extra"]) == (cls.needs_space, cls.uses_sources, cls.extra)


# ------------------------------------------------------------------ the class-level checks
def test_a_tuning_space_outside_its_constraint_is_refused_when_the_class_is_defined():
    with pytest.raises(TypeError, match=r"tuning space alpha=\[-1.0, 2.0\] reaches -1.0.*\[0.0, inf\)"):
        class NegativeRidge(Ridge):  # defining the class is the test
            tuning_space = {"alpha": Uniform(-1.0, 2.0)}
    with pytest.raises(TypeError, match="tuning space kernel=.*'cubic'"):
        from predictors.svr import SVR

        class CubicSVR(SVR):
            tuning_space = {"kernel": Choice(("rbf", "cubic"))}
    with pytest.raises(TypeError, match="tuning space entry 'depth' is not a constrained parameter"):
        class DepthRidge(Ridge):
            tuning_space = {"depth": IntUniform(1, 3)}


def test_a_parameter_without_constraint_or_a_stale_constraint_is_refused():
    with pytest.raises(TypeError, match="parameter 'beta' has no constraint"):
        class TwoRidge(Ridge):
            def __init__(self, alpha: float = 1.0, beta: float = 0.0, random_state: int | None = 0) -> None:
                self._store_params(locals())
    with pytest.raises(TypeError, match="names 'gamma', which is not a parameter"):
        class StaleRidge(Ridge):
            parameter_constraints = {"gamma": COUNT}


def test_constraints_merge_along_the_class_hierarchy():
    class StrictRidge(Ridge):
        parameter_constraints = {"alpha": Real(0.5, 2.0)}
        tuning_space = {"alpha": Choice((0.5, 2.0))}

    assert set(StrictRidge.parameter_constraints) == {"alpha", "random_state"}
    assert isinstance(StrictRidge.parameter_constraints["random_state"], Seed)  # from Predictor
    assert Ridge.parameter_constraints["alpha"] == Real(0.0)  # the parent is unchanged
    X, y = np.eye(4), np.arange(4.0)
    StrictRidge(alpha=1.0).fit(X, y)
    with pytest.raises(ParameterError, match=r"parameter alpha=0.25 is out of range; expected a number in \[0.5, 2.0\]"):
        StrictRidge(alpha=0.25).fit(X, y)
    mlp = predictors.get_class("mlp_small").parameter_constraints
    assert {"batch_size", "epochs", "learning_rate"} <= set(mlp) and isinstance(mlp["activation"], Options)


# ------------------------------------------------------------------ one error shape
@pytest.mark.parametrize("name, param, value, expected", [
    ("ridge", "alpha", -1, "a number in [0.0, inf)"),
    ("svr", "gamma", 0, "one of 'scale', 'auto' or a number in (0.0, inf)"),
    ("svr", "kernel", "cubic", "one of 'linear', 'poly', 'rbf', 'sigmoid'"),
    ("random_forest", "bootstrap", "yes", "True or False"),
    ("random_forest", "max_features", 0.0, "a number in (0.0, 1.0]"),
    ("gcn", "dropout", 1.0, "a number in [0.0, 1.0)"),
    ("nao", "vocab_size", 1, "None or an integer >= 2"),
    ("lightgbm", "num_leaves", 1, "an integer >= 2"),
    ("bohamiann", "num_steps", 15, "an integer >= 1 and > num_burn_in_steps + keep_every = 15"),
    ("lookup_table", "op_costs", [1.0, 2.0], "None or finite numbers of shape (5,) or (6, 5) (space nb201)"),
    ("lookup_table", "space", "nb999", "a search-space name, one of 'nb201'"),
    ("transfer_gp", "sources", np.ones((3, 2)), "None or a finite (15625, m) array of source values"),
    ("ridge", "random_state", -3, "a non-negative integer or None"),
])
def test_out_of_range_values_are_one_line_parameter_errors(name, param, value, expected):
    with pytest.raises(ParameterError) as err:
        predictors.make(name, **{param: value})
    text = str(err.value)
    assert text.startswith(f"{name}: parameter {param}=") and "is out of range; expected " in text
    assert expected in text and "\n" not in text
    assert isinstance(err.value, ValueError) and isinstance(err.value, NasbenchError)


def test_fit_checks_values_set_after_construction():
    model = predictors.make("ridge").set_params(alpha="strong")
    with pytest.raises(ParameterError, match="ridge: parameter alpha='strong' is out of range"):
        model.fit(np.eye(3), np.arange(3.0))


def test_long_values_are_quoted_short():
    with pytest.raises(ParameterError) as err:
        predictors.make("transfer_gp", sources=np.full((15625, 3), np.nan))
    assert len(str(err.value)) < 300 and "..." in str(err.value)


def test_loaded_parameters_are_checked_with_the_same_constraints(tmp_path):
    from predictors.persistence import META_KEY, load, save

    path = save(predictors.make("ridge").fit(np.eye(4), np.arange(4.0)), tmp_path / "ridge.npz")
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays[META_KEY][()]))
    meta["params"]["alpha"] = -2.0
    arrays[META_KEY] = np.array(json.dumps(meta))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(PredictorFileError, match=r"parameter alpha=-2.0 is out of range; expected a number in \[0.0"):
        load(tmp_path / "bad.npz")


def test_tune_checks_its_options_with_constraints():
    from predictors.tuning import tune

    X, y = np.eye(12), np.arange(12.0)
    with pytest.raises(ParameterError, match="tune: parameter cv=1 is out of range; expected an integer >= 2"):
        tune("ridge", X, y, cv=1)
    with pytest.raises(ParameterError, match="n_jobs=0 .*an integer >= 1 or -1"):
        tune("ridge", X, y, n_jobs=0)


# ------------------------------------------------------------------ the constraint types
def test_constraint_types():
    assert Int(1).is_valid(3) and not Int(1).is_valid(0) and not Int(1).is_valid(True) and not Int(1).is_valid(2.0)
    assert Int(1).is_valid(np.int64(2)) and Int(0, 5).describe() == "an integer >= 0 and <= 5"
    assert Real(0.0, closed="neither").describe() == "a number in (0.0, inf)"
    assert not Real().is_valid(float("nan")) and Real().is_valid(np.float32(1.5)) and not Real().is_valid("1")
    assert Real().describe() == "a number in (-inf, inf)"
    with pytest.raises(ValueError, match="closed"):
        Real(closed="open")
    assert Options("a", "b").is_valid("a") and not Options("a").is_valid(np.array(["a", "b"]))
    assert not Options(1, 2).is_valid(True) and Options(None).describe() == "None"
    assert Bool().is_valid(np.bool_(True)) and not Bool().is_valid(1)
    assert Seed().is_valid(None) and not Seed().is_valid(-1) and not Seed().is_valid(1.0)
    assert NoneOr(COUNT).describe() == "None or an integer >= 1"
    assert AnyOf(Options("auto"), COUNT).is_valid("auto") and not AnyOf(Options("auto"), COUNT).is_valid(0)
    assert SpaceName().is_valid("nbmacro") and not SpaceName().is_valid(["nb201"]) and not SpaceName().is_valid("x")
    above = Int(1, above=("a", "b"))
    assert above.is_valid(6, {"a": 2, "b": 3}) and not above.is_valid(5, {"a": 2, "b": 3})
    assert above.is_valid(5, {"a": "bad", "b": 3})  # parameter a reports itself
    assert above.is_valid(5, NO_PARAMS) and above.describe({"a": 2, "b": 3}).endswith("> a + b = 5")


# ------------------------------------------------------------------ capabilities
def test_capabilities_replace_name_tests():
    for name in NAMES:
        cls = predictors.get_class(name)
        params = set(_init_params(cls))
        assert cls.needs_space == ("space" in params), name
        assert cls.uses_sources == ({"sources", "source_names", "target"} <= params), name
        assert cls.extra in (None, "boosting", "neural"), name
        space = get_space("nbmacro")
        fixed = cls.fixed_training_set(space)
        if name == "lookup_table":
            assert np.array_equal(fixed, space.index(space.lut_architectures())) and len(fixed) == 17
        else:
            assert fixed is None, name
    assert predictors.make("ridge").suggest_training(np.ones(5), np.arange(5), 3, 0) is None
    assert predictors.make("transfer_gp").suggest_training(np.ones(5), np.arange(5), 3, 0) is None  # random design
    from predictors.registry import extra_of

    assert [extra_of(n) for n in ("ridge", "xgboost", "gcn", "gp")] == [None, "boosting", "neural", "neural"]


# ------------------------------------------------------------------ errors in one place
def _exception_classes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = {ast.unparse(b).split(".")[-1] for b in node.bases}
            if any(b.endswith(("Error", "Exception", "Unavailable")) for b in bases):
                found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}")
    return found


def test_every_error_class_is_defined_in_errors_py():
    elsewhere = [hit for pkg in PACKAGES for path in sorted((REPO / pkg).rglob("*.py"))
                 if path != REPO / "nasbench_tools" / "errors.py" for hit in _exception_classes(path)]
    assert elsewhere == []
    from nasbench_tools import errors

    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, BaseException)]
    assert all(issubclass(c, NasbenchError) for c in classes if c.__module__ == errors.__name__)
    assert issubclass(ParameterError, ValueError) and issubclass(errors.HeapStatsUnavailable, RuntimeError)
