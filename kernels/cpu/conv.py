"""2-D convolution (cross-correlation, zero padding) as im2col + one BLAS GEMM per pass.

The whole batch is one matrix product, not N small ones. Columns are laid out
cols[(n, oh, ow), (i, j, c)]: one row per output pixel, and within a row the channels
innermost, so that im2col copies runs of C contiguous floats from a zero-padded
channels-last (NHWC) copy of the input (the (c, i, j) order copied one float at a time with
run-time loop bounds, which is slower). Forward is cols @ W.T -> (N*L, O), with the weight
reordered to (O, KH, KW, C); the weight gradient is grad_rows.T @ cols; the input gradient
is col2im(grad_rows @ W). The forward's columns are returned and kept for the weight
gradient instead of being rebuilt. im2col/col2im and the layout changes (N*L, O) <->
(N, O, L) are numba loops over the batch (each image's block is local); the products are
BLAS calls cut over numba's threads (products.matmul).

conv2d_plan picks each convolution's algorithm (kernels/conv_plan.py) once per forward call,
and the backward follows the plan. Where an output plane has at least as many pixels as the
weight has taps (C * KH * KW: the study's first layer, the baseline's 2->64 layer) a product
per image wins instead ("images", `conv_images`): each image's columns are built in cache and
its product written straight into NCHW. 3x3 stride-1 convolutions with at least
winograd_channels (kernels/policy.py) input and output channels take "winograd"
(`conv_winograd`: 3.1x fewer multiplications; float32 results a few times less exact, see
there), unless conv_precision is "highest". conv2d_relu_pool_forward/backward are the fused
Conv2d, ReLU, MaxPool2d(2) op: fused forward kernels on the per-image and Winograd plans, a
fused backward on Winograd's and (for the weight gradient alone) the per-image one's, the
composed kernels elsewhere. The fused Winograd path computes only the outputs the pool reads,
with F(6x6, 3x3) tiles where they are cheaper (the study's 32->64 layer): its float32 results
then differ from the composed ops' F(4x4, 3x3) by rounding, where the other paths match them
bit for bit.
"""
from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

from .. import policy
from ..conv_plan import ConvPlan, Geometry
from .activation import relu_forward
from .conv_images import (NOT_POOLED, image_forward, image_forward_relu_pool,
                          image_input_grad, image_weight_grad)
from .conv_winograd import (pooled_tile, winograd_backward, winograd_backward_relu_pool,
                            winograd_forward, winograd_forward_relu_pool)
from .pool import max_pool2d_backward, max_pool2d_forward
from . import blas_threads
from .products import matmul, matmul_pair


def conv2d_plan(x_shape, weight_shape, dtype, stride, padding, pooled=False) -> ConvPlan:
    """How conv2d_forward (pooled: conv2d_relu_pool_forward) runs an (N, C, H, W) input by an
    (O, C, KH, KW) weight, from the shapes and the current policy. "winograd" from
    winograd_channels input and output channels on, where its transforms cost less than the
    products they save. "images" where an output plane has at least as many pixels as the
    weight has taps: below that each image's product is too thin to pay for its call (float32
    and float64: BLAS's types; the kernels hold BLAS to one thread per call, so numba's
    threads may each call it). Else "im2col"."""
    return _plan(tuple(x_shape), tuple(weight_shape), np.dtype(dtype), tuple(stride),
                 tuple(padding), pooled, policy.get())


_BLAS_TYPES = (np.dtype(np.float32), np.dtype(np.float64))


