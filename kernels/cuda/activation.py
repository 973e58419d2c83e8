"""ReLU forward and backward on the GPU, flat contiguous device arrays (the CPU rule: a NaN
stays NaN forward; the backward stops the gradient only where the output is <= 0, so a NaN
output passes it, as torch's threshold_backward does)."""
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
        grad_x[k] = 0.0 if out[k] <= 0.0 else grad_out[k]


def relu_forward(x, out):
    _relu_forward[blocks(x.size), THREADS](x, out)


def relu_backward(grad_out, out, grad_x):
    _relu_backward[blocks(out.size), THREADS](grad_out, out, grad_x)
