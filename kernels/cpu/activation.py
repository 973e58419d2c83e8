"""ReLU forward and backward in one pass each over flat contiguous arrays (NumPy needs two
passes and a boolean temporary for the backward's mask-and-multiply); on numba's threads
from the policy's parallel_from elements, on the calling thread below (kernels/cpu/parallel.py)."""
from __future__ import annotations

from numba import njit, prange

from .parallel import by_size


@njit(cache=True, inline="always")
def _relu(x, out):
    """out = max(x, 0); a NaN stays NaN, as in torch."""
    for k in prange(x.size):
        value = x[k]
        out[k] = 0.0 if value <= 0.0 else value


@njit(cache=True, inline="always")
def _relu_grad(grad_out, out, grad_x):
    """grad_x = 0 where the output is <= 0, else grad_out: torch's threshold_backward, so a
    NaN output passes the gradient, and a NaN upstream gradient at an inactive unit gives 0."""
    for k in prange(out.size):
        grad_x[k] = 0.0 if out[k] <= 0.0 else grad_out[k]


@njit(cache=True, parallel=True)
def _relu_parallel(x, out):
    _relu(x, out)


@njit(cache=True)
def _relu_serial(x, out):
    _relu(x, out)


@njit(cache=True, parallel=True)
def _relu_grad_parallel(grad_out, out, grad_x):
    _relu_grad(grad_out, out, grad_x)


@njit(cache=True)
def _relu_grad_serial(grad_out, out, grad_x):
    _relu_grad(grad_out, out, grad_x)


def relu_forward(x, out):
    """out = max(x, 0) over flat arrays; a NaN stays NaN."""
    by_size(x.size, _relu_parallel, _relu_serial)(x, out)


def relu_backward(grad_out, out, grad_x):
    """grad_x = grad_out where the output is > 0 (or NaN), else 0, over flat arrays."""
    by_size(out.size, _relu_grad_parallel, _relu_grad_serial)(grad_out, out, grad_x)
