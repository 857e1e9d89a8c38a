"""TransNAS-Bench-101 encoders (backbones without task decoders): micro-cell and macro networks.

Structure as in the benchmark's ``MacroNet`` (Duan et al., 2021): a stem (3x3 stride-2 conv to
C/2, BN, ReLU-conv3x3-stride-2-BN to C), then one layer per digit of the macro skeleton, each
layer two blocks; digit 1 keeps the shape, 2 doubles the channels, 3 halves the resolution, 4
does both (the first block of the layer changes the shape).  The micro space fixes the
skeleton to ``41414`` and varies the cell (4 nodes, ops none/skip/conv1x1/conv3x3; edges from
node 0 carry the layer's stride and channel change); the macro space uses ResNet basic blocks
and varies the skeleton.  Like :class:`~.nb201.NB201Cell`, a cell runs only the edges that
contribute to its output (the benchmark's code multiplies zero edges by 0), so a network costs
what its architecture costs.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .nb201 import NB201_EDGES, live_edges, run_cell_steps
from .ops import NB201_CONV1, NB201_CONV3, NB201_NONE, NB201_SKIP, ReLUConvBN

#: Base width of every TransNAS-Bench-101 network (the "64" of the architecture names).
TRANSNAS_BASE_CHANNELS = 64
#: Blocks (cells) per macro layer.
TRANSNAS_BLOCKS_PER_LAYER = 2
#: The micro space's fixed skeleton.
TRANSNAS_MICRO_SKELETON = (4, 1, 4, 1, 4)
#: Macro module codes (``spaces.macro.TRANSNAS_MACRO_OPS``).
MODULE_ABSENT, MODULE_NORMAL, MODULE_WIDEN, MODULE_DOWN, MODULE_BOTH = range(5)
#: Default input resolution (the benchmark's ``MacroNet`` default; its latency used 720x1080).
TRANSNAS_INPUT_SIZE = (224, 224)
_CELL_EDGES = NB201_EDGES


def module_shape_change(code: int) -> tuple[bool, int]:
    """(doubles the channels, stride) of a macro module code."""
    return code in (MODULE_WIDEN, MODULE_BOTH), 2 if code in (MODULE_DOWN, MODULE_BOTH) else 1


class FactorizedReduce(nn.Module):
    """Skip edge that changes shape: ReLU, two offset 1x1 strided convs concatenated, BN."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even output width, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.convs = nn.ModuleList(
            nn.Conv2d(c_in, c, 1, stride=stride, bias=False) for c in (c_out // 2, c_out - c_out // 2)
        )
        self.pad = nn.ConstantPad2d((0, 1, 0, 1), 0.0)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        y = self.pad(x)[:, :, 1:, 1:]
        return self.bn(torch.cat([self.convs[0](x), self.convs[1](y)], dim=1))


def micro_op(code: int, c_in: int, c_out: int, stride: int) -> nn.Module | None:
    """The module of TransNAS micro op ``code`` (None for ``none``: its output is zero)."""
    if code == NB201_NONE:
        return None
    if code == NB201_SKIP:
        return nn.Identity() if stride == 1 and c_in == c_out else FactorizedReduce(c_in, c_out, stride)
    if code in (NB201_CONV1, NB201_CONV3):
        kernel = 1 if code == NB201_CONV1 else 3
        return ReLUConvBN(c_in, c_out, kernel, stride=stride, affine=True)
    raise ValueError(f"unknown TransNAS micro op code {code}; expected 0..3")


class MicroCell(nn.Module):
    """A TransNAS micro cell; edges from node 0 take the block's stride and channel change.

    Every non-``none`` edge has its module (so parameter counts match the benchmark's networks),
    but only the contributing edges run.
    """

    def __init__(self, row: Sequence[int], c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.row = tuple(int(o) for o in row)
        self.c_out, self.stride = c_out, stride
        self.edges = nn.ModuleDict()
        for slot, (src, _dst) in enumerate(_CELL_EDGES):
            module = micro_op(self.row[slot], c_in if src == 0 else c_out, c_out, stride if src == 0 else 1)
            if module is not None:
                self.edges[str(slot)] = module
        self._steps = [(_CELL_EDGES[s][0], _CELL_EDGES[s][1], self.edges[str(s)]) for s in live_edges(self.row)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = run_cell_steps(self._steps, x)
        if out is None:  # an all-zero cell: zeros of the output shape
            h, w = (x.shape[2] + self.stride - 1) // self.stride, (x.shape[3] + self.stride - 1) // self.stride
            return x.new_zeros((x.shape[0], self.c_out, h, w))
        return out


class BasicBlock(nn.Module):
    """TransNAS ResNet basic block: two ReLU-conv3x3-BN, 1x1 conv + BN shortcut when the shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=stride, affine=True)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, stride=1, affine=True)
        self.downsample = (
            nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))
            if stride != 1 or c_in != c_out else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return residual + self.conv_b(self.conv_a(x))


class TransNASEncoder(nn.Module):
    """Stem + one two-block layer per module code of ``skeleton``; ``cell`` is ``"basic"`` or a
    micro-cell row of 6 op codes.  Output: the feature map (encoder only, no task head)."""

    def __init__(self, skeleton: Sequence[int], cell: str | Sequence[int] = "basic", *,
                 base_channels: int = TRANSNAS_BASE_CHANNELS, in_channels: int = 3) -> None:
        super().__init__()
        self.skeleton = tuple(int(c) for c in skeleton if int(c) != MODULE_ABSENT)
        self.cell = cell if isinstance(cell, str) else tuple(int(o) for o in cell)
        half = base_channels // 2
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, half, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(half),
            ReLUConvBN(half, base_channels, 3, stride=2, affine=True),
        )
        layers = []
        c = base_channels
        for code in self.skeleton:
            widen, stride = module_shape_change(code)
            c_out = 2 * c if widen else c
            blocks = [self._block(c, c_out, stride)]
            blocks += [self._block(c_out, c_out, 1) for _ in range(TRANSNAS_BLOCKS_PER_LAYER - 1)]
            layers.append(nn.Sequential(*blocks))
            c = c_out
        self.layers = nn.Sequential(*layers)
        self.out_channels = c

    def _block(self, c_in: int, c_out: int, stride: int) -> nn.Module:
        if self.cell == "basic":
            return BasicBlock(c_in, c_out, stride)
        return MicroCell(self.cell, c_in, c_out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(self.stem(x))
