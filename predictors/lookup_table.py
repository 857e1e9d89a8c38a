"""The lookup-table predictor: a baseline's value plus one additive change per slot.

``value(a) = value(ref) + sum_s delta_s(a_s)``, where ``delta_s(op)`` is the change measured when
only slot ``s`` of a baseline is set to ``op`` (protocol §2).  Fitted either from the
``1 + slots x (ops - 1)`` neighbouring architectures of the search space's baseline(s)
(``space.lut_architectures()``: 25 for NB201, 21 for TransNAS macro, 19 for TransNAS micro, 17
for NAS-Bench-Macro), or from per-op costs supplied by the user (``op_costs``), the variant
that measures every op in isolation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from nasbench_tools.errors import InputDataError, NasbenchError, ParameterError
from nasbench_tools.spaces import SearchSpace, get_space

from ._checks import check_float, check_seed
from .base import CONSTANT_SCALE, Predictor
from .metrics import kendall_tau

if TYPE_CHECKING:
    import torch

    from nasbench_tools.datasets import Dataset


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

    def __init__(self, space: str = "nb201", op_costs: Any = None, base_cost: float = 0.0,
                 random_state: int | None = 0) -> None:
        self.space = space
        self.op_costs = op_costs
        self.base_cost = base_cost
        self.random_state = random_state

    # ------------------------------------------------------------------ checks
    def _space(self) -> SearchSpace:
        try:
            return get_space(self.space)
        except (NasbenchError, TypeError) as exc:
            raise ParameterError(f"{self._label()}: parameter space={self.space!r} is out of range: {exc}") from None

    def _cost_table(self, space: SearchSpace) -> np.ndarray | None:
        if self.op_costs is None:
            return None
        try:
            costs = np.asarray(self.op_costs, dtype=np.float64)
        except (TypeError, ValueError):
            costs = np.empty(0)
        if costs.shape == (space.n_ops,):
            costs = np.broadcast_to(costs, (space.n_slots, space.n_ops))
        if costs.shape != (space.n_slots, space.n_ops) or not np.all(np.isfinite(costs)):
            raise ParameterError(
                f"{self._label()}: parameter op_costs must be finite numbers of shape ({space.n_ops},) or "
                f"({space.n_slots}, {space.n_ops}) for space {space.name}, got shape {np.shape(self.op_costs)}"
            )
        return np.array(costs)

    def _check_params(self) -> None:
        space = self._space()
        self._cost_table(space)
        check_float(self._label(), "base_cost", self.base_cost)
        check_seed(self._label(), self.random_state)

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
        import torch

        from .relaxed import relaxed_onehot

        if space.name != self.space:
            raise ValueError(f"{self._label()}: fitted for space {self.space!r}, asked for {space.name!r}")
        flat = torch.as_tensor(self.table_.ravel(), dtype=torch.float64)
        offset = float(self.offset_)

        def fn(w: torch.Tensor) -> torch.Tensor:
            x = relaxed_onehot(space, w)
            return x @ flat.to(x.dtype) + offset

        return fn

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"table": self.table_, "offset": np.asarray(self.offset_)}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.table_ = np.asarray(state["table"], dtype=np.float64)
        self.offset_ = float(state["offset"])


def evaluate_lut(dataset: "Dataset") -> tuple[int, float]:
    """Fit a lookup table from the measured neighbours of ``dataset``'s baseline(s) and score it.

    Returns the number of architectures measured and Kendall's tau over every architecture of
    the space with a value.
    """
    from nasbench_tools.encodings import encode

    space = dataset.space
    needed = space.lut_architectures()
    y = dataset.values[space.index(needed)]
    if not np.all(np.isfinite(y)):
        missing = space.format(needed[~np.isfinite(y)])
        raise ValueError(f"{dataset.id}: the lookup table needs values for {', '.join(missing)}, which are missing")
    lut = LookupTable(space=space.name).fit(encode(space, needed, "onehot"), y)
    have = dataset.available
    pred = lut.predict(encode(space, space.arch(have), "onehot"))
    return len(needed), kendall_tau(dataset.values[have], pred)
