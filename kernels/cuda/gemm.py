"""C = A @ B on the GPU for 2-D device arrays of any strides (so A.T and B.T are free views),
one thread per element of C: 16x16 tiles (4x4 in the simulator) staged through shared
memory when every side is at least TILED_FROM; below that a plain dot product per thread,
for the small and skinny products a tile would mostly leave idle (a layer with 10 outputs,
a convolution with 9 taps), which also spares the simulator the tiles' barriers."""
from __future__ import annotations

import functools

import numpy as np
from numba import cuda, from_dtype

from .launch import SIMULATED, THREADS, blocks

TILE = 4 if SIMULATED else 16
TILED_FROM = 4 * TILE


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


@cuda.jit
def _dot_per_element(a, b, c):
    rows, inner = a.shape
    cols = b.shape[1]
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, rows * cols, step):
        row, col = k // cols, k % cols
        total = 0.0  # float64, stored in C's type
        for i in range(inner):
            total += a[row, i] * b[i, col]
        c[row, col] = total


def matmul(a, b, out=None):
    """a (M, K) @ b (K, N) -> out (M, N), a new device array unless `out` is given."""
    rows, inner = a.shape
    if b.shape[0] != inner:
        raise ValueError(f"matmul: inner sizes differ: {a.shape} @ {b.shape}")
    if out is None:
        out = cuda.device_array((rows, b.shape[1]), dtype=a.dtype)
    if min(rows, inner, b.shape[1]) < TILED_FROM:
        if rows * b.shape[1]:
            _dot_per_element[blocks(rows * b.shape[1]), THREADS](a, b, out)
        return out
    grid = ((b.shape[1] + TILE - 1) // TILE, (rows + TILE - 1) // TILE)
    _kernel(np.dtype(a.dtype))[grid, (TILE, TILE)](a, b, out)
    return out
