"""3x3 stride-1 convolution by Winograd's minimal filtering F(4x4, 3x3) and F(6x6, 3x3)
(Lavin & Gray 2016).

Each 4x4 block of outputs ("tile") of one channel pair is A^T [(G g G^T) * (B^T d B)] A,
where d is the tile's 6x6 input patch and g the 3x3 filter: 36 products instead of 144.
Summed over input channels, the 36 elementwise products become 36 matrix products,
(tiles x C) @ (C x O), done by BLAS; the transforms on either side are numba loops.
For the study's 32->64 layer on 7x7 that is 3.1x fewer multiplications than im2col (2x2
tiles cover the 7x7 output, one row and column to spare). F(6x6, 3x3) is the same with 6x6
tiles and 8x8 patches (64 products).

Layouts (T = N * tiles_h * tiles_w tiles, P = 36 or 64 patch values):
    V[p, t, c] = (B^T d B)[k, l], p = patch k + l   transformed input, kept for the backward
    U[p, c, o] = (G g G^T)[k, l]                      transformed filters
    M[p, t, o] = sum_c V U                            whose A^T M A is the output tile
The batch is taken in blocks of images (each parallel job one of CHUNKS parts of the batch,
in blocks of about BLOCK_ROWS tiles), each block from its input to its output, or back, in
one pass while in cache: its tiles' rows of V, their P products (one single-threaded BLAS
call each) and their output tiles. Within a block the tiles are in (tile, image) order, and
the block's images are copied zero-padded with images and channels last: so every
transform loop, along either side of the patch, runs over images x channels floats at once.
Against transforms over the whole batch, 36 batch-sized products between them and a
block's tiles in (image, tile) order (whose first pass ran over C floats per call), the
study's layer took 0.64x the time forward and 0.67x forward + backward, 0.83x and 0.94x
fused (paired A/B, 2 threads).

The backward is the exact adjoint of these linear maps: the output gradient's tiles are
transformed by A (.) A^T, then one product per row gives the filter gradient (.^T @ V,
then G^T (.) G) and another the input gradient (. @ U^T, then B (.) B^T, with the
overlapping patches added up).

Followed by a ReLU and a 2x2 max-pool (F.conv2d_relu_max_pool2d), the output transform pools
each tile's whole 2x2 windows while they are in cache (_relu_pool_block) and the
backward builds each tile's gradient from the pooled one (_pooled_grad_block): the
convolution's output and its gradient, 2.5 MB each on the study's layer, are never made.
The tiles cover only the outputs the pool reads, so the study's layer (7x7, whose last row
and column the pool drops) takes one F(6x6, 3x3) tile per image: 64 products of 200 rows
instead of 36 of 800 (pooled_tile picks the tile side).

Accuracy: in exact arithmetic this is the convolution. In float32 the transforms' constants
(up to 8, and 1/24 in G; up to 32 and 1/90 for F(6x6)) cost precision: on the study's
32->64 layer, outputs and gradients differ from a float64 reference by ~5e-6 of their
largest magnitude with either tile (F(6x6) about twice F(4x4) on random filters), against
~1e-6 for im2col and torch (tests/test_kernels.py bounds both). float64 stays at ~1e-14.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from ..window_rules import max_of_four
from .products import matmul
from .winograd_maps import GG, GG8, a4, a8, at4, at8, b8_add, b4_add, bt4, bt8

_max_of_four = njit(cache=True, inline="always")(max_of_four)

# The kernels' bodies below are written once, for either tile side: each takes its 1-D map
# and patch side as arguments and is inlined into a thin kernel per side, so the map is a
# direct call and the main job compiles only the side it uses. LLVM inlines the map at every
# call site, and re-optimising each copy is most of a kernel's compile time: so each body
# runs both passes of its 2-D transform as one loop of jobs around a single call (half the
# compile time of two nested call sites, measured: 6-7 s instead of 12-13 s per kernel, for
# 1.05x the run time of the input transform).


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
def _blocks(chunk, chunks, n_batch, per_image, block_rows):
    """The blocks of part `chunk` of the batch cut into `chunks` equal parts, each part cut
    into blocks of about block_rows tiles: (first image, images) per block."""
    c0, c1 = chunk * n_batch // chunks, (chunk + 1) * n_batch // chunks
    count = max(1, -(-(c1 - c0) * per_image // block_rows))
    blocks = np.empty((count, 2), np.int64)
    for b in range(count):
        blocks[b, 0] = c0 + (c1 - c0) * b // count
        blocks[b, 1] = c0 + (c1 - c0) * (b + 1) // count - blocks[b, 0]
    return blocks


@njit(cache=True, inline="always")
def _products(A, t0, rows, B):
    """M[p] = A[p, t0:t0 + rows] @ B[p] for every patch value p: one block's products, each
    a single-threaded BLAS call on operands in cache."""
    M = np.empty((A.shape[0], rows, B.shape[2]), dtype=A.dtype)
    for p in range(A.shape[0]):
        np.dot(A[p, t0:t0 + rows], B[p], M[p])
    return M


@njit(cache=True, inline="always")
def _input_block(x, n0, images, pad_h, pad_w, tiles_h, tiles_w, V, bt, patch):
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
def _input_grad_block(dV, n0, pad_h, pad_w, tiles_h, tiles_w, grad_x, b_add, patch):
    """The adjoint of _input_block for the images from n0 on whose tiles' gradients dV
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
    p = np.zeros((ph * pw, run), dtype=grad_x.dtype)  # as _input_block's
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
    """y[tile a + b, (image, tile, o)] = (A^T m A)[a, b] of the tiles in M (P, tiles, O),
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
def _output_block(M, bias, n0, tiles_h, tiles_w, out):
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
def _relu_pool_block(M, bias, n0, tiles_h, tiles_w, out_w, pooled, argmax, at, patch):
    """relu(max_pool2d(., 2)) of the output of the images from n0 on whose tiles M holds
    (in (tile, image) order), taken tile by tile: a tile (4x4 or 6x6) holds whole 2x2
    windows, so the output itself is never written. argmax as max_pool2d's (flat in an
    output plane of width out_w)."""
    _, channels, pooled_h, pooled_w = pooled.shape
    tile = patch - 2
    windows = tile // 2  # along each side of a tile
    zero = M.dtype.type(0)
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
                for o in range(channels):
                    shift = bias[o]
                    best, k = _max_of_four(y0[o] + shift, y1[o] + shift,
                                           y2[o] + shift, y3[o] + shift)
                    pooled[n, o, ph, pw] = zero if best <= zero else best
                    argmax[n, o, ph, pw] = (2 * ph + k // 2) * out_w + 2 * pw + k % 2


@njit(cache=True, inline="always")
def _gradient_tiles(g, a_map, patch):
    """G (P, tiles, O) = A g A^T of a block of images' tile gradients
    g[tile a + b, (image, tile, o)], O = channels."""
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
def _grad_block(grad_out, n0, images, tiles_h, tiles_w, bias_parts):
    """The transformed output gradient G (36, tiles, O) of images n0:n0 + images, in (tile,
    image) order (A g A^T of every F(4x4, 3x3) tile's gradient g, zero past the edge: the
    adjoint of _output_block); bias_parts[n, o] = the sum of grad_out[n, o]."""
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
def _pooled_grad_block(grad_pooled, argmax, n0, images, out_w, tiles_h, tiles_w, bias_parts,
                       a_map, patch):
    """_grad_block for _relu_pool_block: each tile's gradient holds its windows' gradients
    (ReLU mask applied) at their argmax, zeros elsewhere; the output-sized gradient is
    never made."""
    _, channels, pooled_h, pooled_w = grad_pooled.shape
    tile = patch - 2
    windows = tile // 2
    run = tiles_h * tiles_w * channels
    g = np.zeros((tile * tile, images * run), dtype=grad_pooled.dtype)  # [a b, (t, n, o)]
    for t in range(images * tiles_h * tiles_w):
        n, th, tw = n0 + t % images, t // images // tiles_w, t // images % tiles_w
        col = t * channels
        for ph in range(windows * th, min(windows * (th + 1), pooled_h)):
            for pw in range(windows * tw, min(windows * (tw + 1), pooled_w)):
                # the argmax's row and column in the tile, without a division (a
                # 64-bit one per window tripled this kernel's time, measured)
                corner = 2 * ph * out_w + 2 * pw
                a0, b0 = 2 * (ph - windows * th), 2 * (pw - windows * tw)
                for o in range(channels):
                    offset = argmax[n, o, ph, pw] - corner
                    down = offset >= out_w
                    a, b = a0 + down, b0 + offset - down * out_w
                    g[tile * a + b, col + o] = grad_pooled[n, o, ph, pw]
    for n in range(n0, n0 + images):
        for o in range(channels):
            if patch == 8:  # any order: F(6x6) does not match the composed ops anyway
                bias_parts[n, o] = grad_pooled[n, o].sum()
                continue
            # _grad_block's order (row by row): the composed ops' sum, bit for bit (0.6 of
            # the pooled gradient's 1.6 ms on the study's layer, so F(6x6) skips it)
            total = grad_pooled.dtype.type(0)
            for ph in range(pooled_h):
                for down in range(2):
                    for pw in range(pooled_w):
                        if (argmax[n, o, ph, pw] - 2 * ph * out_w - 2 * pw >= out_w) == down:
                            total += grad_pooled[n, o, ph, pw]
            bias_parts[n, o] = total
    return _gradient_tiles(g, a_map, patch).reshape(patch * patch,
                                                    images * tiles_h * tiles_w, channels)


@njit(cache=True, inline="always")
def _block_grads(G, V, U_t, t0, n0, chunk, first, pad_h, pad_w, tiles_h, tiles_w, grad_x,
                 dU_parts, b_add, patch):
    """From a block's transformed output gradient G (P, tiles, O) on: its images' input
    gradient (where grad_x has any images) and its share of the filter gradient, written to
    dU_parts[chunk] (P, O, C) by a chunk's first block and added by the others (where
    dU_parts has any chunks)."""
    if grad_x.size:
        _input_grad_block(_products(G, 0, G.shape[1], U_t), n0, pad_h, pad_w, tiles_h,
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


# The kernels: each parallel job is one of `chunks` parts of the batch, taken in blocks of
# about block_rows tiles, each block from the input to the output (or back) while in cache.


@njit(cache=True, parallel=True)
def forward_f4(x, U, bias, pad_h, pad_w, tiles_h, tiles_w, V, out, chunks, block_rows):
    """out (N, O, OH, OW) = the convolution by F(4x4, 3x3) tiles, plus bias; V (36, T, C)
    = the transformed input, kept for the backward."""
    per_image = tiles_h * tiles_w
    for chunk in prange(chunks):
        for n0, images in _blocks(chunk, chunks, len(x), per_image, block_rows):
            if images == 0:  # fewer images than chunks
                continue
            _input_block(x, n0, images, pad_h, pad_w, tiles_h, tiles_w, V, bt4, 6)
            _output_block(_products(V, n0 * per_image, images * per_image, U), bias, n0,
                          tiles_h, tiles_w, out)


@njit(cache=True, inline="always")
def _forward_relu_pool(x, U, bias, pad_h, pad_w, tiles_h, tiles_w, out_w, V, pooled, argmax,
                       chunks, block_rows, bt, at, patch):
    per_image = tiles_h * tiles_w
    for chunk in prange(chunks):
        for n0, images in _blocks(chunk, chunks, len(x), per_image, block_rows):
            if images == 0:  # fewer images than chunks
                continue
            _input_block(x, n0, images, pad_h, pad_w, tiles_h, tiles_w, V, bt, patch)
            _relu_pool_block(_products(V, n0 * per_image, images * per_image, U), bias, n0,
                             tiles_h, tiles_w, out_w, pooled, argmax, at, patch)


@njit(cache=True, parallel=True)
def forward_relu_pool_f4(x, U, bias, pad_h, pad_w, tiles_h, tiles_w, out_w, V, pooled, argmax,
                         chunks, block_rows):
    """relu(max_pool2d(conv, 2)) into pooled and argmax by F(4x4, 3x3) tiles; V as
    forward_f4's."""
    _forward_relu_pool(x, U, bias, pad_h, pad_w, tiles_h, tiles_w, out_w, V, pooled, argmax,
                       chunks, block_rows, bt4, at4, 6)


