"""Parameter checks shared by the predictors: each error names the parameter and the range."""

from __future__ import annotations

import numbers
from typing import Any, NoReturn, Sequence

from nasbench_tools.errors import ParameterError


def _fail(label: str, name: str, value: Any, expected: str) -> NoReturn:
    raise ParameterError(f"{label}: parameter {name}={value!r} is out of range; expected {expected}")


def check_int(label: str, name: str, value: Any, low: int, high: int | None = None) -> None:
    """``value`` is an integer in ``[low, high]`` (``high=None``: unbounded)."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    ok = ok and value >= low and (high is None or value <= high)
    if not ok:
        _fail(label, name, value, f"an integer >= {low}" + ("" if high is None else f" and <= {high}"))


def check_float(label: str, name: str, value: Any, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False) -> None:
    """``value`` is a real number in the given (open or closed) interval."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "-inf" if low is None else f"{low}"
        hi = "inf" if high is None else f"{high}"
        _fail(label, name, value, f"a number in {'(' if low_open or low is None else '['}{lo}, {hi}"
              f"{')' if high_open or high is None else ']'}")


def check_choice(label: str, name: str, value: Any, options: Sequence[Any]) -> None:
    if value not in options:
        _fail(label, name, value, "one of " + ", ".join(map(repr, options)))


def check_seed(label: str, value: Any) -> None:
    """``random_state`` is a non-negative integer or None."""
    if value is not None and not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0):
        _fail(label, "random_state", value, "a non-negative integer or None")


def seed_int(random_state: int | None, stream: int = 0) -> int:
    """A 31-bit integer seed for libraries that take ints, derived from ``random_state``
    (None -> fresh entropy) and a stream number (so sub-components get distinct seeds)."""
    import numpy as np

    ss = np.random.SeedSequence(None if random_state is None else [int(random_state), stream])
    return int(ss.generate_state(1, dtype=np.uint32)[0] >> 1)
