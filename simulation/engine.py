"""Many trials of one (problem, subset size, std) cell, evaluated together in chunks."""

from __future__ import annotations

import numpy as np

from .deviations import sample_deviations
from .metrics import METRIC_COLUMNS, reference_points, score_sorted
from .problem import SelectionProblem
from .subsets import draw_subsets

#: Trials are processed in chunks of about this many (trial, architecture) points, which keeps
#: the working set in cache and memory bounded; the chunking is part of the seeded stream.
CHUNK_POINTS = 1 << 19


def chunk_trials(size: int) -> int:
    return max(1, CHUNK_POINTS // size)


def check_cell(problem: SelectionProblem, size: int, std: float, trials: int) -> None:
    if not 1 <= size <= problem.size:
        raise ValueError(
            f"subset size {size} for {problem.hardware_id}: must be between 1 and the number of "
            f"architectures ({problem.size})"
        )
    if not np.isfinite(std) or std < 0:
        raise ValueError(f"std must be a finite number >= 0, got {std!r}")
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")


def simulate_cell(problem: SelectionProblem, size: int, std: float, trials: int,
                  rng: np.random.Generator, reference: str | float | None = None) -> dict[str, np.ndarray]:
    """Scores of ``trials`` random selections: one array per :data:`METRIC_COLUMNS` entry.

    ``reference`` overrides the problem's hypervolume reference rule (e.g. a fixed point).
    """
    rule = problem.reference_rule if reference is None else reference
    check_cell(problem, size, std, trials)
    parts: list[dict[str, np.ndarray]] = []
    step = chunk_trials(size)
    for start in range(0, trials, step):
        t = min(step, trials - start)
        rows = draw_subsets(rng, problem.size, size, t)
        acc = problem.accuracy[rows]
        hw = problem.hardware[rows]
        noisy = hw + sample_deviations(rng, t, size, std, problem.deviation_variant)
        parts.append(score_sorted(acc, hw, noisy, rule).columns())
    return {k: np.concatenate([p[k] for p in parts]) for k in METRIC_COLUMNS}


def full_space_reference(problem: SelectionProblem) -> float:
    """The reference point's hardware value for the whole space (fixed across subset sizes)."""
    return float(reference_points(problem.accuracy[None], problem.hardware[None], problem.reference_rule)[0])


def single_selection(problem: SelectionProblem, size: int, std: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """One selection with its masks and values, for plots (Figures 5.5, A.6)."""
    check_cell(problem, size, std, 1)
    rows = draw_subsets(rng, problem.size, size, 1)
    acc = problem.accuracy[rows]
    hw = problem.hardware[rows]
    noisy = hw + sample_deviations(rng, 1, size, std, problem.deviation_variant)
    scores = score_sorted(acc, hw, noisy, problem.reference_rule, with_masks=True)
    return acc[0], hw[0], noisy[0], scores
