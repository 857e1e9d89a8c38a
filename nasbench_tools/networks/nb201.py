"""NAS-Bench-201 networks: the cell, the Table B.2 super-network and stand-alone networks."""

from __future__ import annotations

from typing import Iterator, Sequence

import torch
from torch import nn

from ..spaces.cells import CELL_EDGES, live_edges
from .base import SlotNetwork, op_key
from .conditional import NB201_DEPENDENCIES, ConditionalOp
from .ops import NB201_SKIP, ResNetReduction, has_weights, nb201_op

#: (source, destination) node of each canonical NB201 edge (``spaces.cells.CELL_EDGES``).
NB201_EDGES = CELL_EDGES


#: Table B.2: channels of the three stages.
NB201_STAGE_CHANNELS = (16, 32, 64)


def run_cell_steps(steps: Sequence[tuple[int, int, nn.Module]], x: torch.Tensor) -> torch.Tensor | None:
    """Run planned ``(src, dst, op)`` edges of a 4-node cell on input ``x``; node 3's sum, or
    None when no edge reaches it (an all-zero cell)."""
    nodes: list[torch.Tensor | None] = [x, None, None, None]
    for src, dst, op in steps:
        y = op(nodes[src])
        prev = nodes[dst]
        nodes[dst] = y if prev is None else prev + y
    return nodes[-1]


class NB201Cell(nn.Module):
    """A normal cell holding every allowed op of every edge; runs only the planned edges.

    Edges whose input node is always zero or whose output never reaches the cell output are not
    run (their contribution is zero), so a cell costs what its architecture costs.
    """

    def __init__(self, channels: int, allowed: Sequence[Sequence[int]], *, affine: bool, skip_linear: bool) -> None:
        super().__init__()
        self.ops = nn.ModuleDict()
        for slot, codes in enumerate(allowed):
            for code in codes:
                module = nb201_op(code, channels, affine=affine, skip_linear=skip_linear)
                if module is None:
                    continue
                if has_weights(module):
                    module = ConditionalOp(module, extra=code == NB201_SKIP)
                self.ops[op_key(slot, code)] = module
        self._steps: list[tuple[int, int, nn.Module]] = []

    def candidate_ops(self) -> Iterator[tuple[int, int, ConditionalOp]]:
        for key, module in self.ops.items():
            if isinstance(module, ConditionalOp):
                slot, code = (int(v) for v in key.split("_"))
                yield slot, code, module

    def plan(self, row: Sequence[int], sets: Sequence[int]) -> None:
        steps = []
        for slot in live_edges(row):
            src, dst = NB201_EDGES[slot]
            module = self.ops[op_key(slot, row[slot])]
            if isinstance(module, ConditionalOp):
                module = module.sets[sets[slot]]
            steps.append((src, dst, module))
        self._steps = steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = run_cell_steps(self._steps, x)
        return torch.zeros_like(x) if out is None else out


class NB201Network(SlotNetwork):
    """NAS-Bench-201 macro skeleton: stem, 3 stages of ``cells_per_stage`` normal cells with
    fixed ResNet reduction cells between them, BN-ReLU-pool-linear head.

    Defaults are the Table B.2 super-network (2 cells per stage, C = 16/32/64, non-affine BN in
    the cells, linear transformer on skip edges: 782,938 parameters; 718,426 with
    ``skip_linear=False``).  The NB201 evaluation network is ``cells_per_stage=5, affine=True,
    skip_linear=False`` with one allowed op per slot.
    """

    def __init__(
        self,
        allowed: Sequence[Sequence[int]] = ((0, 1, 2, 3, 4),) * 6,
        dependencies: Sequence[Sequence[int]] = NB201_DEPENDENCIES,
        *,
        channels: int = NB201_STAGE_CHANNELS[0],
        cells_per_stage: int = 2,
        num_classes: int = 10,
        in_channels: int = 3,
        affine: bool = False,
        skip_linear: bool = True,
        arch: Sequence[int] | None = None,
    ) -> None:
        config = dict(
            allowed=allowed, dependencies=dependencies, channels=channels, cells_per_stage=cells_per_stage,
            num_classes=num_classes, in_channels=in_channels, affine=affine, skip_linear=skip_linear,
        )
        super().__init__(allowed, dependencies, config)
        if len(self.allowed) != len(NB201_EDGES):
            raise ValueError(f"NB201 networks need allowed ops for {len(NB201_EDGES)} edges, got {len(self.allowed)}")
        self.stem = nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        cells: list[nn.Module] = []
        c = channels
        for stage in range(3):
            if stage > 0:
                cells.append(ResNetReduction(c, 2 * c))
                c *= 2
            cells.extend(NB201Cell(c, self.allowed, affine=affine, skip_linear=skip_linear) for _ in range(cells_per_stage))
        self.cells = nn.ModuleList(cells)
        self.head = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(c, num_classes)
        self._normal = [m for m in self.cells if isinstance(m, NB201Cell)]
        if arch is not None:
            self.set_arch(arch)

    def candidate_ops(self) -> Iterator[tuple[int, int, ConditionalOp]]:
        for cell in self._normal:
            yield from cell.candidate_ops()

    def _plan(self, row: tuple[int, ...], set_index: list[int]) -> None:
        for cell in self._normal:
            cell.plan(row, set_index)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        return self.classifier(self.head(x))
