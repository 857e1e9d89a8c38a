"""Budget planner: measure B/T architectures live, or predict all with a predictor of quality K?

Both options are simulated with the same engine: live measurement = a perfect predictor on a
random subset of ``budget / measure_seconds`` architectures; prediction = the whole space with
deviations whose std gives the requested Kendall's tau (found by bisection on simulated tau).
Hypervolumes use one fixed reference point (the whole space's), so they are comparable; MRA is
relative to the considered subset's own front and is shown for information only. The predictor's
own training measurements are not charged to the budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nasbench_tools.datasets import DataStore

from .engine import full_space_reference, simulate_cell
from .grid import cell_rng
from .problem import SelectionProblem, load_problem

#: Bisection settings for the std that gives a requested Kendall's tau.
TAU_SUBSET = 1000
TAU_TRIALS = 20
STD_MAX = 8.0
BISECTION_STEPS = 20


@dataclass(frozen=True)
class PlanOption:
    name: str
    subset_size: int
    std: float
    tau: float
    hv_mean: float
    hv_std: float
    mra_mean: float
    mra_std: float


@dataclass(frozen=True)
class Plan:
    options: tuple[PlanOption, ...]
    recommendation: str


#: Measurements a fitted ``--predictor`` is trained on by default (the few-shot regime of issue 13).
DEFAULT_PLAN_TRAIN_SIZE = 20
#: Floor of a fitted predictor's tau (the deviation model needs a positive tau).
MIN_PLAN_TAU = 1e-3


def std_for_tau(problem: SelectionProblem, tau: float, seed: int = 0) -> float:
    """Deviation std whose simulated mean Kendall's tau equals ``tau`` (monotone, bisection)."""
    if not 0 < tau <= 1:
        raise ValueError(f"--predictor-tau must be in (0, 1], got {tau}")
    if tau == 1:
        return 0.0
    size = min(TAU_SUBSET, problem.size)

    def mean_tau(s: float) -> float:
        return float(np.nanmean(simulate_cell(problem, size, s, TAU_TRIALS, cell_rng(seed, "tau", size, s))["kendall_tau"]))

    lo, hi = 0.0, STD_MAX
    if mean_tau(hi) > tau:
        raise ValueError(f"Kendall's tau {tau} is below what std {STD_MAX} gives; too poor to plan with")
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if mean_tau(mid) > tau:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def fitted_tau(dataset: str, predictor: str, train_size: int, seed: int, store: DataStore) -> float:
    """Kendall's tau, over every architecture it was not fitted on, of registry ``predictor``
    fitted on ``train_size`` measured architectures (a transfer predictor gets its sources and,
    if it asks for one, its suggested design: "measure k, predict the rest")."""
    from scipy.stats import kendalltau

    from .real import fit_predictions

    pred, train = fit_predictions(dataset, predictor, train_size, seed, store)
    values = store.load(dataset).values
    rest = np.setdiff1d(np.flatnonzero(np.isfinite(values)), train)
    return float(kendalltau(pred[rest], values[rest])[0])


def plan_budget(dataset: str, *, measure_seconds: float, budget_seconds: float, predictor_tau: float | None = None,
                trials: int = 200, seed: int = 0, mode: str = "default", store: DataStore | None = None,
                predictor: str | None = None, train_size: int = DEFAULT_PLAN_TRAIN_SIZE) -> Plan:
    """Compare measuring ``budget/measure`` architectures live with predicting all of them, either
    with a predictor of Kendall's tau ``predictor_tau`` or with registry ``predictor`` fitted on
    ``train_size`` measurements (its tau measured on the rest; exactly one of the two)."""
    if measure_seconds <= 0 or budget_seconds <= 0:
        raise ValueError(f"--measure-seconds and --budget-seconds must be > 0, got {measure_seconds}, {budget_seconds}")
    if (predictor_tau is None) == (predictor is None):
        raise ValueError("give exactly one of --predictor-tau and --predictor")
    store = store or DataStore()
    if predictor is not None:
        predictor_tau = max(fitted_tau(dataset, predictor, train_size, seed, store), MIN_PLAN_TAU)
    problem = load_problem(dataset, mode=mode, store=store)
    n_live = min(problem.size, max(1, math.floor(budget_seconds / measure_seconds)))
    std = std_for_tau(problem, predictor_tau, seed)
    options = []
    ref = full_space_reference(problem)  # one reference point for both options (comparable hypervolumes)
    for name, size, s in (("measure live", n_live, 0.0), ("predict all", problem.size, std)):
        r = simulate_cell(problem, size, s, trials, cell_rng(seed, f"plan:{name}", size, s), reference=ref)
        options.append(PlanOption(name, size, s, float(np.nanmean(r["kendall_tau"])),
                                  float(r["hypervolume"].mean()), float(r["hypervolume"].std()),
                                  float(r["mra_pareto"].mean()), float(r["mra_pareto"].std())))
    live, pred = options
    diff = pred.hv_mean - live.hv_mean
    se = math.sqrt((live.hv_std ** 2 + pred.hv_std ** 2) / trials)
    better = pred if diff > 0 else live
    if abs(diff) < 2 * se:
        text = (f"no clear winner: hypervolume (predict all minus measure live) differs by {diff:+.4f} "
                f"(2 standard errors: {2 * se:.4f})")
    else:
        text = (f"recommendation: {better.name} (hypervolume {better.hv_mean:.4f} vs "
                f"{(live if better is pred else pred).hv_mean:.4f}, difference {abs(diff):.4f} > 2 standard errors "
                f"{2 * se:.4f}); measuring {n_live} of {problem.size} architectures vs predicting all with tau {predictor_tau:.3f}"
                + (f" ({predictor} fitted on {train_size} measurements)" if predictor else "")
                + ". The predictor's training measurements are not charged to the budget.")
    return Plan(tuple(options), text)
