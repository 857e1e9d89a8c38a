"""Image data for super-network training: CIFAR-10 and Fashion-MNIST readers, synthetic data,
and a device-resident batch stream with vectorised augmentation.

Images stay uint8 on the training device; each batch is cropped (padding 4), flipped and
normalised with a handful of batched tensor ops, so no per-image Python work is done.
"""

from __future__ import annotations

import gzip
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import DataFileNotFoundError, DataFormatError

CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_IMAGE_BYTES = 3 * 32 * 32
CIFAR10_FORMAT = (
    "a pickled dict (python 'cifar-10-batches-py' format) with b'data': uint8 array (n, 3072) "
    "and b'labels': n ints in 0..9"
)
FMNIST_TRAIN_IMAGES = "train-images-idx3-ubyte"
FMNIST_TRAIN_LABELS = "train-labels-idx1-ubyte"
FMNIST_PREFIX = {"train": "train", "test": "t10k"}
IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049
#: Fashion-MNIST 28x28 images are zero-padded to the 32x32 input of the networks.
FMNIST_PAD = 2
#: Protocol: 5,000 training images are held out for validation.
DEFAULT_VAL_IMAGES = 5000
CROP_PADDING = 4
NUM_CLASSES = 10
DATA_NAMES = ("cifar10", "fashion-mnist", "synthetic")


