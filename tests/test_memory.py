"""minitorch_pairs.memory: freed activations stay mapped for the next step (glibc)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the malloc settings are glibc's (Linux)")

FREE_16_MIB = r"""
import json, os
import numpy as np
import minitorch_pairs as mt

def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

block = np.ones(2 ** 21)  # 16 MiB, written so that its pages are resident
held = rss()
del block
print(json.dumps({"released": held - rss(), "applied": mt.memory.APPLIED}))
"""


def _run(**env) -> dict:
    clean = {name: value for name, value in os.environ.items()
             if not name.startswith("MALLOC_") and name != "MINITORCH_PAIRS_THREAD_DEFAULTS"}
    done = subprocess.run([sys.executable, "-c", FREE_16_MIB], capture_output=True, text=True,
                          env={**clean, **env}, check=True)
    return json.loads(done.stdout)


def test_a_freed_block_stays_mapped_and_glibc_defaults_would_release_it():
    kept = _run()
    assert set(kept["applied"]) == {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"}
    assert kept["released"] < 2 ** 20, kept
    default = _run(MINITORCH_PAIRS_THREAD_DEFAULTS="0")  # malloc left as glibc sets it
    assert default["applied"] == {}
    assert default["released"] > 12 * 2 ** 20, default


def test_the_users_own_malloc_variable_wins():
    result = _run(MALLOC_TRIM_THRESHOLD_="65536")
    assert result["applied"] == {"MALLOC_MMAP_THRESHOLD_": 32 * 2 ** 20}