@njit(cache=True, parallel=True)
def forward_relu_pool_f6(x, U, bias, pad_h, pad_w, tiles_h, tiles_w, out_w, V, pooled, argmax,
                         chunks, block_rows):
    """forward_relu_pool_f4 by F(6x6, 3x3) tiles."""
    _forward_relu_pool(x, U, bias, pad_h, pad_w, tiles_h, tiles_w, out_w, V, pooled, argmax,
                       chunks, block_rows, bt8, at8, 8)


@njit(cache=True, parallel=True)
def backward_f4(grad_out, V, U_t, pad_h, pad_w, tiles_h, tiles_w, grad_x, dU_parts,
                bias_parts, chunks, block_rows):
    """forward_f4's gradients: grad_x (where it has any images), each chunk's part of the
    transformed filters' gradient, transposed, added to dU_parts (chunks, 36, O, C) (where
    it has any chunks), and bias_parts (N, O), each image's bias gradient."""
    per_image = tiles_h * tiles_w
    for chunk in prange(chunks):
        blocks = _blocks(chunk, chunks, len(grad_out), per_image, block_rows)
        for b in range(len(blocks)):
            n0, images = blocks[b]
            if images == 0:  # fewer images than chunks: nothing to add
                dU_parts[chunk] = 0
                continue
            _block_grads(_grad_block(grad_out, n0, images, tiles_h, tiles_w, bias_parts), V,
                         U_t, n0 * per_image, n0, chunk, b == 0, pad_h, pad_w, tiles_h,
                         tiles_w, grad_x, dU_parts, b4_add, 6)


