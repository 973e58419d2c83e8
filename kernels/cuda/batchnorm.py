"""Batch normalisation over (N, C, L) device arrays: one block per channel, its threads
striding over the N*L values and combining partial sums in shared memory. Statistics
accumulate in float64, as on the CPU, so float32 batches keep their precision."""
from __future__ import annotations

import math

from numba import cuda, float64

from .launch import SIMULATED, THREADS as ELEMENT_THREADS, blocks

THREADS = 8 if SIMULATED else 128  # per channel's block; a power of two (the tree halves it)


@cuda.jit(device=True)
def _block_sum(partial, value):
    """The sum of `value` over the block's threads (every thread gets it)."""
    t = cuda.threadIdx.x
    partial[t] = value
    cuda.syncthreads()
    half = THREADS // 2
    while half > 0:
        if t < half:
            partial[t] += partial[t + half]
        cuda.syncthreads()
        half //= 2
    total = partial[0]
    cuda.syncthreads()
    return total


@cuda.jit
def _train_forward(x, weight, bias, eps, out, mean, invstd):
    n_batch, length = x.shape[0], x.shape[2]
    c, t = cuda.blockIdx.x, cuda.threadIdx.x
    count = n_batch * length
    partial = cuda.shared.array(THREADS, float64)
    total = 0.0
    for k in range(t, count, THREADS):
        total += x[k // length, c, k % length]
    mu = _block_sum(partial, total) / count
    squares = 0.0
    for k in range(t, count, THREADS):
        d = x[k // length, c, k % length] - mu
        squares += d * d
    inv = 1.0 / math.sqrt(_block_sum(partial, squares) / count + eps)
    if t == 0:
        mean[c], invstd[c] = mu, inv
    scale = weight[c] * inv
    shift = bias[c] - mu * scale
    for k in range(t, count, THREADS):
        out[k // length, c, k % length] = x[k // length, c, k % length] * scale + shift


@cuda.jit
def _eval_forward(x, weight, bias, running_mean, running_var, eps, out):
    n_batch, channels, length = x.shape
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, x.size, step):
        p, c, n = k % length, (k // length) % channels, k // (length * channels)
        scale = weight[c] / math.sqrt(running_var[c] + eps)
        out[n, c, p] = (x[n, c, p] - running_mean[c]) * scale + bias[c]


@cuda.jit
def _backward(grad_out, x, mean, invstd, weight, grad_x, grad_weight, grad_bias):
    n_batch, length = x.shape[0], x.shape[2]
    c, t = cuda.blockIdx.x, cuda.threadIdx.x
    count = n_batch * length
    partial = cuda.shared.array(THREADS, float64)
    mu, inv = mean[c], invstd[c]
    sum_grad, sum_grad_xhat = 0.0, 0.0
    for k in range(t, count, THREADS):
        g = grad_out[k // length, c, k % length]
        sum_grad += g
        sum_grad_xhat += g * (x[k // length, c, k % length] - mu) * inv
    sum_grad = _block_sum(partial, sum_grad)
    sum_grad_xhat = _block_sum(partial, sum_grad_xhat)
    if t == 0:
        grad_weight[c], grad_bias[c] = sum_grad_xhat, sum_grad
    mean_grad, mean_grad_xhat = sum_grad / count, sum_grad_xhat / count
    scale = weight[c] * inv
    for k in range(t, count, THREADS):
        n, p = k // length, k % length
        x_hat = (x[n, c, p] - mu) * inv
        grad_x[n, c, p] = scale * (grad_out[n, c, p] - mean_grad - x_hat * mean_grad_xhat)


def batch_norm_train_forward(x, weight, bias, eps, out, mean, invstd):
    _train_forward[x.shape[1], THREADS](x, weight, bias, eps, out, mean, invstd)


def batch_norm_eval_forward(x, weight, bias, running_mean, running_var, eps, out):
    _eval_forward[blocks(x.size), ELEMENT_THREADS](x, weight, bias, running_mean, running_var,
                                                   eps, out)


def batch_norm_backward(grad_out, x, mean, invstd, weight, grad_x, grad_weight, grad_bias):
    _backward[x.shape[1], THREADS](grad_out, x, mean, invstd, weight, grad_x, grad_weight,
                                   grad_bias)
