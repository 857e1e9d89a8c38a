"""Experiment specifications of the predictor study: presets and TOML config files."""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import DataFormatError, UnknownNameError
from .splits import log_spaced_sizes

#: The five hard HW-NAS-Bench datasets of the main figures (protocol §2).
HARD_HWNAS = (
    "hwnas/ImageNet16-120/raspi4_latency",
    "hwnas/cifar100/pixel3_latency",
    "hwnas/cifar10/edgegpu_latency",
    "hwnas/cifar100/edgegpu_energy",
    "hwnas/ImageNet16-120/eyeriss_arithmetic_intensity",
)
#: The five TransNAS-Bench-101 tasks of the study.
TRANSNAS_STUDY_TASKS = ("class_scene", "class_object", "room_layout", "jigsaw", "segmentsemantic")
ALL_PREDICTORS = (
    "linear_regression", "ridge", "bayesian_linear_regression", "svr", "gp", "sparse_gp",
    "random_forest", "xgboost", "ngboost", "lightgbm", "bohamiann", "bananas", "bonas", "gcn",
    "mlp_large", "mlp_small", "nao", "lookup_table",
)
#: Predictors that need the cell's connectivity (not used on sequential spaces).
GRAPH_PREDICTORS = ("bananas", "bonas", "gcn", "nao")
#: The predictors the original runs tuned (Appendix A.2); the others used their defaults.
PAPER_TUNED = ("bananas", "bonas", "gcn", "mlp_large", "mlp_small", "ridge", "svr")
HWNAS_SIZES = log_spaced_sizes(5.1, 15000, 11)
TRANSNAS_SIZES = log_spaced_sizes(5.1, 3000, 11)
HWNAS_TEST_SIZE = 625
TRANSNAS_TEST_SIZE = 256
PAPER_SEEDS = tuple(range(50))


@dataclass(frozen=True)
class TuningSpec:
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

    def budget_s(self, n_train: int) -> float | None:
        if not self.time_budget:
            return None
        return self.seconds_base + self.seconds_per_1000 * n_train / 1000.0


@dataclass(frozen=True)
class StudySpec:
    """The grid: datasets x predictors x seeds x training sizes, and how each fit is made."""

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
    description: str = ""

    def __post_init__(self) -> None:
        problems = []
        if not self.datasets:
            problems.append("no datasets")
        if not self.predictors:
            problems.append("no predictors")
        if not self.seeds:
            problems.append("no seeds")
        if any(n < 1 for n in self.train_sizes) or not self.train_sizes:
            problems.append(f"training sizes must be positive, got {list(self.train_sizes)}")
        if self.test_size < 1:
            problems.append(f"test size must be positive, got {self.test_size}")
        for p in list(self.only_sizes) + list(self.params):
            if p not in self.predictors:
                problems.append(f"{p!r} is configured but not among the predictors")
        if problems:
            raise DataFormatError(f"study spec {self.name!r}: " + "; ".join(problems))

    def sizes_for(self, predictor: str) -> tuple[int, ...]:
        return tuple(self.only_sizes.get(predictor, self.train_sizes))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["only_sizes"] = {k: list(v) for k, v in self.only_sizes.items()}
        d["params"] = {k: dict(v) for k, v in self.params.items()}
        return json.loads(json.dumps(d))  # plain lists/dicts

    def fingerprint(self) -> dict[str, Any]:
        """What must match for rows of two runs to belong to one results file."""
        d = self.to_dict()
        d.pop("description", None)
        d.pop("name", None)
        return d

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], source: str = "config") -> "StudySpec":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise DataFormatError(f"{source}: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        missing = {"datasets", "predictors", "train_sizes", "test_size", "seeds"} - set(raw)
        if missing:
            raise DataFormatError(f"{source}: missing field(s) {', '.join(sorted(missing))}")
        try:
            tuning_raw = dict(raw.get("tuning", {}))
            tuning_known = {f.name for f in dataclasses.fields(TuningSpec)}
            bad = set(tuning_raw) - tuning_known
            if bad:
                raise DataFormatError(f"{source}: unknown tuning field(s) {', '.join(sorted(bad))}")
            if "predictors" in tuning_raw:
                tuning_raw["predictors"] = tuple(tuning_raw["predictors"])
            seeds = raw["seeds"]
            if isinstance(seeds, int):
                seeds = range(seeds)
            return cls(
                name=str(raw.get("name", Path(source).stem)),
                datasets=tuple(raw["datasets"]),
                predictors=tuple(raw["predictors"]),
                train_sizes=tuple(int(n) for n in raw["train_sizes"]),
                test_size=int(raw["test_size"]),
                seeds=tuple(int(s) for s in seeds),
                tuning=TuningSpec(**tuning_raw),
                only_sizes={k: tuple(int(n) for n in v) for k, v in dict(raw.get("only_sizes", {})).items()},
                params={k: dict(v) for k, v in dict(raw.get("params", {})).items()},
                description=str(raw.get("description", "")),
            )
        except (TypeError, ValueError) as exc:
            raise DataFormatError(f"{source}: invalid study configuration ({exc})") from None


def load_config(path: str | Path) -> StudySpec:
    """A study spec from a TOML (or JSON) file with the fields of :class:`StudySpec`."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise DataFormatError(f"{path}: cannot read the study configuration ({exc})") from None
    if path.suffix == ".json":
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"{path}: malformed JSON ({exc})") from None
    else:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise DataFormatError(f"{path}: malformed TOML ({exc})") from None
    return StudySpec.from_dict(raw, str(path))


def _paper_hwnas() -> StudySpec:
    return StudySpec(
        "paper-hwnas", HARD_HWNAS, ALL_PREDICTORS, HWNAS_SIZES, HWNAS_TEST_SIZE, PAPER_SEEDS,
        description="Figure 5.3a: 5 hard HW-NAS-Bench datasets, 18 predictors, 11 sizes, 50 seeds",
    )


def _paper_transnas(space: str = "transnas-macro") -> StudySpec:
    preds = tuple(p for p in ALL_PREDICTORS if p not in GRAPH_PREDICTORS)
    return StudySpec(
        "paper-transnas" if space == "transnas-macro" else f"paper-transnas-on-{space}", tuple(f"{space}/{t}/inference_time" for t in TRANSNAS_STUDY_TASKS), preds,
        TRANSNAS_SIZES, TRANSNAS_TEST_SIZE, PAPER_SEEDS,
        description=f"Figure 5.3b on the {space} space: 5 tasks, 14 predictors, 11 sizes, 50 seeds",
    )


def _paper_linreg_all() -> StudySpec:
    from ..datasets import HWNAS_DATASETS, HWNAS_METRICS

    datasets = tuple(f"hwnas/{d}/{m}" for d in HWNAS_DATASETS for m in HWNAS_METRICS if m != "edgetpu_latency")
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
        description="a faithful miniature of paper-hwnas: 5 datasets, 18 predictors, 4 sizes, 3 seeds",
    )


PRESETS = {
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