@njit(cache=True, inline="always")
def _backward_relu_pool(grad_pooled, argmax, out_w, V, U_t, pad_h, pad_w, tiles_h, tiles_w,
                        grad_x, dU_parts, bias_parts, chunks, block_rows, a_map, b_add, patch):
    per_image = tiles_h * tiles_w
    for chunk in prange(chunks):
        blocks = _blocks(chunk, chunks, len(grad_pooled), per_image, block_rows)
        for b in range(len(blocks)):
            n0, images = blocks[b]
            if images == 0:  # fewer images than chunks: nothing to add
                dU_parts[chunk] = 0
                continue
            G = _pooled_grad_block(grad_pooled, argmax, n0, images, out_w, tiles_h, tiles_w,
                                   bias_parts, a_map, patch)
            _block_grads(G, V, U_t, n0 * per_image, n0, chunk, b == 0, pad_h, pad_w, tiles_h,
                         tiles_w, grad_x, dU_parts, b_add, patch)


@njit(cache=True, parallel=True)
def backward_relu_pool_f4(grad_pooled, argmax, out_w, V, U_t, pad_h, pad_w, tiles_h, tiles_w,
                          grad_x, dU_parts, bias_parts, chunks, block_rows):
    """backward_f4 for forward_relu_pool_f4, from the pooled output's gradient with the
    ReLU's mask applied."""
    _backward_relu_pool(grad_pooled, argmax, out_w, V, U_t, pad_h, pad_w, tiles_h, tiles_w,
                        grad_x, dU_parts, bias_parts, chunks, block_rows, a4, b4_add, 6)


