"""Launch geometry shared by the CUDA kernels: one thread per output element, in blocks of
THREADS, with a grid-stride loop inside each kernel so any grid size is correct.

numba's simulator runs every GPU thread as a Python thread, so there the grid is tiny
(SIMULATED): each thread then strides over many elements, which the tests exercise on
purpose; on a GPU the same kernels run with the full grid."""
from __future__ import annotations

from numba import config, cuda

SIMULATED = bool(config.ENABLE_CUDASIM)
THREADS = 8 if SIMULATED else 128
MAX_BLOCKS = 4 if SIMULATED else 4096


def blocks(count: int) -> int:
    """Blocks for `count` elements (at least 1, at most MAX_BLOCKS: the kernels stride)."""
    return max(1, min(MAX_BLOCKS, (count + THREADS - 1) // THREADS))


@cuda.jit(device=True, inline=True)
def unravel(k, size1, size2, size3):
    """The 4-D index (a, b, c, d) of flat position k in a C-ordered (_, size1, size2, size3)
    array."""
    d, c = k % size3, (k // size3) % size2
    b, a = (k // (size3 * size2)) % size1, k // (size3 * size2 * size1)
    return a, b, c, d
