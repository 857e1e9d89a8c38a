"""Common machinery of slot-structured networks: architecture plans, splitting, extraction.

A network is built for a set of allowed op codes per slot.  With several choices per slot it
is a super-network (single-path: :meth:`SlotNetwork.set_arch` picks the modules one forward
pass runs, nothing else executes); with one choice per slot it is a stand-alone network.
Both are made of the same modules, so :meth:`SlotNetwork.extract` just copies weights.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import InvalidArchitectureError
from .conditional import ConditionalOp, Dependencies

#: State-dict key of weight set 0 of a candidate op: ``...ops.<slot>_<op>.sets.0.``.
_SET_KEY = re.compile(r"(^|\.)ops\.(\d+)_(\d+)\.sets\.0\.")


def op_key(slot: int, op: int) -> str:
    """Name of the candidate op ``op`` of ``slot`` inside an ``ops`` ModuleDict."""
    return f"{slot}_{op}"


class SlotNetwork(nn.Module):
    """Base class: subclasses build modules, list their candidate ops and plan a forward pass."""

    def __init__(self, allowed: Sequence[Sequence[int]], dependencies: Sequence[Sequence[int]], config: dict[str, Any]) -> None:
        super().__init__()
        allowed_t = tuple(tuple(int(o) for o in ops) for ops in allowed)
        self.dependencies = Dependencies(tuple(tuple(int(d) for d in ds) for ds in dependencies), allowed_t)
        self.is_split = False
        self.arch: tuple[int, ...] | None = None
        self._config = dict(config)

    # ----------------------------------------------------------- subclass hooks
    def candidate_ops(self) -> Iterator[tuple[int, int, ConditionalOp]]:
        """Every (slot, op code, weight sets) of the network (one per site)."""
        raise NotImplementedError

    def _plan(self, row: tuple[int, ...], set_index: list[int]) -> None:
        """Prepare the forward pass of architecture ``row`` with the given active sets."""
        raise NotImplementedError

    # ---------------------------------------------------------------- interface
    @property
    def allowed(self) -> tuple[tuple[int, ...], ...]:
        return self.dependencies.allowed

    @property
    def n_slots(self) -> int:
        return self.dependencies.n_slots

    def check_arch(self, ops: Sequence[int]) -> tuple[int, ...]:
        row = tuple(int(o) for o in ops)
        if len(row) != self.n_slots:
            raise InvalidArchitectureError(f"expected {self.n_slots} op codes, got {len(row)}: {row}")
        for s, (o, allowed) in enumerate(zip(row, self.allowed)):
            if o not in allowed:
                raise InvalidArchitectureError(
                    f"architecture {row}: slot {s} has op {o}; this network allows {allowed}"
                )
        return row

    def active_sets(self, ops: Sequence[int]) -> list[int]:
        """Index of the active weight set of every slot for architecture ``ops``."""
        if not self.is_split:
            return [0] * self.n_slots
        return self.dependencies.set_index(ops)

    def set_arch(self, ops: Sequence[int] | np.ndarray) -> None:
        """Select the single path of architecture ``ops`` (op codes, one per slot)."""
        row = self.check_arch(ops)
        if row != self.arch:
            self._plan(row, self.active_sets(row))
            self.arch = row

    def split(self) -> None:
        """Give every candidate op one weight set per choice of its dependencies (copies)."""
        if self.is_split:
            raise RuntimeError("the network's weights are already split")
        for slot, _op, cond in self.candidate_ops():
            n = self.dependencies.n_sets(slot)
            if n > 1:
                cond.split(n)
        self.is_split = True
        if self.arch is not None:
            arch, self.arch = self.arch, None
            self.set_arch(arch)

    def weight_set_counts(self) -> dict[str, int]:
        """Weight sets of candidate ops with weights, counted once per (slot, op) like Chapter 6.

        ``weight_sets`` counts the convolution/MBConv candidates; ``extra_weight_sets`` the
        shape-fixing helpers (skip-edge linear transformers, strided identity convolutions).
        """
        seen: dict[tuple[int, int], ConditionalOp] = {}
        for slot, op, cond in self.candidate_ops():
            seen.setdefault((slot, op), cond)
        main = sum(c.n_sets for c in seen.values() if not c.extra)
        extra = sum(c.n_sets for c in seen.values() if c.extra)
        return {"weight_sets": main, "extra_weight_sets": extra}

    def standalone(self, ops: Sequence[int]) -> "SlotNetwork":
        """A fresh stand-alone network of architecture ``ops`` with this network's settings."""
        row = self.check_arch(ops)
        cfg = dict(self._config)
        cfg.update(allowed=[(o,) for o in row], dependencies=[()] * self.n_slots, arch=row)
        return type(self)(**cfg)

    def extract(self, ops: Sequence[int]) -> "SlotNetwork":
        """The stand-alone network of ``ops`` holding this network's active weights and statistics."""
        row = self.check_arch(ops)
        net = self.standalone(row).to(next(self.parameters()).device)
        sets = self.active_sets(row)
        src = self.state_dict()

        def source_key(key: str) -> str:
            return _SET_KEY.sub(lambda m: f"{m.group(1)}ops.{m.group(2)}_{m.group(3)}.sets.{sets[int(m.group(2))]}.", key)

        net.load_state_dict({k: src[source_key(k)] for k in net.state_dict()})
        return net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.arch is None:
            raise RuntimeError("no architecture selected: call set_arch(ops) first")
        return self._forward(x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def bn_modules(module: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    """Every BatchNorm that tracks running statistics, in a stable order."""
    return [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]


def bn_buffers(module: nn.Module) -> list[torch.Tensor]:
    """Running statistics of every BatchNorm (mean, var, batch count), in a stable order."""
    return [t for m in bn_modules(module) for t in (m.running_mean, m.running_var, m.num_batches_tracked)]
