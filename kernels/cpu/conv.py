"""2-D convolution (cross-correlation, zero padding) as im2col + one BLAS GEMM per pass.

The whole batch is one matrix product, not N small ones. Columns are laid out
cols[(n, oh, ow), (c, i, j)], one row per output pixel, so that each image's block is
contiguous (writing it is a local, cache-friendly job; the transposed layout strides
through every row and was 4x slower). Forward is cols @ W.T -> (N*L, O); the weight
gradient is grad_rows.T @ cols; the input gradient is col2im(grad_rows @ W). The forward's
columns are returned and kept for the weight gradient instead of being rebuilt.
im2col/col2im and the layout changes (N*L, O) <-> (N, O, L) are numba loops over the batch
(each image's block is local); the products go to NumPy's BLAS
(numba's own np.dot would need SciPy's BLAS bindings at compile time).
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
        # a zero-padded copy of the image, so that the copy loop below needs no bounds tests
        padded = np.zeros((channels, height + 2 * pad_h, width + 2 * pad_w), dtype=x.dtype)
        padded[:, pad_h:pad_h + height, pad_w:pad_w + width] = x[n]
        for oh in range(out_h):
            for ow in range(out_w):
                row = (n * out_h + oh) * out_w + ow
                column = 0
                for c in range(channels):
                    for i in range(kernel_h):
                        for j in range(kernel_w):
                            cols[row, column] = padded[c, oh * stride_h + i, ow * stride_w + j]
                            column += 1


@njit(cache=True, parallel=True)
def col2im(cols, grad_x, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    """The adjoint of im2col: scatter-add columns back into an image (overwrites grad_x)."""
    n_batch, channels, height, width = grad_x.shape
    out_h = (height + 2 * pad_h - kernel_h) // stride_h + 1
    out_w = (width + 2 * pad_w - kernel_w) // stride_w + 1
    for n in prange(n_batch):
        padded = np.zeros((channels, height + 2 * pad_h, width + 2 * pad_w), dtype=grad_x.dtype)
        for oh in range(out_h):
            for ow in range(out_w):
                row = (n * out_h + oh) * out_w + ow
                column = 0
                for c in range(channels):
                    for i in range(kernel_h):
                        for j in range(kernel_w):
                            padded[c, oh * stride_h + i, ow * stride_w + j] += cols[row, column]
                            column += 1
        grad_x[n] = padded[:, pad_h:pad_h + height, pad_w:pad_w + width]


@njit(cache=True, parallel=True)
def rows_to_images(rows, bias, out):
    """out[n, o, l] = rows[n * L + l, o] + bias[o]: the GEMM's (N*L, O) back to NCHW."""
    n_batch, channels, plane = out.shape
    for n in prange(n_batch):
        for o in range(channels):
            shift = bias[o]
            for p in range(plane):
                out[n, o, p] = rows[n * plane + p, o] + shift


@njit(cache=True, parallel=True)
def images_to_rows(images, rows):
    """rows[n * L + l, o] = images[n, o, l]: an NCHW gradient as the GEMM's (N*L, O)."""
    n_batch, channels, plane = images.shape
    for n in prange(n_batch):
        for p in range(plane):
            for o in range(channels):
                rows[n * plane + p, o] = images[n, o, p]


def conv2d_forward(x, weight, bias, out, stride_h, stride_w, pad_h, pad_w):
    """Writes out (N, O, OH, OW); returns the columns, which conv2d_backward needs."""
    n, o, out_h, out_w = out.shape
    kernel_h, kernel_w = weight.shape[2:]
    cols = np.empty((n * out_h * out_w, x.shape[1] * kernel_h * kernel_w), dtype=x.dtype)
    im2col(x, cols, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w)
    product = cols @ weight.reshape(o, -1).T
    shift = np.zeros(o, dtype=x.dtype) if bias is None else bias
    rows_to_images(product, shift, out.reshape(n, o, out_h * out_w))
    return cols


def conv2d_backward(grad_out, weight, cols, grad_x, grad_weight, stride_h, stride_w, pad_h,
                    pad_w):
    """Overwrites grad_x and grad_weight (either may be None: not needed); returns the bias
    gradient (O,)."""
    n, o, out_h, out_w = grad_out.shape
    rows = np.empty((n * out_h * out_w, o), dtype=grad_out.dtype)
    images_to_rows(grad_out.reshape(n, o, out_h * out_w), rows)
    if grad_x is not None:
        col2im(rows @ weight.reshape(o, -1), grad_x, weight.shape[2], weight.shape[3],
               stride_h, stride_w, pad_h, pad_w)
    if grad_weight is not None:
        np.matmul(rows.T, cols, out=grad_weight.reshape(o, -1))
    return rows.sum(axis=0)
