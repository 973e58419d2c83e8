"""Launch geometry shared by the CUDA kernels: one thread per output element, in blocks of
THREADS, with a grid-stride loop inside each kernel so any grid size is correct."""
from __future__ import annotations

THREADS = 128
MAX_BLOCKS = 4096


def blocks(count: int) -> int:
    """Blocks for `count` elements (at least 1, at most MAX_BLOCKS: the kernels stride)."""
    return max(1, min(MAX_BLOCKS, (count + THREADS - 1) // THREADS))
