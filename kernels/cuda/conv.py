"""2-D convolution on the GPU with the CPU kernels' layout and contract (kernels/cpu/conv.py):
columns cols[(n, oh, ow), (i, j, c)], forward cols @ W.T -> (N*L, O) -> NCHW + bias; the
forward returns the columns for the weight gradient. col2im gathers (one thread per input
element sums the column entries that read it), so it needs no atomics. One algorithm,
"im2col" and its GEMM: conv2d_plan makes the same plans as the CPU's (kernels/conv_plan.py),
and the fused conv + ReLU + max-pool composes the kernels."""
from __future__ import annotations

import numpy as np
from numba import cuda

from ..conv_plan import ConvPlan, Geometry
from .activation import relu_forward
from .gemm import matmul
from .launch import THREADS, blocks, unravel
from .pool import max_pool2d_backward, max_pool2d_forward


@cuda.jit
def _im2col(x, cols, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, out_h, out_w):
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    taps = cols.shape[1]
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, cols.size, step):
        row, column = k // taps, k % taps
        c, tap = column % channels, column // channels
        i, j = tap // kernel_w, tap % kernel_w
        ow, oh, n = row % out_w, (row // out_w) % out_h, row // (out_w * out_h)
        h, w = oh * stride_h - pad_h + i, ow * stride_w - pad_w + j
        inside = 0 <= h < height and 0 <= w < width
        cols[row, column] = x[n, c, h, w] if inside else 0.0


@cuda.jit
def _col2im(grad_cols, grad_x, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, out_h,
            out_w):
    channels, height, width = grad_x.shape[1], grad_x.shape[2], grad_x.shape[3]
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, grad_x.size, step):
        n, c, h, w = unravel(k, channels, height, width)
        total = 0.0
        for i in range(kernel_h):
            top = h + pad_h - i
            if top < 0 or top % stride_h != 0 or top // stride_h >= out_h:
                continue
            for j in range(kernel_w):
                left = w + pad_w - j
                if left < 0 or left % stride_w != 0 or left // stride_w >= out_w:
                    continue
                row = (n * out_h + top // stride_h) * out_w + left // stride_w
                total += grad_cols[row, (i * kernel_w + j) * channels + c]
        grad_x[n, c, h, w] = total


@cuda.jit
def _rows_to_images(rows, bias, out):
    """out[n, o, l] = rows[n * L + l, o] + bias[o]."""
    channels, plane = out.shape[1], out.shape[2]
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, out.size, step):
        p, o, n = k % plane, (k // plane) % channels, k // (plane * channels)
        out[n, o, p] = rows[n * plane + p, o] + bias[o]


@cuda.jit
def _images_to_rows(images, rows):
    channels, plane = images.shape[1], images.shape[2]
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, images.size, step):
        p, o, n = k % plane, (k // plane) % channels, k // (plane * channels)
        rows[n * plane + p, o] = images[n, o, p]


@cuda.jit
def _taps_last(weight, taps):
    """taps[o, (i, j, c)] = weight[o, c, i, j]: the column order of the columns."""
    channels, kernel_h, kernel_w = weight.shape[1], weight.shape[2], weight.shape[3]
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, weight.size, step):
        o, c, i, j = unravel(k, channels, kernel_h, kernel_w)
        taps[o, (i * kernel_w + j) * channels + c] = weight[o, c, i, j]


@cuda.jit
def _taps_first(taps, weight):
    """weight[o, c, i, j] = taps[o, (i, j, c)]: the inverse of _taps_last."""
    channels, kernel_h, kernel_w = weight.shape[1], weight.shape[2], weight.shape[3]
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, weight.size, step):
        o, c, i, j = unravel(k, channels, kernel_h, kernel_w)
        weight[o, c, i, j] = taps[o, (i * kernel_w + j) * channels + c]


@cuda.jit
def _column_sums(rows, sums):
    start, step = cuda.grid(1), cuda.gridsize(1)
    for o in range(start, rows.shape[1], step):
        total = 0.0
        for r in range(rows.shape[0]):
            total += rows[r, o]
        sums[o] = total


def _weight_taps(weight):
    taps = cuda.device_array((weight.shape[0], weight.size // weight.shape[0]), weight.dtype)
    _taps_last[blocks(weight.size), THREADS](weight, taps)
    return taps


def conv2d_plan(x_shape, weight_shape, dtype, stride, padding, pooled=False) -> ConvPlan:
    """kernels.cpu's conv2d_plan: here always im2col, never a fused forward."""
    return ConvPlan("im2col", Geometry.of(x_shape, weight_shape, stride, padding), pooled,
                    False)


def conv2d_forward(plan, x, weight, bias, out):
    n, o, out_h, out_w = out.shape
    taps = x.shape[1] * weight.shape[2] * weight.shape[3]
    cols = cuda.device_array((n * out_h * out_w, taps), x.dtype)
    _im2col[blocks(cols.size), THREADS](x, cols, *plan.geometry)
    product = matmul(cols, _weight_taps(weight).T)
    if bias is None:  # zeros broadcast from a cached constant (no upload)
        from .array import constant
        bias = constant(0, x.dtype).broadcast_to((o,)).contiguous().device_view()
    _rows_to_images[blocks(out.size), THREADS](product, bias, out.reshape(n, o, out_h * out_w))
    return cols


def conv2d_relu_pool_forward(plan, x, weight, bias, pooled):
    """kernels.cpu's fused op, composed here: the convolution's output, pooled, then ReLU;
    returns the columns and max_pool2d's argmax."""
    g = plan.geometry
    out = cuda.device_array((x.shape[0], weight.shape[0], g.out_h, g.out_w), x.dtype)
    cols = conv2d_forward(plan, x, weight, bias, out)
    argmax = cuda.device_array(pooled.shape, np.int64)
    max_pool2d_forward(out, pooled, argmax, 2, 2, 2, 2, 0, 0)
    relu_forward(pooled.reshape(pooled.size), pooled.reshape(pooled.size))
    return cols, argmax


def conv2d_relu_pool_backward(plan, grad_pooled, argmax, weight, cols, grad_x, grad_weight):
    """kernels.cpu's, composed: the pooling's gradient, then the convolution's."""
    g = plan.geometry
    grad_out = cuda.device_array((grad_pooled.shape[0], weight.shape[0], g.out_h, g.out_w),
                                 grad_pooled.dtype)
    max_pool2d_backward(grad_pooled, argmax, grad_out, 2, 2, 2, 2, 0, 0)
    return conv2d_backward(plan, grad_out, weight, cols, grad_x, grad_weight)


def conv2d_backward(plan, grad_out, weight, cols, grad_x, grad_weight):
    n, o, out_h, out_w = grad_out.shape
    rows = cuda.device_array((n * out_h * out_w, o), grad_out.dtype)
    _images_to_rows[blocks(rows.size), THREADS](grad_out.reshape(n, o, out_h * out_w), rows)
    if grad_x is not None:
        grad_cols = matmul(rows, _weight_taps(weight))
        _col2im[blocks(grad_x.size), THREADS](grad_cols, grad_x, *plan.geometry)
    if grad_weight is not None:
        taps = matmul(rows.T, cols)
        _taps_first[blocks(grad_weight.size), THREADS](taps, grad_weight)
    grad_bias = cuda.device_array(o, grad_out.dtype)
    _column_sums[blocks(o), THREADS](rows, grad_bias)
    return grad_bias