@dataclass
class ImageData:
    """Training and validation images (uint8, NCHW) with labels and normalisation constants."""

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    mean: tuple[float, ...]
    std: tuple[float, ...]
    num_classes: int = NUM_CLASSES

    @property
    def in_channels(self) -> int:
        return int(self.train_x.shape[1])

    def to(self, device: torch.device | str) -> "ImageData":
        return ImageData(
            self.name, self.train_x.to(device), self.train_y.to(device), self.val_x.to(device),
            self.val_y.to(device), self.mean, self.std, self.num_classes,
        )


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler for CIFAR batches: only numpy array reconstruction is allowed (no code execution)."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"), ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> type:
        """The pickle hook: only the allowed numpy globals."""
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR-10 batch file")


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise DataFileNotFoundError(f"CIFAR-10 file {path} not found; expected {CIFAR10_FORMAT}")
    try:
        with open(path, "rb") as fh:
            d = _NumpyOnlyUnpickler(fh, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise DataFormatError(f"{path}: not a CIFAR-10 batch ({exc}); expected {CIFAR10_FORMAT}") from None
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        raise DataFormatError(f"{path}: missing b'data' or b'labels'; expected {CIFAR10_FORMAT}")
    data = np.asarray(d[b"data"])
    labels = np.asarray(d[b"labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != CIFAR10_IMAGE_BYTES:
        raise DataFormatError(f"{path}: b'data' has dtype {data.dtype} and shape {data.shape}; expected {CIFAR10_FORMAT}")
    if labels.shape != (len(data),) or (labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES)):
        raise DataFormatError(f"{path}: b'labels' must be {len(data)} ints in 0..9; expected {CIFAR10_FORMAT}")
    return data.reshape(-1, 3, 32, 32), labels


def read_cifar10(directory: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The 50,000 CIFAR-10 training images (uint8 NCHW) and labels from ``cifar-10-batches-py``."""
    directory = Path(directory)
    if (directory / "cifar-10-batches-py").is_dir():
        directory = directory / "cifar-10-batches-py"
    parts = [_read_cifar_batch(directory / f) for f in CIFAR10_TRAIN_FILES]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _idx_path(directory: Path, stem: str) -> Path:
    """The idx file ``stem`` or ``stem.gz`` in ``directory`` (the plain one first)."""
    for name in (stem, stem + ".gz"):
        path = directory / name
        if path.is_file():
            return path
    raise DataFileNotFoundError(f"Fashion-MNIST file {directory / stem}[.gz] not found; expected an idx file (magic 2051/2049)")


def _open_idx(directory: Path, stem: str) -> tuple[Path, bytes]:
    path = _idx_path(directory, stem)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataFormatError(f"{path}: not a valid gzip file ({exc}); expected a gzipped idx file") from None
    return path, raw


def fashion_mnist_files(directory: str | Path, splits: tuple[str, ...] = tuple(FMNIST_PREFIX)) -> list[Path]:
    """The idx files (images, labels) :func:`read_fashion_mnist` reads for ``splits``, so that a
    run can fingerprint the image data it used."""
    directory = Path(directory)
    unknown = [s for s in splits if s not in FMNIST_PREFIX]
    if unknown:
        raise DataFormatError(f"unknown Fashion-MNIST split(s) {unknown}; expected train or test")
    return [_idx_path(directory, stem.replace("train", FMNIST_PREFIX[split]))
            for split in splits for stem in (FMNIST_TRAIN_IMAGES, FMNIST_TRAIN_LABELS)]


def _parse_idx(path: Path, raw: bytes, magic: int, ndim: int) -> np.ndarray:
    expect = f"an idx file: big-endian int32 magic {magic}, {ndim} int32 sizes, then uint8 data"
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise DataFormatError(f"{path}: file too short for an idx header; expected {expect}")
    got = int.from_bytes(raw[:4], "big")
    if got != magic:
        raise DataFormatError(f"{path}: idx magic number {got}; expected {expect}")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    n = int(np.prod(dims))
    if len(raw) - header != n:
        raise DataFormatError(f"{path}: {len(raw) - header} data bytes for sizes {dims} ({n} expected); expected {expect}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_fashion_mnist(directory: str | Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST images (uint8, N x 1 x 32 x 32 after zero padding) and labels of ``split``
    (``train`` or ``test``, the t10k files)."""
    directory = Path(directory)
    if split not in FMNIST_PREFIX:
        raise DataFormatError(f"unknown Fashion-MNIST split {split!r}; expected train or test")
    prefix = FMNIST_PREFIX[split]
    ipath, iraw = _open_idx(directory, FMNIST_TRAIN_IMAGES.replace("train", prefix))
    lpath, lraw = _open_idx(directory, FMNIST_TRAIN_LABELS.replace("train", prefix))
    images = _parse_idx(ipath, iraw, IDX_IMAGES_MAGIC, 3)
    labels = _parse_idx(lpath, lraw, IDX_LABELS_MAGIC, 1).astype(np.int64)
    if len(images) != len(labels):
        raise DataFormatError(f"{ipath} holds {len(images)} images but {lpath} {len(labels)} labels; expected equal counts")
    if labels.size and labels.max() >= NUM_CLASSES:
        raise DataFormatError(f"{lpath}: label {labels.max()} outside 0..9")
    images = np.pad(images, ((0, 0), (FMNIST_PAD, FMNIST_PAD), (FMNIST_PAD, FMNIST_PAD)))
    return images[:, None], labels


def synthetic_images(n: int, seed: int, channels: int = 3, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Learnable synthetic images: each class has its own smooth colour pattern plus noise."""
    rng = np.random.default_rng(seed)
    protos = rng.uniform(40, 215, size=(NUM_CLASSES, channels, 4, 4))
    protos = np.kron(protos, np.ones((1, 1, size // 4, size // 4)))
    labels = rng.integers(0, NUM_CLASSES, size=n)
    images = protos[labels] + rng.normal(0, 30, size=(n, channels, size, size))
    return np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.int64)


def load_data(
    name: str,
    data_dir: str | Path | None = None,
    *,
    val_images: int = DEFAULT_VAL_IMAGES,
    train_images: int | None = None,
    synthetic_size: int = 512,
    seed: int = 0,
) -> ImageData:
    """Training/validation split of dataset ``name``; the last ``val_images`` training images
    are held out for validation, ``train_images`` optionally keeps only the first ones."""
    if name == "cifar10":
        if data_dir is None:
            raise DataFileNotFoundError("--data-dir is required for cifar10 (a folder with cifar-10-batches-py files)")
        x, y = read_cifar10(data_dir)
    elif name == "fashion-mnist":
        if data_dir is None:
            raise DataFileNotFoundError("--data-dir is required for fashion-mnist (a folder with idx files)")
        x, y = read_fashion_mnist(data_dir)
    elif name == "synthetic":
        x, y = synthetic_images(synthetic_size, seed)
    else:
        raise DataFormatError(f"unknown dataset {name!r}; expected one of {', '.join(DATA_NAMES)}")
    if not 0 < val_images < len(x):
        raise DataFormatError(f"{name}: cannot hold out {val_images} of {len(x)} images for validation")
    tx, ty, vx, vy = x[:-val_images], y[:-val_images], x[-val_images:], y[-val_images:]
    if train_images is not None:
        tx, ty = tx[:train_images], ty[:train_images]
    flat = tx.astype(np.float64).transpose(1, 0, 2, 3).reshape(tx.shape[1], -1) / 255.0
    mean = tuple(float(v) for v in flat.mean(axis=1))
    std = tuple(float(v) for v in np.maximum(flat.std(axis=1), 1e-3))
    return ImageData(
        name, torch.from_numpy(np.ascontiguousarray(tx)), torch.from_numpy(ty), torch.from_numpy(np.ascontiguousarray(vx)),
        torch.from_numpy(vy), mean, std,
    )


def shrink(x: torch.Tensor, size: int) -> torch.Tensor:
    """Average-pool uint8 NCHW images to about ``size`` x ``size`` (an integer factor; stays uint8)."""
    factor = x.shape[-1] // size
    if factor <= 1:
        return x
    return F.avg_pool2d(x.float(), factor).round().clamp(0, 255).to(torch.uint8)


class Normalizer:
    """uint8 NCHW batch -> normalised float batch (optionally channels-last)."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...], device: torch.device, channels_last: bool = False) -> None:
        m = torch.tensor(mean, dtype=torch.float32, device=device)
        s = torch.tensor(std, dtype=torch.float32, device=device)
        self.scale = (1.0 / (255.0 * s)).view(1, -1, 1, 1)
        self.shift = (m / s).view(1, -1, 1, 1)
        self.channels_last = channels_last

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = x.float() * self.scale - self.shift
        return out.contiguous(memory_format=torch.channels_last) if self.channels_last else out


def augment(x: torch.Tensor, gen: torch.Generator, padding: int = CROP_PADDING) -> torch.Tensor:
    """Random crop with zero padding and random horizontal flip of a whole uint8 batch."""
    n, _, h, w = x.shape
    offs = torch.randint(0, 2 * padding + 1, (2, n), generator=gen).to(x.device)
    flips = (torch.rand(n, generator=gen) < 0.5).to(x.device)
    padded = F.pad(x, (padding, padding, padding, padding))
    rows = (offs[0, :, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = offs[1, :, None] + torch.arange(w, device=x.device)
    cols = torch.where(flips[:, None], cols.flip(1), cols)[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[batch, chans, rows, cols]


def train_batches(data: ImageData, batch_size: int, gen: torch.Generator, *, augment_images: bool = True,
                  padding: int = CROP_PADDING) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One shuffled epoch of (uint8 images, labels); incomplete last batch dropped when possible."""
    n = len(data.train_x)
    order = torch.randperm(n, generator=gen).to(data.train_x.device)
    n_batches = max(1, n // batch_size)
    for b in range(n_batches):
        idx = order[b * batch_size: (b + 1) * batch_size]
        x = data.train_x[idx]
        if augment_images:
            x = augment(x, gen, padding)
        yield x, data.train_y[idx]


def n_train_batches(data: ImageData, batch_size: int) -> int:
    return max(1, len(data.train_x) // batch_size)
