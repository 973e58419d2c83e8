"""Direct 2-D convolution (stride 1) for inputs with few channels, such as the study's first
layer (1 channel, 3x3 taps): too few columns per output pixel for a GEMM to pay (im2col + BLAS
took about 2x longer, forward and weight gradient, on 200x1x14x14 -> 32 channels; measured).

Each image is copied once, zero-padded, into flat planes of the padded width Wp. Seen on that
grid, tap (i, j) of every output pixel is one contiguous run: out_flat[p] += w[o, c, i, j] *
padded_flat[c, i * Wp + j + p] for p over OH * Wp positions, so each tap is one vectorised
AXPY (the Wp - OW positions past each output row are computed and thrown away). The weight
gradient is the matching dot products, the input gradient the same AXPYs scattered back.
The runs are taken as slices first and indexed from 0: with an offset inside the index
expression (a[off + p]) numba emits a negative-index check per element that stops LLVM from
vectorising (7.5x slower, measured).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..window_rules import first_max_of_four, max_of_four

_first_max_of_four = njit(cache=True, inline="always")(first_max_of_four)
_max_of_four = njit(cache=True, inline="always")(max_of_four)

SUMS = {"reassoc"}  # dot products in vector lanes; NaN and inf still propagate


@njit(cache=True, inline="always")
def _axpy(y, a, x, count):
    """y[:count] += a * x[:count], on slices indexed from 0 (so that it vectorises)."""
    for p in range(count):
        y[p] += a * x[p]


@njit(cache=True, inline="always")
def _zero_planes(channels, height, width, pad_h, pad_w, kernel_w, dtype):
    """One image's channels zero-padded and flattened to (H + 2 pad_h) * Wp values each,
    plus room for the last tap's run to read past the final row."""
    return np.zeros((channels, (height + 2 * pad_h) * (width + 2 * pad_w) + kernel_w),
                    dtype=dtype)


@njit(cache=True, inline="always")
def _padded_planes(x, n, pad_h, pad_w, kernel_w):
    """Image n on the zero-padded flat planes of _zero_planes."""
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    padded_w = width + 2 * pad_w
    padded = _zero_planes(channels, height, width, pad_h, pad_w, kernel_w, x.dtype)
    for c in range(channels):
        for h in range(height):
            start = (pad_h + h) * padded_w + pad_w
            for w in range(width):
                padded[c, start + w] = x[n, c, h, w]
    return padded


@njit(cache=True, inline="always")
def _add_3x3(acc, plane, taps, padded_w):
    """acc[:] += the 3x3 correlation of one padded plane: the nine runs summed in one pass,
    so acc is loaded and stored once instead of once per tap (the study's first layer:
    0.55x the time of nine AXPYs, measured)."""
    r0, r1, r2 = plane[0:], plane[1:], plane[2:]
    r3, r4, r5 = plane[padded_w:], plane[padded_w + 1:], plane[padded_w + 2:]
    r6, r7, r8 = plane[2 * padded_w:], plane[2 * padded_w + 1:], plane[2 * padded_w + 2:]
    w0, w1, w2 = taps[0, 0], taps[0, 1], taps[0, 2]
    w3, w4, w5 = taps[1, 0], taps[1, 1], taps[1, 2]
    w6, w7, w8 = taps[2, 0], taps[2, 1], taps[2, 2]
    for p in range(acc.size):
        acc[p] += (w0 * r0[p] + w1 * r1[p] + w2 * r2[p] + w3 * r3[p] + w4 * r4[p]
                   + w5 * r5[p] + w6 * r6[p] + w7 * r7[p] + w8 * r8[p])


@njit(cache=True, inline="always")
def _output_plane(acc, padded, weight, bias, o, padded_w):
    """acc = output plane o of one image on the padded-width grid: the bias, then per input
    channel one pass for a 3x3 kernel, else one AXPY per tap."""
    channels, kernel_h, kernel_w = weight.shape[1], weight.shape[2], weight.shape[3]
    acc[:] = bias[o]
    for c in range(channels):
        if kernel_h == 3 and kernel_w == 3:
            _add_3x3(acc, padded[c], weight[o, c], padded_w)
            continue
        for i in range(kernel_h):
            for j in range(kernel_w):
                _axpy(acc, weight[o, c, i, j], padded[c, i * padded_w + j:], acc.size)


