"""Lookup tables from isolated op measurements (the other common lookup-table variant).

Every candidate op of every slot is built as a module of its own, at the input shape it gets
inside the evaluation network, and timed alone with the measurement protocol; so are the fixed
parts (stem, reduction cells, head and classifier).  The table predicts
``fixed + sum over slots of cost(slot, op)`` (:class:`predictors.lookup_table.LookupTable` with
``op_costs``).  Unlike the neighbour-difference table it never measures a whole network, so it
misses what only a network has: the node additions of a cell, the edges a cell does not run
because their output never reaches it, and cache effects between layers.

An op that appears in several cells (the NB201 network repeats its cell 5 times per stage) is
measured once per distinct input shape and counted once per appearance.  The TransNAS macro
space has no isolated table: a module's input shape depends on the modules before it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..errors import NasbenchError
from ..networks.evaluation import NB201_DATASETS, NB201_EVAL_CELLS, NBMACRO_CLASSES, check_input_size, family
from ..networks.macro import MACRO_HEAD_CHANNELS, MACRO_STAGES, MACRO_STEM_CHANNELS
from ..networks.nb201 import NB201_STAGE_CHANNELS
from ..networks.ops import ResNetReduction, macro_op, nb201_op
from ..networks.transnas import (
    TRANSNAS_BASE_CHANNELS, TRANSNAS_BLOCKS_PER_LAYER, TRANSNAS_MICRO_SKELETON, micro_op, module_shape_change,
)
from ..networks.transnas import _CELL_EDGES as TRANSNAS_EDGES
from ..spaces import get_space, spaces_with
from .protocol import MeasureConfig, measure_module, resolve_device


@dataclass(frozen=True)
class Part:
    """One module timed alone: a builder, its input shape (no batch) and how often the network runs it."""

    name: str
    build: Callable[[], nn.Module]
    input_shape: tuple[int, int, int]
    count: int = 1


@dataclass(frozen=True)
class IsolatedCosts:
    """Fixed cost and per-(slot, op) costs (ms; NaN for ops a slot cannot take), plus the
    wall-clock seconds the measurements took."""

    space: str
    base_cost: float
    op_costs: np.ndarray
    wall_s: float
    parts: int

    def predict(self, ops: np.ndarray, running_only: bool = False) -> np.ndarray:
        """``base + sum of op costs`` per architecture; ``running_only`` sums only the slots the
        network actually runs (a cell skips edges cut off from its input or output)."""
        space = get_space(self.space)
        ops = space.validate(ops).astype(np.int64)
        costs = np.nan_to_num(self.op_costs, nan=0.0)[np.arange(space.n_slots), ops]
        if running_only:
            costs = costs * running_slots(space.name, ops)
        return self.base_cost + costs.sum(axis=1)

    def lookup_table(self):  # noqa: ANN201 - predictors.lookup_table.LookupTable
        """A fitted :class:`~predictors.lookup_table.LookupTable` predicting ``base + sum of op costs``."""
        from nasbench_tools.encodings import encode
        from predictors.lookup_table import LookupTable

        space = get_space(self.space)
        costs = np.nan_to_num(self.op_costs, nan=0.0)
        archs = space.lut_architectures()
        y = self.base_cost + costs[np.arange(space.n_slots), archs].sum(axis=1)
        return LookupTable(space=self.space, op_costs=costs, base_cost=self.base_cost).fit(
            encode(space, archs, "onehot"), y)


def running_slots(space: str, ops: np.ndarray) -> np.ndarray:
    """Boolean ``(n, n_slots)``: which slots the evaluation network runs (vectorised).

    In a cell an edge runs when its op is not ``none``, its source node is reachable from the
    cell input and its destination reaches the cell output (``NB201Cell.plan``); every slot of
    a sequential network runs.
    """
    sp = get_space(space)
    ops = np.asarray(ops)
    if not sp.is_cell:
        return np.ones(ops.shape, dtype=bool)
    on = ops != 0  # op code 0 is "none" in every cell space
    n_nodes = sp.n_nodes
    live = [np.ones(len(ops), dtype=bool)] + [np.zeros(len(ops), dtype=bool) for _ in range(n_nodes - 1)]
    for slot, (src, dst) in enumerate(sp.edges):  # edges are ordered by destination
        live[dst] = live[dst] | (on[:, slot] & live[src])
    useful = [np.zeros(len(ops), dtype=bool) for _ in range(n_nodes - 1)] + [np.ones(len(ops), dtype=bool)]
    for slot in reversed(range(sp.n_slots)):
        src, dst = sp.edges[slot]
        useful[src] = useful[src] | (on[:, slot] & useful[dst])
    return np.stack([on[:, s] & live[a] & useful[b] for s, (a, b) in enumerate(sp.edges)], axis=1)


class _Head(nn.Sequential):
    """Fixed tail shared by the NB201 and Macro networks: (conv,) BN, ReLU, pool, flatten, linear."""


#: A network cut into parts: the fixed parts, and the parts of each (slot, op).
Parts = tuple[list[Part], dict[tuple[int, int], list[Part]]]


def _nb201_parts(space: str, dataset: str | None, size: tuple[int, int]) -> Parts:
    classes = NB201_DATASETS[family(space).resolve(dataset)][0]
    h, w = size
    c0 = NB201_STAGE_CHANNELS[0]
    fixed = [Part("stem", lambda: nn.Sequential(nn.Conv2d(3, c0, 3, padding=1, bias=False), nn.BatchNorm2d(c0)),
                  (3, h, w))]
    ops: dict[tuple[int, int], list[Part]] = {}
    sp = get_space(space)
    for stage, c in enumerate(NB201_STAGE_CHANNELS):
        if stage > 0:
            fixed.append(Part(f"reduction{stage}", lambda c=c: ResNetReduction(c // 2, c), (c // 2, h, w)))
            h, w = (h + 1) // 2, (w + 1) // 2
        for slot in range(sp.n_slots):
            for op in sp.allowed_ops[slot]:
                if nb201_op(op, 1) is None:
                    ops.setdefault((slot, op), [])
                    continue
                ops.setdefault((slot, op), []).append(
                    Part(f"stage{stage}/slot{slot}/op{op}", lambda op=op, c=c: nb201_op(op, c, affine=True),
                         (c, h, w), NB201_EVAL_CELLS))
    c = NB201_STAGE_CHANNELS[-1]
    fixed.append(Part("head", lambda: _Head(nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                            nn.Linear(c, classes)), (c, h, w)))
    return fixed, ops


def _macro_parts(space: str, dataset: str | None, size: tuple[int, int]) -> Parts:
    h, w = size
    s = MACRO_STEM_CHANNELS
    fixed = [Part("stem", lambda: nn.Sequential(nn.Conv2d(3, s, 3, padding=1, bias=False), nn.BatchNorm2d(s), nn.ReLU()),
                  (3, h, w))]
    ops: dict[tuple[int, int], list[Part]] = {}
    sp = get_space(space)
    c, slot = s, 0
    for n_layers in MACRO_STAGES:
        for i in range(n_layers):
            stride, c_out = (2, 2 * c) if i == 0 else (1, c)
            for op in sp.allowed_ops[slot]:
                ops[(slot, op)] = [Part(f"layer{slot}/op{op}", lambda op=op, c=c, c_out=c_out, stride=stride:
                                        macro_op(op, c, c_out, stride), (c, h, w))]
            h, w = (h + stride - 1) // stride, (w + stride - 1) // stride
            c, slot = c_out, slot + 1
    k = MACRO_HEAD_CHANNELS
    fixed.append(Part("head", lambda c=c: _Head(nn.Conv2d(c, k, 1, bias=False), nn.BatchNorm2d(k), nn.ReLU(),
                                                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(k, NBMACRO_CLASSES)),
                      (c, h, w)))
    return fixed, ops


def _transnas_micro_parts(space: str, dataset: str | None, size: tuple[int, int]) -> Parts:
    from ..networks.transnas import TransNASEncoder

    h, w = size
    fixed = [Part("stem", lambda: TransNASEncoder((), "basic").stem, (3, h, w))]
    h, w = (h + 1) // 2, (w + 1) // 2
    h, w = (h + 1) // 2, (w + 1) // 2
    sp = get_space(space)
    ops: dict[tuple[int, int], list[Part]] = {k: [] for k in
                                              ((s, o) for s in range(sp.n_slots) for o in sp.allowed_ops[s])}
    c = TRANSNAS_BASE_CHANNELS
    for layer, code in enumerate(TRANSNAS_MICRO_SKELETON):
        widen, stride = module_shape_change(code)
        c_out = 2 * c if widen else c
        for block in range(TRANSNAS_BLOCKS_PER_LAYER):
            c_in, st = (c, stride) if block == 0 else (c_out, 1)
            h_out, w_out = (h + st - 1) // st, (w + st - 1) // st
            for slot, (src, _dst) in enumerate(TRANSNAS_EDGES):
                ci, s_, shape = (c_in, st, (c_in, h, w)) if src == 0 else (c_out, 1, (c_out, h_out, w_out))
                for op in sp.allowed_ops[slot]:
                    if micro_op(op, ci, c_out, s_) is None:
                        continue
                    ops[(slot, op)].append(Part(f"layer{layer}/block{block}/slot{slot}/op{op}",
                                                lambda op=op, ci=ci, co=c_out, s_=s_: micro_op(op, ci, co, s_), shape))
            h, w = h_out, w_out
        c = c_out
    return fixed, ops


#: Isolated-op decompositions of the evaluation networks, by the name a space declares as its
#: ``isolated_latency`` capability (:class:`~nasbench_tools.spaces.SpaceCapabilities`).
DECOMPOSITIONS = {"nb201": _nb201_parts, "nbmacro": _macro_parts, "transnas-micro": _transnas_micro_parts}


def network_parts(space: str, dataset: str | None = None, input_size: tuple[int, int] | None = None) -> Parts:
    """The fixed parts and, per (slot, op), the parts of the evaluation network of ``space``."""
    fam = family(space)
    decomposition = get_space(space).capabilities.isolated_latency
    if decomposition not in DECOMPOSITIONS:
        raise NasbenchError(
            f"no isolated-op lookup table for {space}: a module's input shape depends on the modules before it; "
            f"spaces with one: {', '.join(spaces_with('isolated_latency'))}"
        )
    size = check_input_size(space, input_size or fam.input_size(dataset))
    return DECOMPOSITIONS[decomposition](space, dataset, size)


def measure_isolated(space: str, config: MeasureConfig, *, dataset: str | None = None,
                     input_size: tuple[int, int] | None = None) -> IsolatedCosts:
    """Time every part alone (same protocol as whole networks) and assemble the table's costs."""
    start = time.perf_counter()
    device = resolve_device(config.device)
    fixed, ops = network_parts(space, dataset, input_size)
    sp = get_space(space)
    cache: dict[tuple[str, tuple[int, int, int]], float] = {}
    n_parts = 0

    def cost(part: Part) -> float:
        nonlocal n_parts
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            module = part.build()
        key = (repr(module), part.input_shape)  # identical module and shape: measured once
        if key not in cache:
            cache[key] = measure_module(module, part.input_shape, config, device).median_ms
            n_parts += 1
        return cache[key] * part.count

    base = float(sum(cost(p) for p in fixed))
    table = np.full((sp.n_slots, sp.n_ops), np.nan)
    for (slot, op), parts in ops.items():
        table[slot, op] = sum(cost(p) for p in parts)
    return IsolatedCosts(space, base, table, time.perf_counter() - start, n_parts)
