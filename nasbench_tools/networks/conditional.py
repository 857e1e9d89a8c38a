"""Conditional (split) weights: one weight set of a candidate op per choice of its prior ops.

A :class:`ConditionalOp` holds the weight sets of one candidate op at one place of a network.
Before splitting it has one set; :meth:`ConditionalOp.split` copies that set (parameters and
BatchNorm statistics) once per combination of the choices of the slots it depends on.  The
network picks the active set from the sampled architecture (:class:`Dependencies`).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, NoReturn, Sequence

import numpy as np
from torch import nn

from ..errors import DependencyError

#: Protocol §4: NB201 edges 1->2 (slot 2) and 1->3 (slot 4) depend on 0->1 (slot 0); edge 2->3
#: (slot 5) depends on 0->2 (slot 1) and 1->2 (slot 2).
NB201_DEPENDENCIES: tuple[tuple[int, ...], ...] = ((), (), (0,), (), (0,), (1, 2))
#: Protocol §4: every NAS-Bench-Macro layer depends on the previous one.
MACRO_DEPENDENCIES: tuple[tuple[int, ...], ...] = ((),) + tuple((i,) for i in range(7))

_DEP_ITEM = re.compile(r"\s*(\d+)\s*:\s*(\d+(?:\s*,\s*\d+)*)?\s*")


@dataclass(frozen=True)
class Dependencies:
    """For each slot the slots whose op choice selects its weight set.

    ``allowed`` are the op codes each slot may take (the search-space subset); a slot with
    dependencies ``(d1, d2)`` has ``len(allowed[d1]) * len(allowed[d2])`` weight sets once split.
    """

    deps: tuple[tuple[int, ...], ...]
    allowed: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        n = len(self.allowed)
        if len(self.deps) != n:
            raise DependencyError(f"dependencies name {len(self.deps)} slots; the space has {n}")
        for s, ds in enumerate(self.deps):
            for d in ds:
                if not 0 <= d < s:
                    raise DependencyError(
                        f"slot {s} cannot depend on slot {d}: a slot may only depend on earlier slots 0..{s - 1}"
                    )
            if len(set(ds)) != len(ds):
                raise DependencyError(f"slot {s} lists a dependency twice: {ds}")

    @property
    def n_slots(self) -> int:
        return len(self.allowed)

    def n_sets(self, slot: int) -> int:
        """Weight sets of one candidate op of ``slot`` after splitting."""
        return int(np.prod([len(self.allowed[d]) for d in self.deps[slot]], dtype=np.int64))

    def set_index(self, row: Sequence[int]) -> list[int]:
        """Active weight-set index of every slot for architecture ``row`` (mixed radix)."""
        out = []
        for ds in self.deps:
            idx = 0
            for d in ds:
                idx = idx * len(self.allowed[d]) + self.allowed[d].index(int(row[d]))
            out.append(idx)
        return out

    def to_text(self) -> str:
        return ";".join(f"{s}:{','.join(map(str, ds))}" for s, ds in enumerate(self.deps) if ds) or "none"


def parse_dependencies(text: str, n_slots: int) -> tuple[tuple[int, ...], ...]:
    """Parse ``"2:0;4:0;5:1,2"`` (slot:deps, unnamed slots independent) or ``"none"``."""
    deps: list[tuple[int, ...]] = [()] * n_slots
    if text.strip().lower() in ("none", ""):
        return tuple(deps)
    for item in text.split(";"):
        m = _DEP_ITEM.fullmatch(item)
        if m is None:
            raise DependencyError(f"dependency item {item!r} is not of the form 'slot:dep,dep' (e.g. '5:1,2')")
        slot = int(m.group(1))
        if not 0 <= slot < n_slots:
            raise DependencyError(f"dependency item {item!r}: slot {slot} outside 0..{n_slots - 1}")
        deps[slot] = tuple(int(v) for v in (m.group(2) or "").split(",") if v.strip())
    return tuple(deps)


class ConditionalOp(nn.Module):
    """The weight sets of one candidate op at one place of a network.

    ``extra`` marks helper weights that exist only to fix a shape (skip-edge linear transformer,
    strided identity convolution); they split like the others but are counted separately.
    """

    def __init__(self, op: nn.Module, extra: bool = False) -> None:
        super().__init__()
        self.sets = nn.ModuleList([op])
        self.extra = extra

    @property
    def n_sets(self) -> int:
        return len(self.sets)

    def split(self, n_sets: int) -> None:
        """Copy the single trained set (parameters and buffers) into ``n_sets`` sets."""
        if self.n_sets != 1:
            raise RuntimeError(f"weights already split into {self.n_sets} sets")
        for _ in range(n_sets - 1):
            self.sets.append(copy.deepcopy(self.sets[0]))

    def forward(self, *args: Any, **kwargs: Any) -> NoReturn:  # pragma: no cover - networks call the active set directly
        raise RuntimeError("call the active weight set (network plans index ConditionalOp.sets directly)")
