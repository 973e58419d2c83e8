"""C = A @ B on the GPU for 2-D device arrays of any strides (so A.T and B.T are free views):
16x16 tiles staged through shared memory, one thread per element of C."""
from __future__ import annotations

import functools

import numpy as np
from numba import cuda, from_dtype

TILE = 16


@functools.lru_cache(maxsize=None)
def _kernel(dtype: np.dtype):
    """One compiled kernel per element type: shared arrays need theirs at compile time."""
    element = from_dtype(dtype)

    @cuda.jit
    def gemm(a, b, c):
        rows, inner = a.shape
        cols = b.shape[1]
        tile_a = cuda.shared.array((TILE, TILE), element)
        tile_b = cuda.shared.array((TILE, TILE), element)
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        row = cuda.blockIdx.y * TILE + ty
        col = cuda.blockIdx.x * TILE + tx
        total = element(0)
        for base in range(0, inner, TILE):
            tile_a[ty, tx] = a[row, base + tx] if row < rows and base + tx < inner else 0
            tile_b[ty, tx] = b[base + ty, col] if base + ty < inner and col < cols else 0
            cuda.syncthreads()
            for k in range(TILE):
                total += tile_a[ty, k] * tile_b[k, tx]
            cuda.syncthreads()
        if row < rows and col < cols:
            c[row, col] = total

    return gemm


def matmul(a, b, out=None):
    """a (M, K) @ b (K, N) -> out (M, N), a new device array unless `out` is given."""
    rows, inner = a.shape
    if b.shape[0] != inner:
        raise ValueError(f"matmul: inner sizes differ: {a.shape} @ {b.shape}")
    if out is None:
        out = cuda.device_array((rows, b.shape[1]), dtype=a.dtype)
    grid = ((b.shape[1] + TILE - 1) // TILE, (rows + TILE - 1) // TILE)
    _kernel(np.dtype(a.dtype))[grid, (TILE, TILE)](a, b, out)
    return out
