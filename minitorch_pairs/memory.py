"""Keep freed activations mapped between training steps (glibc's malloc, Linux).

By default glibc serves each request above M_MMAP_THRESHOLD with a fresh mmap and hands
the top of the heap back to the OS once more than M_TRIM_THRESHOLD bytes are free there;
both adapt upwards, but a training step that frees tens of MB of columns and activations
keeps crossing them, so every step page-faulted its big temporaries in again, a large share
of a convolution's time (benchmarks/README.md). Here blocks up to 32 MiB (glibc's
largest threshold) come from the heap, and up to 1 GiB of freed heap stays mapped for the
next step (torch's CPU allocator and numpy's small-block cache reuse memory for the same
reason). A value set in glibc's own variables (MALLOC_MMAP_THRESHOLD_,
MALLOC_TRIM_THRESHOLD_) wins, and MINITORCH_PAIRS_THREAD_DEFAULTS=0 leaves malloc as it is.
"""
from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameter numbers (malloc.h)
SETTINGS = {"MALLOC_MMAP_THRESHOLD_": (M_MMAP_THRESHOLD, 32 * 2 ** 20),
            "MALLOC_TRIM_THRESHOLD_": (M_TRIM_THRESHOLD, 2 ** 30)}


def keep_freed_memory() -> dict:
    """Apply SETTINGS where the user set nothing; returns what was applied (empty where
    malloc is not glibc's)."""
    if os.environ.get("MINITORCH_PAIRS_THREAD_DEFAULTS", "1") == "0":
        return {}
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return {}
    applied = {}
    for variable, (parameter, value) in SETTINGS.items():
        if variable not in os.environ and mallopt(parameter, value) == 1:
            applied[variable] = value
    return applied


APPLIED = keep_freed_memory()
