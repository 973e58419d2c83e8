"""Elementwise kernels over strided views of flat GPU buffers, up to 4-D, with broadcasting
done by zero strides: one compiled kernel per operation (the operation is a device
function fixed at compile time), one thread per output element. Also a row-sum kernel for
reductions. kernels/cuda/array.py builds NumPy-like arrays on top of these."""
from __future__ import annotations

import functools
import math

from numba import cuda

from .launch import THREADS, blocks, unravel

# name -> the scalar function each kernel applies (Python lambdas numba compiles for the GPU)
BINARY = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "divide": lambda a, b: a / b,
    "power": lambda a, b: a ** b,
    "maximum": lambda a, b: a if a >= b or a != a else b,  # NaN propagates, as np.maximum
    "minimum": lambda a, b: a if a <= b or a != a else b,
    "equal": lambda a, b: a == b,
    "not_equal": lambda a, b: a != b,
    "less": lambda a, b: a < b,
    "less_equal": lambda a, b: a <= b,
    "greater": lambda a, b: a > b,
    "greater_equal": lambda a, b: a >= b,
    "bitwise_and": lambda a, b: a & b,  # on masks (bool): logical and
    "bitwise_or": lambda a, b: a | b,
}
UNARY = {
    "copy": lambda a: a,  # also the cast: the output buffer's dtype converts
    "negative": lambda a: -a,
    "exp": lambda a: math.exp(a),
    "expm1": lambda a: math.expm1(a),
    "log1p": lambda a: math.log1p(a) if a > -1 else (-math.inf if a == -1 else math.nan),
    "log": lambda a: math.log(a) if a > 0 else (-math.inf if a == 0 else math.nan),
    "sqrt": lambda a: math.sqrt(a) if a >= 0 else math.nan,
    "tanh": lambda a: math.tanh(a),
    "absolute": lambda a: abs(a),
    "sign": lambda a: 1.0 if a > 0 else (-1.0 if a < 0 else a),  # 0 and NaN stay
}


@functools.lru_cache(maxsize=None)
def _binary_kernel(name: str):
    apply = cuda.jit(device=True)(BINARY[name])

    @cuda.jit
    def kernel(a, a_offset, a_strides, b, b_offset, b_strides, out, size1, size2, size3):
        start, step = cuda.grid(1), cuda.gridsize(1)
        for k in range(start, out.size, step):
            i0, i1, i2, i3 = unravel(k, size1, size2, size3)
            ia = a_offset + i0 * a_strides[0] + i1 * a_strides[1] + i2 * a_strides[2] \
                + i3 * a_strides[3]
            ib = b_offset + i0 * b_strides[0] + i1 * b_strides[1] + i2 * b_strides[2] \
                + i3 * b_strides[3]
            out[k] = apply(a[ia], b[ib])

    return kernel


@functools.lru_cache(maxsize=None)
def _unary_kernel(name: str):
    apply = cuda.jit(device=True)(UNARY[name])

    @cuda.jit
    def kernel(a, a_offset, a_strides, out, size1, size2, size3):
        start, step = cuda.grid(1), cuda.gridsize(1)
        for k in range(start, out.size, step):
            i0, i1, i2, i3 = unravel(k, size1, size2, size3)
            ia = a_offset + i0 * a_strides[0] + i1 * a_strides[1] + i2 * a_strides[2] \
                + i3 * a_strides[3]
            out[k] = apply(a[ia])

    return kernel


@cuda.jit
def _row_sums(rows, out):
    """out[r] = sum of rows[r, :] (a contiguous (M, R) matrix), accumulated in float64."""
    start, step = cuda.grid(1), cuda.gridsize(1)
    for r in range(start, rows.shape[0], step):
        total = 0.0
        for k in range(rows.shape[1]):
            total += rows[r, k]
        out[r] = total


def binary(name, a, a_offset, a_strides, b, b_offset, b_strides, out, shape4):
    """out (flat, contiguous, of shape4) = name(a, b) for flat buffers a, b read through
    4-D element strides (0 where broadcast) from their offsets."""
    if 0 in shape4:
        return
    _binary_kernel(name)[blocks(out.size), THREADS](a, a_offset, a_strides, b, b_offset,
                                                    b_strides, out, *shape4[1:])