@njit(cache=True, parallel=True, fastmath=SUMS)
def direct_forward(x, weight, bias, out, pad_h, pad_w):
    n_batch, width = x.shape[0], x.shape[3]
    outs, kernel_w = weight.shape[0], weight.shape[3]
    out_h, out_w = out.shape[2], out.shape[3]
    padded_w = width + 2 * pad_w
    for n in prange(n_batch):
        padded = _padded_planes(x, n, pad_h, pad_w, kernel_w)
        acc = np.empty(out_h * padded_w, dtype=x.dtype)
        for o in range(outs):
            _output_plane(acc, padded, weight, bias, o, padded_w)
            for oh in range(out_h):
                out[n, o, oh, :] = acc[oh * padded_w:oh * padded_w + out_w]


@njit(cache=True, parallel=True, fastmath=SUMS)
def direct_forward_relu_pool(x, weight, bias, out_h, out_w, pooled, argmax, pad_h, pad_w):
    """relu(max_pool2d(., 2)) of the convolution, pooled from each image's output planes while
    they are in cache: the (out_h, out_w) output itself is never written. argmax as
    max_pool2d's."""
    n_batch, width = x.shape[0], x.shape[3]
    outs, kernel_w = weight.shape[0], weight.shape[3]
    padded_w = width + 2 * pad_w
    for n in prange(n_batch):
        padded = _padded_planes(x, n, pad_h, pad_w, kernel_w)
        planes = np.empty((outs, out_h, padded_w), dtype=x.dtype)
        rows = planes.reshape(outs, out_h * padded_w)
        for o in range(outs):
            _output_plane(rows[o], padded, weight, bias, o, padded_w)
        _relu_pool_planes(planes, out_w, pooled[n], argmax[n])


@njit(cache=True)
def _relu_pool_planes(planes, out_w, pooled, argmax):
    """pooled[o] = relu(2x2 max-pool of planes[o, :, :out_w]) with max_pool2d's argmax and
    rule. Called, not inlined, and indexed [o, h, w]: so written, numba's select chain compiles
    to blends; pooled inside the convolution's loop (or from flat indices) it compiled to
    compare-and-jump, and mispredicted windows made the fused kernel slower than the conv
    and pool apart (3.8 vs 2.4 ms; this: 1.4 ms)."""
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
                    best, k = _max_of_four(a, b, d, e)
                    offset = k // 2 * out_w + k % 2
                pooled[o, ph, pw] = zero if best <= zero else best
                argmax[o, ph, pw] = h * out_w + w + offset


@njit(cache=True, inline="always")
def _gradient_rows(grad_out, n, o, padded_w, into):
    """grad_out[n, o] laid on the padded-width grid (zeros past each row's OW values)."""
    out_w = grad_out.shape[3]
    for oh in range(grad_out.shape[2]):
        into[oh * padded_w:oh * padded_w + out_w] = grad_out[n, o, oh, :]


@njit(cache=True, inline="always")
def _pooled_gradient_rows(grad_pooled, argmax, n, o, out_w, padded_w, into):
    """The gradient of a 2x2 max-pool's input plane laid on the padded-width grid:
    grad_pooled[n, o] at each window's argmax, zeros elsewhere."""
    into[:] = 0
    for ph in range(grad_pooled.shape[2]):
        for pw in range(grad_pooled.shape[3]):
            offset = argmax[n, o, ph, pw] - 2 * ph * out_w - 2 * pw  # 0, 1, out_w, out_w + 1
            down = offset >= out_w
            into[(2 * ph + down) * padded_w + 2 * pw + offset - down * out_w] = \
                grad_pooled[n, o, ph, pw]


BLOCK = 4  # output channels whose dot products share each load of the input (written out below)
NOT_POOLED = np.empty((0, 0, 0, 0), dtype=np.int64)  # direct_weight_grad's argmax for a plain grad


