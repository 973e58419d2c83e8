"""ReLU forward and backward on the GPU, flat contiguous device arrays (the CPU rule: a NaN
stays NaN forward; the backward passes the gradient only where the output was positive)."""
from __future__ import annotations

from numba import cuda

from .launch import THREADS, blocks


@cuda.jit
def _relu_forward(x, out):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, x.size, stride):
        value = x[k]
        out[k] = 0.0 if value <= 0.0 else value


@cuda.jit
def _relu_backward(grad_out, out, grad_x):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, out.size, stride):
        grad_x[k] = grad_out[k] if out[k] > 0.0 else 0.0


def relu_forward(x, out):
    _relu_forward[blocks(x.size), THREADS](x, out)


def relu_backward(grad_out, out, grad_x):
    _relu_backward[blocks(out.size), THREADS](grad_out, out, grad_x)
