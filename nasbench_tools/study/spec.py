"""The predictor study's configuration (:class:`StudySpec`, an experiment config read from TOML)
and its presets."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Mapping

from ..dissertation import (
    COMPLETE_ENERGY_DEVICES, COMPLETE_HWNAS_METRICS, COMPLETE_LATENCY_DEVICES, CONNECTIVITY_PREDICTORS,
    HARD_HWNAS_DATASETS, HWNAS_MAX_TRAIN_SIZE, HWNAS_TEST_SIZE, PAPER_PREDICTORS, PAPER_SEEDS, PAPER_TUNED,
    TRAIN_SIZE_GRID_POINTS, TRAIN_SIZE_GRID_START, TRANSNAS_MAX_TRAIN_SIZE, TRANSNAS_STUDY_TASKS, TRANSNAS_TEST_SIZE,
)
from ..errors import ConfigError, UnknownNameError
from ..runner.config import ConfigSection, ExperimentConfig, is_int
from ..runner.config import load_config as load_config_file
from .splits import log_spaced_sizes

# The study's facts (datasets, predictors, sizes, seeds) live in nasbench_tools.dissertation.
HARD_HWNAS = HARD_HWNAS_DATASETS
ALL_PREDICTORS = PAPER_PREDICTORS
#: Predictors that need the cell's connectivity (not used on sequential spaces).
GRAPH_PREDICTORS = CONNECTIVITY_PREDICTORS
HWNAS_SIZES = log_spaced_sizes(TRAIN_SIZE_GRID_START, HWNAS_MAX_TRAIN_SIZE, TRAIN_SIZE_GRID_POINTS)
TRANSNAS_SIZES = log_spaced_sizes(TRAIN_SIZE_GRID_START, TRANSNAS_MAX_TRAIN_SIZE, TRAIN_SIZE_GRID_POINTS)



def _int_problems(field: str, values: Any, minimum: int) -> list[str]:
    """Problems of a sequence of integers >= ``minimum`` (non-empty, no duplicates)."""
    values = tuple(values)
    if not values:
        return [f"{field} is empty"]
    bad = [v for v in values if not is_int(v) or v < minimum]
    if bad:
        return [f"{field} must be integers >= {minimum}, got {bad}"]
    if len(set(values)) != len(values):
        return [f"{field} lists a value twice: {list(values)}"]
    return []


def _ints(values: Any, field: str, source: str) -> tuple[int, ...]:
    """A config list of integers as a tuple; a float such as 20.7 is refused, not truncated."""
    if not isinstance(values, (list, tuple, range)):
        raise ConfigError(f"{source}: {field} must be a list of integers, got {values!r}")
    bad = [v for v in values if not is_int(v)]
    if bad:
        raise ConfigError(f"{source}: {field} must hold integers, got {bad}")
    return tuple(values)


def _names(values: Any, field: str, source: str) -> tuple[str, ...]:
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{source}: {field} must be a list of names (strings), got {values!r}")
    return tuple(values)


def _table(value: Any, field: str, source: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: [{field}] must be a table, got {value!r}")
    return value



@dataclass(frozen=True)
class TuningSpec(ConfigSection):
    """Random-search CV tuning: which predictors, how many configurations, how much time.

    The wall-clock budget of one fit is ``seconds_base + seconds_per_1000 * n / 1000``
    (the paper: 20 s + 900 s per 1,000 samples).  A time budget makes the number of evaluated
    configurations machine-dependent; ``time_budget=False`` (count budget only) keeps runs
    bit-reproducible.
    """

    predictors: tuple[str, ...] = PAPER_TUNED
    max_configs: int = 5000
    seconds_base: float = 20.0
    seconds_per_1000: float = 900.0
    cv: int = 3
    min_samples: int = 10
    time_budget: bool = True

    kind: ClassVar[str] = "tuning"

    def __post_init__(self) -> None:
        problems = []
        if not is_int(self.max_configs) or self.max_configs < 1:
            problems.append(f"max_configs must be an integer >= 1, got {self.max_configs!r}")
        if not is_int(self.cv) or self.cv < 2:
            problems.append(f"cv must be an integer >= 2 (folds), got {self.cv!r}")
        if not is_int(self.min_samples) or self.min_samples < 1:
            problems.append(f"min_samples must be an integer >= 1, got {self.min_samples!r}")
        for name in ("seconds_base", "seconds_per_1000"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                problems.append(f"{name} must be a finite number >= 0, got {v!r}")
        if not isinstance(self.time_budget, bool):
            problems.append(f"time_budget must be true or false, got {self.time_budget!r}")
        if len(set(self.predictors)) != len(self.predictors):
            problems.append(f"predictors list a name twice: {list(self.predictors)}")
        if problems:
            raise ConfigError("tuning: " + "; ".join(problems))

    def budget_s(self, n_train: int) -> float | None:
        if not self.time_budget:
            return None
        return self.seconds_base + self.seconds_per_1000 * n_train / 1000.0


@dataclass(frozen=True)
class StudySpec(ExperimentConfig):
    """The grid: datasets x predictors x seeds x training sizes, and how each fit is made.

    Positional like before (``name`` first); ``description`` is keyword-only. Its fingerprint
    (every field but name and description) is what a results file stores and a resumed run
    must match.
    """

    name: str
    datasets: tuple[str, ...]
    predictors: tuple[str, ...]
    train_sizes: tuple[int, ...]
    test_size: int
    seeds: tuple[int, ...]
    tuning: TuningSpec = TuningSpec()
    #: predictor -> the training sizes it runs at (default: all)
    only_sizes: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    #: predictor -> parameters overriding its defaults
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    kind: ClassVar[str] = "study"

    def __post_init__(self) -> None:
        problems = []
        if not self.datasets:
            problems.append("no datasets")
        if not self.predictors:
            problems.append("no predictors")
        for what, names in (("datasets", self.datasets), ("predictors", self.predictors)):
            if len(set(names)) != len(names):
                problems.append(f"{what} list a name twice: {list(names)}")
        problems += _int_problems("seeds", self.seeds, 0)
        problems += _int_problems("train_sizes", self.train_sizes, 1)
        if not is_int(self.test_size) or self.test_size < 1:
            problems.append(f"test_size must be an integer >= 1, got {self.test_size!r}")
        for p, sizes in self.only_sizes.items():
            problems += _int_problems(f"only_sizes.{p}", sizes, 1)
        for p in list(self.only_sizes) + list(self.params):
            if p not in self.predictors:
                problems.append(f"{p!r} is configured but not among the predictors")
        if problems:
            raise ConfigError(f"study spec {self.name!r}: " + "; ".join(problems))

    def check_predictors(self, source: str | None = None) -> None:
        """Every predictor name, parameter and tuned predictor against the registry and the
        predictors' own constraints (imports the predictors), so that a mistake is one error
        before the first fit instead of a grid of error rows."""
        from predictors import get_class, make

        where = source or f"study spec {self.name!r}"
        for name in self.predictors:
            if "random_state" in self.params.get(name, {}):
                raise ConfigError(f"{where}: [params.{name}] random_state is set from each seed by the study; remove it")
            try:
                make(name, **dict(self.params.get(name, {})))
            except (UnknownNameError, ValueError, TypeError) as exc:
                raise ConfigError(f"{where}: predictor {name!r}: {exc}") from None
        for name in self.tuning.predictors:
            try:
                cls = get_class(name)
            except UnknownNameError as exc:
                raise ConfigError(f"{where}: [tuning] predictors: {exc}") from None
            if not cls.tuning_space:
                raise ConfigError(f"{where}: [tuning] predictor {name!r} has no tuning space; remove it from [tuning]")

    def sizes_for(self, predictor: str) -> tuple[int, ...]:
        return tuple(self.only_sizes.get(predictor, self.train_sizes))

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], source: str = "config") -> "StudySpec":
        """A spec from a config mapping; every field checked (types, ranges, names, predictor
        parameters) before anything runs. Without a ``[tuning]`` table nothing is tuned;
        ``seeds = N`` means seeds 0..N-1."""
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{source}: expected a table of study fields, got {type(raw).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(f"{source}: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        missing = {"datasets", "predictors", "train_sizes", "test_size", "seeds"} - set(raw)
        if missing:
            raise ConfigError(f"{source}: missing field(s) {', '.join(sorted(missing))}")
        try:
            tuning_raw = dict(raw.get("tuning", {"predictors": ()}))
            tuning_known = {f.name for f in dataclasses.fields(TuningSpec)}
            bad = set(tuning_raw) - tuning_known
            if bad:
                raise ConfigError(f"{source}: unknown tuning field(s) {', '.join(sorted(bad))}; known: {', '.join(sorted(tuning_known))}")
            if "predictors" in tuning_raw:
                tuning_raw["predictors"] = _names(tuning_raw["predictors"], "tuning.predictors", source)
            seeds = raw["seeds"]
            if is_int(seeds):
                if seeds < 1:
                    raise ConfigError(f"{source}: seeds = {seeds} must be >= 1 (the number of seeds 0..N-1) or a list")
                seeds = range(seeds)
            predictors = _names(raw["predictors"], "predictors", source)
            only_sizes = _table(raw.get("only_sizes", {}), "only_sizes", source)
            params = _table(raw.get("params", {}), "params", source)
            spec = cls(
                name=str(raw.get("name", Path(source).stem)),
                datasets=_names(raw["datasets"], "datasets", source),
                predictors=predictors,
                train_sizes=_ints(raw["train_sizes"], "train_sizes", source),
                test_size=raw["test_size"],
                seeds=_ints(seeds, "seeds", source),
                tuning=TuningSpec(**tuning_raw),
                only_sizes={k: _ints(v, f"only_sizes.{k}", source) for k, v in only_sizes.items()},
                params={k: dict(_table(v, f"params.{k}", source)) for k, v in params.items()},
                description=str(raw.get("description", "")),
            )
        except ConfigError as exc:
            raise ConfigError(str(exc) if str(exc).startswith(source) else f"{source}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: invalid study configuration ({exc})") from None
        not_run = [p for p in spec.tuning.predictors if p not in spec.predictors]
        if not_run:
            raise ConfigError(f"{source}: [tuning] predictors {not_run} are not among the study's predictors")
        spec.check_predictors(source)
        return spec


def load_config(path: str | Path) -> StudySpec:
    """A study spec from a TOML (or JSON) file with the fields of :class:`StudySpec`."""
    return load_config_file(path, StudySpec)


def _paper_hwnas() -> StudySpec:
    return StudySpec(
        "paper-hwnas", HARD_HWNAS, ALL_PREDICTORS, HWNAS_SIZES, HWNAS_TEST_SIZE, PAPER_SEEDS,
        description="Figure 5.3a: 5 hard HW-NAS-Bench datasets, 18 predictors, 11 sizes, 50 seeds",
    )


def _paper_transnas(space: str = "transnas-macro") -> StudySpec:
    preds = tuple(p for p in ALL_PREDICTORS if p not in GRAPH_PREDICTORS)
    return StudySpec(
        "paper-transnas" if space == "transnas-macro" else f"paper-transnas-on-{space}",
        tuple(f"{space}/{t}/inference_time" for t in TRANSNAS_STUDY_TASKS), preds, TRANSNAS_SIZES, TRANSNAS_TEST_SIZE,
        PAPER_SEEDS, TuningSpec(predictors=tuple(p for p in PAPER_TUNED if p in preds)),
        description=f"Figure 5.3b on the {space} space: 5 tasks, 14 predictors, 11 sizes, 50 seeds",
    )


def _paper_linreg_all() -> StudySpec:
    from ..datasets import HWNAS_DATASETS

    datasets = tuple(f"hwnas/{d}/{m}" for d in HWNAS_DATASETS for m in COMPLETE_HWNAS_METRICS)
    return StudySpec(
        "paper-linreg-all", datasets, ("linear_regression", "xgboost", "lookup_table"), HWNAS_SIZES,
        HWNAS_TEST_SIZE, PAPER_SEEDS, TuningSpec(predictors=()),
        only_sizes={"xgboost": (HWNAS_SIZES[-1],)},
        description="Table A.2: linear regression on all 27 datasets, XGBoost at the largest size, lookup table",
    )


#: The quick preset's sizes: just above the tuning threshold, mid, and the paper's Table 5.1 size.
QUICK_SIZES = (11, 55, 124)
QUICK_SEEDS = (0, 1, 2)
#: The default configuration plus one random draw: the tuning machinery runs, at 1/2500 of the cost.
QUICK_TUNING_CONFIGS = 2


#: The paper-tuned predictors whose fits are cheap enough to tune in the quick preset (BANANAS,
#: GCN and the large MLP would multiply its run time by about 2.5; they use their defaults).
QUICK_TUNED = ("ridge", "svr", "mlp_small", "bonas")


def _quick() -> StudySpec:
    return StudySpec(
        "quick", HARD_HWNAS, ALL_PREDICTORS, QUICK_SIZES, HWNAS_TEST_SIZE, QUICK_SEEDS,
        TuningSpec(predictors=QUICK_TUNED, max_configs=QUICK_TUNING_CONFIGS, time_budget=False),
        description=f"a faithful miniature of paper-hwnas: {len(HARD_HWNAS)} datasets, {len(ALL_PREDICTORS)} "
                    f"predictors, {len(QUICK_SIZES)} sizes, {len(QUICK_SEEDS)} seeds",
    )


#: transfer-lodo: the few-shot sizes of issue 13, and the single-device baselines it runs beside.
TRANSFER_SIZES = (5, 10, 20, 50, 100, 200)
TRANSFER_PREDICTORS = (
    "transfer_gp", "transfer_gp_suggested", "transfer_gp_live", "lookup_table", "svr", "lightgbm", "gp",
)
#: Seeds of the leave-one-device-out grid (issue 13: 10).
TRANSFER_SEEDS = tuple(range(10))
#: HW-NAS-Bench devices with complete columns (EdgeTPU has missing values and no lookup table).
TRANSFER_DEVICES = COMPLETE_LATENCY_DEVICES
TRANSFER_ENERGY_DEVICES = COMPLETE_ENERGY_DEVICES
#: The measured CPU table of ``results/latency/`` (a device no benchmark has), read as a custom
#: table: the data folder must hold ``custom/nb201_cifar10_cpu.csv``; the repository's ``data/``
#: folder does (a link to the committed table), so run the preset with ``--data-dir data``.
TRANSFER_CPU_TARGET = "custom/nb201_cifar10_cpu/latency_ms"


def _transfer_lodo() -> StudySpec:
    from ..datasets import HWNAS_DATASETS, TRANSNAS_TASKS

    latency = tuple(f"hwnas/{d}/{dev}_latency" for dev in TRANSFER_DEVICES for d in HWNAS_DATASETS)
    energy = tuple(f"hwnas/{d}/{dev}_energy" for dev in TRANSFER_ENERGY_DEVICES for d in HWNAS_DATASETS)
    transnas = tuple(f"transnas-micro/{t}/inference_time" for t in TRANSNAS_TASKS)
    return StudySpec(
        "transfer-lodo", latency + energy + transnas + (TRANSFER_CPU_TARGET,), TRANSFER_PREDICTORS,
        TRANSFER_SIZES, HWNAS_TEST_SIZE, TRANSFER_SEEDS, TuningSpec(predictors=()),
        description="issue 13: leave-one-device-out transfer on every complete HW-NAS-Bench latency and energy "
                    "target, TransNAS-Bench-101 micro (sources: the other tasks) and the measured CPU table "
                    "(sources: HW-NAS-Bench), random vs suggested sets, beside lookup table, SVR, LightGBM, GP",
    )


#: transfer-lodo-gcn: the GCN baseline of issue 13 on a subset (one GCN fit took 1-175 s, about
#: 170 s per target and seed over the six sizes, so the 32-target, 10-seed grid would take ~15
#: core-hours): every HW-NAS-Bench latency device on CIFAR-10 and the measured CPU table, 3 seeds.
TRANSFER_GCN_SEEDS = (0, 1, 2)


def _transfer_lodo_gcn() -> StudySpec:
    latency = tuple(f"hwnas/cifar10/{dev}_latency" for dev in TRANSFER_DEVICES)
    return StudySpec(
        "transfer-lodo-gcn", latency + (TRANSFER_CPU_TARGET,), ("gcn",), TRANSFER_SIZES, HWNAS_TEST_SIZE,
        TRANSFER_GCN_SEEDS, TuningSpec(predictors=()),
        description="issue 13: the GCN baseline beside transfer-lodo (CIFAR-10 latency of every complete "
                    "HW-NAS-Bench device and the measured CPU table, 3 seeds; same splits as transfer-lodo)",
    )


PRESETS = {
    "transfer-lodo": _transfer_lodo,
    "transfer-lodo-gcn": _transfer_lodo_gcn,
    "paper-hwnas": _paper_hwnas,
    "paper-transnas": _paper_transnas,
    "paper-linreg-all": _paper_linreg_all,
    "quick": _quick,
}


def preset(name: str, **kwargs: Any) -> StudySpec:
    try:
        factory = PRESETS[name]
    except KeyError:
        raise UnknownNameError(f"unknown study preset {name!r}; known: {', '.join(PRESETS)}") from None
    return factory(**kwargs)
