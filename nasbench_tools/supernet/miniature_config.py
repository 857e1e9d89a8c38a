"""Configuration and presets of the Fashion-MNIST miniature of Chapter 6 (see :mod:`.miniature`).

One :class:`MiniatureConfig` says everything that determines the results: the NB201 subset and
the ground-truth sample, the images (:class:`ImageSettings`), the training recipe shared by the
stand-alone networks and the super-networks, the ground-truth seeds, the super-network seeds and
split epochs, and the evaluation. Where things are (the image folder, the checkpoint folder) is
not part of the fingerprint: the sha256 of the image files read is (see :mod:`.miniature_tasks`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import ConfigError
from ..runner.config import ConfigSection, ExperimentConfig, check_int_fields
from .config import supernet_support

#: Search-space family of the miniature (its networks take ``channels``/``skip_linear``).
MINIATURE_FAMILY = "nb201"
#: Image data sets the miniature reads (synthetic: smoke runs where Fashion-MNIST is missing).
DATA_KINDS = ("fashion-mnist", "synthetic")
#: Where Debian's ``dataset-fashion-mnist`` package installs the idx files.
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
#: Ground truth of the "no zero" miniature, reused by its variants (relative to the repository).
NOZERO_GROUND_TRUTH = "results/supernet/miniature-nozero/ground_truth.csv"
_DEVICE = re.compile(r"cpu|cuda(:\d+)?")


def miniature_spaces() -> dict[str, str]:
    """Registry name -> subset of every space the miniature can train (``nb201-nozero`` ...)."""
    return {name: subset for subset, name in supernet_support(MINIATURE_FAMILY).subsets.items()}


@dataclass(frozen=True)
class ImageSettings(ConfigSection):
    """The images: Fashion-MNIST (first ``train_images`` training images for training, the last
    ``val_images`` for super-network validation, the first ``test_images`` t10k images for the
    ground truth) or synthetic images of the same shapes; average-pooled to ``size``."""

    kind: ClassVar[str] = "images"

    data: str = "fashion-mnist"
    #: Folder of the Fashion-MNIST idx(.gz) files (a location: not fingerprinted).
    data_dir: str | None = None
    train_images: int = 5000
    val_images: int = 1000
    test_images: int = 10000
    #: Image side after average pooling (32: no pooling).
    size: int = 16

    def __post_init__(self) -> None:
        if self.data not in DATA_KINDS:
            raise ConfigError(f"data: expected one of {', '.join(DATA_KINDS)}, got {self.data!r}")
        if self.data == "fashion-mnist" and not self.data_dir:
            raise ConfigError(f"data_dir: required for Fashion-MNIST (a folder with the idx files, e.g. "
                              f"{FASHION_MNIST_DIR} from Debian's dataset-fashion-mnist)")
        check_int_fields(self, 1, "train_images", "val_images", "test_images", "size")


@dataclass(frozen=True)
class MiniatureConfig(ExperimentConfig):
    """Every setting of a miniature run (defaults: the first script's command-line defaults)."""

    kind: ClassVar[str] = "supernet-miniature"
    #: Fields that say where things are, not what is computed (left out of the fingerprint).
    LOCATION_FIELDS: ClassVar[tuple[str, ...]] = ("work_dir", "ground_truth")

    #: NB201 subset of the architectures (``nb201``, ``nb201-nozero``, ``nb201-onlyconv``).
    space: str = "nb201-onlyconv"
    #: Ground-truth sample size (0: every architecture of the space) and its seed.
    archs: int = 0
    arch_seed: int = 0
    images: ImageSettings = field(default_factory=lambda: ImageSettings(data_dir=FASHION_MNIST_DIR))
    # the training recipe of stand-alone networks and super-networks
    channels: int = 8
    batch: int = 64
    lr: float = 0.1
    #: Pixel shift of the random crop (0: flips only).
    crop_padding: int = 0
    #: NB201 1x1 "linear transformer" on skip edges (false: parameter-free skips).
    skip_linear: bool = True
    # the ground truth: stand-alone training per architecture and seed, mean over the seeds
    gt_epochs: int = 10
    gt_seeds: tuple[int, ...] = (0, 1)
    #: Train only the first N ground-truth architectures (0: all).
    gt_limit: int = 0
    #: A ground-truth CSV (``arch``, ``accuracy``) to use instead of training one (its sha256 is
    #: fingerprinted, the path is not).
    ground_truth: str | None = None
    # the super-networks: a baseline and one split run per split epoch, for every seed
    epochs: int = 30
    splits: tuple[int, ...] = (12, 18, 24)
    #: Super-network seeds (empty: the ground truth only).
    seeds: tuple[int, ...] = (0, 1, 2)
    calib_batches: int = 10
    #: Reset BatchNorm statistics before recalibration (see results/supernet/README.md).
    bn_reset: bool = False
    #: Also evaluate the baseline stopped at the split epochs (Figure 6.6 ablation).
    early_stop: bool = False
    #: ``cpu``, ``cuda`` or ``cuda:N`` (with CUDA run the tasks in this process: ``--jobs 1``).
    device: str = "cpu"
    #: Checkpoint folder (default: a temporary folder, removed after the run); finished runs
    #: found there are evaluated again, not retrained.
    work_dir: str | None = None

    def __post_init__(self) -> None:
        spaces = miniature_spaces()
        if self.space not in spaces:
            raise ConfigError(f"space: expected one of {', '.join(spaces)}, got {self.space!r}")
        if not isinstance(self.images, ImageSettings):
            raise ConfigError(f"images: expected an [images] table, got {self.images!r}")
        check_int_fields(self, 0, "archs", "arch_seed", "crop_padding", "gt_limit")
        check_int_fields(self, 1, "channels", "batch", "gt_epochs", "epochs", "calib_batches")
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or not 0 < self.lr < float("inf"):
            raise ConfigError(f"lr: expected a finite number > 0, got {self.lr!r}")
        check_int_fields(self, 0, "gt_seeds", "seeds", allow_empty=True)
        check_int_fields(self, 1, "splits", high=self.epochs - 1, allow_empty=True)
        if self.ground_truth is None and not self.gt_seeds:
            raise ConfigError("gt_seeds: at least one seed is needed to train a ground truth (or give ground_truth)")
        if not _DEVICE.fullmatch(self.device):
            raise ConfigError(f"device: expected cpu, cuda or cuda:N, got {self.device!r}")

    @property
    def subset(self) -> str:
        return miniature_spaces()[self.space]

    def fingerprint(self) -> dict[str, Any]:
        """The config without the locations (the data's checksums stand for them)."""
        fp = {k: v for k, v in super().fingerprint().items() if k not in self.LOCATION_FIELDS}
        fp["images"] = {k: v for k, v in fp["images"].items() if k != "data_dir"}
        return fp


def smoke() -> MiniatureConfig:
    """Seconds on one CPU core: synthetic images, 5 architectures, 2 epochs."""
    return MiniatureConfig(
        name="smoke", description="pipeline check on synthetic images (seconds on a CPU)", space="nb201-nozero",
        archs=5, images=ImageSettings(data="synthetic", train_images=96, val_images=32, test_images=48),
        channels=4, batch=32, gt_epochs=2, gt_seeds=(0, 1), epochs=2, splits=(1,), seeds=(0,), calib_batches=1,
        early_stop=True)


def nozero(**changes: Any) -> MiniatureConfig:
    """``results/supernet/miniature-nozero``: 64 sampled "no zero" architectures, 2 ground-truth
    seeds, 30-epoch super-networks split at 12/18/24 with the early-stop ablation."""
    base = MiniatureConfig(
        name="miniature-nozero", description="NB201 'no zero', 64 sampled architectures (results/supernet)",
        space="nb201-nozero", archs=64, arch_seed=0,
        images=ImageSettings(data_dir=FASHION_MNIST_DIR, train_images=5000, val_images=1000, test_images=10000,
                             size=16),
        channels=8, batch=64, lr=0.1, crop_padding=0, gt_epochs=10, gt_seeds=(0, 1), epochs=30, splits=(12, 18, 24),
        seeds=(0, 1), calib_batches=10, early_stop=True)
    return base.replace(**changes)


def onlyconv() -> MiniatureConfig:
    """``results/supernet/miniature`` (first run, script of commit c75fdff): all 64 "only
    convolutions" architectures, one ground-truth seed (its 16-architecture repeat is not part of
    the experiment; ``gt_seeds = [0, 1]`` measures repeatability for every architecture)."""
    return MiniatureConfig(
        name="miniature-onlyconv", description="NB201 'only convolutions', all 64 architectures (first run)",
        space="nb201-onlyconv", archs=0,
        images=ImageSettings(data_dir=FASHION_MNIST_DIR, train_images=1500, val_images=1000, test_images=1000,
                             size=16),
        channels=8, batch=64, lr=0.05, crop_padding=2, gt_epochs=8, gt_seeds=(0,), epochs=24, splits=(8, 14, 20),
        seeds=(0, 1), calib_batches=10, early_stop=True)


PRESETS = {
    "smoke": smoke,
    "miniature-nozero": nozero,
    "miniature-nozero-bn-reset": lambda: nozero(
        name="miniature-nozero-bn-reset", description="the 'no zero' super-networks with BatchNorm reset",
        ground_truth=NOZERO_GROUND_TRUTH, bn_reset=True),
    "miniature-nozero-identity-skip": lambda: nozero(
        name="miniature-nozero-identity-skip", description="'no zero' with parameter-free skip edges",
        ground_truth=NOZERO_GROUND_TRUTH, skip_linear=False, seeds=(0, 1, 2)),
    "miniature-nozero-identity-skip-bn-reset": lambda: nozero(
        name="miniature-nozero-identity-skip-bn-reset",
        description="'no zero' with parameter-free skip edges and BatchNorm reset",
        ground_truth=NOZERO_GROUND_TRUTH, skip_linear=False, seeds=(0, 1, 2), bn_reset=True),
    "miniature-onlyconv": onlyconv,
}