@njit(cache=True, parallel=True)
def backward_relu_pool_f6(grad_pooled, argmax, out_w, V, U_t, pad_h, pad_w, tiles_h, tiles_w,
                          grad_x, dU_parts, bias_parts, chunks, block_rows):
    """backward_relu_pool_f4 for forward_relu_pool_f6."""
    _backward_relu_pool(grad_pooled, argmax, out_w, V, U_t, pad_h, pad_w, tiles_h, tiles_w,
                        grad_x, dU_parts, bias_parts, chunks, block_rows, a8, b8_add, 8)


class TileKernels(NamedTuple):
    """The fused op's kernels of one tile side, and its filter transform kron(G, G)."""
    forward_relu_pool: object
    backward_relu_pool: object
    GG: np.ndarray


KERNELS = {4: TileKernels(forward_relu_pool_f4, backward_relu_pool_f4, GG),
           6: TileKernels(forward_relu_pool_f6, backward_relu_pool_f6, GG8)}

# The batch is cut into CHUNKS parts (the parallel jobs; the filter gradient sums each part
# on its own and then the parts in order, so that its values do not depend on the thread
# count), each taken in blocks of about BLOCK_ROWS tiles: a block's transformed input, its
# products and their output tiles stay in cache (on the study's layer ~1 MB), and BLAS's
# small products ran at 160 GFLOP/s per core on 32-200 rows against 116 on 800 (measured).
CHUNKS = 4
BLOCK_ROWS = 48


