"""When a flat loop is worth numba's threads. A parallel call hands its work to threads
that may have gone to sleep (they spin only briefly after a parallel loop,
minitorch_pairs/threads.py) and waits for the slowest; below parallel_from elements
(kernels/policy.py) that costs more than the loop itself (as for the study's small SGD
updates and ReLUs; benchmarks/README.md). Such kernels are written once as an
inline body and compiled twice, on the threads and on the calling thread (two wrapper
functions, not one function compiled twice: numba's cache keys an entry by function and
signature, not by its parallel flag)."""
from __future__ import annotations

from .. import policy


def by_size(size: int, parallel, serial):
    """`parallel` for a loop over `size` elements worth the threads, else `serial`."""
    return parallel if size >= policy.get().parallel_from else serial
