"""3x3 stride-1 convolution by Winograd's minimal filtering F(4x4, 3x3) and F(6x6, 3x3)
(Lavin & Gray 2016).

Each 4x4 block of outputs ("tile") of one channel pair is A^T [(G g G^T) * (B^T d B)] A,
where d is the tile's 6x6 input patch and g the 3x3 filter: 36 products instead of 144.
Summed over input channels, the 36 elementwise products become 36 matrix products,
(tiles x C) @ (C x O), done by BLAS; the transforms on either side are numba loops.
For the study's 32->64 layer on 7x7 that is 3.1x fewer multiplications than im2col (2x2
tiles cover the 7x7 output, one row and column to spare). F(6x6, 3x3) is the same with 6x6
tiles and 8x8 patches (64 products).

Layouts (T = N * tiles_h * tiles_w, tile t = (n, th, tw), P = 36 or 64 patch values):
    V[p, t, c] = (B^T d B)[k, l], p = patch k + l   transformed input, kept for the backward
    U[p, c, o] = (G g G^T)[k, l]                      transformed filters
    M[p, t, o] = sum_c V U                            whose A^T M A is the output tile
An image's tiles are one contiguous run of each of the P rows, so every transform loop
runs over tiles x channels floats at once.

The backward is the exact adjoint of these linear maps: the output gradient's tiles are
transformed by A (.) A^T, then one product per row gives the filter gradient (.^T @ V,
then G^T (.) G) and another the input gradient (. @ U^T, then B (.) B^T, with the
overlapping patches added up).

Followed by a ReLU and a 2x2 max-pool (F.conv2d_relu_max_pool2d), the output transform pools
each tile's whole 2x2 windows while they are in cache (output_transform_relu_pool) and the
backward builds each tile's gradient from the pooled one (pooled_grad_transform): the
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

import numba
import numpy as np
from numba import njit, prange

from ..window_rules import max_of_four
from .products import batched_matmul, matmul
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
def _patch_rows(tiles_h, tiles_w, patch, pw, channels):
    """For each tile's patch row i (job (tile, i)): where the row starts in the padded image
    (a row of pw pixels), and its row and column in the per-image buffer [patch i + l, (tile,
    c)]."""
    tile = patch - 2
    starts = np.empty((tiles_h * tiles_w * patch, 3), np.int64)
    for th in range(tiles_h):
        for tw in range(tiles_w):
            for i in range(patch):
                job = (th * tiles_w + tw) * patch + i
                starts[job, 0] = (tile * th + i) * pw + tile * tw
                starts[job, 1] = patch * i
                starts[job, 2] = (th * tiles_w + tw) * channels
    return starts


@njit(cache=True, inline="always")
def _input_transform(x, pad_h, pad_w, tiles_h, tiles_w, V, block, bt, patch):
    """V (P, T * C) = B^T d B of every tile's zero-padded patch d (patch x patch, P its
    values), per channel; `block` images per parallel job."""
    n_batch, channels, height, width = x.shape
    ph, pw = _padded_size(height, width, pad_h, pad_w, patch - 2, tiles_h, tiles_w)
    run = tiles_h * tiles_w * channels
    rows = _patch_rows(tiles_h, tiles_w, patch, pw, channels)
    for first in prange(-(-n_batch // block)):
        n0 = first * block
        images = min(block, n_batch - n0)
        # zero-padded, channels-last: a patch row of one tile is `patch` runs of C floats
        p = np.zeros((images * ph * pw, channels), dtype=x.dtype)
        for n in range(n0, n0 + images):
            for c in range(channels):
                for h in range(height):
                    for w in range(width):
                        p[((n - n0) * ph + pad_h + h) * pw + pad_w + w, c] = x[n, c, h, w]
        r = np.empty((patch * patch, images * run), dtype=x.dtype)  # r[patch i + l]: row i
        image, k = 0, 0
        for job in range(images * len(rows) + patch):  # each patch row along l, then each
            l = job - images * len(rows)               # l along i, for the block at once
            args = ((p, image * ph * pw + rows[k, 0], 1, 0, r, rows[k, 1], 1,
                     image * run + rows[k, 2], channels) if l < 0
                    else (r, l, patch, 0, V, l, patch, n0 * run, images * run))
            bt(*args)
            k += 1
            if k == len(rows):
                image, k = image + 1, 0


@njit(cache=True, inline="always")
def _input_grad_transform(dV, pad_h, pad_w, tiles_h, tiles_w, grad_x, block, b_add, patch):
    """The adjoint of _input_transform: grad_x = the sum over tiles of B dV B^T (zero where
    no tile reaches)."""
    n_batch, channels, height, width = grad_x.shape
    ph, pw = _padded_size(height, width, pad_h, pad_w, patch - 2, tiles_h, tiles_w)
    run = tiles_h * tiles_w * channels
    rows = _patch_rows(tiles_h, tiles_w, patch, pw, channels)
    for first in prange(-(-n_batch // block)):
        n0 = first * block
        images = min(block, n_batch - n0)
        s = np.zeros((patch * patch, images * run), dtype=grad_x.dtype)  # s[patch i + l]
        p = np.zeros((images * ph * pw, channels), dtype=grad_x.dtype)
        # each l along i for the block at once, then each patch row along l (the patches
        # overlap: their gradients add up)
        image, k = 0, 0
        for job in range(patch + images * len(rows)):
            args = ((dV, job, patch, n0 * run, s, job, patch, 0, images * run) if job < patch
                    else (s, rows[k, 1], 1, image * run + rows[k, 2], p,
                          image * ph * pw + rows[k, 0], 1, 0, channels))
            b_add(*args)
            if job >= patch:
                k += 1
                if k == len(rows):
                    image, k = image + 1, 0
        for n in range(n0, n0 + images):
            for c in range(channels):
                for h in range(height):
                    for w in range(width):
                        grad_x[n, c, h, w] = p[((n - n0) * ph + pad_h + h) * pw + pad_w + w, c]


@njit(cache=True, inline="always")
def _output_tiles(M, start, width, at, patch):
    """y[tile a + b, (image, tile, o)] = (A^T m A)[a, b] of the tiles in M's columns
    start:start + width, a block of images (no bias)."""
    tile = patch - 2
    r = np.empty((tile * patch, width), dtype=M.dtype)  # r[patch a + l]
    y = np.empty((tile * tile, width), dtype=M.dtype)
    for job in range(patch + tile):  # each l along k, then each a along l
        a = job - patch
        args = ((M, job, patch, start, r, job, patch, 0, width) if a < 0
                else (r, patch * a, 1, 0, y, tile * a, 1, 0, width))
        at(*args)
    return y


@njit(cache=True, inline="always")
def _output_transform_relu_pool(M, bias, tiles_h, tiles_w, out_w, pooled, argmax, block, at,
                                patch):
    """relu(max_pool2d(., 2)) of the output, taken tile by tile: a tile (4x4 or 6x6) holds
    whole 2x2 windows, so the output itself is never written. argmax as max_pool2d's (flat
    in an output plane of width out_w)."""
    n_batch, channels, pooled_h, pooled_w = pooled.shape
    tile = patch - 2
    windows = tile // 2  # along each side of a tile
    run = tiles_h * tiles_w * channels
    zero = M.dtype.type(0)
    for first in prange(-(-n_batch // block)):
        n0 = first * block
        y = _output_tiles(M, n0 * run, min(block, n_batch - n0) * run, at, patch)
        for t in range(min(block, n_batch - n0) * tiles_h * tiles_w):
            n, th, tw = n0 + t // (tiles_h * tiles_w), t // tiles_w % tiles_h, t % tiles_w
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
def _gradient_tiles(g, Gt, start, a_map, patch):
    """Gt[:, start:start + g's width] = A g A^T of a block of images' tile gradients
    g[tile a + b, (image, tile, o)]."""
    tile = patch - 2
    width = g.shape[1]
    r = np.empty((tile * patch, width), dtype=g.dtype)  # r[patch a + l]
    for job in range(tile + patch):  # each a along b, then each l along a
        l = job - tile
        args = ((g, tile * job, 1, 0, r, patch * job, 1, 0, width) if l < 0
                else (r, l, patch, 0, Gt, l, patch, start, width))
        a_map(*args)


@njit(cache=True, inline="always")
def _pooled_grad_transform(grad_pooled, argmax, out_w, tiles_h, tiles_w, Gt, bias_parts,
                           block, a_map, patch):
    """output_grad_transform for _output_transform_relu_pool: each tile's gradient holds
    its windows' gradients (ReLU mask applied) at their argmax, zeros elsewhere; the
    output-sized gradient is never made."""
    n_batch, channels, pooled_h, pooled_w = grad_pooled.shape
    tile = patch - 2
    windows = tile // 2
    run = tiles_h * tiles_w * channels
    for first in prange(-(-n_batch // block)):
        n0 = first * block
        images = min(block, n_batch - n0)
        g = np.zeros((tile * tile, images * run), dtype=grad_pooled.dtype)  # [a b, (n, t, o)]
        for t in range(images * tiles_h * tiles_w):
            n, th, tw = n0 + t // (tiles_h * tiles_w), t // tiles_w % tiles_h, t % tiles_w
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
                # output_grad_transform's order (row by row): the composed ops' sum, bit for
                # bit (0.6 of this kernel's 1.6 ms on the study's layer, so F(6x6) skips it)
                total = grad_pooled.dtype.type(0)
                for ph in range(pooled_h):
                    for down in range(2):
                        for pw in range(pooled_w):
                            if (argmax[n, o, ph, pw] - 2 * ph * out_w - 2 * pw >= out_w) == down:
                                total += grad_pooled[n, o, ph, pw]
                bias_parts[n, o] = total
        _gradient_tiles(g, Gt, n0 * run, a_map, patch)


# The kernels, per tile side: F(4x4, 3x3) (6x6 patches) and F(6x6, 3x3) (8x8 patches).


@njit(cache=True, parallel=True)
def input_transform_f4(x, pad_h, pad_w, tiles_h, tiles_w, V, block):
    _input_transform(x, pad_h, pad_w, tiles_h, tiles_w, V, block, bt4, 6)


@njit(cache=True, parallel=True)
def input_transform_f6(x, pad_h, pad_w, tiles_h, tiles_w, V, block):
    _input_transform(x, pad_h, pad_w, tiles_h, tiles_w, V, block, bt8, 8)


@njit(cache=True, parallel=True)
def input_grad_transform_f4(dV, pad_h, pad_w, tiles_h, tiles_w, grad_x, block):
    _input_grad_transform(dV, pad_h, pad_w, tiles_h, tiles_w, grad_x, block, b4_add, 6)


@njit(cache=True, parallel=True)
def input_grad_transform_f6(dV, pad_h, pad_w, tiles_h, tiles_w, grad_x, block):
    _input_grad_transform(dV, pad_h, pad_w, tiles_h, tiles_w, grad_x, block, b8_add, 8)


@njit(cache=True, parallel=True)
def output_transform_relu_pool_f4(M, bias, tiles_h, tiles_w, out_w, pooled, argmax, block):
    _output_transform_relu_pool(M, bias, tiles_h, tiles_w, out_w, pooled, argmax, block, at4,
                                6)


@njit(cache=True, parallel=True)
def output_transform_relu_pool_f6(M, bias, tiles_h, tiles_w, out_w, pooled, argmax, block):
    _output_transform_relu_pool(M, bias, tiles_h, tiles_w, out_w, pooled, argmax, block, at8,
                                8)


@njit(cache=True, parallel=True)
def pooled_grad_transform_f4(grad_pooled, argmax, out_w, tiles_h, tiles_w, Gt, bias_parts,
                             block):
    _pooled_grad_transform(grad_pooled, argmax, out_w, tiles_h, tiles_w, Gt, bias_parts, block,
                           a4, 6)


@njit(cache=True, parallel=True)
def pooled_grad_transform_f6(grad_pooled, argmax, out_w, tiles_h, tiles_w, Gt, bias_parts,
                             block):
    _pooled_grad_transform(grad_pooled, argmax, out_w, tiles_h, tiles_w, Gt, bias_parts, block,
                           a8, 8)


@njit(cache=True, parallel=True)
def output_transform(M, bias, tiles_h, tiles_w, out):
    """out[n, o, 4th + a, 4tw + b] = (A^T m A)[a, b] + bias[o], cropped to out's size
    (F(4x4, 3x3): the plain convolution's tiles)."""
    n_batch, channels, out_h, out_w = out.shape
    run = tiles_h * tiles_w * channels
    for n in prange(n_batch):
        y = _output_tiles(M, n * run, run, at4, 6)
        for th in range(tiles_h):
            for tw in range(tiles_w):
                col = (th * tiles_w + tw) * channels
                for a in range(min(4, out_h - 4 * th)):
                    for b in range(min(4, out_w - 4 * tw)):
                        values = y[4 * a + b, col:col + channels]
                        for o in range(channels):
                            out[n, o, 4 * th + a, 4 * tw + b] = values[o] + bias[o]


@njit(cache=True, parallel=True)
def output_grad_transform(grad_out, tiles_h, tiles_w, Gt, bias_parts):
    """Gt (36, T * O) = A g A^T of every tile's 4x4 gradient g (zero past the edge), the
    adjoint of output_transform; bias_parts[n, o] = the sum of grad_out[n, o]."""
    n_batch, channels, out_h, out_w = grad_out.shape
    run = tiles_h * tiles_w * channels
    for n in prange(n_batch):
        g = np.zeros((16, run), dtype=grad_out.dtype)  # g[4a + b, (tile, o)]
        for th in range(tiles_h):
            for tw in range(tiles_w):
                col = (th * tiles_w + tw) * channels
                for a in range(min(4, out_h - 4 * th)):
                    for b in range(min(4, out_w - 4 * tw)):
                        values = g[4 * a + b, col:col + channels]
                        for o in range(channels):
                            values[o] = grad_out[n, o, 4 * th + a, 4 * tw + b]
        for o in range(channels):
            bias_parts[n, o] = grad_out[n, o].sum()
        _gradient_tiles(g, Gt, n * run, a4, 6)


class TileKernels(NamedTuple):
    """The kernels of one tile side, and its filter transform kron(G, G)."""
    input: object
    input_grad: object
    relu_pool: object
    pooled_grad: object
    GG: np.ndarray


KERNELS = {4: TileKernels(input_transform_f4, input_grad_transform_f4,
                         output_transform_relu_pool_f4, pooled_grad_transform_f4, GG),
           6: TileKernels(input_transform_f6, input_grad_transform_f6,
                         output_transform_relu_pool_f6, pooled_grad_transform_f6, GG8)}


class Transformed(NamedTuple):
    """What the forward keeps for the backward (and how conv2d_backward knows the path)."""
    V: np.ndarray  # (P, T, C) transformed input patches, P = 36 or 64
    U: np.ndarray  # (P, C, O) transformed filters
    tile: int  # 4 or 6: F(4x4, 3x3) or F(6x6, 3x3)
    tiles: tuple  # (tiles_h, tiles_w) per image


def images_per_block(n_batch: int) -> int:
    """Images per parallel job in the output-side kernels: their transforms then run over
    the block's tiles at once (longer rows, fewer calls: 8 images, 0.70x the time of one on
    the study's layer, measured), while leaving >= 4 jobs per thread."""
    return max(1, min(8, n_batch // (4 * numba.get_num_threads())))


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


def _transformed(x, weight, pad_h, pad_w, tile, tiles) -> Transformed:
    n, channels = x.shape[:2]
    o, rows = weight.shape[0], (tile + 2) ** 2
    V = np.empty((rows, n * tiles[0] * tiles[1], channels), dtype=x.dtype)
    KERNELS[tile].input(x, pad_h, pad_w, *tiles, V.reshape(rows, -1), images_per_block(n))
    # U = GG @ the taps as (9, C * O): written in its (P, C, O) layout by the product itself
    # (transposing it afterwards took 7x as long on the study's layer, measured)
    taps = np.ascontiguousarray(weight.reshape(o, channels, 9).transpose(2, 1, 0))
    U = matmul(KERNELS[tile].GG.astype(x.dtype), taps.reshape(9, -1)).reshape(rows, channels, o)
    return Transformed(V, U, tile, tiles)


def winograd_forward(x, weight, bias, out, pad_h, pad_w):
    """Writes out (N, O, OH, OW) for a 3x3 stride-1 weight by F(4x4, 3x3); returns what the
    backward needs: the transformed input and filters."""
    saved = _transformed(x, weight, pad_h, pad_w, 4, _tiles(*out.shape[2:]))
    output_transform(batched_matmul(saved.V, saved.U).reshape(36, -1), bias, *saved.tiles, out)
    return saved


def winograd_forward_relu_pool(x, weight, bias, out_w, pooled, argmax, pad_h, pad_w):
    """relu(max_pool2d(conv, 2)) into pooled and argmax, for a convolution output of width
    out_w, computing only the outputs the pool reads (an odd last row and column are not);
    returns what winograd_backward_relu_pool needs."""
    pooled_h, pooled_w = pooled.shape[2:]
    tile = pooled_tile(pooled_h, pooled_w)
    saved = _transformed(x, weight, pad_h, pad_w, tile,
                         _tiles(2 * pooled_h, 2 * pooled_w, tile))
    product = batched_matmul(saved.V, saved.U)
    KERNELS[tile].relu_pool(product.reshape(product.shape[0], -1), bias, *saved.tiles, out_w,
                            pooled, argmax, images_per_block(len(x)))
    return saved


def winograd_backward(grad_out, saved, grad_x, grad_weight, pad_h, pad_w):
    """Overwrites grad_x and grad_weight (either may be None: not needed); returns the bias
    gradient (O,). `saved` is what winograd_forward returned."""
    Gt, bias_parts = _gradient_buffers(saved, grad_out)
    output_grad_transform(grad_out, *saved.tiles, Gt.reshape(len(Gt), -1), bias_parts)
    return _backward_products(Gt, bias_parts, saved, grad_x, grad_weight, pad_h, pad_w)


def winograd_backward_relu_pool(grad_pooled, argmax, out_w, saved, grad_x, grad_weight,
                                pad_h, pad_w):
    """winograd_backward for winograd_forward_relu_pool, from the pooled output's gradient
    with the ReLU's mask applied."""
    Gt, bias_parts = _gradient_buffers(saved, grad_pooled)
    KERNELS[saved.tile].pooled_grad(grad_pooled, argmax, out_w, *saved.tiles,
                                    Gt.reshape(len(Gt), -1), bias_parts,
                                    images_per_block(len(grad_pooled)))
    return _backward_products(Gt, bias_parts, saved, grad_x, grad_weight, pad_h, pad_w)


def _gradient_buffers(saved, grad):
    """Gt (P, T, O) for the transformed output gradient, and bias_parts (N, O), for a
    gradient `grad` of N images and O channels (output-sized or pooled)."""
    n, o = grad.shape[:2]
    return (np.empty((saved.V.shape[0], saved.V.shape[1], o), dtype=grad.dtype),
            np.empty((n, o), dtype=grad.dtype))


def _backward_products(Gt, bias_parts, saved, grad_x, grad_weight, pad_h, pad_w):
    """From the transformed output gradient Gt (P, T, O) on: the input and filter gradients
    (each may be None: not needed) and the bias gradient, returned."""
    V, U, tile, tiles = saved
    rows = V.shape[0]
    if grad_x is not None:
        dV = batched_matmul(Gt, U.transpose(0, 2, 1))
        KERNELS[tile].input_grad(dV.reshape(rows, -1), pad_h, pad_w, *tiles, grad_x,
                                 images_per_block(len(grad_x)))
    if grad_weight is not None:
        # dU^T = Gt^T @ V, (P, O, C): 0.6x the time of V^T @ Gt (paired A/B)
        dU_t = batched_matmul(Gt.transpose(0, 2, 1), V)
        o, channels = Gt.shape[2], V.shape[2]
        grad_taps = matmul(KERNELS[tile].GG.T.astype(dU_t.dtype), dU_t.reshape(rows, -1))
        grad_weight[...] = grad_taps.T.reshape(o, channels, 3, 3)
    return bias_parts.sum(axis=0)