class Transformed(NamedTuple):
    """What the forward keeps for the backward (and how conv2d_backward knows the path)."""
    V: np.ndarray  # (P, T, C) transformed input patches, P = 36 or 64
    U: np.ndarray  # (P, C, O) transformed filters
    tile: int  # 4 or 6: F(4x4, 3x3) or F(6x6, 3x3)
    tiles: tuple  # (tiles_h, tiles_w) per image


def _tiles(height: int, width: int, tile: int = 4) -> tuple:
    """Tiles covering a height x width output."""
    return -(-height // tile), -(-width // tile)


POOLED_TILE = None  # the fused op's tile side: None picks the cheaper; tests force 4 or 6


def pooled_tile(pooled_h: int, pooled_w: int) -> int:
    """The tile side, 4 or 6, whose tiles cover the pooled windows (2 pooled_h x 2 pooled_w
    outputs) with fewer transformed values, 4 on a tie: 6 on the study's 32->64 layer (one
    8x8 patch per image instead of four 6x6: 0.44x the products). F(6x6, 3x3)'s float32
    error is about twice F(4x4, 3x3)'s (tests/test_kernels.py bounds both)."""
    if POOLED_TILE is not None:
        return POOLED_TILE

    def cost(tile):
        tiles_h, tiles_w = _tiles(2 * pooled_h, 2 * pooled_w, tile)
        return (tile + 2) ** 2 * tiles_h * tiles_w
    return 6 if cost(6) < cost(4) else 4


def _transformed(x, weight, tile, tiles) -> Transformed:
    """The filters transformed, and room for the transformed input (the forward fills it)."""
    n, channels = x.shape[:2]
    o, rows = weight.shape[0], (tile + 2) ** 2
    V = np.empty((rows, n * tiles[0] * tiles[1], channels), dtype=x.dtype)
    # U = GG @ the taps as (9, C * O): written in its (P, C, O) layout by the product itself
    # (transposing it afterwards took 7x as long on the study's layer, measured)
    taps = np.ascontiguousarray(weight.reshape(o, channels, 9).transpose(2, 1, 0))
    U = matmul(KERNELS[tile].GG.astype(x.dtype), taps.reshape(9, -1)).reshape(rows, channels, o)
    return Transformed(V, U, tile, tiles)


def winograd_forward(x, weight, bias, out, pad_h, pad_w):
    """Writes out (N, O, OH, OW) for a 3x3 stride-1 weight by F(4x4, 3x3); returns what the
    backward needs: the transformed input and filters."""
    saved = _transformed(x, weight, 4, _tiles(*out.shape[2:]))
    forward_f4(x, saved.U, bias, pad_h, pad_w, *saved.tiles, saved.V, out, CHUNKS, BLOCK_ROWS)
    return saved


def winograd_forward_relu_pool(x, weight, bias, out_w, pooled, argmax, pad_h, pad_w):
    """relu(max_pool2d(conv, 2)) into pooled and argmax, for a convolution output of width
    out_w, computing only the outputs the pool reads (an odd last row and column are not);
    returns what winograd_backward_relu_pool needs."""
    pooled_h, pooled_w = pooled.shape[2:]
    tile = pooled_tile(pooled_h, pooled_w)
    saved = _transformed(x, weight, tile, _tiles(2 * pooled_h, 2 * pooled_w, tile))
    KERNELS[tile].forward_relu_pool(x, saved.U, bias, pad_h, pad_w, *saved.tiles, out_w,
                                    saved.V, pooled, argmax, CHUNKS, BLOCK_ROWS)
    return saved


def winograd_backward(grad_out, saved, grad_x, grad_weight, pad_h, pad_w):
    """Overwrites grad_x and grad_weight (either may be None: not needed); returns the bias
    gradient (O,). `saved` is what winograd_forward returned."""
    buffers = _gradient_buffers(saved, grad_out, grad_x, grad_weight)
    backward_f4(grad_out, saved.V, *buffers[:1], pad_h, pad_w, *saved.tiles, *buffers[1:],
                CHUNKS, BLOCK_ROWS)
    return _filter_and_bias_grads(saved, *buffers[2:], grad_weight)


def winograd_backward_relu_pool(grad_pooled, argmax, out_w, saved, grad_x, grad_weight,
                                pad_h, pad_w):
    """winograd_backward for winograd_forward_relu_pool, from the pooled output's gradient
    with the ReLU's mask applied."""
    buffers = _gradient_buffers(saved, grad_pooled, grad_x, grad_weight)
    KERNELS[saved.tile].backward_relu_pool(grad_pooled, argmax, out_w, saved.V, *buffers[:1],
                                           pad_h, pad_w, *saved.tiles, *buffers[1:], CHUNKS,
                                           BLOCK_ROWS)
    return _filter_and_bias_grads(saved, *buffers[2:], grad_weight)


def _gradient_buffers(saved, grad, grad_x, grad_weight) -> tuple:
    """The backward kernels' arguments after V: U transposed (P, O, C) (BLAS ran the input
    gradient's products 1.5x faster with it so, measured), grad_x, the chunks' filter
    gradients and the images' bias gradients (N, O); an array not needed has no
    elements (so the kernel keeps one signature)."""
    n, o = grad.shape[:2]
    none = np.empty((0, 0, 0, 0), dtype=grad.dtype)
    parts = (np.empty((CHUNKS, saved.V.shape[0], o, saved.V.shape[2]), dtype=grad.dtype)
             if grad_weight is not None else none)
    return (np.ascontiguousarray(saved.U.transpose(0, 2, 1)),
            none if grad_x is None else grad_x, parts, np.empty((n, o), dtype=grad.dtype))


def _filter_and_bias_grads(saved, dU_parts, bias_parts, grad_weight):
    """grad_weight from the chunks' transformed filter gradients (G^T (.) G of their sum,
    taken in order); returns the bias gradient."""
    if grad_weight is not None:
        rows, o, channels = dU_parts.shape[1:]
        dU_t = dU_parts.sum(axis=0)
        grad_taps = matmul(KERNELS[saved.tile].GG.T.astype(dU_t.dtype), dU_t.reshape(rows, -1))
        grad_weight[...] = grad_taps.T.reshape(o, channels, 3, 3)
    return bias_parts.sum(axis=0)