@njit(cache=True, parallel=True, fastmath=SUMS)
def direct_weight_grad(grad, argmax, out_h, out_w, x, grad_weight, grad_bias, pad_h, pad_w,
                       chunks):
    """Overwrites grad_weight (O, C, KH, KW) and grad_bias (O,) from grad, the output's
    gradient (argmax NOT_POOLED), or the gradient of its 2x2 max-pool with max_pool2d's
    argmax (the output's gradient is then never made). The batch is cut into `chunks` parts
    summed separately (in float64) and then added in a fixed order. The dot products run
    BLOCK output channels at a time (1.7x faster than one at a time, measured)."""
    n_batch, channels, _, width = x.shape
    outs, _, kernel_h, kernel_w = grad_weight.shape
    padded_w = width + 2 * pad_w
    span = out_h * padded_w
    taps = channels * kernel_h * kernel_w
    blocked = -(-outs // BLOCK) * BLOCK  # rows past `outs` stay zero
    partial = np.zeros((chunks, blocked, taps + 1), dtype=np.float64)
    zero = np.zeros(1, dtype=x.dtype)[0]
    for chunk in prange(chunks):
        rows = np.zeros((blocked, span), dtype=x.dtype)
        for n in range(chunk * n_batch // chunks, (chunk + 1) * n_batch // chunks):
            padded = _padded_planes(x, n, pad_h, pad_w, kernel_w)
            for o in range(outs):
                if argmax.size:
                    _pooled_gradient_rows(grad, argmax, n, o, out_w, padded_w, rows[o])
                else:
                    _gradient_rows(grad, n, o, padded_w, rows[o])
                bias_sum, row = zero, rows[o]
                for p in range(span):
                    bias_sum += row[p]
                partial[chunk, o, taps] += bias_sum
            for o in range(0, blocked, BLOCK):
                g0, g1, g2, g3 = rows[o], rows[o + 1], rows[o + 2], rows[o + 3]
                k = 0
                for c in range(channels):
                    for i in range(kernel_h):
                        for j in range(kernel_w):
                            run = padded[c, i * padded_w + j:]
                            d0, d1, d2, d3 = zero, zero, zero, zero
                            for p in range(span):
                                value = run[p]
                                d0 += g0[p] * value
                                d1 += g1[p] * value
                                d2 += g2[p] * value
                                d3 += g3[p] * value
                            partial[chunk, o, k] += d0
                            partial[chunk, o + 1, k] += d1
                            partial[chunk, o + 2, k] += d2
                            partial[chunk, o + 3, k] += d3
                            k += 1
    grad_taps = grad_weight.reshape(outs, taps)
    for o in range(outs):
        for k in range(taps + 1):
            total = 0.0
            for chunk in range(chunks):
                total += partial[chunk, o, k]
            if k < taps:
                grad_taps[o, k] = total
            else:
                grad_bias[o] = total


@njit(cache=True, parallel=True, fastmath=SUMS)
def direct_input_grad(grad_out, weight, grad_x, pad_h, pad_w):
    """Overwrites grad_x: each output's gradient times each tap, added back where the tap
    read the input (the forward's AXPYs, reversed), then the padding cut off."""
    n_batch, channels, height, width = grad_x.shape
    outs, _, kernel_h, kernel_w = weight.shape
    out_h = grad_out.shape[2]
    padded_w = width + 2 * pad_w
    span = out_h * padded_w
    for n in prange(n_batch):
        padded = _zero_planes(channels, height, width, pad_h, pad_w, kernel_w, grad_x.dtype)
        rows = np.zeros(span, dtype=grad_x.dtype)
        for o in range(outs):
            _gradient_rows(grad_out, n, o, padded_w, rows)
            for c in range(channels):
                for i in range(kernel_h):
                    for j in range(kernel_w):
                        _axpy(padded[c, i * padded_w + j:], weight[o, c, i, j], rows, span)
        for c in range(channels):
            for h in range(height):
                start = (pad_h + h) * padded_w + pad_w
                for w in range(width):
                    grad_x[n, c, h, w] = padded[c, start + w]
