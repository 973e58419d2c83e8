"""Counter-based random numbers, written once as a scalar function and compiled for each
device (like update_rules.py): element k of a draw is a hash of (seed, k), so the CPU and the
GPU give the same dropout mask for the same seed, each element is computed independently (no
generator state to share between threads), and nothing is synchronised."""
from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def uniform(seed, index):
    """A float64 in [0, 1) from SplitMix64's output for counter `index` of stream `seed`
    (both uint64; arithmetic wraps modulo 2**64)."""
    z = seed + (index + np.uint64(1)) * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)  # top 53 bits / 2**53
