"""Dropout's mask: element k is kept (set to `scale`) when the counter-based uniform draw
for (seed, k) is at least p, else 0. The same draw as kernels/cuda/dropout.py, so a seed
gives one mask on every device."""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..random_bits import uniform

_uniform = njit(cache=True)(uniform)


@njit(cache=True, parallel=True)
def dropout_mask(seed, p, scale, out):
    """out: a flat contiguous array, written in full; seed: a uint64."""
    for k in prange(out.size):
        out[k] = scale if _uniform(seed, np.uint64(k)) >= p else 0.0