@functools.lru_cache(maxsize=256)  # a model plans the same few layers at every step
def _plan(x_shape, weight_shape, dtype, stride, padding, pooled, settings) -> ConvPlan:
    g = Geometry.of(x_shape, weight_shape, stride, padding)
    if settings.conv_precision == "fast" and g[:4] == (3, 3, 1, 1) and \
            min(weight_shape[:2]) >= settings.winograd_channels:
        tile = pooled_tile(g.out_h // 2, g.out_w // 2, settings) if pooled else 4
        return ConvPlan("winograd", g, pooled, pooled, tile)
    taps = int(np.prod(weight_shape[1:]))
    if g.out_h * g.out_w >= taps and dtype in _BLAS_TYPES:
        return ConvPlan("images", g, pooled, pooled, pixels=taps <= settings.image_pixel_taps)
    return ConvPlan("im2col", g, pooled, False)


def _rows_transposed(weight):
    """weight as (O, C*KH*KW) rows, stored transposed: BLAS's small products run faster with
    it so on the study's first layer and the baseline's."""
    return np.ascontiguousarray(weight.reshape(len(weight), -1).T).T


def _image_columns(plan, x, weight):
    """The per-image path's columns (N, C*KH*KW, OH*OW), kept for the backward."""
    g = plan.geometry
    taps = int(np.prod(weight.shape[1:]))
    return np.empty((len(x), taps, g.out_h * g.out_w), dtype=x.dtype)


@njit(cache=True, parallel=True)
def im2col(x, cols, geometry):
    """cols[(n, oh, ow), (i, j, c)] = the input under tap (i, j) of output pixel (oh, ow),
    zero in the padding; geometry = (KH, KW, stride_h, stride_w, pad_h, pad_w, OH, OW)."""
    kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, out_h, out_w = geometry
    n_batch, channels, height, width = x.shape
    for n in prange(n_batch):
        # zero-padded and channels-last, so that each (i, j) tap is one contiguous run of C
        padded = np.zeros((height + 2 * pad_h, width + 2 * pad_w, channels), dtype=x.dtype)
        for c in range(channels):
            for h in range(height):
                for w in range(width):
                    padded[pad_h + h, pad_w + w, c] = x[n, c, h, w]
        for oh in range(out_h):
            for ow in range(out_w):
                row = (n * out_h + oh) * out_w + ow
                for i in range(kernel_h):
                    for j in range(kernel_w):
                        start = (i * kernel_w + j) * channels
                        h, w = oh * stride_h + i, ow * stride_w + j
                        for c in range(channels):
                            cols[row, start + c] = padded[h, w, c]


@njit(cache=True, parallel=True)
def col2im(cols, grad_x, geometry):
    """The adjoint of im2col: scatter-add columns back into an image (overwrites grad_x)."""
    kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, out_h, out_w = geometry
    n_batch, channels, height, width = grad_x.shape
    for n in prange(n_batch):
        padded = np.zeros((height + 2 * pad_h, width + 2 * pad_w, channels), dtype=grad_x.dtype)
        for oh in range(out_h):
            for ow in range(out_w):
                row = (n * out_h + oh) * out_w + ow
                for i in range(kernel_h):
                    for j in range(kernel_w):
                        start = (i * kernel_w + j) * channels
                        h, w = oh * stride_h + i, ow * stride_w + j
                        for c in range(channels):
                            padded[h, w, c] += cols[row, start + c]
        for c in range(channels):
            for h in range(height):
                for w in range(width):
                    grad_x[n, c, h, w] = padded[pad_h + h, pad_w + w, c]


def _taps_last(weight):
    """(O, C, KH, KW) -> (O, KH*KW*C), the column order of im2col."""
    return np.ascontiguousarray(weight.transpose(0, 2, 3, 1)).reshape(weight.shape[0], -1)


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
def images_to_rows(images, rows, sums):
    """rows[n * L + l, o] = images[n, o, l]: an NCHW gradient as the GEMM's (N*L, O); and
    sums[n, o] = the sum of images[n, o] (summed over n, the bias gradient: so it costs no
    second pass over the whole gradient, as a GEMV would)."""
    n_batch, channels, plane = images.shape
    for n in prange(n_batch):
        # the sums in their own pass over the image (in cache): added inside the copy's
        # loop they made this kernel slower
        for o in range(channels):
            total = images.dtype.type(0)
            for p in range(plane):
                total += images[n, o, p]
            sums[n, o] = total
        for p in range(plane):
            for o in range(channels):
                rows[n * plane + p, o] = images[n, o, p]


@blas_threads.single_threaded_blas
def conv2d_forward(plan, x, weight, bias, out):
    """Writes out (N, O, OH, OW) by the plan's algorithm (conv2d_plan); returns what
    conv2d_backward needs: the columns (per image or the batch's), or the transformed input
    and filters for Winograd."""
    n, o, out_h, out_w = out.shape
    shift = np.zeros(o, dtype=x.dtype) if bias is None else bias
    if plan.algorithm == "winograd":
        return winograd_forward(plan, x, weight, shift, out)
    if plan.algorithm == "images":
        cols = _image_columns(plan, x, weight)
        image_forward(x, _rows_transposed(weight), shift, out.reshape(n, o, out_h * out_w), cols,
                      tuple(plan.geometry), plan.pixels)
        return cols
    cols = np.empty((n * out_h * out_w, int(np.prod(weight.shape[1:]))), dtype=x.dtype)
    im2col(x, cols, tuple(plan.geometry))
    product = matmul(cols, _taps_last(weight).T)
    rows_to_images(product, shift, out.reshape(n, o, out_h * out_w))
    return cols


@blas_threads.single_threaded_blas
def conv2d_relu_pool_forward(plan, x, weight, bias, pooled):
    """relu(max_pool2d(conv2d(x), 2)) into pooled (N, O, OH // 2, OW // 2), for a plan made
    with pooled=True; returns (what conv2d_relu_pool_backward needs, the windows' winners):
    the winners are max_pool2d's argmax, except on the Winograd plan, whose kernels keep each
    window's winner as its place in the window, laid out along the channels
    (winograd_forward_relu_pool). The per-image and Winograd kernels (plan.fused) pool each
    image's planes or each output tile while in cache and never write the convolution's
    output; im2col writes it and pools it."""
    if not plan.fused:
        argmax = np.empty(pooled.shape, dtype=np.int64)
        g = plan.geometry
        out = np.empty((len(x), len(weight), g.out_h, g.out_w), dtype=x.dtype)
        saved = conv2d_forward(plan, x, weight, bias, out)
        max_pool2d_forward(out, pooled, argmax, 2, 2, 2, 2, 0, 0)
        relu_forward(pooled.reshape(-1), pooled.reshape(-1))
        return saved, argmax
    shift = np.zeros(len(weight), dtype=x.dtype) if bias is None else bias
    if plan.algorithm == "winograd":
        return winograd_forward_relu_pool(plan, x, weight, shift, pooled)
    argmax = np.empty(pooled.shape, dtype=np.int64)
    cols = _image_columns(plan, x, weight)
    image_forward_relu_pool(x, _rows_transposed(weight), shift, pooled, argmax, cols,
                            tuple(plan.geometry), plan.pixels)
    return cols, argmax


@blas_threads.single_threaded_blas
def conv2d_relu_pool_backward(plan, grad_pooled, winners, weight, saved, grad_x, grad_weight):
    """conv2d_backward for conv2d_relu_pool_forward, from the pooled output's gradient with
    the ReLU's mask applied and the winners the forward returned."""
    if plan.algorithm == "images" and grad_x is None:  # a network's first layer
        n, o = grad_pooled.shape[:2]
        windows = grad_pooled.shape[2] * grad_pooled.shape[3]  # (n may be 0: no -1 here)
        return _image_weight_grad(grad_pooled.reshape(n, o, windows),
                                  winners.reshape(n, o, windows), saved, weight, grad_weight)
    if plan.algorithm == "winograd":
        return winograd_backward_relu_pool(plan, grad_pooled, winners, saved, grad_x,
                                           grad_weight)
    g = plan.geometry
    grad_out = np.empty((len(grad_pooled), len(weight), g.out_h, g.out_w),
                        dtype=grad_pooled.dtype)
    max_pool2d_backward(grad_pooled, winners, grad_out, 2, 2, 2, 2, 0, 0)
    return conv2d_backward(plan, grad_out, weight, saved, grad_x, grad_weight)


def _image_weight_grad(grad, argmax, cols, weight, grad_weight):
    """The per-image path's weight gradient into grad_weight (or a scratch array where it
    is not needed); returns the bias gradient."""
    grad_bias = np.empty(weight.shape[0], dtype=weight.dtype)
    grad_weight = np.empty_like(weight) if grad_weight is None else grad_weight
    image_weight_grad(grad, argmax, cols, grad_weight.reshape(len(weight), -1), grad_bias,
                      policy.get().image_chunks)
    return grad_bias


@blas_threads.single_threaded_blas
def conv2d_backward(plan, grad_out, weight, saved, grad_x, grad_weight):
    """Overwrites grad_x and grad_weight (either may be None: not needed); returns the bias
    gradient (O,). `saved` is what conv2d_forward returned for the same plan."""
    n, o, out_h, out_w = grad_out.shape
    if plan.algorithm == "winograd":
        return winograd_backward(plan, grad_out, saved, grad_x, grad_weight)
    if plan.algorithm == "images":
        grads = grad_out.reshape(n, o, out_h * out_w)
        if grad_x is not None:
            image_input_grad(grads, weight.reshape(o, -1), grad_x, tuple(plan.geometry))
        return _image_weight_grad(grads, NOT_POOLED, saved, weight, grad_weight)
    cols = saved
    rows = np.empty((n * out_h * out_w, o), dtype=grad_out.dtype)
    bias_parts = np.empty((n, o), dtype=grad_out.dtype)
    images_to_rows(grad_out.reshape(n, o, out_h * out_w), rows, bias_parts)
    if grad_x is not None and grad_weight is not None:
        grad_cols, grad_taps = matmul_pair(rows, _taps_last(weight), rows.T, cols)
    else:
        grad_cols = matmul(rows, _taps_last(weight)) if grad_x is not None else None
        grad_taps = matmul(rows.T, cols) if grad_weight is not None else None
    if grad_x is not None:
        col2im(grad_cols, grad_x, tuple(plan.geometry))
    if grad_weight is not None:
        _, channels, kernel_h, kernel_w = grad_weight.shape
        grad_weight[...] = grad_taps.reshape(o, kernel_h, kernel_w, channels).transpose(0, 3, 1, 2)
    return bias_parts.sum(axis=0)
