"""Sequential (macro) search spaces: TransNAS-Bench-101 macro and NAS-Bench-Macro."""

from __future__ import annotations

import re

import numpy as np

from .base import LutBaseline, SearchSpace
from .capabilities import Ref, SpaceCapabilities, SupernetSupport
from .formats import DIGIT_TOKENS, ArchFormat, TokenTemplate, tuple_format

#: TransNAS macro module codes: 0 absent (only trailing), 1 normal, 2 channels x2,
#: 3 resolution /2, 4 both.
TRANSNAS_MACRO_OPS = ("absent", "normal", "widen", "downsample", "widen_downsample")
TRANSNAS_MACRO_SLOTS = 6
#: channel doublings and resolution halvings every valid skeleton has (inclusive bounds).
TRANSNAS_WIDEN_RANGE = (1, 3)
TRANSNAS_DOWNSAMPLE_RANGE = (1, 4)
TRANSNAS_MACRO_BASE = "64"
TRANSNAS_MACRO_CELL = "basic"

NBMACRO_OPS = ("identity", "mb_k3_e3", "mb_k5_e6")
NBMACRO_SLOTS = 8

#: TransNAS macro: evaluation networks and tables; no isolated-op table (a module's input shape
#: depends on the modules before it).
TRANSNAS_MACRO_CAPABILITIES = SpaceCapabilities(
    evaluation=Ref("nasbench_tools.networks.evaluation:TRANSNAS_MACRO_FAMILY"),
    table_style="transnas",
    benchmarks=("transnas-macro",),
)
#: NAS-Bench-Macro: networks of Table B.3, super-network training (Table B.4: 50 epochs).
NBMACRO_CAPABILITIES = SpaceCapabilities(
    network=Ref("nasbench_tools.networks.macro:MacroNetwork"),
    dependencies=Ref("nasbench_tools.networks.conditional:MACRO_DEPENDENCIES"),
    evaluation=Ref("nasbench_tools.networks.evaluation:NBMACRO_FAMILY"),
    supernet=SupernetSupport(50, {"full": "nbmacro"}),
    ground_truth="nbmacro/cifar10/test_accuracy",
    isolated_latency="nbmacro",
    benchmarks=("nbmacro",),
)


class TransNASMacroSpace(SearchSpace):
    """Skeletons of 4-6 ResBlock pairs; right-padded with ``0`` to six slots."""

    def __init__(self) -> None:
        allowed = [(1, 2, 3, 4)] * 4 + [(0, 1, 2, 3, 4)] * 2
        super().__init__(
            "transnas-macro",
            [f"module{i}" for i in range(TRANSNAS_MACRO_SLOTS)],
            TRANSNAS_MACRO_OPS,
            allowed,
            None,
            "TransNAS-Bench-101 macro skeletons (4-6 modules)",
            TRANSNAS_MACRO_CAPABILITIES,
        )
        self.add_format(_transnas_macro_format(), default=True)
        self.add_format(tuple_format(TRANSNAS_MACRO_SLOTS, "ops", "tuple of 6 module codes, 0-padded"))

    @staticmethod
    def _counts(ops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        widen = np.sum((ops == 2) | (ops == 4), axis=1)
        down = np.sum((ops == 3) | (ops == 4), axis=1)
        return widen, down

    def _constraint(self, ops: np.ndarray) -> np.ndarray:
        ops = np.asarray(ops)
        trailing = ~((ops[:, 4] == 0) & (ops[:, 5] != 0))
        widen, down = self._counts(ops)
        return (
            trailing
            & (widen >= TRANSNAS_WIDEN_RANGE[0]) & (widen <= TRANSNAS_WIDEN_RANGE[1])
            & (down >= TRANSNAS_DOWNSAMPLE_RANGE[0]) & (down <= TRANSNAS_DOWNSAMPLE_RANGE[1])
        )

    def _explain_constraint(self, row: np.ndarray) -> str:
        if row[4] == 0 and row[5] != 0:
            return "an absent module (0) may only be followed by absent modules"
        widen, down = (int(v[0]) for v in self._counts(row[None, :]))
        if not TRANSNAS_WIDEN_RANGE[0] <= widen <= TRANSNAS_WIDEN_RANGE[1]:
            return f"doubles the channels {widen} times; expected {TRANSNAS_WIDEN_RANGE[0]} to {TRANSNAS_WIDEN_RANGE[1]}"
        return f"halves the resolution {down} times; expected {TRANSNAS_DOWNSAMPLE_RANGE[0]} to {TRANSNAS_DOWNSAMPLE_RANGE[1]}"

    def lut_baselines(self) -> tuple[LutBaseline, ...]:
        """Two baselines (protocol §2): single-slot changes of one do not all stay valid."""
        return (
            LutBaseline((1, 1, 1, 1, 4, 0), (0, 1, 2, 3, 5)),
            LutBaseline((1, 1, 1, 4, 0, 0), (4,)),
        )


def _transnas_macro_format() -> ArchFormat:
    def fmt(row: np.ndarray) -> str:
        skel = "".join(str(int(v)) for v in row if v != 0)
        return f"{TRANSNAS_MACRO_BASE}-{skel}-{TRANSNAS_MACRO_CELL}"

    def parse(text: str) -> list[int]:
        parts = text.split("-")
        if len(parts) != 3 or parts[2] != TRANSNAS_MACRO_CELL or not parts[0].isdigit():
            raise ValueError(f"expected '<channels>-<skeleton>-{TRANSNAS_MACRO_CELL}'")
        skel = parts[1]
        if not skel.isdigit() or not 4 <= len(skel) <= TRANSNAS_MACRO_SLOTS:
            raise ValueError("the skeleton must have 4 to 6 module digits")
        return [int(c) for c in skel] + [0] * (TRANSNAS_MACRO_SLOTS - len(skel))

    pattern = re.compile(r"\d+-\d{4,6}-" + TRANSNAS_MACRO_CELL)
    return ArchFormat("transnas", fmt, parse, pattern, "TransNAS-Bench-101 macro name 64-41414-basic")


def transnas_macro() -> TransNASMacroSpace:
    return TransNASMacroSpace()


def _nbmacro_format() -> ArchFormat:
    template = TokenTemplate(tuple(range(NBMACRO_SLOTS)), (DIGIT_TOKENS,) * NBMACRO_SLOTS, ("",) * (NBMACRO_SLOTS + 1))

    def parse(text: str) -> list[int]:
        if len(text) != NBMACRO_SLOTS or not text.isdigit():
            raise ValueError(f"expected {NBMACRO_SLOTS} digits over 0,1,2")
        return [int(c) for c in text]

    pattern = re.compile(r"[0-9]{%d}" % NBMACRO_SLOTS)
    return ArchFormat("nbmacro", template.one, parse, pattern, "NAS-Bench-Macro key of 8 digits over {0,1,2}",
                      template.many)


class NBMacroSpace(SearchSpace):
    """NAS-Bench-Macro: 8 layers x {identity, MBConv k3 e3, MBConv k5 e6}."""

    def __init__(self) -> None:
        super().__init__(
            "nbmacro",
            [f"layer{i}" for i in range(NBMACRO_SLOTS)],
            NBMACRO_OPS,
            None,
            None,
            "NAS-Bench-Macro (8 layers x 3 choices)",
            NBMACRO_CAPABILITIES,
        )
        self.add_format(_nbmacro_format(), default=True)
        self.add_format(tuple_format(NBMACRO_SLOTS, "ops", "tuple of 8 layer codes"))


def nbmacro() -> NBMacroSpace:
    return NBMacroSpace()
