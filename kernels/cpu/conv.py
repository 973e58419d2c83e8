"""2-D convolution (cross-correlation, zero padding) as im2col + one BLAS GEMM per pass.

The whole batch is one matrix product, not N small ones. Columns are laid out
cols[(n, oh, ow), (i, j, c)]: one row per output pixel, and within a row the channels
innermost, so that im2col copies runs of C contiguous floats from a zero-padded
channels-last (NHWC) copy of the input (the (c, i, j) order copied one float at a time
with run-time loop bounds and was ~2x slower). Forward is cols @ W.T -> (N*L, O), with the
weight reordered to (O, KH, KW, C); the weight gradient is grad_rows.T @ cols; the input
gradient is col2im(grad_rows @ W). The forward's columns are returned and kept for the
weight gradient instead of being rebuilt. im2col/col2im and the layout changes
(N*L, O) <-> (N, O, L) are numba loops over the batch (each image's block is local); the
products are BLAS calls cut over numba's threads (products.matmul).

Where an output plane has at least as many pixels as the weight has taps (C * KH * KW: the
study's first layer, the baseline's 2->64 layer) a product per image wins instead
(`conv_images`): each image's columns are built in cache and its product written straight into
NCHW. 3x3 stride-1 convolutions with at least winograd_channels (kernels/policy.py) input and
output channels take `conv_winograd` (3.1x fewer multiplications; float32 results a few times
less exact, see there). conv2d_relu_pool_forward/backward are the fused Conv2d, ReLU,
MaxPool2d(2) op: fused forward kernels on the per-image and Winograd paths, a fused backward on
Winograd's and (for the weight gradient alone) the per-image one's, the composed kernels
elsewhere. The fused Winograd path computes only the outputs the pool reads, with F(6x6, 3x3)
tiles where they are cheaper (the study's 32->64 layer): its float32 results then differ from
the composed ops' F(4x4, 3x3) by rounding, where the other paths match them bit for bit.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import policy
from .activation import relu_forward
from .conv_images import (NOT_POOLED, image_forward, image_forward_relu_pool,
                          image_input_grad, image_weight_grad)
from .conv_winograd import (Transformed, winograd_backward, winograd_backward_relu_pool,
                            winograd_forward, winograd_forward_relu_pool)
from .pool import max_pool2d_backward, max_pool2d_forward
from . import blas_threads
from .products import blas_per_thread, matmul, matmul_pair

# Winograd wins from policy.get().winograd_channels input and output channels on. Paired
# A/B at 2 threads, forward + backward, 200 images, 3x3 pad 1: 32->64 on 7x7 0.70x the im2col
# time, 16->32 on 14x14 0.66x, 16->16 on 7x7 0.90x; 8->16 on 14x14 1.0x, 4->8 1.2x.


def _per_image(x, weight, out_h, out_w) -> bool:
    """A product per image where its plane has at least as many pixels as the weight has
    taps (C * KH * KW). Paired A/B at 2 threads, forward + backward with the input gradient,
    per image / im2col: 1->32 3x3 on 14x14 (196 pixels, 9 taps) 0.39, 2->64 4x4 on 11x11
    0.66, 3->16 5x5 on 32x32 0.54, 8->16 3x3 on 14x14 1.06 (1.0 within noise); below the
    line 8->16 on 8x8 (64 pixels, 72 taps) 0.95, 32->64 3x3 on 6x6 1.74, 64->64 2x2 on 7x7
    1.6, 64->64 4x4 on 1x1 7.5: thin products, each too small to pay for its call."""
    return out_h * out_w >= _taps(weight) and blas_per_thread(x.dtype)


def _taps(weight) -> int:
    """C * KH * KW: the weight's taps per output pixel, one column's height."""
    return int(np.prod(weight.shape[1:]))


def _rows_transposed(weight):
    """weight as (O, C*KH*KW) rows, stored transposed: BLAS's small products ran 1.1x faster
    with it so on the study's first layer and the baseline's (measured)."""
    return np.ascontiguousarray(weight.reshape(len(weight), -1).T).T


def _image_columns(x, weight, out_h, out_w):
    """The per-image path's columns (N, C*KH*KW, OH*OW), kept for the backward."""
    return np.empty((len(x), _taps(weight), out_h * out_w), dtype=x.dtype)


