"""ReLU forward and backward in one pass each over flat contiguous arrays (NumPy needs two
passes and a boolean temporary for the backward's mask-and-multiply)."""
from __future__ import annotations

from numba import njit, prange


@njit(cache=True, parallel=True)
def relu_forward(x, out):
    """out = max(x, 0); a NaN stays NaN, as in torch."""
    for k in prange(x.size):
        value = x[k]
        out[k] = 0.0 if value <= 0.0 else value


@njit(cache=True, parallel=True)
def relu_backward(grad_out, out, grad_x):
    """grad_x = 0 where the output is <= 0, else grad_out: torch's threshold_backward, so a
    NaN output passes the gradient, and a NaN upstream gradient at an inactive unit gives 0."""
    for k in prange(out.size):
        grad_x[k] = 0.0 if out[k] <= 0.0 else grad_out[k]
