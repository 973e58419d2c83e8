"""Max and average pooling over (N, C, H, W) device arrays, one thread per element.

Forward: one thread per output, the CPU kernels' rules (max: first maximum in row-major
order, a NaN wins by torch's `value > best or isnan(value)`; average: padding counts in the
divisor). Backward gathers: one thread per *input* element sums the outputs whose window
holds it, so no atomics are needed and the result does not depend on thread order.
"""
from __future__ import annotations

from numba import cuda

from ..window_rules import max_window
from .launch import THREADS, blocks, unravel

_max_window = cuda.jit(device=True)(max_window)


@cuda.jit
def _max_pool_forward(x, out, argmax, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    n_batch, channels, height, width = x.shape
    out_h, out_w = out.shape[2], out.shape[3]
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, out.size, step):
        n, c, oh, ow = unravel(k, channels, out_h, out_w)
        h_first = max(oh * stride_h - pad_h, 0)
        w_first = max(ow * stride_w - pad_w, 0)
        h_stop = min(oh * stride_h - pad_h + kernel_h, height)
        w_stop = min(ow * stride_w - pad_w + kernel_w, width)
        best, best_index = _max_window(x, n, c, h_first, h_stop, w_first, w_stop, width)
        out[n, c, oh, ow] = best
        argmax[n, c, oh, ow] = best_index


@cuda.jit(device=True, inline=True)
def _windows_holding(position, kernel, stride, pad, count):
    """The output range [first, stop) whose windows (o*stride - pad, + kernel) hold
    `position`."""
    shifted = position + pad
    first = 0 if shifted < kernel else (shifted - kernel) // stride + 1
    stop = min(count, shifted // stride + 1)
    return first, stop


@cuda.jit
def _max_pool_backward(grad_out, argmax, grad_x, kernel_h, kernel_w, stride_h, stride_w, pad_h,
                       pad_w):
    n_batch, channels, height, width = grad_x.shape
    out_h, out_w = grad_out.shape[2], grad_out.shape[3]
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, grad_x.size, step):
        n, c, h, w = unravel(k, channels, height, width)
        oh_first, oh_stop = _windows_holding(h, kernel_h, stride_h, pad_h, out_h)
        ow_first, ow_stop = _windows_holding(w, kernel_w, stride_w, pad_w, out_w)
        total = 0.0
        # only the windows that hold this input can have chosen it
        for oh in range(oh_first, oh_stop):
            for ow in range(ow_first, ow_stop):
                if argmax[n, c, oh, ow] == h * width + w:
                    total += grad_out[n, c, oh, ow]
        grad_x[n, c, h, w] = total


@cuda.jit
def _avg_pool_forward(x, out, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    n_batch, channels, height, width = x.shape
    out_h, out_w = out.shape[2], out.shape[3]
    scale = 1.0 / (kernel_h * kernel_w)
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, out.size, step):
        n, c, oh, ow = unravel(k, channels, out_h, out_w)
        total = 0.0
        for h in range(max(oh * stride_h - pad_h, 0),
                       min(oh * stride_h - pad_h + kernel_h, height)):
            for w in range(max(ow * stride_w - pad_w, 0),
                           min(ow * stride_w - pad_w + kernel_w, width)):
                total += x[n, c, h, w]
        out[n, c, oh, ow] = total * scale


@cuda.jit
def _avg_pool_backward(grad_out, grad_x, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    n_batch, channels, height, width = grad_x.shape
    out_h, out_w = grad_out.shape[2], grad_out.shape[3]
    scale = 1.0 / (kernel_h * kernel_w)
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, grad_x.size, step):
        n, c, h, w = unravel(k, channels, height, width)
        oh_first, oh_stop = _windows_holding(h, kernel_h, stride_h, pad_h, out_h)
        ow_first, ow_stop = _windows_holding(w, kernel_w, stride_w, pad_w, out_w)
        total = 0.0
        for oh in range(oh_first, oh_stop):
            for ow in range(ow_first, ow_stop):
                total += grad_out[n, c, oh, ow]
        grad_x[n, c, h, w] = total * scale


def max_pool2d_forward(x, out, argmax, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    _max_pool_forward[blocks(out.size), THREADS](x, out, argmax, kernel_h, kernel_w,
                                                 stride_h, stride_w, pad_h, pad_w)


def max_pool2d_backward(grad_out, argmax, grad_x, kernel_h, kernel_w, stride_h, stride_w, pad_h,
                        pad_w):
    _max_pool_backward[blocks(grad_x.size), THREADS](grad_out, argmax, grad_x, kernel_h,
                                                     kernel_w, stride_h, stride_w, pad_h, pad_w)


def avg_pool2d_forward(x, out, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    _avg_pool_forward[blocks(out.size), THREADS](x, out, kernel_h, kernel_w, stride_h,
                                                 stride_w, pad_h, pad_w)


def avg_pool2d_backward(grad_out, grad_x, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    _avg_pool_backward[blocks(grad_x.size), THREADS](grad_out, grad_x, kernel_h, kernel_w,
                                                     stride_h, stride_w, pad_h, pad_w)
