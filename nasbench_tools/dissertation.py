"""The source study's published facts, in one place: what the toolkit reproduces and compares with.

Sources (in ``shared/reference/``): ``STUDY-PROTOCOL.md`` ("protocol §n") and
``dissertation-excerpt.md`` (K. A. Laube, 2022: Chapter 5 "What to expect of hardware metric
predictors in NAS", Chapter 6, Appendices A and B). Each constant names its source. The predictor
lists are checked against what the registered predictors declare by ``tests/test_encodings.py``.

Core layer: imports only the benchmark constants of :mod:`nasbench_tools.datasets.loaders`.
"""

from __future__ import annotations

from .datasets.loaders import HWNAS_METRICS

# ------------------------------------------------------------------ predictor study datasets
#: HW-NAS-Bench metrics the study leaves out, and why: EdgeTPU latency is incomplete (4,699 of
#: the 15,625 architectures per image dataset have no value). Section 5.5: "of which we exclude
#: the incomplete EdgeTPU metric. Thus there are 27 data sets"; protocol §2.
EXCLUDED_HWNAS_METRICS = ("edgetpu_latency",)
#: The 9 complete metrics (x 3 image datasets = the 27 datasets of Table A.2).
COMPLETE_HWNAS_METRICS = tuple(m for m in HWNAS_METRICS if m not in EXCLUDED_HWNAS_METRICS)
#: Devices with complete latency / energy columns (the leave-one-device-out targets of issue 13).
COMPLETE_LATENCY_DEVICES = tuple(m.removesuffix("_latency") for m in COMPLETE_HWNAS_METRICS if m.endswith("_latency"))
COMPLETE_ENERGY_DEVICES = tuple(m.removesuffix("_energy") for m in COMPLETE_HWNAS_METRICS if m.endswith("_energy"))
#: The five "hard" HW-NAS-Bench datasets of the main figures: non-linear and not redundant
#: (Section 5.5 list, selection in Appendix A.3; protocol §2 gives this order). The simulation
#: (Section 5.6, protocol §3) runs on the same five.
HARD_HWNAS_DATASETS = (
    "hwnas/ImageNet16-120/raspi4_latency",
    "hwnas/cifar100/pixel3_latency",
    "hwnas/cifar10/edgegpu_latency",
    "hwnas/cifar100/edgegpu_energy",
    "hwnas/ImageNet16-120/eyeriss_arithmetic_intensity",
)
#: The five TransNAS-Bench-101 tasks of Figure 5.3b: those with ``test_loss`` and
#: ``inference_time`` for every architecture (Section 5.5, Appendix A.3; protocol §2).
TRANSNAS_STUDY_TASKS = ("class_scene", "class_object", "room_layout", "jigsaw", "segmentsemantic")

# ------------------------------------------------------------------ predictor study protocol
#: Training sizes: ``int(x)`` for 11 log2-spaced points from 5.1 to 15,000 (HW-NAS-Bench) or
#: 3,000 (TransNAS-Bench-101); protocol §2 lists both grids.
TRAIN_SIZE_GRID_START = 5.1
TRAIN_SIZE_GRID_POINTS = 11
HWNAS_MAX_TRAIN_SIZE = 15000
TRANSNAS_MAX_TRAIN_SIZE = 3000
#: Test set per seed (protocol §2).
HWNAS_TEST_SIZE = 625
TRANSNAS_TEST_SIZE = 256
#: 50 seeds, 0-49 (protocol §2).
PAPER_SEEDS = tuple(range(50))

# ------------------------------------------------------------------------------ predictors
#: The study's 18 predictors in the protocol's order (Section 5.4: "a total of 18 predictors";
#: protocol §2 "Predictors" 1-18).
PAPER_PREDICTORS = (
    "linear_regression", "ridge", "bayesian_linear_regression", "svr", "gp", "sparse_gp",
    "random_forest", "xgboost", "ngboost", "lightgbm", "bohamiann", "bananas", "bonas", "gcn",
    "mlp_large", "mlp_small", "nao", "lookup_table",
)
#: The predictors the original runs tuned; the others used their defaults (Appendix A.2;
#: protocol §2 "Hyper-parameter tuning").
PAPER_TUNED = ("bananas", "bonas", "gcn", "mlp_large", "mlp_small", "ridge", "svr")
#: Predictors that encode the architecture's connectivity, not evaluated on the sequential
#: TransNAS-Bench-101 macro networks (Figure 5.3b caption: "BANANAS, BONAS, GCN, NAO"). Exactly
#: the paper predictors whose encoding has ``connectivity`` (checked against the registry).
CONNECTIVITY_PREDICTORS = ("bananas", "bonas", "gcn", "nao")

# ------------------------------------------------------------------------- published values
#: Table 5.1 reports linear regression at this training size.
TABLE_5_1_SIZE = 124
#: Table 5.1: lookup-table Kendall's tau per HW-NAS-Bench device metric, mean over the three
#: image datasets (protocol §2 "Checks the paper reports").
TABLE_5_1_LOOKUP_TABLE = {
    "raspi4_latency": 0.45, "fpga_latency": 0.99, "eyeriss_latency": 0.99, "pixel3_latency": 0.49,
    "edgegpu_latency": 0.21, "fpga_energy": 0.99, "eyeriss_energy": 1.00, "edgegpu_energy": 0.23,
    "eyeriss_arithmetic_intensity": 0.84,
}
#: Table 5.1, in brackets: linear regression at :data:`TABLE_5_1_SIZE` training samples.
TABLE_5_1_LINEAR_REGRESSION = {
    "raspi4_latency": 0.75, "fpga_latency": 0.97, "eyeriss_latency": 0.96, "pixel3_latency": 0.78,
    "edgegpu_latency": 0.79, "fpga_energy": 0.97, "eyeriss_energy": 0.99, "edgegpu_energy": 0.79,
    "eyeriss_arithmetic_intensity": 0.81,
}
#: Table 5.1, TransNAS-Bench-101 macro latency (Tesla V100): (lookup table, linear regression).
TABLE_5_1_TRANSNAS_MACRO = (0.60, 0.70)
#: Table A.2 is ordered by linear regression's tau at this size: "12 of them can be accurately
#: fit with Linear Regression and only 25 training samples" (Section 5.5, Appendix A.3).
TABLE_A2_SORT_SIZE = 25

# ------------------------------------------------------------------------ selection simulation
#: Subset sizes N and deviation standard deviations s of the simulation grid (protocol §3).
SIMULATION_SUBSET_SIZES = (100, 500, 1000, 2000, 5000, 15625)
SIMULATION_STDS = tuple(round(0.1 * i, 10) for i in range(11))
#: Values read off the published figures 5.6 and 5.7, averaged over datasets and subset sizes:
#: (metric, s, value) (protocol §3 "Published shape to compare with").
PUBLISHED_SIMULATION = (
    ("kendall_tau", 0.2, 0.88), ("kendall_tau", 0.4, 0.78), ("kendall_tau", 1.0, 0.57),
    ("mra_all", 0.1, 1.1), ("mra_all", 1.0, 2.5), ("mra_pareto", 0.2, 0.5), ("mra_pareto", 1.0, 2.4),
    ("hypervolume_full_space", 0.0, 4.2),
)
