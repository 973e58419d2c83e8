"""Dropout's mask on the GPU: the same counter-based draw as kernels/cpu/dropout.py (one hash
per element, no generator state), so a seed gives the CPU's mask, without a host sync."""
from __future__ import annotations

import warnings

import numpy as np
from numba import config, cuda

from ..random_bits import uniform
from .launch import THREADS, blocks

_uniform = cuda.jit(device=True)(uniform)


@cuda.jit
def _dropout_mask(seed, p, scale, out):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, out.size, stride):
        out[k] = scale if _uniform(seed, np.uint64(k)) >= p else 0.0


def dropout_mask(seed, p, scale, out):
    with warnings.catch_warnings():
        if config.ENABLE_CUDASIM:  # the simulator hashes with NumPy scalars, which warn on
            # the modulo-2**64 wrap-around the hash relies on (compiled code wraps silently)
            warnings.filterwarnings("ignore", message=r".*overflow encountered in scalar",
                                    category=RuntimeWarning)
        _dropout_mask[blocks(out.size), THREADS](seed, p, scale, out)
