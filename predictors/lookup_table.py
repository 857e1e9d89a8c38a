"""The lookup-table predictor: a baseline's value plus one additive change per slot.

``value(a) = value(ref) + sum_s delta_s(a_s)``, where ``delta_s(op)`` is the change measured when
only slot ``s`` of a baseline is set to ``op`` (protocol §2).  Fitted either from the
``1 + slots x (ops - 1)`` neighbouring architectures of the search space's baseline(s)
(``space.lut_architectures()``: 25 for NB201, 21 for TransNAS macro, 19 for TransNAS micro, 17
for NAS-Bench-Macro), or from per-op costs supplied by the user (``op_costs``), the variant
that measures every op in isolation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np

from nasbench_tools.errors import InputDataError, ParameterError
from nasbench_tools.spaces import SearchSpace, get_space

from .base import CONSTANT_SCALE, Predictor
from .constraints import NO_PARAMS, Constraint, Real, SpaceName, space_of

if TYPE_CHECKING:
    import torch


def decode_onehot(space: SearchSpace, X: np.ndarray, label: str = "lookup_table") -> np.ndarray:
    """Op codes of one-hot rows of ``space``; raises if a row is not an exact one-hot."""
    blocks = np.asarray(X, dtype=np.float64).reshape(len(X), space.n_slots, space.n_ops)
    exact = np.all((blocks == 0) | (blocks == 1), axis=(1, 2)) & np.all(blocks.sum(axis=2) == 1, axis=1)
    if not np.all(exact):
        row = int(np.flatnonzero(~exact)[0])
        raise InputDataError(f"{label}: row {row} of X is not a one-hot encoding of a {space.name} architecture")
    ops = blocks.argmax(axis=2)
    valid = space.is_valid(ops)
    if not np.all(valid):
        row = int(np.flatnonzero(~valid)[0])
        raise InputDataError(f"{label}: row {row} of X encodes {tuple(int(v) for v in ops[row])}, which is not in "
                         f"{space.name}: {space.explain_invalid(ops[row])}")
    return ops


class OpCosts(Constraint):
    """None, or finite per-op costs for the search space named by parameter ``space``: shape
    ``(n_ops,)`` (the same on every slot) or ``(n_slots, n_ops)``."""

    def is_valid(self, value: Any, params: Mapping[str, Any] = NO_PARAMS) -> bool:
        space = space_of(params.get("space"))
        if value is None or space is None:  # an unknown space is reported by its own constraint
            return True
        try:
            costs = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return False
        return costs.shape in ((space.n_ops,), (space.n_slots, space.n_ops)) and bool(np.all(np.isfinite(costs)))

    def describe(self, params: Mapping[str, Any] | None = None) -> str:
        space = space_of((params or {}).get("space"))
        if space is None:
            return "None or finite per-op costs of shape (n_ops,) or (n_slots, n_ops) of the space"
        return (f"None or finite numbers of shape ({space.n_ops},) or ({space.n_slots}, {space.n_ops}) "
                f"(space {space.name})")


class LookupTable(Predictor):
    """Additive per-slot lookup table on the one-hot encoding of search space ``space``.

    Parameters
    ----------
    space: search-space name (``nasbench_tools.spaces.get_space``); the table's shape and its
        baseline(s) come from it.
    op_costs: optional per-op costs, shape ``(n_ops,)`` (same cost on every slot) or
        ``(n_slots, n_ops)``; when given, the prediction is ``base_cost + sum of costs`` and
        ``fit`` needs no particular architectures.
    base_cost: constant added to the summed ``op_costs``.

    ``fit(X, y)`` with ``op_costs=None`` must receive every architecture of
    ``space.lut_architectures()``; duplicates are averaged, other rows ignored.
    """

    name = "lookup_table"
    encoding = "onehot"
    differentiable = True
    min_train_samples = 1
    needs_space = True
    parameter_constraints = {"space": SpaceName(), "op_costs": OpCosts(), "base_cost": Real()}

    def __init__(self, space: str = "nb201", op_costs: Any = None, base_cost: float = 0.0,
                 random_state: int | None = 0) -> None:
        self._store_params(locals())

    @classmethod
    def fixed_training_set(cls, space: SearchSpace) -> np.ndarray:
        """The lookup-table architectures of ``space``: its baseline(s) and their one-slot neighbours."""
        return space.index(space.lut_architectures())

    def _space(self) -> SearchSpace:
        return get_space(self.space)

    def _cost_table(self, space: SearchSpace) -> np.ndarray | None:
        """``op_costs`` as an ``(n_slots, n_ops)`` table (checked by its constraint), or None."""
        if self.op_costs is None:
            return None
        return np.array(np.broadcast_to(np.asarray(self.op_costs, dtype=np.float64), (space.n_slots, space.n_ops)))

    # ---------------------------------------------------------------- fitting
    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        space = self._space()
        width = space.n_slots * space.n_ops
        if X.shape[1] != width:
            raise InputDataError(f"{self._label()}: X has n_features={X.shape[1]}, but the one-hot encoding of "
                             f"space {space.name} has {width}")
        costs = self._cost_table(space)
        if costs is not None:
            if self.y_scale_ == CONSTANT_SCALE:  # the costs, not y, define the predictions
                self.y_scale_ = 1.0
            self.table_ = costs / self.y_scale_
            self.offset_ = (float(self.base_cost) - self.y_mean_) / self.y_scale_
            return
        ops = decode_onehot(space, X, self._label())
        needed = space.lut_architectures()
        codes = space.codes(ops)
        need_codes = space.codes(needed)
        present = np.isin(need_codes, codes)
        if not np.all(present):
            missing = space.format(needed[~present])
            raise InputDataError(
                f"{self._label()}: fit needs all {len(needed)} lookup-table architectures of {space.name}; "
                f"{len(missing)} missing: {', '.join(missing)}"
            )
        order = np.argsort(codes, kind="stable")
        uniq, start = np.unique(codes[order], return_index=True)
        sums = np.add.reduceat(y[order], start)
        counts = np.diff(np.append(start, len(order)))
        value = dict(zip(uniq.tolist(), (sums / counts).tolist()))

        def v(row: np.ndarray) -> float:
            return value[int(space.codes(row[None, :])[0])]

        bases = space.lut_baselines()
        ref = np.asarray(bases[0].arch, dtype=np.int64)
        table = np.zeros((space.n_slots, space.n_ops))
        for base in bases:
            b = np.asarray(base.arch, dtype=np.int64)
            for s in base.slots:
                anchor = b.copy()
                anchor[s] = ref[s]
                for op in space.allowed_ops[s]:
                    variant = b.copy()
                    variant[s] = op
                    table[s, op] = v(variant) - v(anchor)
        self.table_ = table
        self.offset_ = v(ref)

    def _predict(self, X: np.ndarray, return_std: bool) -> np.ndarray:
        return X @ self.table_.ravel() + self.offset_

    def _torch_function(self, space: SearchSpace) -> "Callable[[torch.Tensor], torch.Tensor]":
        from .relaxed import affine_onehot

        if space.name != self.space:
            raise ParameterError(f"{self._label()}: fitted for space {self.space!r}, asked for {space.name!r}")
        return affine_onehot(space, self.table_.ravel(), float(self.offset_))

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"table": self.table_, "offset": np.asarray(self.offset_)}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.table_ = np.asarray(state["table"], dtype=np.float64)
        self.offset_ = float(state["offset"])

