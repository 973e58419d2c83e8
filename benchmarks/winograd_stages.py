"""`python -m benchmarks.winograd_stages`: where the study's second layer spends its time. The
fused Conv2d(32, 64, 3, padding=1), ReLU, MaxPool2d(2) on 200 images of 7x7 (a batch of 100
pairs; one F(6x6, 3x3) tile per image) runs on the CPU kernels alone, on fixed arrays: its
forward and backward whole, and each stage of them (kernels/cpu/conv_winograd.py,
winograd_blocks.py) run by itself over the same chunks and blocks as the kernels run it.

With --before DIR (another checkout of the project, e.g. a `git worktree` of an older
commit), that checkout's kernels are imported into this process too, as the package
`kernels_before`, and its whole forward and backward are timed in turn with this
checkout's: both see the same minutes of a noisy machine, which separate processes do not.

Every call takes one window (the median of --repeats calls) per round, the order rotated
each round; a ratio is the median over rounds of this checkout's window / the other's.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import pathlib
import statistics
import sys

import numpy as np
from numba import njit, prange

from kernels.cpu import conv, conv_winograd
from kernels.cpu.winograd_blocks import (block_products, chunk_blocks, input_block,
                                         input_grad_block, pooled_grad_block, relu_pool_block)
from kernels.cpu.winograd_maps import a4, a8, at4, at8, b4_add, b8_add, bt4, bt8

from .harness import alternate_calls, markdown_table, write_results

IMAGES, CHANNELS, OUTS, SIZE = 200, 32, 64, 7


def layer_arrays(images: int, seed: int = 0) -> dict:
    """The layer's input (as after the first layer's ReLU), weight, bias and the pooled
    gradient's random values (masked by the forward's ReLU when used)."""
    rng = np.random.default_rng(seed)
    pooled_shape = (images, OUTS, SIZE // 2, SIZE // 2)
    return {"x": np.maximum(rng.standard_normal((images, CHANNELS, SIZE, SIZE)), 0),
            "weight": rng.standard_normal((OUTS, CHANNELS, 3, 3)) * 0.1,
            "bias": rng.standard_normal(OUTS) * 0.1,
            "grad": rng.standard_normal(pooled_shape)}


def layer_calls(kernels, arrays: dict) -> dict:
    """{"forward": ..., "backward": ...}: the fused layer's whole forward and backward on
    a checkout's CPU kernels (a module like kernels.cpu.conv). Older checkouts' forward took
    max_pool2d's argmax array and returned what the backward needs alone; newer ones return
    that and the windows' winners."""
    x, weight, bias = (arrays[k].astype(np.float32) for k in ("x", "weight", "bias"))
    plan = kernels.conv2d_plan(x.shape, weight.shape, x.dtype, (1, 1), (1, 1), pooled=True)
    pooled = np.empty(arrays["grad"].shape, np.float32)
    takes_argmax = len(inspect.signature(
        inspect.unwrap(kernels.conv2d_relu_pool_forward)).parameters) == 6
    argmax = np.empty(pooled.shape, np.int64)

    def forward():
        if takes_argmax:
            return kernels.conv2d_relu_pool_forward(plan, x, weight, bias, pooled, argmax), \
                argmax
        return kernels.conv2d_relu_pool_forward(plan, x, weight, bias, pooled)

    saved, winners = forward()
    grad = np.where(pooled > 0, arrays["grad"], 0).astype(np.float32)
    grad_x, grad_weight = np.empty_like(x), np.empty_like(weight)
    return {"forward": forward,
            "backward": lambda: kernels.conv2d_relu_pool_backward(
                plan, grad, winners, weight, saved, grad_x, grad_weight)}


# --- the stages, each over the kernels' own chunks and blocks ------------------------------

@njit(parallel=True)
def _input_transform(x, V, geometry, work, patch):
    pad_h, pad_w, tiles_h, tiles_w = geometry
    chunks, block_rows = work
    for chunk in prange(chunks):
        for n0, images in chunk_blocks(chunk, chunks, len(x), tiles_h * tiles_w, block_rows):
            if patch == 8:
                input_block(x, n0, images, pad_h, pad_w, tiles_h, tiles_w, V, bt8, 8)
            else:
                input_block(x, n0, images, pad_h, pad_w, tiles_h, tiles_w, V, bt4, 6)


