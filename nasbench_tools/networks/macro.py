"""NAS-Bench-Macro networks: the Table B.3 super-network and stand-alone networks."""

from __future__ import annotations

from typing import Iterator, Sequence

import torch
from torch import nn

from .base import SlotNetwork, op_key
from .conditional import MACRO_DEPENDENCIES, ConditionalOp
from .ops import MACRO_IDENTITY, has_weights, macro_op

#: Table B.3 / NAS-Bench-Macro: layers per stage, stem width, head width.
MACRO_STAGES = (2, 3, 3)
MACRO_STEM_CHANNELS = 32
MACRO_HEAD_CHANNELS = 1280


class MacroLayer(nn.Module):
    """One layer with every allowed candidate; the network calls the planned one directly."""

    def __init__(self, slot: int, allowed: Sequence[int], c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.ops = nn.ModuleDict()
        for code in allowed:
            module = macro_op(code, c_in, c_out, stride)
            if has_weights(module):
                module = ConditionalOp(module, extra=code == MACRO_IDENTITY)
            self.ops[op_key(slot, code)] = module


class MacroNetwork(SlotNetwork):
    """Stem conv3x3, 8 layers in stages of 2/3/3 (first layer of a stage: stride 2, double
    width), 1x1 conv to 1280 + BN + ReLU, pool, linear.  4,221,386 parameters as a super-network."""

    def __init__(
        self,
        allowed: Sequence[Sequence[int]] = ((0, 1, 2),) * 8,
        dependencies: Sequence[Sequence[int]] = MACRO_DEPENDENCIES,
        *,
        stem_channels: int = MACRO_STEM_CHANNELS,
        stages: Sequence[int] = MACRO_STAGES,
        head_channels: int = MACRO_HEAD_CHANNELS,
        num_classes: int = 10,
        in_channels: int = 3,
        arch: Sequence[int] | None = None,
    ) -> None:
        config = dict(
            allowed=allowed, dependencies=dependencies, stem_channels=stem_channels, stages=tuple(stages),
            head_channels=head_channels, num_classes=num_classes, in_channels=in_channels,
        )
        super().__init__(allowed, dependencies, config)
        if len(self.allowed) != sum(stages):
            raise ValueError(f"{sum(stages)} layers need allowed ops, got {len(self.allowed)}")
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, stem_channels, 3, padding=1, bias=False), nn.BatchNorm2d(stem_channels), nn.ReLU(inplace=True)
        )
        layers = []
        c = stem_channels
        slot = 0
        for n_layers in stages:
            for i in range(n_layers):
                stride, c_out = (2, 2 * c) if i == 0 else (1, c)
                layers.append(MacroLayer(slot, self.allowed[slot], c, c_out, stride))
                c = c_out
                slot += 1
        self.layers = nn.ModuleList(layers)
        self.head = nn.Sequential(
            nn.Conv2d(c, head_channels, 1, bias=False), nn.BatchNorm2d(head_channels), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.classifier = nn.Linear(head_channels, num_classes)
        self._steps: list[nn.Module] = []
        if arch is not None:
            self.set_arch(arch)

    def candidate_ops(self) -> Iterator[tuple[int, int, ConditionalOp]]:
        for slot, layer in enumerate(self.layers):
            for key, module in layer.ops.items():
                if isinstance(module, ConditionalOp):
                    yield slot, int(key.split("_")[1]), module

    def _plan(self, row: tuple[int, ...], set_index: list[int]) -> None:
        steps = []
        for slot, layer in enumerate(self.layers):
            module = layer.ops[op_key(slot, row[slot])]
            if isinstance(module, ConditionalOp):
                module = module.sets[set_index[slot]]
            if not isinstance(module, nn.Identity):
                steps.append(module)
        self._steps = steps

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for module in self._steps:
            x = module(x)
        return self.classifier(self.head(x))