def unary(name, a, a_offset, a_strides, out, shape4):
    if 0 in shape4:
        return
    _unary_kernel(name)[blocks(out.size), THREADS](a, a_offset, a_strides, out, *shape4[1:])


def row_sums(rows, out):
    _row_sums[blocks(rows.shape[0]), THREADS](rows, out)


@cuda.jit
def _row_max(rows, out, index):
    """out[r], index[r] = the max of rows[r, :] and its first position (a NaN wins, at its
    first position, as in NumPy)."""
    start, step = cuda.grid(1), cuda.gridsize(1)
    for r in range(start, rows.shape[0], step):
        best, at = rows[r, 0], 0
        for k in range(1, rows.shape[1]):
            value = rows[r, k]
            if best == best and (value > best or value != value):
                best, at = value, k
        out[r] = best
        index[r] = at


@cuda.jit
def _pick(rows, index, out):
    """out[r] = rows[r, index[r]]."""
    start, step = cuda.grid(1), cuda.gridsize(1)
    for r in range(start, rows.shape[0], step):
        out[r] = rows[r, index[r]]


@cuda.jit
def _place(values, index, rows):
    """rows[r, :] = 0 except rows[r, index[r]] = values[r]."""
    start, step = cuda.grid(1), cuda.gridsize(1)
    for r in range(start, rows.shape[0], step):
        for k in range(rows.shape[1]):
            rows[r, k] = 0
        rows[r, index[r]] = values[r]


def row_max(rows, out, index):
    _row_max[blocks(rows.shape[0]), THREADS](rows, out, index)


def pick(rows, index, out):
    _pick[blocks(rows.shape[0]), THREADS](rows, index, out)


def place(values, index, rows):
    _place[blocks(rows.shape[0]), THREADS](values, index, rows)


@cuda.jit
def _select(c, c_offset, c_strides, a, a_offset, a_strides, b, b_offset, b_strides, out,
            size1, size2, size3):
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, out.size, step):
        i0, i1, i2, i3 = unravel(k, size1, size2, size3)
        ic = c_offset + i0 * c_strides[0] + i1 * c_strides[1] + i2 * c_strides[2] \
            + i3 * c_strides[3]
        if c[ic]:
            out[k] = a[a_offset + i0 * a_strides[0] + i1 * a_strides[1] + i2 * a_strides[2]
                       + i3 * a_strides[3]]
        else:
            out[k] = b[b_offset + i0 * b_strides[0] + i1 * b_strides[1] + i2 * b_strides[2]
                       + i3 * b_strides[3]]


@cuda.jit
def _scatter_copy(a, a_offset, a_strides, out, out_offset, out_strides, size0, size1, size2,
                  size3):
    """A strided write: out[view index] = a[view index] over the view's 4-D shape."""
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, size0 * size1 * size2 * size3, step):
        i0, i1, i2, i3 = unravel(k, size1, size2, size3)
        out[out_offset + i0 * out_strides[0] + i1 * out_strides[1] + i2 * out_strides[2]
            + i3 * out_strides[3]] = a[a_offset + i0 * a_strides[0] + i1 * a_strides[1]
                                       + i2 * a_strides[2] + i3 * a_strides[3]]


def select(c, c_offset, c_strides, a, a_offset, a_strides, b, b_offset, b_strides, out,
           shape4):
    if 0 in shape4:
        return
    _select[blocks(out.size), THREADS](c, c_offset, c_strides, a, a_offset, a_strides, b,
                                       b_offset, b_strides, out, *shape4[1:])


def scatter_copy(a, a_offset, a_strides, out, out_offset, out_strides, shape4):
    count = shape4[0] * shape4[1] * shape4[2] * shape4[3]
    _scatter_copy[blocks(count), THREADS](a, a_offset, a_strides, out, out_offset, out_strides,
                                          *shape4)
