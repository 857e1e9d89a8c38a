"""Image readers (CIFAR-10 batches, Fashion-MNIST idx) on small files written here; augmentation."""

from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest
import torch

from nasbench_tools.errors import DataFileNotFoundError, DataFormatError
from nasbench_tools.supernet.data import (
    CIFAR10_TRAIN_FILES, augment, fashion_mnist_files, load_data, read_cifar10, read_fashion_mnist, shrink,
    train_batches,
)


def write_cifar(directory, per_file=12, seed=0):
    rng = np.random.default_rng(seed)
    d = directory / "cifar-10-batches-py"
    d.mkdir(parents=True)
    all_x, all_y = [], []
    for name in CIFAR10_TRAIN_FILES:
        x = rng.integers(0, 256, size=(per_file, 3072), dtype=np.uint8)
        y = rng.integers(0, 10, size=per_file).tolist()
        with open(d / name, "wb") as fh:
            pickle.dump({b"batch_label": b"x", b"labels": y, b"data": x, b"filenames": [b"f"] * per_file}, fh, protocol=2)
        all_x.append(x)
        all_y += y
    return d, np.concatenate(all_x).reshape(-1, 3, 32, 32), np.asarray(all_y)


def idx_bytes(arr: np.ndarray, magic: int) -> bytes:
    head = magic.to_bytes(4, "big") + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    return head + arr.astype(np.uint8).tobytes()


def write_fmnist(directory, n=20, gz=True, seed=0, prefix="train"):
    """Random Fashion-MNIST-format idx files of split ``prefix`` (train or t10k)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=n).astype(np.uint8)
    for stem, data in ((f"{prefix}-images-idx3-ubyte", idx_bytes(x, 2051)), (f"{prefix}-labels-idx1-ubyte", idx_bytes(y, 2049))):
        if gz:
            (directory / (stem + ".gz")).write_bytes(gzip.compress(data))
        else:
            (directory / stem).write_bytes(data)
    return x, y


def test_cifar10_reader_and_validation_holdout(tmp_path):
    _, x, y = write_cifar(tmp_path)
    rx, ry = read_cifar10(tmp_path)
    np.testing.assert_array_equal(rx, x)
    np.testing.assert_array_equal(ry, y)
    data = load_data("cifar10", tmp_path, val_images=10)
    assert len(data.train_x) == 50 and len(data.val_x) == 10
    np.testing.assert_array_equal(data.val_x.numpy(), x[-10:])
    assert data.in_channels == 3 and len(data.mean) == 3


def test_cifar10_errors_name_file_and_format(tmp_path):
    d, _, _ = write_cifar(tmp_path)
    (d / "data_batch_3").unlink()
    with pytest.raises(DataFileNotFoundError, match="data_batch_3.*b'data'"):
        read_cifar10(tmp_path)
    (d / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(DataFormatError, match="data_batch_3: not a CIFAR-10 batch"):
        read_cifar10(tmp_path)
    with open(d / "data_batch_3", "wb") as fh:
        pickle.dump({b"data": np.zeros((4, 100), np.uint8), b"labels": [0] * 4}, fh)
    with pytest.raises(DataFormatError, match=r"shape \(4, 100\)"):
        read_cifar10(tmp_path)
    with open(d / "data_batch_3", "wb") as fh:
        pickle.dump({b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 2, 11]}, fh)
    with pytest.raises(DataFormatError, match="ints in 0..9"):
        read_cifar10(tmp_path)
    with open(d / "data_batch_3", "wb") as fh:
        pickle.dump(print, fh)  # a global that must never be loaded
    with pytest.raises(DataFormatError, match="not allowed"):
        read_cifar10(tmp_path)


@pytest.mark.parametrize("gz", [True, False])
def test_fashion_mnist_reader(tmp_path, gz):
    x, y = write_fmnist(tmp_path, gz=gz)
    rx, ry = read_fashion_mnist(tmp_path)
    assert rx.shape == (20, 1, 32, 32)
    np.testing.assert_array_equal(rx[:, 0, 2:30, 2:30], x)
    assert rx[:, :, :2].sum() == 0
    np.testing.assert_array_equal(ry, y)
    data = load_data("fashion-mnist", tmp_path, val_images=5, train_images=8)
    assert len(data.train_x) == 8 and len(data.val_x) == 5 and data.in_channels == 1


def test_fashion_mnist_errors(tmp_path):
    with pytest.raises(DataFileNotFoundError, match="train-images-idx3-ubyte"):
        read_fashion_mnist(tmp_path)
    write_fmnist(tmp_path, gz=False)
    raw = (tmp_path / "train-images-idx3-ubyte").read_bytes()
    (tmp_path / "train-images-idx3-ubyte").write_bytes(raw[:-7])
    with pytest.raises(DataFormatError, match="train-images-idx3-ubyte: .*data bytes"):
        read_fashion_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes((1234).to_bytes(4, "big") + raw[4:])
    with pytest.raises(DataFormatError, match="magic number 1234.*2051"):
        read_fashion_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").unlink()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"garbage")
    with pytest.raises(DataFormatError, match="gzip"):
        read_fashion_mnist(tmp_path)


def test_fashion_mnist_files_are_the_files_read(tmp_path):
    write_fmnist(tmp_path, gz=True)
    write_fmnist(tmp_path, n=8, gz=False, prefix="t10k")
    names = [p.name for p in fashion_mnist_files(tmp_path)]
    assert names == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte",
                     "t10k-labels-idx1-ubyte"]
    assert len(read_fashion_mnist(tmp_path, "test")[0]) == 8
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataFileNotFoundError, match="t10k-labels-idx1-ubyte"):
        fashion_mnist_files(tmp_path)
    with pytest.raises(DataFormatError, match="split"):
        fashion_mnist_files(tmp_path, ("valid",))


def test_shrink_average_pools_uint8_images():
    x = torch.arange(2 * 16, dtype=torch.uint8).reshape(2, 1, 4, 4)
    small = shrink(x, 2)
    assert small.dtype == torch.uint8 and small.shape == (2, 1, 2, 2)
    assert int(small[0, 0, 0, 0]) == round((0 + 1 + 4 + 5) / 4)
    assert shrink(x, 4) is x


def test_unknown_dataset_and_holdout_errors(tmp_path):
    with pytest.raises(DataFormatError, match="unknown dataset 'mnist'"):
        load_data("mnist")
    with pytest.raises(DataFormatError, match="hold out 600"):
        load_data("synthetic", synthetic_size=500, val_images=600)


def test_augmentation_is_a_crop_of_the_padded_image_and_seeded():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.int64).reshape(2, 3, 8, 8).to(torch.uint8)
    a = augment(x, torch.Generator().manual_seed(5), padding=2)
    b = augment(x, torch.Generator().manual_seed(5), padding=2)
    assert torch.equal(a, b) and a.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(2):
        found = any(
            torch.equal(a[i], padded[i, :, r:r + 8, c:c + 8]) or torch.equal(a[i], padded[i, :, r:r + 8, c:c + 8].flip(2))
            for r in range(5) for c in range(5)
        )
        assert found


def test_train_batches_cover_each_image_once_per_epoch():
    data = load_data("synthetic", synthetic_size=100, val_images=20)
    seen = torch.cat([y for _, y in train_batches(data, 16, torch.Generator().manual_seed(0), augment_images=False)])
    assert len(seen) == 80 and sorted(seen.tolist()) == sorted(data.train_y.tolist())
