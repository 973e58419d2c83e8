"""torch's in-place tensor updates as array expressions that run unchanged on NumPy arrays
and on CUDA arrays (through their ufuncs), term for term in torch's order so that float64
results agree to rounding. The optimizers without a fused kernel update with these."""
from __future__ import annotations

import numpy as np


def assign(target, value) -> None:
    """target[...] = value: the write that changes the array in place on either device."""
    target[...] = value


def lerp(start, end, weight: float):
    """torch.lerp with a scalar weight: its two forms, chosen by |weight| < 0.5."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def addcmul(base, a, b, value: float):
    """base + value * a * b."""
    return base + value * a * b


def addcdiv(base, a, b, value: float):
    """base + value * a / b."""
    return base + value * a / b


def sqrt(array):
    return np.sqrt(array)
