"""Cell search spaces: NAS-Bench-201 (and its subsets) and the TransNAS-Bench-101 micro cell.

A cell has 4 nodes and 6 edges; every edge carries one op.  Canonical edge order is the order
of appearance in the NB201 string ``|e0~0|+|e1~0|e2~1|+|e3~0|e4~1|e5~2|``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Sequence

import numpy as np

from .base import LutBaseline, SearchSpace
from .capabilities import NO_CAPABILITIES, Ref, SpaceCapabilities, SupernetSupport
from .formats import DIGIT_TOKENS, ArchFormat, TokenTemplate, tuple_format

#: Canonical NB201 op vocabulary (code = position).
NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: (source, destination) node of each canonical edge.
CELL_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
CELL_SLOT_NAMES = tuple(f"{a}->{b}" for a, b in CELL_EDGES)

#: NASLib / HW-NAS-Bench convention: op code -> canonical op code.
NASLIB_OP_TO_CANONICAL = np.array([1, 0, 3, 2, 4])
#: NASLib edge order (1<-0),(2<-0),(3<-0),(2<-1),(3<-1),(3<-2): position -> canonical slot.
NASLIB_POS_TO_SLOT = np.array([0, 1, 3, 2, 4, 5])

#: TransNAS-Bench-101 micro: fixed base channels and macro skeleton of the official names.
TRANSNAS_MICRO_PREFIX = "64-41414-"

#: Op code of ``none`` (no connection) in every cell vocabulary here.
NONE_OP = 0
#: Node count of the cell (input node 0, output node 3).
CELL_NODES = 4


def live_mask(archs: np.ndarray | Sequence[Sequence[int]]) -> np.ndarray:
    """``(n, 6)`` booleans: which edges of each architecture are live, i.e. carry an op, have an
    input reachable from the cell input and an output that reaches the cell output.  The others
    contribute nothing (a runtime may skip them)."""
    ops = np.asarray(archs, dtype=np.int64).reshape(-1, len(CELL_EDGES))
    on = ops != NONE_OP
    reached = np.zeros((len(ops), CELL_NODES), dtype=bool)
    reached[:, 0] = True
    for slot, (src, dst) in enumerate(CELL_EDGES):
        reached[:, dst] |= on[:, slot] & reached[:, src]
    useful = np.zeros((len(ops), CELL_NODES), dtype=bool)
    useful[:, -1] = True
    for slot in reversed(range(len(CELL_EDGES))):
        src, dst = CELL_EDGES[slot]
        useful[:, src] |= on[:, slot] & useful[:, dst]
    src, dst = np.asarray(CELL_EDGES).T
    return on & reached[:, src] & useful[:, dst]


def live_edges(row: Sequence[int]) -> list[int]:
    """The live edges (:func:`live_mask`) of one architecture, in canonical order."""
    return np.flatnonzero(live_mask([row])[0]).tolist()


def pruned(archs: np.ndarray | Sequence[Sequence[int]]) -> np.ndarray:
    """``archs`` with every edge that is not live set to ``none``: the network a runtime that
    skips dead edges executes (architectures with one pruned form cost the same there)."""
    ops = np.asarray(archs, dtype=np.int64).reshape(-1, len(CELL_EDGES))
    return np.where(live_mask(ops), ops, NONE_OP)


_NB201_TOKEN = re.compile(r"([A-Za-z0-9_]+)~(\d+)")

#: NB201 subsets (Chapter 6): ``--subset`` name -> allowed op codes per edge (None: all).
NB201_SUBSETS = {"full": None, "nozero": (1, 2, 3, 4), "onlyconv": (2, 3)}
#: What the NB201 cell and its subsets support (networks: Tables B.2 and §4; latency tables).
NB201_CAPABILITIES = SpaceCapabilities(
    network=Ref("nasbench_tools.networks.nb201:NB201Network"),
    dependencies=Ref("nasbench_tools.networks.conditional:NB201_DEPENDENCIES"),
    evaluation=Ref("nasbench_tools.networks.evaluation:NB201_FAMILY"),
    ground_truth="nb201/cifar10/test_accuracy",
    isolated_latency="nb201",
)
#: The full NB201 cell also trains super-networks (Table B.4: 250 epochs) of each subset and is
#: the space of the HW-NAS-Bench and NAS-Bench-201 tables.
NB201_FULL_CAPABILITIES = replace(
    NB201_CAPABILITIES,
    supernet=SupernetSupport(250, {s: "nb201" if s == "full" else f"nb201-{s}" for s in NB201_SUBSETS},
                             ("skip_linear", "channels", "cells_per_stage")),
    benchmarks=("hwnas", "nb201"),
)
TRANSNAS_MICRO_CAPABILITIES = SpaceCapabilities(
    evaluation=Ref("nasbench_tools.networks.evaluation:TRANSNAS_MICRO_FAMILY"),
    isolated_latency="transnas-micro",
    table_style="transnas",
    benchmarks=("transnas-micro",),
)


def _nb201_format(op_names: Sequence[str]) -> ArchFormat:
    names = tuple(op_names)
    lookup = {n: i for i, n in enumerate(names)}
    by_dst: dict[int, list[int]] = {}
    for slot, (_, dst) in enumerate(CELL_EDGES):
        by_dst.setdefault(dst, []).append(slot)
    groups = [by_dst[d] for d in sorted(by_dst)]
    order = tuple(s for g in groups for s in g)
    group_starts = {g[0] for g in groups}
    template = TokenTemplate(
        order,
        tuple(tuple(f"{n}~{CELL_EDGES[s][0]}" for n in names) for s in order),
        ("|",) + tuple("|+|" if s in group_starts else "|" for s in order[1:]) + ("|",),
    )

    def parse(text: str) -> list[int]:
        nodes = text.split("+")
        if len(nodes) != len(groups):
            raise ValueError(f"expected {len(groups)} node groups separated by '+', got {len(nodes)}")
        row = [0] * len(CELL_EDGES)
        for g, node in zip(groups, nodes):
            tokens = [t for t in node.strip().strip("|").split("|")]
            if len(tokens) != len(g):
                raise ValueError(f"node group {node!r} should hold {len(g)} 'op~input' entries")
            for s, tok in zip(g, tokens):
                m = _NB201_TOKEN.fullmatch(tok.strip())
                if m is None:
                    raise ValueError(f"entry {tok!r} is not of the form 'op~input'")
                op, src = m.group(1), int(m.group(2))
                if op not in lookup:
                    raise ValueError(f"unknown op {op!r}; expected one of {', '.join(names)}")
                if src != CELL_EDGES[s][0]:
                    raise ValueError(f"entry {tok!r} should take input node {CELL_EDGES[s][0]}")
                row[s] = lookup[op]
        return row

    pattern = re.compile(r"\|[A-Za-z0-9_]+~\d+\|(\+\|([A-Za-z0-9_]+~\d+\|)+)*")
    return ArchFormat("nb201", template.one, parse, pattern, "NAS-Bench-201 string |op~0|+|op~0|op~1|+...",
                      template.many)


def _naslib_format() -> ArchFormat:
    canon_to_naslib = np.argsort(NASLIB_OP_TO_CANONICAL)
    slot_order = NASLIB_POS_TO_SLOT

    token = tuple(str(int(code)) for code in canon_to_naslib)
    template = TokenTemplate(tuple(int(s) for s in slot_order), (token,) * len(slot_order),
                             ("(",) + (", ",) * (len(slot_order) - 1) + (")",))

    inner = tuple_format(6, "naslib")

    def parse(text: str) -> list[int]:
        codes = inner.parse_one(text)
        row = [0] * 6
        for pos, code in enumerate(codes):
            if not 0 <= code < len(NASLIB_OP_TO_CANONICAL):
                raise ValueError(f"NASLib op code {code} out of range 0..4")
            row[slot_order[pos]] = int(NASLIB_OP_TO_CANONICAL[code])
        return row

    return ArchFormat(
        "naslib", template.one, parse, None,
        "NASLib/HW-NAS-Bench tuple: codes 0=skip,1=none,2=conv3x3,3=conv1x1,4=avgpool; "
        "edges (1<-0),(2<-0),(3<-0),(2<-1),(3<-1),(3<-2)",
        template.many,
    )


def _transnas_micro_format() -> ArchFormat:
    template = TokenTemplate(tuple(range(len(CELL_EDGES))), (DIGIT_TOKENS,) * len(CELL_EDGES),
                             (TRANSNAS_MICRO_PREFIX, "_", "", "_", "", "", ""))

    def parse(text: str) -> list[int]:
        if not text.startswith(TRANSNAS_MICRO_PREFIX):
            raise ValueError(f"expected the prefix {TRANSNAS_MICRO_PREFIX!r}")
        groups = text[len(TRANSNAS_MICRO_PREFIX):].split("_")
        if [len(g) for g in groups] != [1, 2, 3]:
            raise ValueError("expected a cell of the form a_bc_def")
        return [int(c) for c in "".join(groups)]

    pattern = re.compile(r"\d+-\d+-\d_\d\d_\d\d\d")
    return ArchFormat("transnas", template.one, parse, pattern, "TransNAS-Bench-101 micro name 64-41414-a_bc_def",
                      template.many)


class CellSpace(SearchSpace):
    """A NAS-Bench-201-style cell: 6 edges, each with one op of a vocabulary."""

    def __init__(
        self,
        name: str,
        op_names: Sequence[str],
        allowed: Sequence[int] | None = None,
        description: str = "",
        capabilities: SpaceCapabilities = NO_CAPABILITIES,
    ) -> None:
        allowed_ops = None if allowed is None else [tuple(allowed)] * len(CELL_EDGES)
        super().__init__(name, CELL_SLOT_NAMES, op_names, allowed_ops, CELL_EDGES, description, capabilities)
        self.add_format(_nb201_format(op_names), default=True)
        self.add_format(tuple_format(len(CELL_EDGES), "ops", "tuple of canonical op codes in NB201 edge order"))

    def pruned_index(self) -> np.ndarray:
        """Canonical index of the pruned form (:func:`pruned`) of every architecture of the space;
        the identity where nothing is dead (e.g. the subsets without ``none``)."""
        if NONE_OP not in {op for ops in self.allowed_ops for op in ops}:
            return np.arange(self.size)
        return np.asarray(self.index(pruned(self.enumerate())), dtype=np.int64)

    def lut_baselines(self) -> tuple[LutBaseline, ...]:
        """The protocol's baseline: the all-``none`` cell (first op of the allowed set)."""
        base = tuple(ops[0] for ops in self.allowed_ops)
        return (LutBaseline(base, tuple(range(self.n_slots))),)


def nb201(subset: str = "full") -> CellSpace:
    """The NAS-Bench-201 / HW-NAS-Bench cell space or one of its Chapter-6 subsets."""
    if subset not in NB201_SUBSETS:
        raise ValueError(f"unknown NB201 subset {subset!r}; expected one of {', '.join(NB201_SUBSETS)}")
    name = "nb201" if subset == "full" else f"nb201-{subset}"
    caps = NB201_FULL_CAPABILITIES if subset == "full" else NB201_CAPABILITIES
    space = CellSpace(name, NB201_OPS, NB201_SUBSETS[subset], "NAS-Bench-201 cell (5 ops on 6 edges)", caps)
    space.add_format(_naslib_format())
    return space


def transnas_micro() -> CellSpace:
    """TransNAS-Bench-101 micro cell: NB201 topology with 4 ops (no pooling)."""
    space = CellSpace("transnas-micro", NB201_OPS[:4], None, "TransNAS-Bench-101 micro cell (4 ops on 6 edges)",
                      TRANSNAS_MICRO_CAPABILITIES)
    space.add_format(_transnas_micro_format())
    return space