@njit(parallel=True)
def _forward_products(V, U, pooled, winners, bias, geometry, work, patch, pool):
    """The forward's products per block, and with `pool` their output transform, ReLU and
    pool."""
    _, _, tiles_h, tiles_w = geometry
    chunks, block_rows = work
    per_image = tiles_h * tiles_w
    for chunk in prange(chunks):
        for n0, images in chunk_blocks(chunk, chunks, len(pooled), per_image, block_rows):
            M = block_products(V, n0 * per_image, images * per_image, U)
            if pool and patch == 8:
                relu_pool_block(M, bias, n0, tiles_h, tiles_w, pooled, winners, at8, 8)
            elif pool:
                relu_pool_block(M, bias, n0, tiles_h, tiles_w, pooled, winners, at4, 6)


@njit(parallel=True)
def _pooled_gradient(grad, winners, bias_parts, geometry, work, patch):
    """Each block's pooled gradient placed in its tiles, and their transform."""
    _, _, tiles_h, tiles_w = geometry
    chunks, block_rows = work
    for chunk in prange(chunks):
        for n0, images in chunk_blocks(chunk, chunks, len(grad), tiles_h * tiles_w,
                                       block_rows):
            if patch == 8:
                pooled_grad_block(grad, winners, n0, images, tiles_h, tiles_w, bias_parts, a8, 8)
            else:
                pooled_grad_block(grad, winners, n0, images, tiles_h, tiles_w, bias_parts, a4, 6)


@njit(parallel=True)
def _backward_products(G, V, U_t, geometry, work):
    """Each block's products of the backward: the transformed input's gradient (G @ U^T) and
    the filters' (G^T @ V), on a transformed output gradient G of the batch's size."""
    _, _, tiles_h, tiles_w = geometry
    chunks, block_rows = work
    per_image = tiles_h * tiles_w
    for chunk in prange(chunks):
        part = np.empty((U_t.shape[1], U_t.shape[2]), dtype=G.dtype)
        for n0, images in chunk_blocks(chunk, chunks, V.shape[1] // per_image, per_image,
                                       block_rows):
            t0, rows = n0 * per_image, images * per_image
            block_products(G, t0, rows, U_t)
            for p in range(G.shape[0]):
                np.dot(G[p, t0:t0 + rows].T, V[p, t0:t0 + rows], part)


@njit(parallel=True)
def _input_gradient_transform(grad_x, geometry, work, patch):
    """Each block's transformed input gradient (ones here, a block-sized array as the
    products make it) transformed back and added up into grad_x."""
    pad_h, pad_w, tiles_h, tiles_w = geometry
    chunks, block_rows = work
    per_image = tiles_h * tiles_w
    for chunk in prange(chunks):
        for n0, images in chunk_blocks(chunk, chunks, len(grad_x), per_image, block_rows):
            block = np.ones((patch * patch, images * per_image, grad_x.shape[1]),
                            dtype=grad_x.dtype)
            if patch == 8:
                input_grad_block(block, n0, pad_h, pad_w, tiles_h, tiles_w, grad_x, b8_add, 8)
            else:
                input_grad_block(block, n0, pad_h, pad_w, tiles_h, tiles_w, grad_x, b4_add, 6)


