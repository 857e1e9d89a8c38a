"""Declared parameter constraints: the values each predictor parameter accepts, in one place.

A predictor class lists ``parameter_constraints = {param: Constraint}`` (merged along the class
hierarchy by :class:`predictors.base.Predictor`); the same declaration is checked by ``fit``, by
:func:`predictors.registry.make` at construction, by :mod:`predictors.persistence` on loaded
parameters, shown by ``predictors.info()`` and cross-checked against the class's tuning space
(:func:`tuning_space_problems`).  A violation is one line::

    ParameterError: ridge: parameter alpha=-1 is out of range; expected a number in [0.0, inf)

A constraint answers ``is_valid(value, params)`` (``params``: all parameters of the estimator, for
the few bounds that depend on another parameter) and ``describe(params)`` (what is expected).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from nasbench_tools.errors import NasbenchError, ParameterError
from nasbench_tools.runner.config import is_int

#: Longest value text quoted in an error (a source table would otherwise fill the terminal).
MAX_VALUE_CHARS = 80
#: The empty parameter mapping (a constraint checked without the other parameters).
NO_PARAMS: Mapping[str, Any] = MappingProxyType({})
#: ``closed`` values of :class:`Real` and which ends they include.
_CLOSED = {"both": (True, True), "left": (True, False), "right": (False, True), "neither": (False, False)}


def value_text(value: Any) -> str:
    """``repr(value)`` on one line, cut to :data:`MAX_VALUE_CHARS`."""
    text = " ".join(repr(value).split())
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS - 3] + "..."


def is_real(value: Any) -> bool:
    """A real number that is not NaN and not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and value == value


class Constraint:
    """What one parameter accepts; subclasses implement :meth:`is_valid` and :meth:`describe`."""

    def is_valid(self, value: Any, params: Mapping[str, Any] = NO_PARAMS) -> bool:
        raise NotImplementedError

    def describe(self, params: Mapping[str, Any] | None = None) -> str:
        """What is expected, completing "expected ..." (``params`` fill in dependent bounds)."""
        raise NotImplementedError

    def check(self, label: str, name: str, value: Any, params: Mapping[str, Any] = NO_PARAMS) -> None:
        """Raise :class:`ParameterError` naming ``label``, the parameter and what is expected."""
        if not self.is_valid(value, params):
            raise ParameterError(f"{label}: parameter {name}={value_text(value)} is out of range; "
                                 f"expected {self.describe(params)}")


@dataclass(frozen=True)
class Int(Constraint):
    """An integer in ``[low, high]`` (``None``: unbounded); ``above`` names parameters whose sum
    the value must exceed (e.g. BOHAMIANN's steps beyond burn-in plus one sample interval)."""

    low: int | None = None
    high: int | None = None
    above: tuple[str, ...] = ()

    def _floor(self, params: Mapping[str, Any]) -> int | None:
        """The sum of the ``above`` parameters; None when one is missing or not an integer
        (that parameter's own constraint reports it)."""
        values = [params.get(p) for p in self.above]
        return int(sum(values)) if self.above and all(is_int(v) for v in values) else None

    def is_valid(self, value: Any, params: Mapping[str, Any] = NO_PARAMS) -> bool:
        if not is_int(value) or (self.low is not None and value < self.low):
            return False
        floor = self._floor(params)
        return (self.high is None or value <= self.high) and (floor is None or value > floor)

    def describe(self, params: Mapping[str, Any] | None = None) -> str:
        parts = [f">= {self.low}"] if self.low is not None else []
        parts += [f"<= {self.high}"] if self.high is not None else []
        if self.above:
            floor = self._floor(params or NO_PARAMS)
            parts.append("> " + " + ".join(self.above) + ("" if floor is None else f" = {floor}"))
        return "an integer" + (" " + " and ".join(parts) if parts else "")


@dataclass(frozen=True)
class Real(Constraint):
    """A real number (not NaN) in the interval from ``low`` to ``high`` (``None``: unbounded);
    ``closed`` says which ends belong to it, as in scikit-learn: both, left, right or neither."""

    low: float | None = None
    high: float | None = None
    closed: str = "both"

    def __post_init__(self) -> None:
        if self.closed not in _CLOSED:
            raise ParameterError(f"Real: closed={self.closed!r}; expected one of {', '.join(_CLOSED)}")

    def is_valid(self, value: Any, params: Mapping[str, Any] = NO_PARAMS) -> bool:
        if not is_real(value):
            return False
        low_in, high_in = _CLOSED[self.closed]
        if self.low is not None and not (value >= self.low if low_in else value > self.low):
            return False
        return self.high is None or (value <= self.high if high_in else value < self.high)

    def describe(self, params: Mapping[str, Any] | None = None) -> str:
        low_in, high_in = _CLOSED[self.closed]
        lo = "(-inf" if self.low is None else ("[" if low_in else "(") + f"{self.low}"
        hi = "inf)" if self.high is None else f"{self.high}" + ("]" if high_in else ")")
        return f"a number in {lo}, {hi}"


class _Several(Constraint):
    """Shared part of the constraints made of several items (options, alternatives)."""

    def __init__(self, *items: Any) -> None:
        self.items = items

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self.items!r}"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.items == self.items  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.items))


