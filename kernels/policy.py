"""Every speed choice of the CPU kernels, in one place: the current `Policy`, read by the
kernels' Python code at each call and handed to the compiled kernels as arguments.

    get()                the current Policy (a frozen dataclass)
    using(**changes)     a block run with some settings changed, restored on exit
    update(**changes)    change settings for the rest of the process; returns the old Policy

A setting is process-wide (like torch.backends' flags), not per thread. An unknown name is
a TypeError, a value outside a setting's range a ValueError. The settings change how fast
the kernels run and how their float results round (the order of sums; Winograd's
transforms), never what they compute.

Fixed, not in the Policy:
- Compile-time: the fastmath flags `SUMS` (kernels/cpu/batchnorm.py, conv_images.py:
  {"reassoc"}, sums kept in vector lanes). They live in the decorators of the kernels they
  compile, so that an edit there recompiles those kernels: numba's on-disk cache is keyed
  by the kernel's own file, not by the globals it reads from elsewhere.
- CUDA launch sizes, which depend on whether numba's CUDA simulator runs the kernels:
  kernels/cuda/launch.py THREADS (8 simulated, else 128 per block) and MAX_BLOCKS (4, else
  4096); kernels/cuda/gemm.py TILE (4, else 16) and TILED_FROM (4 * TILE);
  kernels/cuda/batchnorm.py THREADS (8, else 128 per channel, a power of two).
- At process start, from the environment: how long idle threads spin
  (minitorch_pairs/threads.py: GOMP_SPINCOUNT, OPENBLAS_THREAD_TIMEOUT) and glibc malloc's
  thresholds (minitorch_pairs/memory.py).
- Not a setting: BLAS runs one thread per call inside the kernels that call it from numba's
  threads, and keeps its own thread count outside them (kernels/cpu/blas_threads.py).
"""
from __future__ import annotations

import contextlib
import dataclasses
import numbers
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    """The CPU kernels' settings (defaults tuned on 2 cores at the study's shapes)."""

    # products.py: a 2-D product of fewer multiply-adds (m * n * k) runs whole on the calling
    # thread; below this, cutting it costs more than the threads save
    split_work: int = 1 << 16
    # parallel.py: flat loops (ReLU, optimizer updates) of fewer elements run on the calling
    # thread; waking the threads costs more than such a loop
    parallel_from: int = 1 << 15
    # conv.py: 3x3 stride-1 convolutions with at least this many input and output channels
    # run by Winograd; below it its transforms cost more than the products they save
    winograd_channels: int = 16
    # conv_winograd.py: the fused conv + ReLU + 2x2 max-pool's tile side, 4 or 6; None takes
    # the one with fewer transformed values (6x6 rounds more than 4x4)
    winograd_pooled_tile: int | None = None
    # conv_winograd.py: parts the batch is cut into (the parallel jobs, summed in a fixed
    # order); a few per thread balance 2 or 4 threads
    winograd_chunks: int = 4
    # conv_winograd.py: tiles per block, so a block's transforms and products stay in cache
    # and BLAS's small products run at their fastest
    winograd_block_rows: int = 48
    # conv_winograd.py: fewest tiles per part; smaller parts multiply the BLAS calls
    winograd_part_tiles: int = 16
    # conv_winograd.py: parallel jobs of the filter gradient, a few per thread
    winograd_filter_slices: int = 8
    # conv_images.py: per-image products with at most this many taps (C * KH * KW) are made
    # pixel by pixel: the fused 2x2 pool then runs along the channels in vector lanes (the
    # study's first layer), and the plain forward pays a transposed copy into NCHW, which
    # outweighs the pool's gain where such layers are not fused (the baseline's 32 taps)
    image_pixel_taps: int = 16
    # conv_images.py: parts the per-image weight gradient sums the batch in (a fixed order,
    # so its values do not depend on the thread count); a few per thread
    image_chunks: int = 8
    # conv.py: "fast" lets 3x3 layers take Winograd (float32 errors well above torch's,
    # benchmarks/README.md); "highest" keeps every convolution on exact products (im2col,
    # per image), within torch's error
    conv_precision: str = "fast"
    # ops/fusion.py: conv2d, relu and a 2x2 max_pool2d run as one op however they are
    # written (the deferred convolution); False runs each op at its call
    fuse_conv_relu_pool: bool = True


_LEAST = {"split_work": 0, "parallel_from": 0, "winograd_channels": 0,
          "image_pixel_taps": 0}  # counts: at least 1
_CHOICES = {"winograd_pooled_tile": (None, 4, 6), "conv_precision": ("fast", "highest"),
            "fuse_conv_relu_pool": (True, False)}
_NAMES = tuple(field.name for field in dataclasses.fields(Policy))

_current = Policy()


def get() -> Policy:
    """The current settings."""
    return _current


def _checked(changes: dict) -> dict:
    checked = {}
    for name, value in changes.items():
        if name not in _NAMES:
            raise TypeError(f"unknown setting {name!r}; the settings are {', '.join(_NAMES)}")
        whole = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        if name in _CHOICES:
            # True == 1 and 4.0 == 4, but neither is a tile side
            value = int(value) if whole else value
            if not any(type(value) is type(choice) and value == choice
                       for choice in _CHOICES[name]):
                raise ValueError(f"{name} must be one of {_CHOICES[name]}, got {value!r}")
            checked[name] = value
            continue
        if not whole or value < _LEAST.get(name, 1):
            raise ValueError(f"{name} must be an int >= {_LEAST.get(name, 1)}, got {value!r}")
        checked[name] = int(value)
    return checked


def update(**changes) -> Policy:
    """Change settings for the rest of the process; returns the settings before."""
    global _current
    before = _current
    _current = dataclasses.replace(_current, **_checked(changes))
    return before


@contextlib.contextmanager
def using(**changes):
    """with using(winograd_pooled_tile=4): ...  runs the block with those settings, and puts
    back the settings from before on exit, also on an exception."""
    global _current
    before = update(**changes)
    try:
        yield _current
    finally:
        _current = before


@contextlib.contextmanager
def restored(settings: Policy):
    """with restored(settings): ...  runs the block with a Policy taken earlier by get() (an
    op deferred at its call runs later with the settings of its call)."""
    global _current
    before, _current = _current, settings
    try:
        yield settings
    finally:
        _current = before
