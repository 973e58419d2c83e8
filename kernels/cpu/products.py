"""Batches of small matrix products (Winograd's P products per pass) spread over the cores.

OpenBLAS runs one product on a single thread when m * n * k is under twice its threading
threshold (65536 x GEMM_MULTITHREAD_THRESHOLD 4, interface/gemm.c), and np.matmul takes a
batch one product at a time: so the 64 products of 200 x 32 x 64 in each pass of the study's
F(6x6, 3x3) layer left the second core idle. Such a batch is split into one slice per
thread, each sliced batch on its own Python thread (np.matmul releases the GIL inside BLAS):
0.5x the time on 2 cores (measured, benchmarks/README.md). Each product is still one
single-threaded BLAS call, so results are bit for bit those of np.matmul. Larger products
are left to OpenBLAS's own threads.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

OPENBLAS_SINGLE_THREAD_WORK = 2 * 65536 * 4  # m * n * k below which OpenBLAS uses 1 thread

_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def _workers(count: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size < count:  # (more threads asked for: a bigger pool)
        if _pool is not None:
            _pool.shutdown(wait=False)
        _pool, _pool_size = ThreadPoolExecutor(count, thread_name_prefix="minitorch-matmul"), count
    return _pool


def _forget_pool() -> None:  # a forked child has none of its parent's threads
    global _pool, _pool_size
    _pool, _pool_size = None, 0


os.register_at_fork(after_in_child=_forget_pool)


def batched_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.matmul(a, b) of (P, m, k) and (P, k, n) batches, on numba's thread count."""
    batch, m, k = a.shape
    slices = min(numba.get_num_threads(), batch)
    if slices < 2 or m * k * b.shape[2] >= OPENBLAS_SINGLE_THREAD_WORK:
        return np.matmul(a, b)
    out = np.empty((batch, m, b.shape[2]), dtype=np.result_type(a, b))
    bounds = [batch * i // slices for i in range(slices + 1)]
    pool = _workers(slices - 1)
    pending = [pool.submit(np.matmul, a[lo:hi], b[lo:hi], out=out[lo:hi])
               for lo, hi in zip(bounds[1:-1], bounds[2:])]
    np.matmul(a[:bounds[1]], b[:bounds[1]], out=out[:bounds[1]])
    for job in pending:
        job.result()
    return out
