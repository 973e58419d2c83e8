"""`mt.cuda`: whether the CUDA device is usable (a GPU, or numba's CUDA simulator)."""
from __future__ import annotations

from .backend import cuda_available


def is_available() -> bool:
    return cuda_available()
