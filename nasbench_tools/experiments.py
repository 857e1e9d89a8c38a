"""Registry of the experiments: name -> ``"module:Class"``, imported lazily on first use.

Every experiment implements :class:`~nasbench_tools.runner.experiment.Experiment`; one line here
makes it a ``nasbench-study <name> run|report|presets|config`` command and lists its presets in
``nasbench-study presets``. The one-line summary is repeated here so that ``nasbench-study
--help`` imports no experiment (a test checks it equals the class's ``summary``). ``cli`` names
the module that registers the command: the generic one, unless the experiment has actions of
its own (``reproduce``, ``simulate plan``), whose module then calls
:func:`nasbench_tools.cli.experiment.register_experiment` itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple

from .errors import UnknownNameError

if TYPE_CHECKING:
    from .runner.experiment import Experiment

#: The module that registers an experiment's command when the entry names no other.
GENERIC_CLI = "nasbench_tools.cli.experiment"


class ExperimentEntry(NamedTuple):
    """Where an experiment lives, its ``--help`` line and the module registering its command."""

    target: str
    summary: str
    cli: str = GENERIC_CLI


#: Experiment name (= command name) -> its entry, in the order ``--help`` lists them.
EXPERIMENTS: dict[str, ExperimentEntry] = {
    "study": ExperimentEntry("nasbench_tools.study.experiment:PredictorStudy",
                             "the predictor study: run the grid, write the report", "nasbench_tools.cli.study"),
    "simulate": ExperimentEntry("simulation.experiment:SelectionSimulation",
                                "simulate predictor-guided Pareto selection (MRA, hypervolume)",
                                "nasbench_tools.cli.simulate"),
    "supernet-miniature": ExperimentEntry("nasbench_tools.supernet.miniature:SupernetMiniature",
                                          "Fashion-MNIST miniature of Chapter 6: stand-alone ground truth vs split "
                                          "super-networks"),
    "latency-lut": ExperimentEntry("nasbench_tools.latency.lut_study:LutComparison",
                                   "lookup tables (isolated ops, neighbour differences) vs trained predictors on a "
                                   "measured table"),
    "latency-live": ExperimentEntry("nasbench_tools.latency.live_study:LiveVsPredicted",
                                    "live measurement vs predictors and lookup tables under equal wall-clock budgets"),
}


class PresetRow(NamedTuple):
    """One preset of one experiment (``nasbench-study presets``)."""

    experiment: str
    preset: str
    description: str


def available() -> tuple[str, ...]:
    """Names of every registered experiment."""
    return tuple(EXPERIMENTS)


def get_experiment(name: str) -> type[Experiment]:
    """The experiment class registered as ``name`` (imports its module)."""
    from .runner.experiment import Experiment

    if name not in EXPERIMENTS:
        raise UnknownNameError(f"unknown experiment {name!r}; available: {', '.join(EXPERIMENTS)}")
    module_name, cls_name = EXPERIMENTS[name].target.split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    if not (isinstance(cls, type) and issubclass(cls, Experiment)) or cls.name != name:
        raise TypeError(f"experiment {name!r}: {EXPERIMENTS[name].target} is not an Experiment named {name!r}")
    return cls


def presets() -> list[PresetRow]:
    """Every preset of every experiment, in registry and preset order."""
    return [PresetRow(name, preset, description)
            for name in EXPERIMENTS for preset, description in get_experiment(name).preset_rows()]
