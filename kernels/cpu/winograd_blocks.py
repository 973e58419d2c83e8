"""Winograd's convolution one block of images at a time: the stages conv_winograd's kernels
run each block through while it is in cache (its patches transformed, its products, its
output tiles, or back), written once for either tile side (see conv_winograd for the
layouts; within a block the tiles are in (tile, image) order).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..window_rules import max_of_four
from .winograd_maps import a4, at4

_max_of_four = njit(cache=True, inline="always")(max_of_four)

# The kernels' bodies below are written once, for either tile side: each takes its 1-D map
# and patch side as arguments and is inlined into a thin kernel per side, so the map is a
# direct call and the main job compiles only the side it uses. LLVM inlines the map at every
# call site, and re-optimising each copy is most of a kernel's compile time: so each body
# runs both passes of its 2-D transform as one loop of jobs around a single call, which
# compiles much faster than two nested call sites and runs about as fast.


@njit(cache=True, inline="always")
def _padded_size(height, width, pad_h, pad_w, tile, tiles_h, tiles_w):
    """The zero-padded image's size: the tiles' reach, and the whole input (rows and columns
    past the tiles' reach, which only a pooled convolution leaves, are never read)."""
    return (max(tile * tiles_h + 2, pad_h + height), max(tile * tiles_w + 2, pad_w + width))


@njit(cache=True, inline="always")
def _patch_rows(tiles_h, tiles_w, patch, pw, run):
    """For each tile's patch row i (job (tile, i)): where the row starts in the padded
    block (a row of pw pixels), and its row and column in the block's buffer
    [patch i + l, (tile, image, c)], for `run` = images * C floats per tile."""
    tile = patch - 2
    starts = np.empty((tiles_h * tiles_w * patch, 3), np.int64)
    for th in range(tiles_h):
        for tw in range(tiles_w):
            for i in range(patch):
                job = (th * tiles_w + tw) * patch + i
                starts[job, 0] = (tile * th + i) * pw + tile * tw
                starts[job, 1] = patch * i
                starts[job, 2] = (th * tiles_w + tw) * run
    return starts


@njit(cache=True, inline="always")
def chunk_blocks(chunk, chunks, n_batch, per_image, block_rows):
    """The blocks of part `chunk` of the batch cut into `chunks` equal parts (chunks <=
    n_batch, so that every part has images), each part cut into blocks of about block_rows
    tiles: (first image, images) per block."""
    c0, c1 = chunk * n_batch // chunks, (chunk + 1) * n_batch // chunks
    count = max(1, -(-(c1 - c0) * per_image // block_rows))
    blocks = np.empty((count, 2), np.int64)
    for b in range(count):
        blocks[b, 0] = c0 + (c1 - c0) * b // count
        blocks[b, 1] = c0 + (c1 - c0) * (b + 1) // count - blocks[b, 0]
    return blocks


@njit(cache=True, inline="always")
def block_products(A, t0, rows, B):
    """M[p] = A[p, t0:t0 + rows] @ B[p] for every patch value p: one block's products, each
    a single-threaded BLAS call on operands in cache."""
    M = np.empty((A.shape[0], rows, B.shape[2]), dtype=A.dtype)
    for p in range(A.shape[0]):
        np.dot(A[p, t0:t0 + rows], B[p], M[p])
    return M


@njit(cache=True, inline="always")
def input_block(x, n0, images, pad_h, pad_w, tiles_h, tiles_w, V, bt, patch):
    """V[:, the block's tiles, :] = B^T d B of each tile's zero-padded patch d (patch x patch
    values), per channel, for images n0:n0 + images; the block's rows of V in (tile, image)
    order."""
    _, channels, height, width = x.shape
    ph, pw = _padded_size(height, width, pad_h, pad_w, patch - 2, tiles_h, tiles_w)
    run = images * channels
    tiles = tiles_h * tiles_w
    rows = _patch_rows(tiles_h, tiles_w, patch, pw, run)
    # zero-padded, images and channels last: a tile's patch row is `patch` runs of all the
    # block's images' channels, so the first pass runs over images * C floats per call
    # (over C floats per image and tile, its calls' overhead took most of its time)
    p = np.zeros((ph * pw, run), dtype=x.dtype)
    for n in range(n0, n0 + images):
        for c in range(channels):
            column = (n - n0) * channels + c
            for h in range(height):
                for w in range(width):
                    p[(pad_h + h) * pw + pad_w + w, column] = x[n, c, h, w]
    r = np.empty((patch * patch, tiles * run), dtype=x.dtype)  # r[patch i + l]: row i
    flat = V.reshape(V.shape[0], -1)
    for job in range(len(rows) + patch):  # each patch row along l, then each l along i
        l = job - len(rows)
        args = ((p, rows[job, 0], 1, 0, r, rows[job, 1], 1, rows[job, 2], run) if l < 0
                else (r, l, patch, 0, flat, l, patch, n0 * tiles * channels, tiles * run))
        bt(*args)


@njit(cache=True, inline="always")
def input_grad_block(dV, n0, pad_h, pad_w, tiles_h, tiles_w, grad_x, b_add, patch):
    """The adjoint of input_block for the images from n0 on whose tiles' gradients dV
    (P, tiles, C) holds: grad_x[those] = the sum over tiles of B dV B^T (zero where no tile
    reaches)."""
    _, channels, height, width = grad_x.shape
    ph, pw = _padded_size(height, width, pad_h, pad_w, patch - 2, tiles_h, tiles_w)
    tiles = tiles_h * tiles_w
    images = dV.shape[1] // tiles
    run = images * channels
    rows = _patch_rows(tiles_h, tiles_w, patch, pw, run)
    flat = dV.reshape(dV.shape[0], -1)
    s = np.zeros((patch * patch, tiles * run), dtype=grad_x.dtype)  # s[patch i + l]
    p = np.zeros((ph * pw, run), dtype=grad_x.dtype)  # as input_block's
    # each l along i, then each patch row along l (the patches overlap: their gradients add
    # up)
    for job in range(patch + len(rows)):
        k = job - patch
        args = ((flat, job, patch, 0, s, job, patch, 0, tiles * run) if k < 0
                else (s, rows[k, 1], 1, rows[k, 2], p, rows[k, 0], 1, 0, run))
        b_add(*args)
    for n in range(n0, n0 + images):
        for c in range(channels):
            column = (n - n0) * channels + c
            for h in range(height):
                for w in range(width):
                    grad_x[n, c, h, w] = p[(pad_h + h) * pw + pad_w + w, column]


@njit(cache=True, inline="always")
def _output_tiles(M, at, patch):
    """y[tile a + b, (tile, image, o)] = (A^T m A)[a, b] of the tiles in M (P, tiles, O),
    a block of images (no bias)."""
    tile = patch - 2
    flat = M.reshape(M.shape[0], -1)
    width = flat.shape[1]
    r = np.empty((tile * patch, width), dtype=M.dtype)  # r[patch a + l]
    y = np.empty((tile * tile, width), dtype=M.dtype)
    for job in range(patch + tile):  # each l along k, then each a along l
        a = job - patch
        args = ((flat, job, patch, 0, r, job, patch, 0, width) if a < 0
                else (r, patch * a, 1, 0, y, tile * a, 1, 0, width))
        at(*args)
    return y


@njit(cache=True, inline="always")
def output_block(M, bias, n0, tiles_h, tiles_w, out):
    """out[n, o, 4th + a, 4tw + b] = (A^T m A)[a, b] + bias[o] for the images from n0 on
    whose F(4x4, 3x3) tiles M holds (in (tile, image) order), cropped to out's size."""
    _, channels, out_h, out_w = out.shape
    images = M.shape[1] // (tiles_h * tiles_w)
    y = _output_tiles(M, at4, 6)
    for n in range(n0, n0 + images):
        for th in range(tiles_h):
            for tw in range(tiles_w):
                col = ((th * tiles_w + tw) * images + n - n0) * channels
                for a in range(min(4, out_h - 4 * th)):
                    for b in range(min(4, out_w - 4 * tw)):
                        values = y[4 * a + b, col:col + channels]
                        for o in range(channels):
                            out[n, o, 4 * th + a, 4 * tw + b] = values[o] + bias[o]


@njit(cache=True, inline="always")
def relu_pool_block(M, bias, n0, tiles_h, tiles_w, pooled, winners, at, patch):
    """relu(max_pool2d(., 2)) of the output of the images from n0 on whose tiles M holds
    (in (tile, image) order), taken tile by tile: a tile (4x4 or 6x6) holds whole 2x2
    windows, so the output itself is never written. winners (N, PH * PW, O): each window's
    winner by max_pool2d's rule, as its place in the window (0, 1: top left, right; 2, 3:
    bottom), in M's dtype: so the scan runs along the channels in vector lanes (an integer
    flat index kept it scalar)."""
    _, channels, pooled_h, pooled_w = pooled.shape
    tile = patch - 2
    windows = tile // 2  # along each side of a tile
    zero = M.dtype.type(0)
    places = (zero, M.dtype.type(1), M.dtype.type(2), M.dtype.type(3))
    values = np.empty(channels, dtype=M.dtype)  # a window's, then laid out per channel
    images = M.shape[1] // (tiles_h * tiles_w)
    y = _output_tiles(M, at, patch)
    for t in range(M.shape[1]):
        n, th, tw = n0 + t % images, t // images // tiles_w, t // images % tiles_w
        col = t * channels
        for pa in range(min(windows, pooled_h - windows * th)):
            for pb in range(min(windows, pooled_w - windows * tw)):
                k0 = 2 * (tile * pa + pb)  # the window's top left, as tile a + b
                y0, y1 = y[k0, col:col + channels], y[k0 + 1, col:col + channels]
                y2 = y[k0 + tile, col:col + channels]
                y3 = y[k0 + tile + 1, col:col + channels]
                ph, pw = windows * th + pa, windows * tw + pb
                where = winners[n, ph * pooled_w + pw]
                for o in range(channels):
                    shift = bias[o]
                    best, place = _max_of_four(y0[o] + shift, y1[o] + shift,
                                               y2[o] + shift, y3[o] + shift, places)
                    values[o] = zero if best <= zero else best
                    where[o] = place
                for o in range(channels):
                    pooled[n, o, ph, pw] = values[o]


@njit(cache=True, inline="always")
def _gradient_tiles(g, a_map, patch):
    """G (P, tiles, O) = A g A^T of a block of images' tile gradients
    g[tile a + b, (tile, image, o)], O = channels."""
    tile = patch - 2
    width = g.shape[1]
    G = np.empty((patch * patch, width), dtype=g.dtype)
    r = np.empty((tile * patch, width), dtype=g.dtype)  # r[patch a + l]
    for job in range(tile + patch):  # each a along b, then each l along a
        l = job - tile
        args = ((g, tile * job, 1, 0, r, patch * job, 1, 0, width) if l < 0
                else (r, l, patch, 0, G, l, patch, 0, width))
        a_map(*args)
    return G


@njit(cache=True, inline="always")
def grad_block(grad_out, n0, images, tiles_h, tiles_w, bias_parts):
    """The transformed output gradient G (36, tiles, O) of images n0:n0 + images, in (tile,
    image) order (A g A^T of every F(4x4, 3x3) tile's gradient g, zero past the edge: the
    adjoint of output_block); bias_parts[n, o] = the sum of grad_out[n, o]."""
    _, channels, out_h, out_w = grad_out.shape
    run = tiles_h * tiles_w * channels
    g = np.zeros((16, images * run), dtype=grad_out.dtype)  # g[4a + b, (tile, image, o)]
    for n in range(n0, n0 + images):
        for th in range(tiles_h):
            for tw in range(tiles_w):
                col = ((th * tiles_w + tw) * images + n - n0) * channels
                for a in range(min(4, out_h - 4 * th)):
                    for b in range(min(4, out_w - 4 * tw)):
                        values = g[4 * a + b, col:col + channels]
                        for o in range(channels):
                            values[o] = grad_out[n, o, 4 * th + a, 4 * tw + b]
        for o in range(channels):
            bias_parts[n, o] = grad_out[n, o].sum()
    return _gradient_tiles(g, a4, 6).reshape(36, images * tiles_h * tiles_w, channels)


@njit(cache=True, inline="always")
def pooled_grad_block(grad_pooled, winners, n0, images, tiles_h, tiles_w, bias_parts, a_map,
                      patch):
    """grad_block for relu_pool_block: each tile's gradient holds its windows' gradients
    (ReLU mask applied) at their winners, zeros elsewhere; the output-sized gradient is
    never made. Each window's four places are written along the channels at once, from the
    block's pooled gradient laid out (image, window, O) first."""
    _, channels, pooled_h, pooled_w = grad_pooled.shape
    tile = patch - 2
    windows = tile // 2
    run = tiles_h * tiles_w * channels
    zero = grad_pooled.dtype.type(0)
    g = np.zeros((tile * tile, images * run), dtype=grad_pooled.dtype)  # [a b, (t, n, o)]
    per_window = np.empty((images, pooled_h * pooled_w, channels), dtype=grad_pooled.dtype)
    for n in range(images):
        planes = grad_pooled[n0 + n].reshape(channels, pooled_h * pooled_w)
        for o in range(channels):
            for q in range(pooled_h * pooled_w):
                per_window[n, q, o] = planes[o, q]
    for t in range(images * tiles_h * tiles_w):
        n, th, tw = t % images, t // images // tiles_w, t // images % tiles_w
        col = t * channels
        for ph in range(windows * th, min(windows * (th + 1), pooled_h)):
            for pw in range(windows * tw, min(windows * (tw + 1), pooled_w)):
                k0 = 2 * (tile * (ph - windows * th) + pw - windows * tw)  # top left
                q = ph * pooled_w + pw
                where, grads = winners[n0 + n, q], per_window[n, q]
                g0, g1 = g[k0, col:col + channels], g[k0 + 1, col:col + channels]
                g2 = g[k0 + tile, col:col + channels]
                g3 = g[k0 + tile + 1, col:col + channels]
                for o in range(channels):
                    place, value = where[o], grads[o]
                    g0[o] = value if place == 0 else zero
                    g1[o] = value if place == 1 else zero
                    g2[o] = value if place == 2 else zero
                    g3[o] = value if place == 3 else zero
    for n in range(n0, n0 + images):
        for o in range(channels):
            if patch == 8:  # any order: F(6x6) does not match the composed ops anyway
                bias_parts[n, o] = grad_pooled[n, o].sum()
                continue
            # grad_block's order (row by row): the composed ops' sum, bit for bit (a large
            # share of the pooled gradient's time, so F(6x6), which cannot match, skips it)
            total = zero
            for ph in range(pooled_h):
                for down in range(2):
                    for pw in range(pooled_w):
                        if (winners[n, ph * pooled_w + pw, o] >= 2) == down:
                            total += grad_pooled[n, o, ph, pw]
            bias_parts[n, o] = total
    return _gradient_tiles(g, a_map, patch).reshape(patch * patch,
                                                    images * tiles_h * tiles_w, channels)


@njit(cache=True, inline="always")
def block_grads(G, V, U_t, t0, n0, chunk, first, pad_h, pad_w, tiles_h, tiles_w, grad_x,
                dU_parts, b_add, patch):
    """From a block's transformed output gradient G (P, tiles, O) on: its images' input
    gradient (where grad_x has any images) and its share of the filter gradient, written to
    dU_parts[chunk] (P, O, C) by a chunk's first block and added by the others (where
    dU_parts has any chunks)."""
    if grad_x.size:
        input_grad_block(block_products(G, 0, G.shape[1], U_t), n0, pad_h, pad_w, tiles_h,
                         tiles_w, grad_x, b_add, patch)
    if dU_parts.size == 0:
        return
    part = np.empty(dU_parts.shape[2:], dtype=G.dtype)
    for p in range(G.shape[0]):
        total = dU_parts[chunk, p]
        np.dot(G[p].T, V[p, t0:t0 + G.shape[1]], total if first else part)
        if not first:
            for o in range(part.shape[0]):
                for c in range(part.shape[1]):
                    total[o, c] += part[o, c]