class Options(_Several):
    """One of a fixed set of values (compared with ``==``; a bool matches only a bool)."""

    def is_valid(self, value: Any, params: Mapping[str, Any] = NO_PARAMS) -> bool:
        return any(_same(value, option) for option in self.items)

    def describe(self, params: Mapping[str, Any] | None = None) -> str:
        if len(self.items) == 1:
            return repr(self.items[0])
        return "one of " + ", ".join(map(repr, self.items))


def _same(value: Any, option: Any) -> bool:
    if isinstance(option, bool) or option is None:
        return value is option or (isinstance(value, np.bool_) and bool(value) is option)
    if isinstance(value, (bool, np.bool_)) or value is None:
        return False
    try:
        return bool(value == option)
    except (TypeError, ValueError):  # e.g. an array compared with a string
        return False


class AnyOf(_Several):
    """Any of several constraints, e.g. ``AnyOf(Options("scale", "auto"), Real(0, closed="neither"))``."""

    def is_valid(self, value: Any, params: Mapping[str, Any] = NO_PARAMS) -> bool:
        return any(c.is_valid(value, params) for c in self.items)

    def describe(self, params: Mapping[str, Any] | None = None) -> str:
        return " or ".join(c.describe(params) for c in self.items)


def NoneOr(constraint: Constraint) -> AnyOf:  # noqa: N802 - reads like the other constraint types
    """``None`` or a value ``constraint`` accepts."""
    return AnyOf(Options(None), constraint)


@dataclass(frozen=True)
class Bool(Constraint):
    """``True`` or ``False`` (numpy bools too)."""

    def is_valid(self, value: Any, params: Mapping[str, Any] = NO_PARAMS) -> bool:
        return isinstance(value, (bool, np.bool_))

    def describe(self, params: Mapping[str, Any] | None = None) -> str:
        return "True or False"


@dataclass(frozen=True)
class Seed(Constraint):
    """A ``random_state``: a non-negative integer or None."""

    def is_valid(self, value: Any, params: Mapping[str, Any] = NO_PARAMS) -> bool:
        return value is None or (is_int(value) and value >= 0)

    def describe(self, params: Mapping[str, Any] | None = None) -> str:
        return "a non-negative integer or None"


@dataclass(frozen=True)
class Text(Constraint):
    """A string."""

    def is_valid(self, value: Any, params: Mapping[str, Any] = NO_PARAMS) -> bool:
        return isinstance(value, str)

    def describe(self, params: Mapping[str, Any] | None = None) -> str:
        return "a string"


@dataclass(frozen=True)
class Texts(Constraint):
    """A list or tuple of strings."""

    def is_valid(self, value: Any, params: Mapping[str, Any] = NO_PARAMS) -> bool:
        return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)

    def describe(self, params: Mapping[str, Any] | None = None) -> str:
        return "a list of strings"


@dataclass(frozen=True)
class SpaceName(Constraint):
    """The name of a registered search space (looked up when checked, so spaces registered later
    count)."""

    def is_valid(self, value: Any, params: Mapping[str, Any] = NO_PARAMS) -> bool:
        return space_of(value) is not None

    def describe(self, params: Mapping[str, Any] | None = None) -> str:
        from nasbench_tools.spaces import available_spaces

        return "a search-space name, one of " + ", ".join(map(repr, available_spaces()))


def space_of(name: Any) -> Any:
    """The search space called ``name``, or None when there is none."""
    from nasbench_tools.spaces import get_space

    try:
        return get_space(name)
    except (NasbenchError, TypeError):  # unknown name, or an unhashable value
        return None


#: Shared constraints of many predictors.
POSITIVE = Real(0.0, closed="neither")
NON_NEGATIVE = Real(0.0)
#: A fraction in (0, 1] (feature, bagging and minibatch fractions).
FRACTION = Real(0.0, 1.0, closed="right")
#: A probability in [0, 1) (dropout).
DROP_RATE = Real(0.0, 1.0, closed="left")
COUNT = Int(1)


def check_values(label: str, constraints: Mapping[str, Constraint], params: Mapping[str, Any]) -> None:
    """Check every parameter that has a constraint (in ``params`` order); raise on the first
    violation (:class:`ParameterError`)."""
    for name, value in params.items():
        if name in constraints:
            constraints[name].check(label, name, value, params)


def declaration_problems(label: str, constraints: Mapping[str, Constraint], param_names: Any) -> list[str]:
    """Parameters without a constraint and constraints of no parameter (empty: consistent)."""
    names = set(param_names)
    problems = [f"{label}: parameter {p!r} has no constraint in parameter_constraints"
                for p in sorted(names - set(constraints))]
    problems += [f"{label}: parameter_constraints names {p!r}, which is not a parameter of __init__"
                 for p in sorted(set(constraints) - names)]
    return problems


def tuning_space_problems(label: str, constraints: Mapping[str, Constraint], space: Mapping[str, Any],
                          defaults: Mapping[str, Any]) -> list[str]:
    """Tuning-space entries that can produce a value outside their parameter's constraint: every
    end of a range and every option is checked (with the other parameters at their defaults)."""
    problems = []
    for name, dist in space.items():
        if name not in constraints:
            problems.append(f"{label}: tuning space entry {name!r} is not a constrained parameter")
            continue
        for value in dist.extremes():
            params = {**defaults, name: value}
            if not constraints[name].is_valid(value, params):
                problems.append(f"{label}: tuning space {name}={dist.describe()} reaches {value_text(value)}, "
                                f"outside the constraint ({constraints[name].describe(params)})")
    return problems
