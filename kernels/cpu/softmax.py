"""Row-wise log-softmax and the fused cross-entropy over (M, K) logits.

Every row is shifted by its maximum before exp, so large logits cannot overflow. Serial:
the study's logits are at most a few thousand values, and a parallel launch (waking the
second thread) takes longer than the work.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def log_softmax_forward(x, out):
    rows, classes = x.shape
    for r in range(rows):
        peak = x[r, 0]
        for k in range(1, classes):
            if x[r, k] > peak:
                peak = x[r, k]
        total = 0.0
        for k in range(classes):
            total += np.exp(x[r, k] - peak)
        log_total = peak + np.log(total)
        for k in range(classes):
            out[r, k] = x[r, k] - log_total


@njit(cache=True)
def log_softmax_backward(grad_out, out, grad_x):
    rows, classes = out.shape
    for r in range(rows):
        total = 0.0
        for k in range(classes):
            total += grad_out[r, k]
        for k in range(classes):
            grad_x[r, k] = grad_out[r, k] - np.exp(out[r, k]) * total


@njit(cache=True)
def cross_entropy_forward(logits, target, log_probs, losses):
    log_softmax_forward(logits, log_probs)
    for r in range(log_probs.shape[0]):
        losses[r] = -log_probs[r, target[r]]


@njit(cache=True)
def cross_entropy_backward(log_probs, target, grad_losses, grad_logits):
    rows, classes = log_probs.shape
    for r in range(rows):
        g = grad_losses[r]
        for k in range(classes):
            grad_logits[r, k] = np.exp(log_probs[r, k]) * g
        grad_logits[r, target[r]] -= g
