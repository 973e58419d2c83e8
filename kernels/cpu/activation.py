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
    """grad_x = grad_out where the output was positive, else 0 (torch's threshold_backward:
    a NaN upstream gradient at an inactive unit gives 0, not NaN)."""
    for k in prange(out.size):
        grad_x[k] = grad_out[k] if out[k] > 0.0 else 0.0
