"""The max-pool window scan, written once as a plain function and compiled for each device
(numba njit in kernels/cpu/pool.py, a CUDA device function in kernels/cuda/pool.py)."""
from __future__ import annotations


def max_window(x, n, c, h_first, h_stop, w_first, w_stop, width):
    """torch's CPU rule element by element: a strictly greater value, or a NaN, takes over
    (ties keep the first maximum in row-major order; the last NaN wins). Returns the value
    and its flat index h * W + w in the plane."""
    best, best_index = x[n, c, h_first, w_first], h_first * width + w_first
    for h in range(h_first, h_stop):
        for w in range(w_first, w_stop):
            value = x[n, c, h, w]
            if value > best or value != value:
                best, best_index = value, h * width + w
    return best, best_index


def max_of_four(a, b, c, d, at):
    """The same rule for a 2x2 window read as a, b (top row), c, d: the value and the entry
    of `at` for the element that holds it ((0, 1, 2, 3): its position; a caller may pass
    offsets of its own, in its own type). Written as selects, not branches: which element
    wins is random on real data, and a mispredicted branch per comparison costs more than
    the selects."""
    best, where = a, at[0]
    take = (b > best) | (b != b)
    best, where = (b if take else best), (at[1] if take else where)
    take = (c > best) | (c != c)
    best, where = (c if take else best), (at[2] if take else where)
    take = (d > best) | (d != d)
    best, where = (d if take else best), (at[3] if take else where)
    return best, where


def first_max_of_four(a, b, c, d, width):
    """The same scan over a 2x2 window read as a, b (top row), c, d, without the NaN rule
    (callers test for a NaN and then use the exact rule): the value and its offset from the
    top left in a plane of `width`, 0, 1, width or width + 1. Selects, not branches, as in
    max_of_four."""
    best, offset = a, 0
    take = b > best
    best, offset = (b if take else best), (1 if take else offset)
    take = c > best
    best, offset = (c if take else best), (width if take else offset)
    take = d > best
    best, offset = (d if take else best), (width + 1 if take else offset)
    return best, offset
