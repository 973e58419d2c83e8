"""How the CPU backend's threads share the cores.

One pool does all the parallel work: numba's OpenMP threads run the kernels, and the matrix
products too, cut into single-threaded BLAS calls on those threads (kernels/cpu/products.py).
BLAS runs one thread per call while our ops run, and only then (kernels/cpu/blas_threads.py):
with threads of its own, each BLAS pool's threads and numba's wait for the same cores and
slow every product down, worst when each piece of a cut product starts BLAS threads;
outside our ops every library keeps the thread count it had, so importing minitorch_pairs
leaves torch's and NumPy's threads as the user set them.

After a parallel kernel numba's threads spin for GOMP_SPINCOUNT=100000 turns before they
sleep: the next kernel usually follows within that, and waking a sleeping thread for every
kernel costs more than the spinning (benchmarks/README.md). OpenBLAS's threads, when they
run, spin only briefly (OPENBLAS_THREAD_TIMEOUT=4). These two change how long idle threads
wait, not how many there are.

They must be in the environment before numpy (BLAS) loads and before the first parallel
kernel (OpenMP) starts, so this module is imported first; a value the user has set wins,
and MINITORCH_PAIRS_THREAD_DEFAULTS=0 leaves the environment alone.
"""
from __future__ import annotations

import os

RUNTIME_DEFAULTS = {
    "GOMP_SPINCOUNT": "100000",       # libgomp: spin a while after a parallel loop, then sleep
    "OPENBLAS_THREAD_TIMEOUT": "4",   # OpenBLAS: spin 2^4 cycles (the minimum), then sleep
}

USER_ENV = {name: os.environ[name] for name in RUNTIME_DEFAULTS if name in os.environ}

if os.environ.get("MINITORCH_PAIRS_THREAD_DEFAULTS", "1") != "0":
    for _name, _value in RUNTIME_DEFAULTS.items():
        os.environ.setdefault(_name, _value)

