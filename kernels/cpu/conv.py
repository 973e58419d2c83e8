"""2-D convolution (cross-correlation, zero padding) as im2col + one BLAS matmul.

im2col/col2im are numba loops over the batch; the products go to NumPy's BLAS
(numba's own np.dot would need SciPy). Column layout: cols[n, (c, i, j), (oh, ow)].
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def im2col(x, cols, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    n_batch, channels, height, width = x.shape
    out_h = (height + 2 * pad_h - kernel_h) // stride_h + 1
    out_w = (width + 2 * pad_w - kernel_w) // stride_w + 1
    for n in prange(n_batch):
        for c in range(channels):
            for i in range(kernel_h):
                for j in range(kernel_w):
                    row = (c * kernel_h + i) * kernel_w + j
                    for oh in range(out_h):
                        h = oh * stride_h - pad_h + i
                        for ow in range(out_w):
                            w = ow * stride_w - pad_w + j
                            inside = 0 <= h < height and 0 <= w < width
                            cols[n, row, oh * out_w + ow] = x[n, c, h, w] if inside else 0.0


@njit(cache=True, parallel=True)
def col2im(cols, grad_x, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    """The adjoint of im2col: scatter-add columns back into an image (overwrites grad_x)."""
    n_batch, channels, height, width = grad_x.shape
    out_h = (height + 2 * pad_h - kernel_h) // stride_h + 1
    out_w = (width + 2 * pad_w - kernel_w) // stride_w + 1
    for n in prange(n_batch):
        grad_x[n] = 0.0
        for c in range(channels):
            for i in range(kernel_h):
                for j in range(kernel_w):
                    row = (c * kernel_h + i) * kernel_w + j
                    for oh in range(out_h):
                        h = oh * stride_h - pad_h + i
                        if h < 0 or h >= height:
                            continue
                        for ow in range(out_w):
                            w = ow * stride_w - pad_w + j
                            if 0 <= w < width:
                                grad_x[n, c, h, w] += cols[n, row, oh * out_w + ow]


def _columns(x, kernel_h, kernel_w, out_h, out_w, geometry):
    n, c = x.shape[:2]
    cols = np.empty((n, c * kernel_h * kernel_w, out_h * out_w), dtype=x.dtype)
    im2col(x, cols, kernel_h, kernel_w, *geometry)
    return cols


def conv2d_forward(x, weight, bias, out, stride_h, stride_w, pad_h, pad_w):
    n, o, out_h, out_w = out.shape
    kernel_h, kernel_w = weight.shape[2:]
    cols = _columns(x, kernel_h, kernel_w, out_h, out_w, (stride_h, stride_w, pad_h, pad_w))
    flat_out = out.reshape(n, o, out_h * out_w)
    np.matmul(weight.reshape(o, -1), cols, out=flat_out)
    if bias is not None:
        flat_out += bias[None, :, None]


def conv2d_backward_input(grad_out, weight, grad_x, stride_h, stride_w, pad_h, pad_w):
    n, o, out_h, out_w = grad_out.shape
    grad_cols = np.matmul(weight.reshape(o, -1).T, grad_out.reshape(n, o, out_h * out_w))
    col2im(grad_cols, grad_x, weight.shape[2], weight.shape[3], stride_h, stride_w, pad_h, pad_w)


def conv2d_backward_weight(x, grad_out, grad_weight, stride_h, stride_w, pad_h, pad_w):
    n, o, out_h, out_w = grad_out.shape
    kernel_h, kernel_w = grad_weight.shape[2:]
    cols = _columns(x, kernel_h, kernel_w, out_h, out_w, (stride_h, stride_w, pad_h, pad_w))
    # one GEMM over the whole batch: (O, N*L) @ (N*L, C*KH*KW)
    grad_rows = grad_out.reshape(n, o, out_h * out_w).transpose(1, 0, 2).reshape(o, -1)
    flat_cols = cols.transpose(0, 2, 1).reshape(-1, cols.shape[1])
    np.matmul(grad_rows, flat_cols, out=grad_weight.reshape(o, -1))
