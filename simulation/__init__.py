"""Monte-Carlo simulation of predictor-guided Pareto selection (dissertation Section 5.6, A.5-A.7).

Modules, one job each: ``deviations`` (the A.5 deviation model), ``subsets`` (random subsets),
``sorted_groups`` (tie groups), ``kendall`` (batched Kendall's tau-b), ``metrics`` (selection,
MRA, hypervolume), ``problem`` (paired data, compatibility mode), ``engine`` (one grid cell),
``grid`` (configuration, presets, seeded tasks), ``experiment`` (the grid as an experiment of the
shared contract: runs, resume, command line), ``real`` (real predictors), ``planner`` (budget
planner), ``report`` (figures and tables).
"""

from .deviations import sample_deviations
from .engine import simulate_cell
from .experiment import SelectionSimulation
from .grid import PRESETS, SimulationConfig, preset_config, run_preset, run_simulation
from .metrics import METRIC_COLUMNS, score
from .problem import HARD_DATASETS, MODES, load_problem, make_problem

__all__ = [
    "HARD_DATASETS", "METRIC_COLUMNS", "MODES", "PRESETS", "SelectionSimulation", "SimulationConfig", "load_problem",
    "make_problem",
    "preset_config", "run_preset", "run_simulation", "sample_deviations", "score", "simulate_cell",
]
