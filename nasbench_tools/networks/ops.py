"""Candidate operations of the NAS-Bench-201 cell and of NAS-Bench-Macro layers.

Each builder returns a module for one (op code, shape) pair, or ``None`` for the ``none`` op
(its output is zero, so a cell never runs it).  The same builders make super-networks and
stand-alone networks, so an extracted architecture has exactly the super-network's modules.
"""

from __future__ import annotations

import torch
from torch import nn

#: NB201 canonical op codes (``nasbench_tools.spaces.NB201_OPS``).
NB201_NONE, NB201_SKIP, NB201_CONV1, NB201_CONV3, NB201_POOL = range(5)
#: NAS-Bench-Macro op codes (``nasbench_tools.spaces.macro.NBMACRO_OPS``).
MACRO_IDENTITY, MACRO_MB_K3_E3, MACRO_MB_K5_E6 = range(3)
#: (kernel, expansion) of the two inverted-bottleneck choices.
MACRO_MB_CONFIG = {MACRO_MB_K3_E3: (3, 3), MACRO_MB_K5_E6: (5, 6)}


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv (no bias) -> BatchNorm, the NB201 convolution op."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, affine: bool = False) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class LinearTransformer(nn.Conv2d):
    """Bias-free 1x1 convolution on a skip edge (Section 2.4.2's "linear transformer")."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels, channels, 1, bias=False)


class AvgPool(nn.AvgPool2d):
    """NB201 3x3 average pooling (stride 1, padding not counted)."""

    def __init__(self) -> None:
        super().__init__(3, stride=1, padding=1, count_include_pad=False)


def nb201_op(code: int, channels: int, *, affine: bool = False, skip_linear: bool = False) -> nn.Module | None:
    """The module of NB201 op ``code`` on a ``channels``-wide normal-cell edge (None for ``none``)."""
    if code == NB201_NONE:
        return None
    if code == NB201_SKIP:
        return LinearTransformer(channels) if skip_linear else nn.Identity()
    if code == NB201_CONV1:
        return ReLUConvBN(channels, channels, 1, affine=affine)
    if code == NB201_CONV3:
        return ReLUConvBN(channels, channels, 3, affine=affine)
    if code == NB201_POOL:
        return AvgPool()
    raise ValueError(f"unknown NB201 op code {code}; expected 0..4")


class ResNetReduction(nn.Module):
    """The fixed NB201 reduction cell: a stride-2 ResNet basic block (affine BatchNorm)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2, affine=True)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, stride=1, affine=True)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class InvertedResidual(nn.Module):
    """MobileNetV2 block as in NAS-Bench-Macro: 1x1 expand, kxk depthwise, 1x1 project (ReLU)."""

    def __init__(self, c_in: int, c_out: int, stride: int, kernel: int, expansion: int) -> None:
        super().__init__()
        hidden = c_in * expansion
        self.conv = nn.Sequential(
            nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, hidden, kernel, stride, padding=kernel // 2, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out),
        )
        self.use_shortcut = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return y + x if self.use_shortcut else y


class StridedIdentity(nn.Sequential):
    """Identity choice of a layer that changes shape: 1x1 strided convolution + BatchNorm."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))


def macro_op(code: int, c_in: int, c_out: int, stride: int) -> nn.Module:
    """The module of NAS-Bench-Macro op ``code`` for one layer."""
    if code == MACRO_IDENTITY:
        return nn.Identity() if stride == 1 and c_in == c_out else StridedIdentity(c_in, c_out, stride)
    if code in MACRO_MB_CONFIG:
        kernel, expansion = MACRO_MB_CONFIG[code]
        return InvertedResidual(c_in, c_out, stride, kernel, expansion)
    raise ValueError(f"unknown NAS-Bench-Macro op code {code}; expected 0..2")


def has_weights(module: nn.Module | None) -> bool:
    return module is not None and any(True for _ in module.parameters())
