"""2-D convolution one image at a time: each image's columns are built in cache, and one BLAS
product per image writes its output planes straight into NCHW.

For image n the columns are cols[(c, i, j), l] = x[n, c, oh * sh + i - ph, ow * sw + j - pw]
(zero in the padding) for output pixel l = oh * OW + ow: the output's own layout, so the
product W (O, C*KH*KW) @ cols is image n's output, (O, OH*OW), contiguous in NCHW, with no
(N*L, O) matrix to lay back out (the batched im2col of conv.py writes, and reads back, about
three times the output's size). The columns are kept for the weight gradient, the sum over
images of grad[n] (O, L) @ cols.T; the input gradient is W.T @ grad[n] scattered back over
the patches.
All of it stays in cache per image, which makes it faster than the batched im2col (and than a
direct nine-tap kernel) on the study's first layer and the baseline's 2->64 4x4 layer
(benchmarks/README.md). Planes of a few pixels (the baseline's 64->64 on 2x2) keep the
batched im2col: there a product per image is too small to pay for its call (conv.py's
conv2d_plan draws the line).

Each product is a single-threaded BLAS call made from numba's threads (np.dot in nopython
mode, SciPy's BLAS), so the images are spread over the same thread pool as every other kernel
(see products.py). The weight gradient sums the batch in image_chunks (kernels/policy.py) fixed
parts, added in a fixed order, so that it does not depend on the thread count.

Followed by a ReLU and a 2x2 max-pool, the forward pools each image's planes while they are
in cache (the output is never written) and the weight gradient rebuilds each image's output
gradient from the pooled one: the fused op's values equal the composed ops' bit for bit.

Where the weight has few taps (the plan's `pixels`, kernels/policy.py image_pixel_taps) each
image's product is made pixel by pixel instead, cols.T @ W.T -> (L, O): the fused op's pool
then scans the windows along the channels in vector lanes (a plane's windows, a few per
row, scan one at a time), and the plain forward pays a transposed copy into NCHW. Both
forwards of a layer take the same orientation, as BLAS may sum in another order in the
other.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..window_rules import first_max_of_four, max_of_four

_first_max_of_four = njit(cache=True, inline="always")(first_max_of_four)
_max_of_four = njit(cache=True, inline="always")(max_of_four)

SUMS = {"reassoc"}  # the bias gradient's sums in vector lanes; NaN and inf still propagate
NOT_POOLED = np.empty((0, 0, 0), dtype=np.int64)  # image_weight_grad's argmax: plain grad


@njit(cache=True, inline="always")
def _columns(x, n, cols, geometry):
    """cols (C*KH*KW, OH*OW) = image n's patches, zero where they reach into the padding."""
    kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, out_h, out_w = geometry
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    zero = x.dtype.type(0)
    k = 0
    for c in range(channels):
        for i in range(kernel_h):
            for j in range(kernel_w):
                row = cols[k]
                for oh in range(out_h):
                    h = oh * stride_h + i - pad_h
                    run = row[oh * out_w:(oh + 1) * out_w]
                    if h < 0 or h >= height:
                        run[:] = zero
                        continue
                    for ow in range(out_w):
                        w = ow * stride_w + j - pad_w
                        run[ow] = x[n, c, h, w] if 0 <= w < width else zero
                k += 1


@njit(cache=True, inline="always")
def _add_columns(grad_cols, grad_x, n, geometry):
    """The adjoint of _columns: grad_x[n] = each column's gradient added back where it was
    read from (the padding's dropped)."""
    kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, out_h, out_w = geometry
    channels, height, width = grad_x.shape[1], grad_x.shape[2], grad_x.shape[3]
    grad_x[n] = 0
    k = 0
    for c in range(channels):
        for i in range(kernel_h):
            for j in range(kernel_w):
                for oh in range(out_h):
                    h = oh * stride_h + i - pad_h
                    if 0 <= h < height:
                        for ow in range(out_w):
                            w = ow * stride_w + j - pad_w
                            if 0 <= w < width:
                                grad_x[n, c, h, w] += grad_cols[k, oh * out_w + ow]
                k += 1


@njit(cache=True, inline="always")
def _image_planes(x, n, weight_rows, bias, cols, planes, geometry):
    """cols = image n's columns, and planes (O, L) = its output: W @ cols, plus the bias."""
    _columns(x, n, cols, geometry)
    np.dot(weight_rows, cols, planes)
    for o in range(planes.shape[0]):
        shift, plane = bias[o], planes[o]
        for p in range(plane.size):
            plane[p] += shift


