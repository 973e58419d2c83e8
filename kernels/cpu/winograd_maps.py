"""The 1-D maps of Winograd's F(4x4, 3x3) and F(6x6, 3x3) (Lavin & Gray 2016), and their
filter transforms: the arithmetic conv_winograd's kernels apply row by row.

F(4x4) takes points 0, +-1, +-2 and infinity (6-point rows); F(6x6) takes 0, +-1, +-2,
+-1/2 and infinity (8-point rows, NNPACK's choice). tests/test_kernels.py checks every map
against its matrix and the matrices against correlation.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# G of F(4x4, 3x3), and kron(G, G): U[6k + l] = sum_ij G[k, i] G[l, j] g[i, j]
G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
              [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])
GG = np.kron(G, G)
# G of F(6x6, 3x3) (points 0, +-1, +-2, +-1/2, infinity), and kron(G8, G8)
G8 = np.array([[1, 0, 0], [-2 / 9, -2 / 9, -2 / 9], [-2 / 9, 2 / 9, -2 / 9],
               [1 / 90, 1 / 45, 2 / 45], [1 / 90, -1 / 45, 2 / 45],
               [32 / 45, 16 / 45, 8 / 45], [32 / 45, -16 / 45, 8 / 45], [0, 0, 1]])
GG8 = np.kron(G8, G8)

# The four 1-D transforms below map rows src[i + m di, s0:s0+n] to rows dst[j + k dj,
# d0:d0+n]. Each output row is its own loop over 1-D views: a view indexed from 0 spares
# numba's negative-index test, and one store per loop keeps LLVM's run-time alias checks few
# enough to vectorise. Constants are of the array's dtype: an int literal would promote
# float32 to float64, at a large cost in speed. They are called, not inlined by numba
# (inline="always" runs a little faster but makes a cold cache's compile much longer); LLVM
# still inlines them at each call site, which is why every kernel calls its map from one
# place (conv_winograd). Each takes its views itself: a shared helper returning the views
# made the transforms markedly slower, so the eight maps repeat their view set-up lines.


@njit(cache=True)
def bt4(src, i, di, s0, dst, j, dj, d0, n):
    """dst[k] = sum_m B^T[k, m] src[m], k, m < 6 (the input patch transform)."""
    t = src.dtype.type
    k2, k4, k5 = t(2), t(4), t(5)
    x0, x1, x2 = src[i, s0:s0 + n], src[i + di, s0:s0 + n], src[i + 2 * di, s0:s0 + n]
    x3, x4, x5 = (src[i + 3 * di, s0:s0 + n], src[i + 4 * di, s0:s0 + n],
                  src[i + 5 * di, s0:s0 + n])
    y0, y1, y2 = dst[j, d0:d0 + n], dst[j + dj, d0:d0 + n], dst[j + 2 * dj, d0:d0 + n]
    y3, y4, y5 = (dst[j + 3 * dj, d0:d0 + n], dst[j + 4 * dj, d0:d0 + n],
                  dst[j + 5 * dj, d0:d0 + n])
    for c in range(n):
        y0[c] = k4 * x0[c] - k5 * x2[c] + x4[c]
    for c in range(n):
        y1[c] = x3[c] + x4[c] - k4 * (x1[c] + x2[c])
    for c in range(n):
        y2[c] = x4[c] - x3[c] + k4 * (x1[c] - x2[c])
    for c in range(n):
        y3[c] = x4[c] - x2[c] + k2 * (x3[c] - x1[c])
    for c in range(n):
        y4[c] = x4[c] - x2[c] + k2 * (x1[c] - x3[c])
    for c in range(n):
        y5[c] = k4 * x1[c] - k5 * x3[c] + x5[c]


@njit(cache=True)
def b4_add(src, i, di, s0, dst, j, dj, d0, n):
    """dst[m] += sum_k B^T[k, m] src[k]: the adjoint of bt4, accumulated."""
    t = src.dtype.type
    k2, k4, k5 = t(2), t(4), t(5)
    x0, x1, x2 = src[i, s0:s0 + n], src[i + di, s0:s0 + n], src[i + 2 * di, s0:s0 + n]
    x3, x4, x5 = (src[i + 3 * di, s0:s0 + n], src[i + 4 * di, s0:s0 + n],
                  src[i + 5 * di, s0:s0 + n])
    y0, y1, y2 = dst[j, d0:d0 + n], dst[j + dj, d0:d0 + n], dst[j + 2 * dj, d0:d0 + n]
    y3, y4, y5 = (dst[j + 3 * dj, d0:d0 + n], dst[j + 4 * dj, d0:d0 + n],
                  dst[j + 5 * dj, d0:d0 + n])
    for c in range(n):
        y0[c] += k4 * x0[c]
    for c in range(n):
        y1[c] += k4 * (x2[c] - x1[c] + x5[c]) + k2 * (x4[c] - x3[c])
    for c in range(n):
        y2[c] += -k5 * x0[c] - x3[c] - x4[c] - k4 * (x1[c] + x2[c])
    for c in range(n):
        y3[c] += x1[c] - x2[c] - k5 * x5[c] + k2 * (x3[c] - x4[c])
    for c in range(n):
        y4[c] += x0[c] + x1[c] + x2[c] + x3[c] + x4[c]
    for c in range(n):
        y5[c] += x5[c]


@njit(cache=True)
def at4(src, i, di, s0, dst, j, dj, d0, n):
    """dst[a] = sum_k A^T[a, k] src[k], a < 4, k < 6 (the output tile transform)."""
    t = src.dtype.type
    k2, k4, k8 = t(2), t(4), t(8)
    x0, x1, x2 = src[i, s0:s0 + n], src[i + di, s0:s0 + n], src[i + 2 * di, s0:s0 + n]
    x3, x4, x5 = (src[i + 3 * di, s0:s0 + n], src[i + 4 * di, s0:s0 + n],
                  src[i + 5 * di, s0:s0 + n])
    y0, y1 = dst[j, d0:d0 + n], dst[j + dj, d0:d0 + n]
    y2, y3 = dst[j + 2 * dj, d0:d0 + n], dst[j + 3 * dj, d0:d0 + n]
    for c in range(n):
        y0[c] = x0[c] + x1[c] + x2[c] + x3[c] + x4[c]
    for c in range(n):
        y1[c] = x1[c] - x2[c] + k2 * (x3[c] - x4[c])
    for c in range(n):
        y2[c] = x1[c] + x2[c] + k4 * (x3[c] + x4[c])
    for c in range(n):
        y3[c] = x1[c] - x2[c] + x5[c] + k8 * (x3[c] - x4[c])


@njit(cache=True)
def a4(src, i, di, s0, dst, j, dj, d0, n):
    """dst[k] = sum_a A^T[a, k] src[a]: the adjoint of at4."""
    t = src.dtype.type
    k2, k4, k8 = t(2), t(4), t(8)
    x0, x1 = src[i, s0:s0 + n], src[i + di, s0:s0 + n]
    x2, x3 = src[i + 2 * di, s0:s0 + n], src[i + 3 * di, s0:s0 + n]
    y0, y1, y2 = dst[j, d0:d0 + n], dst[j + dj, d0:d0 + n], dst[j + 2 * dj, d0:d0 + n]
    y3, y4, y5 = (dst[j + 3 * dj, d0:d0 + n], dst[j + 4 * dj, d0:d0 + n],
                  dst[j + 5 * dj, d0:d0 + n])
    for c in range(n):
        y0[c] = x0[c]
    for c in range(n):
        y1[c] = x0[c] + x1[c] + x2[c] + x3[c]
    for c in range(n):
        y2[c] = x0[c] - x1[c] + x2[c] - x3[c]
    for c in range(n):
        y3[c] = x0[c] + k2 * x1[c] + k4 * x2[c] + k8 * x3[c]
    for c in range(n):
        y4[c] = x0[c] - k2 * x1[c] + k4 * x2[c] - k8 * x3[c]
    for c in range(n):
        y5[c] = x3[c]



# F(6x6, 3x3): the same four maps on 8-point rows (points 0, +-1, +-2, +-1/2 and infinity)


@njit(cache=True)
def bt8(src, i, di, s0, dst, j, dj, d0, n):
    """dst[k] = sum_m B8^T[k, m] src[m], k, m < 8 (F(6x6, 3x3)'s input patch transform)."""
    t = src.dtype.type
    half, quarter, k2, k4, k5 = t(0.5), t(0.25), t(2), t(4), t(5)
    k17_4, k21_4, k5_2, k5_4 = t(4.25), t(5.25), t(2.5), t(1.25)
    x0, x1, x2 = src[i, s0:s0 + n], src[i + di, s0:s0 + n], src[i + 2 * di, s0:s0 + n]
    x3, x4, x5 = (src[i + 3 * di, s0:s0 + n], src[i + 4 * di, s0:s0 + n],
                  src[i + 5 * di, s0:s0 + n])
    x6, x7 = src[i + 6 * di, s0:s0 + n], src[i + 7 * di, s0:s0 + n]
    y0, y1, y2 = dst[j, d0:d0 + n], dst[j + dj, d0:d0 + n], dst[j + 2 * dj, d0:d0 + n]
    y3, y4, y5 = (dst[j + 3 * dj, d0:d0 + n], dst[j + 4 * dj, d0:d0 + n],
                  dst[j + 5 * dj, d0:d0 + n])
    y6, y7 = dst[j + 6 * dj, d0:d0 + n], dst[j + 7 * dj, d0:d0 + n]
    for c in range(n):
        y0[c] = x0[c] - x6[c] + k21_4 * (x4[c] - x2[c])
    for c in range(n):
        y1[c] = x1[c] + x2[c] + x5[c] + x6[c] - k17_4 * (x3[c] + x4[c])
    for c in range(n):
        y2[c] = x2[c] - x1[c] - x5[c] + x6[c] + k17_4 * (x3[c] - x4[c])
    for c in range(n):
        y3[c] = half * x1[c] + quarter * x2[c] - k5_2 * x3[c] - k5_4 * x4[c] + k2 * x5[c] + x6[c]
    for c in range(n):
        y4[c] = quarter * x2[c] - half * x1[c] + k5_2 * x3[c] - k5_4 * x4[c] - k2 * x5[c] + x6[c]
    for c in range(n):
        y5[c] = k2 * x1[c] + k4 * x2[c] - k5_2 * x3[c] - k5 * x4[c] + half * x5[c] + x6[c]
    for c in range(n):
        y6[c] = k4 * x2[c] - k2 * x1[c] + k5_2 * x3[c] - k5 * x4[c] - half * x5[c] + x6[c]
    for c in range(n):
        y7[c] = x7[c] - x1[c] + k21_4 * (x3[c] - x5[c])


@njit(cache=True)
def b8_add(src, i, di, s0, dst, j, dj, d0, n):
    """dst[m] += sum_k B8^T[k, m] src[k]: the adjoint of bt8, accumulated."""
    t = src.dtype.type
    half, quarter, k2, k4, k5 = t(0.5), t(0.25), t(2), t(4), t(5)
    k17_4, k21_4, k5_2, k5_4 = t(4.25), t(5.25), t(2.5), t(1.25)
    x0, x1, x2 = src[i, s0:s0 + n], src[i + di, s0:s0 + n], src[i + 2 * di, s0:s0 + n]
    x3, x4, x5 = (src[i + 3 * di, s0:s0 + n], src[i + 4 * di, s0:s0 + n],
                  src[i + 5 * di, s0:s0 + n])
    x6, x7 = src[i + 6 * di, s0:s0 + n], src[i + 7 * di, s0:s0 + n]
    y0, y1, y2 = dst[j, d0:d0 + n], dst[j + dj, d0:d0 + n], dst[j + 2 * dj, d0:d0 + n]
    y3, y4, y5 = (dst[j + 3 * dj, d0:d0 + n], dst[j + 4 * dj, d0:d0 + n],
                  dst[j + 5 * dj, d0:d0 + n])
    y6, y7 = dst[j + 6 * dj, d0:d0 + n], dst[j + 7 * dj, d0:d0 + n]
    for c in range(n):
        y0[c] += x0[c]
    for c in range(n):
        y1[c] += x1[c] - x2[c] + half * (x3[c] - x4[c]) + k2 * (x5[c] - x6[c]) - x7[c]
    for c in range(n):
        y2[c] += x1[c] + x2[c] + quarter * (x3[c] + x4[c]) + k4 * (x5[c] + x6[c]) - k21_4 * x0[c]
    for c in range(n):
        y3[c] += (k17_4 * (x2[c] - x1[c]) + k5_2 * (x4[c] - x3[c] + x6[c] - x5[c])
                  + k21_4 * x7[c])
    for c in range(n):
        y4[c] += (k21_4 * x0[c] - k17_4 * (x1[c] + x2[c]) - k5_4 * (x3[c] + x4[c])
                  - k5 * (x5[c] + x6[c]))
    for c in range(n):
        y5[c] += x1[c] - x2[c] + k2 * (x3[c] - x4[c]) + half * (x5[c] - x6[c]) - k21_4 * x7[c]
    for c in range(n):
        y6[c] += x1[c] + x2[c] + x3[c] + x4[c] + x5[c] + x6[c] - x0[c]
    for c in range(n):
        y7[c] += x7[c]


@njit(cache=True)
def at8(src, i, di, s0, dst, j, dj, d0, n):
    """dst[a] = sum_k A8^T[a, k] src[k], a < 6, k < 8 (F(6x6, 3x3)'s output transform)."""
    t = src.dtype.type
    k2, k4, k8, k16, k32 = t(2), t(4), t(8), t(16), t(32)
    half, quarter, eighth, k1_16, k1_32 = t(0.5), t(0.25), t(0.125), t(0.0625), t(0.03125)
    x0, x1, x2 = src[i, s0:s0 + n], src[i + di, s0:s0 + n], src[i + 2 * di, s0:s0 + n]
    x3, x4, x5 = (src[i + 3 * di, s0:s0 + n], src[i + 4 * di, s0:s0 + n],
                  src[i + 5 * di, s0:s0 + n])
    x6, x7 = src[i + 6 * di, s0:s0 + n], src[i + 7 * di, s0:s0 + n]
    y0, y1, y2 = dst[j, d0:d0 + n], dst[j + dj, d0:d0 + n], dst[j + 2 * dj, d0:d0 + n]
    y3, y4, y5 = (dst[j + 3 * dj, d0:d0 + n], dst[j + 4 * dj, d0:d0 + n],
                  dst[j + 5 * dj, d0:d0 + n])
    for c in range(n):
        y0[c] = x0[c] + x1[c] + x2[c] + x3[c] + x4[c] + x5[c] + x6[c]
    for c in range(n):
        y1[c] = x1[c] - x2[c] + k2 * (x3[c] - x4[c]) + half * (x5[c] - x6[c])
    for c in range(n):
        y2[c] = x1[c] + x2[c] + k4 * (x3[c] + x4[c]) + quarter * (x5[c] + x6[c])
    for c in range(n):
        y3[c] = x1[c] - x2[c] + k8 * (x3[c] - x4[c]) + eighth * (x5[c] - x6[c])
    for c in range(n):
        y4[c] = x1[c] + x2[c] + k16 * (x3[c] + x4[c]) + k1_16 * (x5[c] + x6[c])
    for c in range(n):
        y5[c] = x1[c] - x2[c] + k32 * (x3[c] - x4[c]) + k1_32 * (x5[c] - x6[c]) + x7[c]


@njit(cache=True)
def a8(src, i, di, s0, dst, j, dj, d0, n):
    """dst[k] = sum_a A8^T[a, k] src[a]: the adjoint of at8."""
    t = src.dtype.type
    k2, k4, k8, k16, k32 = t(2), t(4), t(8), t(16), t(32)
    half, quarter, eighth, k1_16, k1_32 = t(0.5), t(0.25), t(0.125), t(0.0625), t(0.03125)
    x0, x1, x2 = src[i, s0:s0 + n], src[i + di, s0:s0 + n], src[i + 2 * di, s0:s0 + n]
    x3, x4, x5 = (src[i + 3 * di, s0:s0 + n], src[i + 4 * di, s0:s0 + n],
                  src[i + 5 * di, s0:s0 + n])
    y0, y1, y2 = dst[j, d0:d0 + n], dst[j + dj, d0:d0 + n], dst[j + 2 * dj, d0:d0 + n]
    y3, y4, y5 = (dst[j + 3 * dj, d0:d0 + n], dst[j + 4 * dj, d0:d0 + n],
                  dst[j + 5 * dj, d0:d0 + n])
    y6, y7 = dst[j + 6 * dj, d0:d0 + n], dst[j + 7 * dj, d0:d0 + n]
    for c in range(n):
        y0[c] = x0[c]
    for c in range(n):
        y1[c] = x0[c] + x1[c] + x2[c] + x3[c] + x4[c] + x5[c]
    for c in range(n):
        y2[c] = x0[c] - x1[c] + x2[c] - x3[c] + x4[c] - x5[c]
    for c in range(n):
        y3[c] = x0[c] + k2 * x1[c] + k4 * x2[c] + k8 * x3[c] + k16 * x4[c] + k32 * x5[c]
    for c in range(n):
        y4[c] = x0[c] - k2 * x1[c] + k4 * x2[c] - k8 * x3[c] + k16 * x4[c] - k32 * x5[c]
    for c in range(n):
        y5[c] = (x0[c] + half * x1[c] + quarter * x2[c] + eighth * x3[c] + k1_16 * x4[c]
                 + k1_32 * x5[c])
    for c in range(n):
        y6[c] = (x0[c] - half * x1[c] + quarter * x2[c] - eighth * x3[c] + k1_16 * x4[c]
                 - k1_32 * x5[c])
    for c in range(n):
        y7[c] = x5[c]
