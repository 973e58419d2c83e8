"""Batch normalisation over x viewed as (N, C, L), one thread per channel.

Statistics accumulate in float64 whatever the input dtype, in two passes (mean, then
centred squares), so float32 batches do not lose precision to cancellation. The sums may be
reassociated (fastmath "reassoc", nothing else: NaN and inf still propagate), which lets
LLVM keep several partial sums in vector registers instead of one serial chain of dependent
adds: much faster on the study's shapes, and as deterministic, since the compiled order is
fixed.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


SUMS = {"reassoc"}


@njit(cache=True, parallel=True, fastmath=SUMS)
def batch_norm_train_forward(x, weight, bias, eps, out, mean, invstd):
    n_batch, channels, length = x.shape
    count = n_batch * length
    for c in prange(channels):
        total = 0.0
        for n in range(n_batch):
            for k in range(length):
                total += x[n, c, k]
        mu = total / count
        squares = 0.0
        for n in range(n_batch):
            for k in range(length):
                d = x[n, c, k] - mu
                squares += d * d
        inv = 1.0 / np.sqrt(squares / count + eps)
        mean[c], invstd[c] = mu, inv
        scale, shift = weight[c] * inv, bias[c] - mu * weight[c] * inv
        for n in range(n_batch):
            for k in range(length):
                out[n, c, k] = x[n, c, k] * scale + shift


@njit(cache=True, parallel=True)
def batch_norm_eval_forward(x, weight, bias, running_mean, running_var, eps, out):
    n_batch, channels, length = x.shape
    for c in prange(channels):
        inv = 1.0 / np.sqrt(running_var[c] + eps)
        scale, shift = weight[c] * inv, bias[c] - running_mean[c] * weight[c] * inv
        for n in range(n_batch):
            for k in range(length):
                out[n, c, k] = x[n, c, k] * scale + shift


@njit(cache=True, parallel=True, fastmath=SUMS)
def batch_norm_backward(grad_out, x, mean, invstd, weight, grad_x, grad_weight, grad_bias):
    """Training-mode backward through the batch mean and variance."""
    n_batch, channels, length = x.shape
    count = n_batch * length
    for c in prange(channels):
        mu, inv = mean[c], invstd[c]
        sum_grad, sum_grad_xhat = 0.0, 0.0
        for n in range(n_batch):
            for k in range(length):
                g = grad_out[n, c, k]
                sum_grad += g
                sum_grad_xhat += g * (x[n, c, k] - mu) * inv
        grad_weight[c], grad_bias[c] = sum_grad_xhat, sum_grad
        mean_grad, mean_grad_xhat = sum_grad / count, sum_grad_xhat / count
        scale = weight[c] * inv
        for n in range(n_batch):
            for k in range(length):
                x_hat = (x[n, c, k] - mu) * inv
                grad_x[n, c, k] = scale * (grad_out[n, c, k] - mean_grad - x_hat * mean_grad_xhat)