def _per_image_columns(saved) -> bool:
    """Whether the forward took the per-image path (it keeps (N, taps, L) columns; im2col
    keeps (N*L, taps))."""
    return isinstance(saved, np.ndarray) and saved.ndim == 3


def _geometry(weight, out_h, out_w, stride_h, stride_w, pad_h, pad_w) -> tuple:
    return (*weight.shape[2:], stride_h, stride_w, pad_h, pad_w, out_h, out_w)


def _winograd(weight, stride_h, stride_w) -> bool:
    settings = policy.get()
    return settings.conv_precision == "fast" and stride_h == stride_w == 1 and \
        weight.shape[2:] == (3, 3) and min(weight.shape[:2]) >= settings.winograd_channels


@njit(cache=True, parallel=True)
def im2col(x, cols, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    n_batch, channels, height, width = x.shape
    out_h = (height + 2 * pad_h - kernel_h) // stride_h + 1
    out_w = (width + 2 * pad_w - kernel_w) // stride_w + 1
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
def col2im(cols, grad_x, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    """The adjoint of im2col: scatter-add columns back into an image (overwrites grad_x)."""
    n_batch, channels, height, width = grad_x.shape
    out_h = (height + 2 * pad_h - kernel_h) // stride_h + 1
    out_w = (width + 2 * pad_w - kernel_w) // stride_w + 1
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
    second pass over the gradient, which a GEMV took 0.1 ms for on 100x64x11x11)."""
    n_batch, channels, plane = images.shape
    for n in prange(n_batch):
        # the sums in their own pass over the image (in cache): added inside the copy's
        # loop they made this kernel 1.5x slower (0.28 against 0.18 ms, measured)
        for o in range(channels):
            total = images.dtype.type(0)
            for p in range(plane):
                total += images[n, o, p]
            sums[n, o] = total
        for p in range(plane):
            for o in range(channels):
                rows[n * plane + p, o] = images[n, o, p]


@blas_threads.single_threaded_blas
def conv2d_forward(x, weight, bias, out, stride_h, stride_w, pad_h, pad_w):
    """Writes out (N, O, OH, OW); returns what conv2d_backward needs: the columns (per image
    or the batch's), or the transformed input and filters for Winograd."""
    n, o, out_h, out_w = out.shape
    shift = np.zeros(o, dtype=x.dtype) if bias is None else bias
    if _winograd(weight, stride_h, stride_w):
        return winograd_forward(x, weight, shift, out, pad_h, pad_w)
    if _per_image(x, weight, out_h, out_w):
        cols = _image_columns(x, weight, out_h, out_w)
        image_forward(x, _rows_transposed(weight), shift, out.reshape(n, o, out_h * out_w), cols,
                      _geometry(weight, out_h, out_w, stride_h, stride_w, pad_h, pad_w))
        return cols
    kernel_h, kernel_w = weight.shape[2:]
    cols = np.empty((n * out_h * out_w, x.shape[1] * kernel_h * kernel_w), dtype=x.dtype)
    im2col(x, cols, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w)
    product = matmul(cols, _taps_last(weight).T)
    rows_to_images(product, shift, out.reshape(n, o, out_h * out_w))
    return cols


@blas_threads.single_threaded_blas
def conv2d_relu_pool_forward(x, weight, bias, pooled, argmax, out_shape, stride_h, stride_w,
                             pad_h, pad_w):
    """relu(max_pool2d(conv2d(x), 2)) into pooled (N, O, OH // 2, OW // 2), argmax as
    max_pool2d's, for a convolution output of out_shape (N, O, OH, OW); returns what
    conv2d_relu_pool_backward needs. The per-image and Winograd kernels pool each image's
    planes or each output tile while in cache and never write the convolution's output;
    im2col writes it and pools it."""
    out_h, out_w = out_shape[2:]
    shift = np.zeros(out_shape[1], dtype=x.dtype) if bias is None else bias
    if _winograd(weight, stride_h, stride_w):
        return winograd_forward_relu_pool(x, weight, shift, out_w, pooled, argmax, pad_h, pad_w)
    if _per_image(x, weight, out_h, out_w):
        cols = _image_columns(x, weight, out_h, out_w)
        image_forward_relu_pool(x, _rows_transposed(weight), shift, pooled, argmax, cols,
                                _geometry(weight, out_h, out_w, stride_h, stride_w, pad_h,
                                          pad_w))
        return cols
    out = np.empty(out_shape, dtype=x.dtype)
    saved = conv2d_forward(x, weight, bias, out, stride_h, stride_w, pad_h, pad_w)
    max_pool2d_forward(out, pooled, argmax, 2, 2, 2, 2, 0, 0)
    relu_forward(pooled.reshape(-1), pooled.reshape(-1))
    return saved


@blas_threads.single_threaded_blas
def conv2d_relu_pool_backward(grad_pooled, argmax, out_shape, weight, saved, grad_x,
                              grad_weight, stride_h, stride_w, pad_h, pad_w):
    """conv2d_backward for conv2d_relu_pool_forward, from the pooled output's gradient with
    the ReLU's mask applied; out_shape is the convolution's output shape."""
    if _per_image_columns(saved) and grad_x is None:  # per image, a network's first layer
        n, o = grad_pooled.shape[:2]
        windows = grad_pooled.shape[2] * grad_pooled.shape[3]  # (n may be 0: no -1 here)
        return _image_weight_grad(grad_pooled.reshape(n, o, windows),
                                  argmax.reshape(n, o, windows), saved, weight, grad_weight)
    if isinstance(saved, Transformed):
        return winograd_backward_relu_pool(grad_pooled, argmax, out_shape[3], saved, grad_x,
                                           grad_weight, pad_h, pad_w)
    grad_out = np.empty(out_shape, dtype=grad_pooled.dtype)
    max_pool2d_backward(grad_pooled, argmax, grad_out, 2, 2, 2, 2, 0, 0)
    return conv2d_backward(grad_out, weight, saved, grad_x, grad_weight, stride_h, stride_w,
                           pad_h, pad_w)


def _image_weight_grad(grad, argmax, cols, weight, grad_weight):
    """The per-image path's weight gradient into grad_weight (or a scratch array where it
    is not needed); returns the bias gradient."""
    grad_bias = np.empty(weight.shape[0], dtype=weight.dtype)
    grad_weight = np.empty_like(weight) if grad_weight is None else grad_weight
    image_weight_grad(grad, argmax, cols, grad_weight.reshape(len(weight), -1), grad_bias,
                      policy.get().image_chunks)
    return grad_bias


@blas_threads.single_threaded_blas
def conv2d_backward(grad_out, weight, saved, grad_x, grad_weight, stride_h, stride_w, pad_h,
                    pad_w):
    """Overwrites grad_x and grad_weight (either may be None: not needed); returns the bias
    gradient (O,). `saved` is what conv2d_forward returned."""
    n, o, out_h, out_w = grad_out.shape
    # the forward's choice, whatever the settings now: per-image columns (N, taps, L), the
    # transformed input (Winograd) or the batch's columns (N*L, taps)
    if isinstance(saved, Transformed):
        return winograd_backward(grad_out, saved, grad_x, grad_weight, pad_h, pad_w)
    if _per_image_columns(saved):
        geometry = _geometry(weight, out_h, out_w, stride_h, stride_w, pad_h, pad_w)
        grads = grad_out.reshape(n, o, out_h * out_w)
        if grad_x is not None:
            image_input_grad(grads, weight.reshape(o, -1), grad_x, geometry)
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
        col2im(grad_cols, grad_x, weight.shape[2], weight.shape[3], stride_h, stride_w, pad_h,
               pad_w)
    if grad_weight is not None:
        _, channels, kernel_h, kernel_w = grad_weight.shape
        grad_weight[...] = grad_taps.reshape(o, kernel_h, kernel_w, channels).transpose(0, 3, 1, 2)
    return bias_parts.sum(axis=0)
