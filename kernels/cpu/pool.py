"""Max and average pooling over (N, C, H, W), one thread per image plane.

Max pooling records the argmax as a flat index h * W + w in the input plane; ties keep
the first maximum in row-major order and a NaN wins its window (the last NaN, by
torch's CPU rule `value > best or isnan(value)`). Average pooling counts the padding in the
divisor (torch's count_include_pad=True).
"""
from __future__ import annotations

from numba import njit, prange

from ..window_rules import first_max_of_four, max_window


# Which element of a window is the largest is random on real data, so a branch per
# comparison mispredicts about every other window. Both kernels below keep torch's scan (a
# strictly greater value takes over, so ties keep the first) as selects, which compile
# without branches, and note whether a NaN was seen; a window holding a NaN (rare) is
# scanned again by the exact rule.


_exact_window = njit(cache=True, inline="always")(max_window)
_first_max_of_four = njit(cache=True, inline="always")(first_max_of_four)


@njit(cache=True, parallel=True)
def _max_pool_windows(x, out, argmax, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    """Any geometry: windows clipped to the image (padding never wins)."""
    n_batch, channels, height, width = x.shape
    out_h, out_w = out.shape[2], out.shape[3]
    for plane in prange(n_batch * channels):
        n, c = plane // channels, plane % channels
        for oh in range(out_h):
            h_start = oh * stride_h - pad_h
            h_first, h_stop = max(h_start, 0), min(h_start + kernel_h, height)
            for ow in range(out_w):
                w_start = ow * stride_w - pad_w
                w_first, w_stop = max(w_start, 0), min(w_start + kernel_w, width)
                best, best_index = x[n, c, h_first, w_first], h_first * width + w_first
                nan = False
                for h in range(h_first, h_stop):
                    for w in range(w_first, w_stop):
                        value = x[n, c, h, w]
                        take = value > best
                        best = value if take else best
                        best_index = h * width + w if take else best_index
                        nan |= value != value
                if nan:
                    best, best_index = _exact_window(x, n, c, h_first, h_stop, w_first, w_stop,
                                                     width)
                out[n, c, oh, ow] = best
                argmax[n, c, oh, ow] = best_index


@njit(cache=True, parallel=True)
def _max_pool_2x2(x, out, argmax):
    """2x2 windows, stride 2, no padding (every model here), written out: the general
    loop's 2-long inner loops with run-time bounds are much slower."""
    n_batch, channels, height, width = x.shape
    out_h, out_w = out.shape[2], out.shape[3]
    for plane in prange(n_batch * channels):
        n, c = plane // channels, plane % channels
        for oh in range(out_h):
            h = 2 * oh
            for ow in range(out_w):
                w = 2 * ow
                a, b = x[n, c, h, w], x[n, c, h, w + 1]
                d, e = x[n, c, h + 1, w], x[n, c, h + 1, w + 1]
                best, offset = _first_max_of_four(a, b, d, e, width)
                index = h * width + w + offset
                if (a != a) | (b != b) | (d != d) | (e != e):
                    best, index = _exact_window(x, n, c, h, h + 2, w, w + 2, width)
                out[n, c, oh, ow] = best
                argmax[n, c, oh, ow] = index


def max_pool2d_forward(x, out, argmax, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    if (kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w) == (2, 2, 2, 2, 0, 0):
        _max_pool_2x2(x, out, argmax)
    else:
        _max_pool_windows(x, out, argmax, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w)


@njit(cache=True, parallel=True)
def _max_pool_scatter(grad_out, argmax, grad_planes):
    """grad_planes (N, C, H*W): each output's gradient added at its flat argmax index."""
    n_batch, channels = grad_planes.shape[:2]
    out_h, out_w = grad_out.shape[2], grad_out.shape[3]
    for plane in prange(n_batch * channels):
        n, c = plane // channels, plane % channels
        grad_planes[n, c] = 0.0
        for oh in range(out_h):
            for ow in range(out_w):
                grad_planes[n, c, argmax[n, c, oh, ow]] += grad_out[n, c, oh, ow]


def max_pool2d_backward(grad_out, argmax, grad_x, kernel_h, kernel_w, stride_h, stride_w, pad_h,
                        pad_w):
    """Overwrites grad_x (contiguous); flat indices need no division to place them. (The
    geometry is not needed here; the CUDA kernel, which gathers, uses it.)"""
    n, c, h, w = grad_x.shape
    _max_pool_scatter(grad_out, argmax, grad_x.reshape(n, c, h * w))


@njit(cache=True, parallel=True)
def avg_pool2d_forward(x, out, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    n_batch, channels, height, width = x.shape
    out_h, out_w = out.shape[2], out.shape[3]
    scale = 1.0 / (kernel_h * kernel_w)
    for plane in prange(n_batch * channels):
        n, c = plane // channels, plane % channels
        for oh in range(out_h):
            for ow in range(out_w):
                total = 0.0
                for i in range(kernel_h):
                    h = oh * stride_h - pad_h + i
                    if h < 0 or h >= height:
                        continue
                    for j in range(kernel_w):
                        w = ow * stride_w - pad_w + j
                        if 0 <= w < width:
                            total += x[n, c, h, w]
                out[n, c, oh, ow] = total * scale


@njit(cache=True, parallel=True)
def avg_pool2d_backward(grad_out, grad_x, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    n_batch, channels, height, width = grad_x.shape
    out_h, out_w = grad_out.shape[2], grad_out.shape[3]
    scale = 1.0 / (kernel_h * kernel_w)
    for plane in prange(n_batch * channels):
        n, c = plane // channels, plane % channels
        grad_x[n, c] = 0.0
        for oh in range(out_h):
            for ow in range(out_w):
                share = grad_out[n, c, oh, ow] * scale
                for i in range(kernel_h):
                    h = oh * stride_h - pad_h + i
                    if h < 0 or h >= height:
                        continue
                    for j in range(kernel_w):
                        w = ow * stride_w - pad_w + j
                        if 0 <= w < width:
                            grad_x[n, c, h, w] += share
