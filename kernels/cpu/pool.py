"""Max and average pooling over (N, C, H, W), one thread per image plane.

Max pooling pads with -inf and records the argmax as a flat index h * W + w in the
input plane; ties keep the first maximum in row-major order and a NaN wins its
window, as torch's CPU kernels do. Average pooling counts the padding in the
divisor (torch's count_include_pad=True).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def max_pool2d_forward(x, out, argmax, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w):
    n_batch, channels, height, width = x.shape
    out_h, out_w = out.shape[2], out.shape[3]
    for plane in prange(n_batch * channels):
        n, c = plane // channels, plane % channels
        for oh in range(out_h):
            for ow in range(out_w):
                best, best_index = -np.inf, -1
                for i in range(kernel_h):
                    h = oh * stride_h - pad_h + i
                    if h < 0 or h >= height:
                        continue
                    for j in range(kernel_w):
                        w = ow * stride_w - pad_w + j
                        if w < 0 or w >= width:
                            continue
                        value = x[n, c, h, w]
                        if best_index < 0 or value > best or (value != value and best == best):
                            best, best_index = value, h * width + w
                out[n, c, oh, ow] = best
                argmax[n, c, oh, ow] = best_index


@njit(cache=True, parallel=True)
def max_pool2d_backward(grad_out, argmax, grad_x):
    n_batch, channels, height, width = grad_x.shape
    out_h, out_w = grad_out.shape[2], grad_out.shape[3]
    for plane in prange(n_batch * channels):
        n, c = plane // channels, plane % channels
        grad_x[n, c] = 0.0
        for oh in range(out_h):
            for ow in range(out_w):
                index = argmax[n, c, oh, ow]
                grad_x[n, c, index // width, index % width] += grad_out[n, c, oh, ow]


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
