"""Row-wise log-softmax and the fused cross-entropy over (M, K) logits on the GPU, one
thread per row (K is 2 or 10 here); each row is shifted by its maximum before exp."""
from __future__ import annotations

import math

from numba import cuda

from .launch import THREADS, blocks


@cuda.jit
def _log_softmax_forward(x, out):
    classes = x.shape[1]
    start, step = cuda.grid(1), cuda.gridsize(1)
    for r in range(start, x.shape[0], step):
        peak = x[r, 0]
        for k in range(1, classes):
            peak = max(peak, x[r, k])
        total = 0.0
        for k in range(classes):
            total += math.exp(x[r, k] - peak)
        log_total = peak + math.log(total)
        for k in range(classes):
            out[r, k] = x[r, k] - log_total


@cuda.jit
def _log_softmax_backward(grad_out, out, grad_x):
    classes = out.shape[1]
    start, step = cuda.grid(1), cuda.gridsize(1)
    for r in range(start, out.shape[0], step):
        total = 0.0
        for k in range(classes):
            total += grad_out[r, k]
        for k in range(classes):
            grad_x[r, k] = grad_out[r, k] - math.exp(out[r, k]) * total


@cuda.jit
def _pick_negative(log_probs, target, losses):
    """An out-of-range target gives a NaN loss: the host-side range check would cost a sync
    per loss, so on the device a bad target shows up as a non-finite loss."""
    start, step = cuda.grid(1), cuda.gridsize(1)
    for r in range(start, log_probs.shape[0], step):
        t = target[r]
        losses[r] = -log_probs[r, t] if 0 <= t < log_probs.shape[1] else math.nan


@cuda.jit
def _cross_entropy_backward(log_probs, target, grad_losses, grad_logits):
    classes = log_probs.shape[1]
    start, step = cuda.grid(1), cuda.gridsize(1)
    for r in range(start, log_probs.shape[0], step):
        g = grad_losses[r]
        for k in range(classes):
            grad_logits[r, k] = math.exp(log_probs[r, k]) * g
        t = target[r]
        if 0 <= t < classes:
            grad_logits[r, t] -= g


def log_softmax_forward(x, out):
    _log_softmax_forward[blocks(x.shape[0]), THREADS](x, out)


def log_softmax_backward(grad_out, out, grad_x):
    _log_softmax_backward[blocks(out.shape[0]), THREADS](grad_out, out, grad_x)


def cross_entropy_forward(logits, target, log_probs, losses):
    log_softmax_forward(logits, log_probs)
    _pick_negative[blocks(logits.shape[0]), THREADS](log_probs, target, losses)


def cross_entropy_backward(log_probs, target, grad_losses, grad_logits):
    _cross_entropy_backward[blocks(log_probs.shape[0]), THREADS](log_probs, target,
                                                                 grad_losses, grad_logits)
