"""Data augmentation of training pairs, seeded: small shifts and rotations of each digit
(which keep it the same digit), swapping the two images of a pair, and re-pairing (new pairs
drawn from the training pairs' own images), each with the target and classes recomputed. Plain NumPy on (N, 2, 14, 14) arrays; a new PairSet each call, so an
epoch can see fresh variants while the original pairs stay as they were."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minitorch_pairs.data import PairSet


@dataclass(frozen=True)
class Augmentation:
    shift: int = 0  # each image moves by up to this many pixels in x and in y
    rotate: float = 0.0  # ... and turns by up to this many degrees either way
    swap: bool = False  # each pair is swapped with probability 1/2
    # the training pairs' 2N images are shuffled and paired anew (classes travel with their
    # image): no image from outside the training pairs, but the comparison sees new pairs
    repair: bool = False

    def __post_init__(self):
        if not isinstance(self.shift, int) or not 0 <= self.shift <= 4:
            raise ValueError(f"augmentation: expected shift in 0..4 pixels, got {self.shift!r}")
        if not 0 <= self.rotate <= 45:
            raise ValueError(f"augmentation: expected rotate in [0, 45] degrees, got "
                             f"{self.rotate!r}")

    @property
    def active(self) -> bool:
        return bool(self.shift or self.rotate or self.swap or self.repair)

    def __call__(self, pairs: PairSet, rng: np.random.Generator) -> PairSet:
        images, classes = pairs.input, pairs.classes
        if self.repair:
            order = rng.permutation(2 * len(pairs))
            images = images.reshape(-1, *images.shape[2:])[order].reshape(images.shape)
            classes = classes.reshape(-1)[order].reshape(classes.shape)
        if self.rotate:
            angles = np.radians(rng.uniform(-self.rotate, self.rotate, images.shape[:2]))
            images = rotate(images, angles)
        if self.shift:
            images = shift(images, rng.integers(-self.shift, self.shift + 1,
                                                images.shape[:2] + (2,)))
        if self.swap:
            swapped = rng.random(len(pairs)) < 0.5
            images = np.where(swapped[:, None, None, None], images[:, ::-1], images)
            classes = np.where(swapped[:, None], classes[:, ::-1], classes)
        target = (classes[:, 0] <= classes[:, 1]).astype(np.int64)
        return PairSet(np.ascontiguousarray(images, dtype=pairs.input.dtype), target,
                       np.ascontiguousarray(classes))


def _background(images: np.ndarray) -> np.ndarray:
    """Each image's background value (its minimum: MNIST's blank 0 after any affine
    normalisation), shaped to broadcast over its pixels."""
    return images.min(axis=(-2, -1), keepdims=True)


def shift(images: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Each image (..., H, W) moved by offsets (..., 2) = (dy, dx) whole pixels; uncovered
    pixels take the image's background value."""
    h, w = images.shape[-2:]
    rows = np.arange(h) - offsets[..., 0, None]  # source row of each target row
    cols = np.arange(w) - offsets[..., 1, None]
    inside = ((rows >= 0) & (rows < h))[..., :, None] & ((cols >= 0) & (cols < w))[..., None, :]
    lead = np.indices(images.shape[:-2]).reshape(images.ndim - 2, *images.shape[:-2], 1, 1)
    picked = images[(*lead, np.clip(rows, 0, h - 1)[..., :, None],
                     np.clip(cols, 0, w - 1)[..., None, :])]
    return np.where(inside, picked, _background(images))


def rotate(images: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Each image (..., H, W) turned by its angle (radians, counter-clockwise as displayed,
    the way np.rot90 turns) about its centre, by bilinear interpolation; pixels from outside take the background value."""
    h, w = images.shape[-2:]
    cy, cx = (h - 1) / 2, (w - 1) / 2
    y, x = np.meshgrid(np.arange(h) - cy, np.arange(w) - cx, indexing="ij")
    cos, sin = np.cos(angles)[..., None, None], np.sin(angles)[..., None, None]
    # inverse map: the source point that lands on each target pixel (as np.rot90 for +90°)
    src_y, src_x = cos * y + sin * x + cy, -sin * y + cos * x + cx
    y0, x0 = np.floor(src_y).astype(np.int64), np.floor(src_x).astype(np.int64)
    fy, fx = src_y - y0, src_x - x0
    background = _background(images)
    lead = np.indices(images.shape[:-2]).reshape(images.ndim - 2, *images.shape[:-2], 1, 1)

    def at(yy, xx):
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        values = images[(*lead, np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1))]
        return np.where(inside, values, background)

    return ((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1))
            + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1)))

