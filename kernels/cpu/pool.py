"""Max and average pooling over (N, C, H, W), one thread per image plane.

Max pooling records the argmax as a flat index h * W + w in the input plane; ties keep
the first maximum in row-major order and a NaN wins its window (the last NaN, by
torch's CPU rule `value > best or isnan(value)`). Average pooling counts the padding in the
divisor (torch's count_include_pad=True).
"""
from __future__ import annotations

from numba import njit, prange


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
                for h in range(h_first, h_stop):
                    for w in range(w_first, w_stop):
                        value = x[n, c, h, w]
                        if value > best or value != value:
                            best, best_index = value, h * width + w
                out[n, c, oh, ow] = best
                argmax[n, c, oh, ow] = best_index


@njit(cache=True, parallel=True)
def _max_pool_2x2(x, out, argmax):
    """2x2 windows, stride 2, no padding (every model here). The general loop's 2-long inner
    loops with run-time bounds cost 3-4x more than this unrolled form (measured)."""
    n_batch, channels, height, width = x.shape
    out_h, out_w = out.shape[2], out.shape[3]
    for plane in prange(n_batch * channels):
        n, c = plane // channels, plane % channels
        for oh in range(out_h):
            for ow in range(out_w):
                h, w = 2 * oh, 2 * ow
                best, best_index = x[n, c, h, w], h * width + w
                for dh in range(2):
                    for dw in range(2):
                        value = x[n, c, h + dh, w + dw]
                        if value > best or value != value:
                            best, best_index = value, (h + dh) * width + w + dw
                out[n, c, oh, ow] = best
                argmax[n, c, oh, ow] = best_index


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