@njit(cache=True, inline="always")
def _image_pixels(x, n, weight_rows, cols, pixels, geometry):
    """cols = image n's columns, and pixels (L, O) = its output laid out pixel by pixel,
    without the bias: cols.T @ W.T. BLAS sums the taps of each output in another order in
    this orientation than in _image_planes' W @ cols (on some CPUs' kernels), so a layer
    takes one orientation for its plain and fused forwards alike (the plan's `pixels`)."""
    _columns(x, n, cols, geometry)
    np.dot(cols.T, weight_rows.T, pixels)


@njit(cache=True, parallel=True)
def image_forward(x, weight_rows, bias, out, cols, geometry, pixels):
    """out (N, O, OH*OW) = the convolution of x by weight_rows (O, C*KH*KW), plus bias, and
    cols (N, C*KH*KW, OH*OW) its columns, kept for the weight gradient (building them again
    there costs about as much as the gradient's products on the study's first layer);
    geometry = (KH, KW, stride_h, stride_w, pad_h, pad_w, OH, OW). With `pixels`, each
    image's product is made pixel by pixel (_image_pixels) and written out transposed."""
    for n in prange(x.shape[0]):
        if not pixels:
            _image_planes(x, n, weight_rows, bias, cols[n], out[n], geometry)
            continue
        product = np.empty((out.shape[2], weight_rows.shape[0]), dtype=x.dtype)
        _image_pixels(x, n, weight_rows, cols[n], product, geometry)
        planes = out[n]
        for o in range(planes.shape[0]):
            shift, plane = bias[o], planes[o]
            for p in range(plane.size):
                plane[p] = product[p, o] + shift


@njit(cache=True, parallel=True)
def image_forward_relu_pool(x, weight_rows, bias, pooled, argmax, cols, geometry, pixels):
    """relu(max_pool2d(., 2)) of the convolution into pooled, argmax as max_pool2d's, each
    image's output pooled while in cache: the output itself is never written. cols and
    `pixels` as image_forward's; pixel by pixel, the pool runs along the channels in vector
    lanes."""
    out_h, out_w = geometry[6], geometry[7]
    channels = weight_rows.shape[0]
    for n in prange(x.shape[0]):
        if pixels:
            product = np.empty((out_h * out_w, channels), dtype=x.dtype)
            windows = np.empty((2, pooled.shape[2] * pooled.shape[3], channels), dtype=x.dtype)
            _image_pixels(x, n, weight_rows, cols[n], product, geometry)
            _relu_pool_pixels(product, bias, out_w, pooled[n], argmax[n], windows)
            continue
        planes = np.empty((channels, out_h * out_w), dtype=x.dtype)
        _image_planes(x, n, weight_rows, bias, cols[n], planes, geometry)
        _relu_pool_planes(planes.reshape(channels, out_h, out_w), pooled[n], argmax[n])


@njit(cache=True, inline="always")
def _relu_pool_pixels(product, bias, out_w, pooled, argmax, windows):
    """pooled (O, PH, PW) = relu(2x2 max-pool of product + bias) with max_pool2d's argmax and
    rule, product (L, O) pixel by pixel: each window's scan (max_of_four) runs along the
    channels in vector lanes, into windows[0] (the values) and windows[1] (the argmax, as a
    float: exact below 2^24 pixels; an integer position there kept the loop scalar), which
    are then laid out per channel."""
    channels = product.shape[1]
    pooled_h, pooled_w = pooled.shape[1], pooled.shape[2]
    zero = product.dtype.type(0)
    offsets = (zero, product.dtype.type(1), product.dtype.type(out_w),
               product.dtype.type(out_w + 1))  # from the window's top left
    for ph in range(pooled_h):
        for pw in range(pooled_w):
            p = 2 * ph * out_w + 2 * pw
            q = ph * pooled_w + pw
            top, top_right = product[p], product[p + 1]
            bottom, bottom_right = product[p + out_w], product[p + out_w + 1]
            values, where = windows[0, q], windows[1, q]
            corner = product.dtype.type(p)
            for o in range(channels):
                shift = bias[o]
                best, offset = _max_of_four(top[o] + shift, top_right[o] + shift,
                                            bottom[o] + shift, bottom_right[o] + shift, offsets)
                values[o] = zero if best <= zero else best
                where[o] = corner + offset
    pooled_flat = pooled.reshape(channels, pooled_h * pooled_w)
    argmax_flat = argmax.reshape(channels, pooled_h * pooled_w)
    for o in range(channels):  # two loops: each then reads one array with a fixed stride
        for q in range(pooled_h * pooled_w):
            pooled_flat[o, q] = windows[0, q, o]
        for q in range(pooled_h * pooled_w):
            argmax_flat[o, q] = np.int64(windows[1, q, o])