def stage_calls(arrays: dict) -> dict:
    """{stage: call} of this checkout's fused layer, whole and by stage."""
    whole = layer_calls(conv, arrays)
    x, weight, bias = (arrays[k].astype(np.float32) for k in ("x", "weight", "bias"))
    plan = conv.conv2d_plan(x.shape, weight.shape, x.dtype, (1, 1), (1, 1), pooled=True)
    pooled = np.empty(arrays["grad"].shape, np.float32)
    saved, winners = conv.conv2d_relu_pool_forward(plan, x, weight, bias, pooled)
    grad = np.where(pooled > 0, arrays["grad"], 0).astype(np.float32)
    grad_x, grad_weight = np.empty_like(x), np.empty_like(weight)
    geometry, work = conv_winograd._geometry(plan), conv_winograd._work(plan, saved.V)
    patch = plan.tile + 2
    buffers = conv_winograd._gradient_buffers(saved, grad, grad_x, grad_weight, work[0])
    conv.conv2d_relu_pool_backward(plan, grad, winners, weight, saved, grad_x, grad_weight)
    G = np.ones((patch * patch, saved.V.shape[1], OUTS), np.float32)
    return {
        "forward, whole": whole["forward"],
        "- filters transformed (U)": lambda: conv_winograd._transformed(plan, x, weight),
        "- input transform": lambda: _input_transform(x, saved.V, geometry, work, patch),
        "- the products": lambda: _forward_products(saved.V, saved.U, pooled, winners, bias,
                                                    geometry, work, patch, False),
        "- the products, output transform, ReLU and pool": lambda: _forward_products(
            saved.V, saved.U, pooled, winners, bias, geometry, work, patch, True),
        "backward, whole": whole["backward"],
        "- buffers (U transposed)": lambda: conv_winograd._gradient_buffers(
            saved, grad, grad_x, grad_weight, work[0]),
        "- the pooled gradient placed in the tiles, and their transform":
            lambda: _pooled_gradient(grad, winners, buffers[3], geometry, work, patch),
        "- the products (input and filter gradients)":
            lambda: _backward_products(G, saved.V, buffers[0], geometry, work),
        "- the input gradient's transform":
            lambda: _input_gradient_transform(grad_x, geometry, work, patch),
        "- filter and bias gradients finished":
            lambda: conv_winograd._filter_and_bias_grads(plan, buffers, grad_weight),
    }


def kernels_of(checkout: pathlib.Path):
    """The CPU convolution kernels (kernels.cpu.conv) of another checkout, imported as the
    package kernels_before."""
    root = checkout / "kernels"
    spec = importlib.util.spec_from_file_location(
        "kernels_before", root / "__init__.py", submodule_search_locations=[str(root)])
    if spec is None or not (root / "cpu" / "conv.py").exists():
        raise SystemExit(f"winograd_stages: no kernels/cpu/conv.py under {checkout}")
    package = importlib.util.module_from_spec(spec)
    sys.modules["kernels_before"] = package
    spec.loader.exec_module(package)
    return importlib.import_module("kernels_before.cpu.conv")


def against_before(checkout: pathlib.Path, arrays: dict, rounds: int, repeats: int) -> tuple:
    """(results, table) of the whole forward and backward of another checkout's kernels
    and this one's, their windows alternating in this process."""
    before = layer_calls(kernels_of(checkout.resolve()), arrays)
    this = layer_calls(conv, arrays)
    calls = {f"{pass_} {which}": side[pass_] for pass_ in ("forward", "backward")
             for which, side in (("before", before), ("this", this))}
    windows = alternate_calls(calls, rounds, repeats)
    rows = []
    for pass_ in ("forward", "backward"):
        old, new = windows[f"{pass_} before"], windows[f"{pass_} this"]
        rows.append([pass_, f"{statistics.median(old):.3f}", f"{statistics.median(new):.3f}",
                     f"{statistics.median(n / o for n, o in zip(new, old)):.3f}"])
    table = markdown_table(["pass", "before (ms)", "this (ms)", "this / before"], rows)
    return {"checkout": str(checkout), "windows_ms": windows}, table


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=pathlib.Path,
                        help="another checkout whose whole forward and backward to time too")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--repeats", type=int, default=30, help="calls per window")
    parser.add_argument("--quick", action="store_true", help="20 images, 1 round (CI)")
    parser.add_argument("--out", help="directory for winograd_stages.json and .md")
    args = parser.parse_args(argv)
    images, rounds, repeats = (20, 1, 2) if args.quick else (IMAGES, args.rounds, args.repeats)
    arrays = layer_arrays(images)
    windows = alternate_calls(stage_calls(arrays), rounds, repeats)
    rows = [[name, f"{statistics.median(ms):.3f}"] for name, ms in windows.items()]
    table = markdown_table(["stage (this checkout)", "ms"], rows)
    results = {"images": images, "stages_ms": windows}
    if args.before:
        results["before"], ab_table = against_before(args.before, arrays, rounds, repeats)
        table += "\n\n" + ab_table
    print(table)
    write_results(args.out, "winograd_stages", results, table)
    return results


if __name__ == "__main__":
    main()
