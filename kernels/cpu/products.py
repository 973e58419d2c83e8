"""Matrix products cut over numba's threads, each piece one single-threaded BLAS call.

BLAS runs one thread per call inside these entry points and the convolutions' (blas_threads):
the products are cut over numba's threads instead, and each piece is a BLAS call (np.dot in
nopython mode, which numba routes to SciPy's BLAS) made from numba's own threads. So the
kernels before and after a product run on the same pool, whose threads are still awake
(spinning, threads.py) when it starts, and no second pool waits for the cores: waking a
sleeping thread, or starting a Python thread per slice, costs more than a small product,
and BLAS's own threads beside numba's spinning ones fight them for the cores
(benchmarks/README.md has the timings). A 2-D product is cut into slices of output rows
(or, with a transposed left operand, two halves of its reduction), whose rounding may
depend on the thread count (BLAS picks its kernels by the size of each piece, as
OpenBLAS's own threading did); two products a backward needs side by side run at once, one
per thread (matmul_pair). (Winograd's batches of small products are made inside its own
kernels, block by block.)

(Should BLAS run several threads per call all the same, the pieces would each start BLAS's
threads at once: then products go to np.matmul whole.)
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from .. import policy
from . import blas_threads

# numba's np.dot passes a Fortran-ordered (transposed) 2-D operand to BLAS as a transposed
# operand, without a copy (numba compiles a kernel per operand layout). The thread count
# comes in as `slices` (numba.get_num_threads() inside a kernel would keep it out of the
# cache).


@njit(cache=True, parallel=True)
def _row_slices(a, b, shift, out, slices):
    """out = a @ b, plus shift (a row; none where it has no elements) added by each thread
    to its rows while they are in cache."""
    for s in prange(slices):
        rows = slice(len(a) * s // slices, len(a) * (s + 1) // slices)
        np.dot(a[rows], b, out[rows])
        if shift.size:
            block = out[rows]
            for i in range(block.shape[0]):
                for j in range(block.shape[1]):
                    block[i, j] += shift[j]


@njit(cache=True, parallel=True)
def _reduction_halves(a_t, b, partial):
    """partial[h] = a_t[K_h].T @ b[K_h] over the two halves K_h of the reduction."""
    for h in prange(2):
        rows = slice(len(b) * h // 2, len(b) * (h + 1) // 2)
        np.dot(a_t[rows].T, b[rows], partial[h])


@njit(cache=True, parallel=True)
def _two_products(a, b, ab, c, d, cd, sums):
    """ab = a @ b and cd = c @ d on two threads; the first also sums a's columns into sums
    (where it has elements: a linear layer's bias gradient)."""
    for job in prange(2):
        if job == 0:
            np.dot(a, b, ab)
            if sums.size:
                sums[:] = 0
                for i in range(a.shape[0]):
                    row = a[i]
                    for j in range(sums.size):
                        sums[j] += row[j]
        else:
            np.dot(c, d, cd)


def blas_per_thread(dtype) -> bool:
    """Whether kernels may call BLAS (np.dot) from each of numba's threads for this dtype."""
    return np.dtype(dtype) in (np.float32, np.float64) and blas_threads.blas_single_threaded()


def _slices(count: int) -> int:
    return max(1, min(numba.get_num_threads(), count))


def _splittable(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and blas_per_thread(a.dtype)


def _blas_operand(array: np.ndarray) -> np.ndarray:
    """array as C- or Fortran-ordered (a transposed view stays one: BLAS reads it so)."""
    if array.flags.c_contiguous or array.flags.f_contiguous:
        return array
    return np.ascontiguousarray(array)


@blas_threads.single_threaded_blas
def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.matmul(a, b); a 2-D float product of at least split_work multiply-adds (policy.py)
    is cut over numba's threads: into slices of output rows (b may be a transposed view),
    or, where a is a transposed view, into two halves of the reduction."""
    return _shifted_product(a, b, None)


@blas_threads.single_threaded_blas
def linear_forward(x: np.ndarray, weight: np.ndarray, bias) -> np.ndarray:
    """x @ weight.T + bias (bias may be None) for 2-D x: matmul's product, each thread adding
    the bias to its rows while they are in cache (a separate pass reads the output again)."""
    return _shifted_product(x, weight.T, bias)


def _shifted_product(a, b, shift):
    """a @ b + shift (a row, or None)."""
    # the cheap tests first: most of a step's products are small, and the tests add up
    split_work = policy.get().split_work
    if (a.ndim != 2 or b.ndim != 2 or a.shape[0] * a.shape[1] * b.shape[1] < split_work
            or not _splittable(a, b) or numba.get_num_threads() == 1):
        out = np.matmul(a, b)
    elif not a.flags.c_contiguous:
        out = _transposed_times(a, b)
    else:
        out = np.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
        fused = shift is not None and shift.dtype == a.dtype and shift.ndim == 1
        _row_slices(a, _blas_operand(b), shift if fused else np.empty(0, a.dtype), out,
                    _slices(len(a)))
        if fused or shift is None:
            return out
    if shift is not None:
        out += shift
    return out


def _transposed_times(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for a transposed view a (a weight gradient: activations^T @ gradients), as two
    halves of the reduction on two threads, then added: a transposed view's rows are
    strided, and copying them to cut the rows costs more than the product. Two halves at
    any thread count above one, so that the sums do not depend on how many."""
    if not a.T.flags.c_contiguous or not b.flags.c_contiguous or len(b) < 2:
        return np.matmul(a, b)
    partial = np.empty((2, a.shape[0], b.shape[1]), dtype=a.dtype)
    _reduction_halves(a.T, b, partial)
    return np.add(partial[0], partial[1], out=partial[0])


@blas_threads.single_threaded_blas
def matmul_pair(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> tuple:
    """(matmul(a, b), matmul(c, d)). Two 2-D float products of similar size, each of at
    least split_work multiply-adds (a backward pass's input and weight gradients), run at
    once, each whole on its own numba thread: neither is cut, and a transposed operand is
    read in place (cutting a transposed left operand by rows did not pay)."""
    return _pair(a, b, c, d, False)[:2]


@blas_threads.single_threaded_blas
def linear_backward(grad: np.ndarray, x: np.ndarray, weight: np.ndarray, needs: tuple) -> tuple:
    """The gradients of x @ weight.T + bias that `needs` (x, weight, bias) asks for, None for
    the others: grad @ weight, grad.T @ x and grad's column sums, the sums taken by the
    thread of the first product (where both products run at once: a separate pass would
    read grad again)."""
    need_x, need_weight = needs[0], needs[1]
    need_bias = len(needs) == 3 and needs[2]
    if need_x and need_weight:
        grad_x, grad_weight, grad_bias = _pair(grad, weight, grad.T, x, need_bias)
    else:
        grad_x = matmul(grad, weight) if need_x else None
        grad_weight = matmul(grad.T, x) if need_weight else None
        grad_bias = None
    if need_bias and grad_bias is None:
        grad_bias = grad.sum(axis=0)
    return grad_x, grad_weight, grad_bias


def _pair(a, b, c, d, column_sums: bool) -> tuple:
    """(a @ b, c @ d, a's column sums), the sums None unless asked for and the products run
    at once."""
    works = [x.shape[0] * x.shape[1] * y.shape[1] if x.ndim == y.ndim == 2 else 0
             for x, y in ((a, b), (c, d))]
    if (min(works) < policy.get().split_work or max(works) > 2 * min(works)
            or numba.get_num_threads() == 1
            or not _splittable(a, b) or not _splittable(c, d) or a.dtype != c.dtype):
        return matmul(a, b), matmul(c, d), None
    ab = np.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
    cd = np.empty((c.shape[0], d.shape[1]), dtype=a.dtype)
    sums = np.empty(a.shape[1] if column_sums else 0, dtype=a.dtype)
    _two_products(*map(_blas_operand, (a, b)), ab, *map(_blas_operand, (c, d)), cd, sums)
    return ab, cd, sums if column_sums else None
