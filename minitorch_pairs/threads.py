"""How the two thread pools behind the CPU backend share the cores.

Our numba kernels run on numba's OpenMP pool and the matrix products on OpenBLAS's pool.
By default both spin-wait after each job (OpenMP ~1e5 spins, OpenBLAS ~2^28 cycles), so on
a small machine each pool's idle spinning steals the cores the other needs next: one
training step of the study's Siamese net took 107-131 ms with the defaults and 36-48 ms
with both told to sleep at once (2 cores; benchmarks/README.md). These defaults must be in
the environment before numpy (OpenBLAS) loads and before the first parallel kernel
(OpenMP) starts, so this module is imported first; a value the user has set wins, and
MINITORCH_PAIRS_THREAD_DEFAULTS=0 leaves the environment alone (the benchmarks' torch
workers use it, so that torch runs with its own defaults).
"""
from __future__ import annotations

import os

RUNTIME_DEFAULTS = {
    "OMP_WAIT_POLICY": "PASSIVE",     # libgomp: sleep, don't spin, between parallel loops
    "OPENBLAS_THREAD_TIMEOUT": "4",   # OpenBLAS: spin 2^4 cycles (the minimum), then sleep
}

USER_ENV = {name: os.environ[name] for name in RUNTIME_DEFAULTS if name in os.environ}

if os.environ.get("MINITORCH_PAIRS_THREAD_DEFAULTS", "1") != "0":
    for _name, _value in RUNTIME_DEFAULTS.items():
        os.environ.setdefault(_name, _value)

