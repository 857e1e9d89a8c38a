"""The paired (accuracy, hardware) data one simulation runs on, checked and standardised.

Default mode keeps each architecture's own pair. Mode ``original-code`` reproduces the published
experiments (protocol §3): the architectures ordered by the text of their op-code tuples receive
the hardware values sorted ascending (the pairing is broken), with the original deviation variant
and the reference point taken from the whole subset.

Pairing (:func:`accuracy_id`): a HW-NAS-Bench dataset goes with the NAS-Bench-201 test accuracy
of its image dataset (protocol §3); a metric of a custom table (``custom/<table>/<metric>``, any
search space) goes with the same table's ``accuracy`` column; any other pairing is explicit
(``load_problem(..., accuracy=<dataset ID>)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nasbench_tools.datasets import DataStore, Dataset
from nasbench_tools.dissertation import HARD_HWNAS_DATASETS
from nasbench_tools.errors import DataFormatError, UnknownNameError

MODES = ("default", "original-code")
#: The five "hard" HW-NAS-Bench datasets of the paper (protocol §2; nasbench_tools.dissertation).
HARD_DATASETS = HARD_HWNAS_DATASETS
#: The column of a custom table that its other (hardware) columns are paired with.
CUSTOM_ACCURACY_COLUMN = "accuracy"
#: How many offending architectures an error message lists.
MAX_NAMED = 5


def accuracy_id(hardware_id: str) -> str:
    """The accuracy dataset paired with a hardware dataset ID: the NB201 test accuracy of a
    HW-NAS-Bench dataset's image dataset, or a custom table's own ``accuracy`` column."""
    parts = hardware_id.split("/")
    if len(parts) == 3 and parts[0] == "hwnas":
        return f"nb201/{parts[1]}/test_accuracy"
    if len(parts) == 3 and parts[0] == "custom" and parts[2] != CUSTOM_ACCURACY_COLUMN:
        return f"custom/{parts[1]}/{CUSTOM_ACCURACY_COLUMN}"
    raise UnknownNameError(
        f"cannot pair {hardware_id!r} with an accuracy dataset; expected hwnas/<image dataset>/<metric>, "
        f"custom/<table>/<metric> of a table with an {CUSTOM_ACCURACY_COLUMN!r} column, or an explicit accuracy="
    )


@dataclass(frozen=True)
class SelectionProblem:
    """Accuracy (%) and standardised hardware values of the architectures, sorted by hardware.

    ``accuracy[i]`` and ``hardware[i]`` belong to architecture ``index[i]`` (canonical index).
    """

    hardware_id: str
    accuracy_id: str
    mode: str
    accuracy: np.ndarray
    hardware: np.ndarray
    index: np.ndarray
    hardware_mean: float
    hardware_std: float

    @property
    def size(self) -> int:
        return len(self.accuracy)

    @property
    def deviation_variant(self) -> str:
        return "original-code" if self.mode == "original-code" else "text"

    @property
    def reference_rule(self) -> str:
        return "subset" if self.mode == "original-code" else "front"


def _check_values(name: str, values: np.ndarray, labels: np.ndarray | None) -> None:
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        shown = [str(labels[i]) if labels is not None else f"#{i}" for i in bad[:MAX_NAMED]]
        more = f" and {bad.size - MAX_NAMED} more" if bad.size > MAX_NAMED else ""
        raise DataFormatError(
            f"{name}: {bad.size} architecture(s) without a finite value: {', '.join(shown)}{more}"
        )


def text_order(ops: np.ndarray) -> np.ndarray:
    """Order of architectures by the text of their op-code tuples (the original code's order)."""
    texts = np.array([str(tuple(int(o) for o in row)) for row in ops])
    return np.argsort(texts, kind="stable")


def make_problem(accuracy: np.ndarray, hardware: np.ndarray, *, mode: str = "default",
                 hardware_id: str = "hardware", accuracy_id: str = "accuracy",
                 labels: np.ndarray | None = None, ops: np.ndarray | None = None) -> SelectionProblem:
    """Check, standardise and (in ``original-code`` mode) re-pair two aligned value vectors.

    ``labels`` name the architectures in errors; ``ops`` (op codes per architecture) define the
    text order the original code used (required in ``original-code`` mode).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    acc = np.asarray(accuracy, dtype=np.float64)
    hw = np.asarray(hardware, dtype=np.float64)
    if acc.ndim != 1 or hw.shape != acc.shape:
        raise DataFormatError(
            f"accuracy {accuracy_id} ({acc.shape}) and hardware {hardware_id} ({hw.shape}) "
            "must be 1-D vectors over the same architectures"
        )
    if acc.size < 2:
        raise DataFormatError(f"{hardware_id}: need at least 2 architectures, got {acc.size}")
    _check_values(accuracy_id, acc, labels)
    _check_values(hardware_id, hw, labels)
    mean, std = float(hw.mean()), float(hw.std())
    if std == 0:
        raise DataFormatError(f"{hardware_id}: all hardware values are equal ({mean}); cannot standardise")
    hw = (hw - mean) / std
    if mode == "original-code":
        if ops is None:
            raise ValueError("original-code mode needs the op codes of the architectures (ops=)")
        repaired = np.empty_like(hw)
        repaired[text_order(ops)] = np.sort(hw)
        hw = repaired
    order = np.argsort(hw, kind="stable")
    acc_s, hw_s = acc[order], hw[order]
    for v in (acc_s, hw_s, order):
        v.setflags(write=False)
    return SelectionProblem(hardware_id, accuracy_id, mode, acc_s, hw_s, order, mean, std)


def load_problem(hardware_id: str, *, mode: str = "default", store: DataStore | None = None,
                 accuracy: str | None = None) -> SelectionProblem:
    """The problem of one hardware dataset with its accuracy (``accuracy``: a dataset ID; default
    :func:`accuracy_id`)."""
    store = store or DataStore()
    acc_id = accuracy or accuracy_id(hardware_id)
    hw_ds = store.load(hardware_id)
    try:
        acc_ds = store.load(acc_id)
    except UnknownNameError as exc:
        raise UnknownNameError(f"cannot pair {hardware_id!r} with the accuracy dataset {acc_id!r}: {exc}") from None
    return problem_from_datasets(acc_ds, hw_ds, mode=mode)


def problem_from_datasets(acc: Dataset, hw: Dataset, *, mode: str = "default") -> SelectionProblem:
    if acc.space.name != hw.space.name or len(acc.values) != len(hw.values):
        raise DataFormatError(
            f"accuracy {acc.id} ({acc.space.name}, {len(acc.values)} architectures) and hardware "
            f"{hw.id} ({hw.space.name}, {len(hw.values)} architectures) are not tables of the same space"
        )
    ops = hw.space.enumerate()
    labels = np.array(hw.space.format(ops)) if (np.isnan(acc.values).any() or np.isnan(hw.values).any()) else None
    return make_problem(acc.values, hw.values, mode=mode, hardware_id=hw.id, accuracy_id=acc.id,
                        labels=labels, ops=ops)
