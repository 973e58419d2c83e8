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
The batch is taken in blocks of images (each parallel job one of winograd_chunks parts of the
batch, in blocks of about winograd_block_rows tiles: kernels/policy.py), each block from its
input to its output, or back, in one pass while in cache: its tiles' rows of V, their P
products (one single-threaded BLAS call each) and their output tiles. Within a block the
tiles are in (tile, image) order, and the block's images are copied zero-padded with images
and channels last: so every transform loop, along either side of the patch, runs over
images x channels floats at once.
This is faster on the study's layers than transforms over the whole batch with 36
batch-sized products between them: a block never leaves the cache, and (tile, image) order
gives the transforms long runs where (image, tile) order gave them C floats at a time.

The backward is the exact adjoint of these linear maps: the output gradient's tiles are
transformed by A (.) A^T, then one product per row gives the filter gradient (.^T @ V,
then G^T (.) G) and another the input gradient (. @ U^T, then B (.) B^T, with the
overlapping patches added up).

Followed by a ReLU and a 2x2 max-pool (F.conv2d_relu_max_pool2d), the output transform pools
each tile's whole 2x2 windows while they are in cache (relu_pool_block) and the
backward builds each tile's gradient from the pooled one (pooled_grad_block): the
convolution's output and its gradient, 2.5 MB each on the study's layer, are never made.
Each window's winner is kept as its place in the window (0-3), laid out (image, window,
channel) as the tiles are, rather than as max_pool2d's flat argmax (N, O, PH, PW): the
forward's scan and the backward's placing of the gradients then run along the channels in
vector lanes.
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

from .. import policy
from .products import matmul
from .winograd_blocks import (block_grads, block_products, chunk_blocks, grad_block,
                              input_block, output_block, pooled_grad_block, relu_pool_block)
from .winograd_maps import GG, GG8, a4, a8, at4, at8, b8_add, b4_add, bt4, bt8

# The kernels: each parallel job is one of `chunks` parts of the batch, taken in blocks of
# about block_rows tiles, each block from the input to the output (or back) while in cache.
# Their arguments, grouped: geometry = (pad_h, pad_w, tiles_h, tiles_w), the padding and
# the tiles per image; work = (chunks, block_rows); the backward's buffers = (U_t, grad_x,
# dU_parts, bias_parts) (see _gradient_buffers).


@njit(cache=True, parallel=True)
def forward_f4(x, U, bias, V, out, geometry, work):
    """out (N, O, OH, OW) = the convolution by F(4x4, 3x3) tiles, plus bias; V (36, T, C)
    = the transformed input, kept for the backward."""
    pad_h, pad_w, tiles_h, tiles_w = geometry
    chunks, block_rows = work
    per_image = tiles_h * tiles_w
    for chunk in prange(chunks):
        for n0, images in chunk_blocks(chunk, chunks, len(x), per_image, block_rows):
            input_block(x, n0, images, pad_h, pad_w, tiles_h, tiles_w, V, bt4, 6)
            output_block(block_products(V, n0 * per_image, images * per_image, U), bias, n0,
                         tiles_h, tiles_w, out)


@njit(cache=True, inline="always")
def _forward_relu_pool(x, U, bias, V, pooled, winners, geometry, work, bt, at, patch):
    pad_h, pad_w, tiles_h, tiles_w = geometry
    chunks, block_rows = work
    per_image = tiles_h * tiles_w
    for chunk in prange(chunks):
        for n0, images in chunk_blocks(chunk, chunks, len(x), per_image, block_rows):
            input_block(x, n0, images, pad_h, pad_w, tiles_h, tiles_w, V, bt, patch)
            relu_pool_block(block_products(V, n0 * per_image, images * per_image, U), bias, n0,
                            tiles_h, tiles_w, pooled, winners, at, patch)


@njit(cache=True, parallel=True)
def forward_relu_pool_f4(x, U, bias, V, pooled, winners, geometry, work):
    """relu(max_pool2d(conv, 2)) into pooled, and each window's winner into winners (see
    relu_pool_block), by F(4x4, 3x3) tiles; V as forward_f4's."""
    _forward_relu_pool(x, U, bias, V, pooled, winners, geometry, work, bt4, at4, 6)


