"""The lookup-table experiment (Table 5.1): fit the lookup table from a dataset's measured
neighbours of the baseline(s) and score it over the whole space (``nasbench-study lut``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..encodings import encode
from ..errors import ParameterError

if TYPE_CHECKING:
    from ..datasets import Dataset


def evaluate_lut(dataset: "Dataset") -> tuple[int, float]:
    """Fit a lookup table from the measured neighbours of ``dataset``'s baseline(s) and score it.

    Returns the number of architectures measured and Kendall's tau over every architecture of
    the space with a value.
    """
    from predictors.lookup_table import LookupTable
    from predictors.metrics import kendall_tau

    space = dataset.space
    needed = space.lut_architectures()
    y = dataset.values[space.index(needed)]
    if not np.all(np.isfinite(y)):
        missing = space.format(needed[~np.isfinite(y)])
        raise ParameterError(f"{dataset.id}: the lookup table needs values for {', '.join(missing)}, which are missing")
    lut = LookupTable(space=space.name).fit(encode(space, needed, "onehot"), y)
    have = dataset.available
    pred = lut.predict(encode(space, space.arch(have), "onehot"))
    return len(needed), kendall_tau(dataset.values[have], pred)