@njit(cache=True)
def _relu_pool_planes(planes, pooled, argmax):
    """pooled[o] = relu(2x2 max-pool of planes[o]) with max_pool2d's argmax and rule. Called,
    not inlined, and indexed [o, h, w]: so written, numba's select chain compiles to blends;
    inlined into the convolution's loop (or from flat indices) it compiled to
    compare-and-jump, and mispredicted windows made the fused kernel slower than the conv and
    pool apart."""
    out_w = planes.shape[2]
    zero = planes.dtype.type(0)
    for o in range(planes.shape[0]):
        for ph in range(pooled.shape[1]):
            h = 2 * ph
            for pw in range(pooled.shape[2]):
                w = 2 * pw
                a, b = planes[o, h, w], planes[o, h, w + 1]
                d, e = planes[o, h + 1, w], planes[o, h + 1, w + 1]
                best, offset = _first_max_of_four(a, b, d, e, out_w)
                if (a != a) | (b != b) | (d != d) | (e != e):  # rare: the exact rule
                    best, k = _max_of_four(a, b, d, e, (0, 1, 2, 3))
                    offset = k // 2 * out_w + k % 2
                pooled[o, ph, pw] = zero if best <= zero else best
                argmax[o, ph, pw] = h * out_w + w + offset


@njit(cache=True, parallel=True, fastmath=SUMS)
def image_weight_grad(grad, argmax, cols, grad_weight_rows, grad_bias, chunks):
    """Overwrites grad_weight_rows (O, C*KH*KW) and grad_bias (O,) from grad (N, O, OH*OW),
    the output's gradient (argmax NOT_POOLED), or from the gradient of its 2x2 max-pool with
    max_pool2d's argmax, both as (N, O, OH/2 * OW/2): the output's gradient is then rebuilt
    per image in cache. Each of `chunks` parts of the batch is summed on its own (in
    float64), then the parts in order."""
    n_batch, taps, plane = cols.shape
    outs = grad_weight_rows.shape[0]
    partial = np.zeros((chunks, outs, taps + 1), dtype=np.float64)
    for chunk in prange(chunks):
        rebuilt = np.zeros((outs, plane), dtype=cols.dtype)
        product = np.empty((outs, taps), dtype=cols.dtype)
        for n in range(chunk * n_batch // chunks, (chunk + 1) * n_batch // chunks):
            g = grad[n]
            if argmax.size:
                _unpool(grad[n], argmax[n], rebuilt)
                g = rebuilt
            np.dot(g, cols[n].T, product)
            for o in range(outs):
                total = cols.dtype.type(0)
                for p in range(plane):
                    total += g[o, p]
                partial[chunk, o, taps] += total
                for k in range(taps):
                    partial[chunk, o, k] += product[o, k]
    for o in range(outs):
        for k in range(taps + 1):
            total = 0.0
            for chunk in range(chunks):
                total += partial[chunk, o, k]
            if k < taps:
                grad_weight_rows[o, k] = total
            else:
                grad_bias[o] = total


@njit(cache=True, inline="always")
def _unpool(grad_pooled, argmax, planes):
    """planes (O, L) = max_pool2d's backward of one image: each window's gradient at its
    argmax, zeros elsewhere (as max_pool2d_backward writes them)."""
    planes[:] = 0
    for o in range(planes.shape[0]):
        for q in range(grad_pooled.shape[1]):
            planes[o, argmax[o, q]] = grad_pooled[o, q]


@njit(cache=True, parallel=True)
def image_input_grad(grad, weight_rows, grad_x, geometry):
    """Overwrites grad_x (N, C, H, W) from grad (N, O, OH*OW): per image, W.T @ grad[n] (the
    columns' gradient), added back over the patches."""
    weight_cols = weight_rows.T
    for n in prange(grad_x.shape[0]):
        grad_cols = np.empty((weight_rows.shape[1], grad.shape[2]), dtype=grad_x.dtype)
        np.dot(weight_cols, grad[n], grad_cols)
        _add_columns(grad_cols, grad_x, n, geometry)