@njit(cache=True, parallel=True)
def forward_relu_pool_f6(x, U, bias, V, pooled, winners, geometry, work):
    """forward_relu_pool_f4 by F(6x6, 3x3) tiles."""
    _forward_relu_pool(x, U, bias, V, pooled, winners, geometry, work, bt8, at8, 8)


@njit(cache=True, parallel=True)
def backward_f4(grad_out, V, buffers, geometry, work):
    """forward_f4's gradients: grad_x (where it has any images), each chunk's part of the
    transformed filters' gradient, transposed, added to dU_parts (chunks, 36, O, C) (where
    it has any chunks), and bias_parts (N, O), each image's bias gradient."""
    U_t, grad_x, dU_parts, bias_parts = buffers
    pad_h, pad_w, tiles_h, tiles_w = geometry
    chunks, block_rows = work
    per_image = tiles_h * tiles_w
    for chunk in prange(chunks):
        blocks = chunk_blocks(chunk, chunks, len(grad_out), per_image, block_rows)
        for b in range(len(blocks)):
            n0, images = blocks[b]
            block_grads(grad_block(grad_out, n0, images, tiles_h, tiles_w, bias_parts), V,
                        U_t, n0 * per_image, n0, chunk, b == 0, pad_h, pad_w, tiles_h,
                        tiles_w, grad_x, dU_parts, b4_add, 6)


@njit(cache=True, inline="always")
def _backward_relu_pool(grad_pooled, winners, V, buffers, geometry, work, a_map, b_add,
                        patch):
    U_t, grad_x, dU_parts, bias_parts = buffers
    pad_h, pad_w, tiles_h, tiles_w = geometry
    chunks, block_rows = work
    per_image = tiles_h * tiles_w
    for chunk in prange(chunks):
        blocks = chunk_blocks(chunk, chunks, len(grad_pooled), per_image, block_rows)
        for b in range(len(blocks)):
            n0, images = blocks[b]
            G = pooled_grad_block(grad_pooled, winners, n0, images, tiles_h, tiles_w,
                                  bias_parts, a_map, patch)
            block_grads(G, V, U_t, n0 * per_image, n0, chunk, b == 0, pad_h, pad_w, tiles_h,
                        tiles_w, grad_x, dU_parts, b_add, patch)


@njit(cache=True, parallel=True)
def backward_relu_pool_f4(grad_pooled, winners, V, buffers, geometry, work):
    """backward_f4 for forward_relu_pool_f4, from the pooled output's gradient with the
    ReLU's mask applied."""
    _backward_relu_pool(grad_pooled, winners, V, buffers, geometry, work, a4, b4_add, 6)


@njit(cache=True, parallel=True)
def backward_relu_pool_f6(grad_pooled, winners, V, buffers, geometry, work):
    """backward_relu_pool_f4 for forward_relu_pool_f6."""
    _backward_relu_pool(grad_pooled, winners, V, buffers, geometry, work, a8, b8_add, 8)


@njit(cache=True, parallel=True)
def filter_grad(dU_parts, GG, grad_weight, slices):
    """grad_weight (O, C, 3, 3) = G^T (.) G of the sum of the parts' transformed filter
    gradients dU_parts (chunks, P, O, C), the parts added in order: per slice of the (o, c)
    pairs (`slices` parallel jobs), in one pass over the parts (rather than np.sum over the
    parts and then kron(G, G)^T @ the sum as a product: BLAS is slow on 9 rows)."""
    chunks, patch_values, outs, channels = dU_parts.shape
    pairs = outs * channels
    parts = dU_parts.reshape(chunks, patch_values, pairs)
    taps = grad_weight.reshape(pairs, 9)
    for s in prange(slices):
        lo, hi = pairs * s // slices, pairs * (s + 1) // slices
        total = np.empty(hi - lo, dtype=dU_parts.dtype)
        sums = np.zeros((9, hi - lo), dtype=dU_parts.dtype)
        for p in range(patch_values):
            total[:] = parts[0, p, lo:hi]
            for chunk in range(1, chunks):
                part = parts[chunk, p, lo:hi]
                for q in range(hi - lo):
                    total[q] += part[q]
            for k in range(9):
                weight = GG[p, k]
                if weight != 0:
                    row = sums[k]
                    for q in range(hi - lo):
                        row[q] += weight * total[q]
        for q in range(hi - lo):
            for k in range(9):
                taps[lo + q, k] = sums[k, q]


class TileKernels(NamedTuple):
    """The fused op's kernels of one tile side, and its filter transform kron(G, G)."""
    forward_relu_pool: object
    backward_relu_pool: object
    GG: np.ndarray


KERNELS = {4: TileKernels(forward_relu_pool_f4, backward_relu_pool_f4, GG),
           6: TileKernels(forward_relu_pool_f6, backward_relu_pool_f6, GG8)}

# The batch is cut into winograd_chunks parts (kernels/policy.py; the parallel jobs: the
# filter gradient sums each part on its own and then the parts in order, so that its values
# do not depend on the thread count), each taken in blocks of about winograd_block_rows
# tiles: a block's transformed input, its products and their output tiles stay in cache, and
# BLAS runs small products of a few dozen rows faster per core than the batch's tall ones.


def _work(plan, V) -> tuple:
    """The kernels' work argument, (chunks, block_rows). The batch is cut into
    winograd_chunks parts, fewer where it has fewer than winograd_part_tiles tiles a part
    (tiny parts multiply the BLAS calls) or fewer images than parts; a power of two, so that
    2 or 4 threads share the parts evenly (3 parts on 2 threads: one thread takes two while
    the other waits)."""
    settings, tiles = policy.get(), V.shape[1]
    tiles_h, tiles_w = _tiles(plan)
    count = max(1, min(settings.winograd_chunks, tiles // settings.winograd_part_tiles,
                       tiles // (tiles_h * tiles_w)))
    return 1 << (count.bit_length() - 1), settings.winograd_block_rows


class Transformed(NamedTuple):
    """What the forward keeps for the backward."""
    V: np.ndarray  # (P, T, C) transformed input patches, P = 36 or 64
    U: np.ndarray  # (P, C, O) transformed filters


def _cover(height: int, width: int, tile: int) -> tuple:
    """Tiles covering a height x width output."""
    return -(-height // tile), -(-width // tile)


def _tiles(plan) -> tuple:
    """(tiles_h, tiles_w) per image: over the whole output, or (pooled) over the outputs the
    2x2 pool reads (an odd last row and column are not)."""
    g = plan.geometry
    if plan.pooled:
        return _cover(g.out_h // 2 * 2, g.out_w // 2 * 2, plan.tile)
    return _cover(g.out_h, g.out_w, plan.tile)


def _geometry(plan) -> tuple:
    """The kernels' geometry argument, (pad_h, pad_w, tiles_h, tiles_w)."""
    g = plan.geometry
    return (g.pad_h, g.pad_w, *_tiles(plan))


def pooled_tile(pooled_h: int, pooled_w: int, settings=None) -> int:
    """The tile side, 4 or 6, whose tiles cover the pooled windows (2 pooled_h x 2 pooled_w
    outputs) with fewer transformed values, 4 on a tie: 6 on the study's 32->64 layer (one
    8x8 patch per image instead of four 6x6). F(6x6, 3x3)'s float32 error is about twice
    F(4x4, 3x3)'s (tests/test_kernels.py bounds both). The policy's winograd_pooled_tile,
    where set (in `settings`, else the current policy), forces the side."""
    forced = (settings or policy.get()).winograd_pooled_tile
    if forced is not None:
        return forced

    def cost(tile):
        tiles_h, tiles_w = _cover(2 * pooled_h, 2 * pooled_w, tile)
        return (tile + 2) ** 2 * tiles_h * tiles_w
    return 6 if cost(6) < cost(4) else 4


def _transformed(plan, x, weight) -> Transformed:
    """The filters transformed, and room for the transformed input (the forward fills it)."""
    n, channels = x.shape[:2]
    o, rows = weight.shape[0], (plan.tile + 2) ** 2
    tiles_h, tiles_w = _tiles(plan)
    V = np.empty((rows, n * tiles_h * tiles_w, channels), dtype=x.dtype)
    # U = GG @ the taps as (9, C * O): written in its (P, C, O) layout by the product itself
    # (a transpose afterwards is a slow strided copy)
    taps = np.ascontiguousarray(weight.reshape(o, channels, 9).transpose(2, 1, 0))
    U = matmul(KERNELS[plan.tile].GG.astype(x.dtype), taps.reshape(9, -1))
    return Transformed(V, U.reshape(rows, channels, o))


def winograd_forward(plan, x, weight, bias, out):
    """Writes out (N, O, OH, OW) for a 3x3 stride-1 weight by F(4x4, 3x3); returns what the
    backward needs: the transformed input and filters."""
    saved = _transformed(plan, x, weight)
    forward_f4(x, saved.U, bias, saved.V, out, _geometry(plan), _work(plan, saved.V))
    return saved


def winograd_forward_relu_pool(plan, x, weight, bias, pooled):
    """relu(max_pool2d(conv, 2)) into pooled by the plan's tiles, computing only the
    outputs the pool reads; returns what winograd_backward_relu_pool needs: the transformed
    arrays, and each window's winner (N, PH * PW, O), its place in the window (0-3, in x's
    dtype: relu_pool_block)."""
    saved = _transformed(plan, x, weight)
    n, o, pooled_h, pooled_w = pooled.shape
    winners = np.empty((n, pooled_h * pooled_w, o), dtype=x.dtype)
    KERNELS[plan.tile].forward_relu_pool(x, saved.U, bias, saved.V, pooled, winners,
                                         _geometry(plan), _work(plan, saved.V))
    return saved, winners


def winograd_backward(plan, grad_out, saved, grad_x, grad_weight):
    """Overwrites grad_x and grad_weight (either may be None: not needed); returns the bias
    gradient (O,). `saved` is what winograd_forward returned."""
    work = _work(plan, saved.V)
    buffers = _gradient_buffers(saved, grad_out, grad_x, grad_weight, work[0])
    backward_f4(grad_out, saved.V, buffers, _geometry(plan), work)
    return _filter_and_bias_grads(plan, buffers, grad_weight)


def winograd_backward_relu_pool(plan, grad_pooled, winners, saved, grad_x, grad_weight):
    """winograd_backward for winograd_forward_relu_pool, from the pooled output's gradient
    with the ReLU's mask applied and the winners it returned."""
    work = _work(plan, saved.V)
    buffers = _gradient_buffers(saved, grad_pooled, grad_x, grad_weight, work[0])
    KERNELS[plan.tile].backward_relu_pool(grad_pooled, winners, saved.V, buffers,
                                          _geometry(plan), work)
    return _filter_and_bias_grads(plan, buffers, grad_weight)


def _gradient_buffers(saved, grad, grad_x, grad_weight, chunks) -> tuple:
    """The backward kernels' buffers: U transposed (P, O, C) (so the input gradient's
    products read it in the order BLAS runs fastest), grad_x, the chunks' filter gradients
    and the images' bias gradients (N, O); an array not needed has no elements (so the
    kernel keeps one signature)."""
    n, o = grad.shape[:2]
    none = np.empty((0, 0, 0, 0), dtype=grad.dtype)
    parts = (np.empty((chunks, saved.V.shape[0], o, saved.V.shape[2]), dtype=grad.dtype)
             if grad_weight is not None else none)
    return (np.ascontiguousarray(saved.U.transpose(0, 2, 1)),
            none if grad_x is None else grad_x, parts, np.empty((n, o), dtype=grad.dtype))


def _filter_and_bias_grads(plan, buffers, grad_weight):
    """grad_weight from the chunks' transformed filter gradients (G^T (.) G of their sum,
    taken in order); returns the bias gradient."""
    _, _, dU_parts, bias_parts = buffers
    if grad_weight is not None:
        filter_grad(dU_parts, KERNELS[plan.tile].GG.astype(dU_parts.dtype), grad_weight,
                    policy.get().winograd_filter_slices)
    return bias_parts.sum(axis=0)
