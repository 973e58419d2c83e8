"""The CPU kernels on raw arrays: against torch at the study's shapes in float32 and float64,
and with numba's JIT disabled (so debuggers and coverage can step into them)."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from kernels import cpu as K
from kernels.cpu import winograd_maps as maps
from torch_reference import torch

TF = torch.nn.functional
# float64: the same sums in another order; float32: a few ulps times the reduction length.
RTOL = {np.float64: 1e-12, np.float32: 1e-5}


@pytest.mark.parametrize("shape, kernel, pad", [((20, 1, 14, 14), 3, 1), ((3, 2, 9, 8), 2, 0),
                                               ((3, 2, 9, 8), 3, 1)])
def test_per_image_relu_pool_kernel_equals_the_composed_ops_bit_for_bit(shape, kernel, pad):
    """The first layer's fused forward (a product per image, pooled in cache: pixel by pixel
    for 9 and 8 taps, plane by plane for 18) against conv2d, then max_pool2d and ReLU, and
    its weight and bias gradients (taken from the pooled gradient when the input needs none)
    against max_pool2d's then conv2d's backward: ties from integer data, a NaN, odd
    sizes."""
    rng = np.random.default_rng(6)
    x = rng.integers(-2, 3, size=shape).astype(np.float32)
    x[0, 0, 3, 3] = np.nan
    w = rng.integers(-1, 2, size=(4, shape[1], kernel, kernel)).astype(np.float32)
    b = rng.integers(-1, 2, size=4).astype(np.float32)
    size = [side + 2 * pad - kernel + 1 for side in shape[2:]]
    out = np.empty((shape[0], 4, *size), np.float32)
    plan, fused = (K.conv2d_plan(x.shape, w.shape, x.dtype, (1, 1), (pad, pad), pooled=pooled)
                   for pooled in (False, True))
    assert plan.algorithm == fused.algorithm == "images" and fused.fused
    assert plan.pixels == fused.pixels == (shape[1] * kernel * kernel <= 16)
    cols = K.conv2d_forward(plan, x, w, b, out)
    pooled_shape = (shape[0], 4, size[0] // 2, size[1] // 2)
    expected, expected_argmax = np.empty(pooled_shape, np.float32), np.empty(pooled_shape, np.int64)
    K.max_pool2d_forward(out, expected, expected_argmax, 2, 2, 2, 2, 0, 0)
    K.relu_forward(expected.reshape(-1), expected.reshape(-1))
    pooled = np.empty_like(expected)
    _, argmax = K.conv2d_relu_pool_forward(fused, x, w, b, pooled)
    assert np.isnan(pooled).any()
    np.testing.assert_array_equal(pooled, expected)
    np.testing.assert_array_equal(argmax, expected_argmax)

    x[0, 0, 3, 3] = 0.0  # a finite gradient to compare
    saved, argmax = K.conv2d_relu_pool_forward(fused, x, w, b, pooled)
    g = np.where(pooled > 0, rng.integers(-3, 4, size=pooled.shape), 0).astype(np.float32)
    grad_out = np.empty_like(out)
    K.max_pool2d_backward(g, argmax, grad_out, 2, 2, 2, 2, 0, 0)
    expected_w = np.empty_like(w)
    cols = K.conv2d_forward(plan, x, w, b, out)
    expected_b = K.conv2d_backward(plan, grad_out, w, cols, None, expected_w)
    grad_w = np.empty_like(w)
    grad_b = K.conv2d_relu_pool_backward(fused, g, argmax, w, saved, None, grad_w)
    np.testing.assert_array_equal(grad_w, expected_w)
    np.testing.assert_array_equal(grad_b, expected_b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [3, 8])  # a tile cropped, or whole tiles
def test_winograd_relu_pool_kernels_equal_the_composed_ops_bit_for_bit(size, dtype):
    """The study's second layer's channels through the fused F(4x4, 3x3) kernels, against
    conv2d, then max_pool2d and ReLU, then their gradients with the ReLU's mask on the
    pooled one. (On 7x7 the fused op takes F(6x6, 3x3) instead: bounded below.)"""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((20, 32, size, size)), rng.standard_normal((64, 32, 3, 3))
    b, pooled_shape = rng.standard_normal(64), (20, 64, size // 2, size // 2)
    x, w, b, g = (a.astype(dtype) for a in (x, w, b, rng.standard_normal(pooled_shape)))
    out, pooled, argmax = np.empty((20, 64, size, size), dtype), np.empty(pooled_shape, dtype), \
        np.empty(pooled_shape, np.int64)
    plan, fused = (K.conv2d_plan(x.shape, w.shape, dtype, (1, 1), (1, 1), pooled=pooled)
                   for pooled in (False, True))
    assert (plan.algorithm, plan.tile, fused.algorithm, fused.tile) == \
        ("winograd", 4, "winograd", 4), "not F(4x4, 3x3)"
    saved = K.conv2d_forward(plan, x, w, b, out)
    K.max_pool2d_forward(out, pooled, argmax, 2, 2, 2, 2, 0, 0)
    K.relu_forward(pooled.reshape(-1), pooled.reshape(-1))
    masked = np.where(pooled > 0, g, 0).astype(dtype)
    grad_out = np.empty_like(out)
    K.max_pool2d_backward(masked, argmax, grad_out, 2, 2, 2, 2, 0, 0)
    expected = [pooled, argmax, np.empty_like(x), np.empty_like(w)]
    expected.append(K.conv2d_backward(plan, grad_out, w, saved, *expected[2:]))

    fused_pooled = np.empty_like(pooled)
    saved, winners = K.conv2d_relu_pool_forward(fused, x, w, b, fused_pooled)
    assert saved.V.shape[0] == 36, "not F(4x4, 3x3)"
    ours = [fused_pooled, _argmax_of(winners, pooled.shape, size), np.empty_like(x),
            np.empty_like(w)]
    ours.append(K.conv2d_relu_pool_backward(fused, masked, winners, w, saved, *ours[2:]))
    for label, a, e in zip(["pooled", "argmax", "grad x", "grad w", "grad b"], ours, expected):
        np.testing.assert_array_equal(a, e, err_msg=label)


def _argmax_of(winners, pooled_shape, out_w):
    """max_pool2d's argmax (flat in an output plane of width out_w) from the Winograd
    kernels' winners (N, PH * PW, O): each window's winner as its place in the window."""
    n, o, pooled_h, pooled_w = pooled_shape
    place = winners.transpose(0, 2, 1).reshape(pooled_shape).astype(np.int64)
    ph, pw = np.arange(pooled_h)[:, None], np.arange(pooled_w)[None, :]
    return (2 * ph + place // 2) * out_w + 2 * pw + place % 2


PER_IMAGE, IM2COL, WINOGRAD = "images", "im2col", "winograd"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape,w_shape,stride,pad,path", [
    # per image: at least as many output pixels as taps (C * KH * KW); non-square, strided,
    # wide padding
    ((200, 1, 14, 14), (32, 1, 3, 3), 1, 1, PER_IMAGE),
    ((10, 2, 14, 14), (32, 2, 3, 3), 1, 0, PER_IMAGE),
    ((2, 3, 9, 8), (4, 3, 2, 3), 2, 1, PER_IMAGE),
    ((4, 2, 6, 5), (3, 2, 2, 2), 1, 1, PER_IMAGE),
    ((3, 1, 4, 4), (2, 1, 1, 1), 1, 2, PER_IMAGE),
    # im2col: fewer output pixels than taps
    ((3, 1, 5, 7), (2, 1, 4, 4), 1, 0, IM2COL),
    ((2, 8, 9, 8), (4, 8, 2, 3), 2, 1, IM2COL),
    ((3, 64, 2, 2), (8, 64, 4, 4), 1, 1, IM2COL),
    # Winograd F(4x4, 3x3) (3x3, stride 1, >= winograd_channels): tiles cropped at the edge
    ((20, 32, 7, 7), (64, 32, 3, 3), 1, 1, WINOGRAD),
    ((3, 16, 5, 9), (16, 16, 3, 3), 1, 0, WINOGRAD),
    ((2, 16, 10, 6), (20, 16, 3, 3), 1, 2, WINOGRAD),
])
def test_conv2d_kernels_match_torch(x_shape, w_shape, stride, pad, path, dtype):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    ty = TF.conv2d(tx, tw, tb, stride=stride, padding=pad)
    g = rng.standard_normal(ty.shape).astype(dtype)
    ty.backward(torch.tensor(g))
    out = np.empty(ty.shape, dtype)
    plan = K.conv2d_plan(x.shape, w.shape, dtype, (stride, stride), (pad, pad))
    assert plan.algorithm == path and plan.geometry[6:] == ty.shape[2:]
    saved = K.conv2d_forward(plan, x, w, b, out)
    grad_x, grad_w = np.empty_like(x), np.empty_like(w)
    grad_b = K.conv2d_backward(plan, g, w, saved, grad_x, grad_w)
    rtol = RTOL[dtype]
    for label, ours, theirs in (("forward", out, ty), ("grad x", grad_x, tx.grad),
                                ("grad w", grad_w, tw.grad), ("grad b", grad_b, tb.grad)):
        theirs = theirs.detach().numpy()
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * np.abs(theirs).max(),
                                   err_msg=label)


def _study_layer_inputs(seed, grad_shape):
    """The study's 32->64 layer on 50 images, float64: input, weight, bias, upstream grad."""
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((50, 32, 7, 7)), rng.standard_normal((64, 32, 3, 3)) * 0.1
    return x, w, rng.standard_normal(64), rng.standard_normal(grad_shape)


def test_the_study_layer_takes_winograd_within_its_float32_error_bound():
    """The 32->64 layer, float32 and float64, against torch in float64. Winograd's float32
    error (measured ~4e-6 of the largest output or gradient) is a few times im2col's and
    torch's (~1e-6); the float32 bound, 1e-5, is about twice the worst seen."""
    x64, w64, b64, g64 = _study_layer_inputs(3, (50, 64, 7, 7))
    tx, tw = torch.tensor(x64, requires_grad=True), torch.tensor(w64, requires_grad=True)
    ty = TF.conv2d(tx, tw, torch.tensor(b64), padding=1)
    ty.backward(torch.tensor(g64))
    expected = {"forward": ty.detach().numpy(), "grad x": tx.grad.numpy(),
                "grad w": tw.grad.numpy(), "grad b": g64.sum(axis=(0, 2, 3))}
    for dtype, bound in ((np.float32, 1e-5), (np.float64, 1e-12)):
        x, w, b, g = (a.astype(dtype) for a in (x64, w64, b64, g64))
        out = np.empty(ty.shape, dtype)
        plan = K.conv2d_plan(x.shape, w.shape, dtype, (1, 1), (1, 1))
        assert plan.algorithm == WINOGRAD, "the study's 32->64 layer left Winograd"
        saved = K.conv2d_forward(plan, x, w, b, out)
        grad_x, grad_w = np.empty_like(x), np.empty_like(w)
        grad_b = K.conv2d_backward(plan, g, w, saved, grad_x, grad_w)
        ours = {"forward": out, "grad x": grad_x, "grad w": grad_w, "grad b": grad_b}
        for label, theirs in expected.items():
            error = np.abs(ours[label] - theirs).max() / np.abs(theirs).max()
            assert error <= bound, f"{label} {dtype.__name__}: {error:.2e} > {bound:.0e}"


def test_the_study_layer_fused_takes_f6x6_within_its_float32_error_bound():
    """Conv2d(32, 64, 3, padding=1), ReLU, MaxPool2d(2) on 7x7 through the fused kernels: one
    F(6x6, 3x3) tile per image (the pool drops the 7th row and column). Against torch in
    float64; float32 errors seen over 8 seeds: <= 8.6e-6 of the largest value, about twice
    F(4x4, 3x3)'s; the bound is twice that. Rounding may pick the other of two near-equal
    window values: allowed only where they are that close, and the reference gradients
    follow our winners (a different winner moves a gradient by O(1))."""
    x64, w64, b64, g64 = _study_layer_inputs(0, (50, 64, 3, 3))
    tx, tw = torch.tensor(x64, requires_grad=True), torch.tensor(w64, requires_grad=True)
    tb = torch.tensor(b64, requires_grad=True)
    conv = TF.conv2d(tx, tw, tb, padding=1)
    best, best_at = TF.max_pool2d(conv, 2, return_indices=True)
    plane = conv.detach().numpy().reshape(50 * 64, 49)
    for dtype, bound in ((np.float32, 2e-5), (np.float64, 1e-12)):
        x, w, b, g = (a.astype(dtype) for a in (x64, w64, b64, g64))
        pooled = np.empty(g.shape, dtype)
        plan = K.conv2d_plan(x.shape, w.shape, dtype, (1, 1), (1, 1), pooled=True)
        saved, winners = K.conv2d_relu_pool_forward(plan, x, w, b, pooled)
        assert plan.tile == 6 and saved.V.shape[:2] == (64, 50), "not one F(6x6) tile per image"
        argmax = _argmax_of(winners, g.shape, 7)
        masked = np.where(pooled > 0, g, 0).astype(dtype)
        grad_x, grad_w = np.empty_like(x), np.empty_like(w)
        grad_b = K.conv2d_relu_pool_backward(plan, masked, winners, w, saved, grad_x, grad_w)
        scale = np.abs(plane).max()
        other = argmax != best_at.numpy()
        chosen = np.take_along_axis(plane, argmax.reshape(50 * 64, 9), 1).reshape(argmax.shape)
        assert np.all(best.detach().numpy()[other] - chosen[other] <= bound * scale)
        routed = np.zeros((50 * 64, 49))
        np.put_along_axis(routed, argmax.reshape(50 * 64, 9), masked.reshape(50 * 64, 9), 1)
        expected = dict(zip(["grad x", "grad w", "grad b"], torch.autograd.grad(
            conv, (tx, tw, tb), torch.tensor(routed.reshape(conv.shape)), retain_graph=True)))
        expected["forward"] = torch.relu(best)
        ours = {"forward": pooled, "grad x": grad_x, "grad w": grad_w, "grad b": grad_b}
        for label, theirs in expected.items():
            theirs = theirs.detach().numpy()
            error = np.abs(ours[label] - theirs).max() / np.abs(theirs).max()
            assert error <= bound, f"{label} {dtype.__name__}: {error:.2e} > {bound:.0e}"


# F(4x4, 3x3) and F(6x6, 3x3) as matrices (Lavin & Gray 2016; NNPACK's F(6x6) points 0, +-1,
# +-2, +-1/2): the kernels' 1-D maps are checked against them, and they against correlation.
BT4 = np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]])
AT4 = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
                [0, 1, -1, 8, -8, 1]])
BT8 = np.array([[1, 0, -21 / 4, 0, 21 / 4, 0, -1, 0], [0, 1, 1, -17 / 4, -17 / 4, 1, 1, 0],
                [0, -1, 1, 17 / 4, -17 / 4, -1, 1, 0], [0, 1 / 2, 1 / 4, -5 / 2, -5 / 4, 2, 1, 0],
                [0, -1 / 2, 1 / 4, 5 / 2, -5 / 4, -2, 1, 0], [0, 2, 4, -5 / 2, -5, 1 / 2, 1, 0],
                [0, -2, 4, 5 / 2, -5, -1 / 2, 1, 0], [0, -1, 0, 21 / 4, 0, -21 / 4, 0, 1]])
AT8 = np.array([[1, 1, 1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 1 / 2, -1 / 2, 0],
                [0, 1, 1, 4, 4, 1 / 4, 1 / 4, 0], [0, 1, -1, 8, -8, 1 / 8, -1 / 8, 0],
                [0, 1, 1, 16, 16, 1 / 16, 1 / 16, 0], [0, 1, -1, 32, -32, 1 / 32, -1 / 32, 1]])


@pytest.mark.parametrize("BT, G, AT", [(BT4, maps.G, AT4), (BT8, maps.G8, AT8)])
def test_winograd_matrices_compute_correlation(BT, G, AT):
    rng = np.random.default_rng(7)
    d, g = rng.standard_normal(BT.shape[0]), rng.standard_normal(3)
    expected = [d[i:i + 3] @ g for i in range(AT.shape[0])]
    np.testing.assert_allclose(AT @ ((G @ g) * (BT @ d)), expected, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("transform, matrix, accumulates", [
    (maps.bt4, BT4, False), (maps.b4_add, BT4.T, True), (maps.at4, AT4, False),
    (maps.a4, AT4.T, False), (maps.bt8, BT8, False), (maps.b8_add, BT8.T, True),
    (maps.at8, AT8, False), (maps.a8, AT8.T, False),
])
def test_winograd_row_transforms_apply_their_matrices(transform, matrix, accumulates):
    """Each 1-D map, dst rows j + k dj = matrix @ src rows i + m di (over columns from s0
    and d0), on strided rows of a larger array."""
    rng = np.random.default_rng(8)
    src = rng.standard_normal((2 * matrix.shape[1] + 1, 7))
    dst = rng.standard_normal((3 * matrix.shape[0] + 2, 9))
    before = dst.copy()
    transform(src, 1, 2, 2, dst, 2, 3, 1, 5)
    expected = matrix @ src[1::2][:matrix.shape[1], 2:7]
    if accumulates:
        expected = expected + before[2::3][:matrix.shape[0], 1:6]
    np.testing.assert_allclose(dst[2::3][:matrix.shape[0], 1:6], expected, rtol=1e-13)
    untouched = np.ones(dst.shape, bool)
    untouched[2::3][:matrix.shape[0], 1:6] = False
    np.testing.assert_array_equal(dst[untouched], before[untouched])


def test_winograd_backward_computes_only_the_gradients_asked_for():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 16, 6, 6)), rng.standard_normal((16, 16, 3, 3))
    g = rng.standard_normal((2, 16, 6, 6))
    plan = K.conv2d_plan(x.shape, w.shape, x.dtype, (1, 1), (1, 1))
    assert plan.algorithm == WINOGRAD
    saved = K.conv2d_forward(plan, x, w, None, np.empty((2, 16, 6, 6)))
    full_x, full_w = np.empty_like(x), np.empty_like(w)
    full_b = K.conv2d_backward(plan, g, w, saved, full_x, full_w)
    only_x = np.empty_like(x)
    np.testing.assert_array_equal(K.conv2d_backward(plan, g, w, saved, only_x, None), full_b)
    np.testing.assert_array_equal(only_x, full_x)
    only_w = np.empty_like(w)
    K.conv2d_backward(plan, g, w, saved, None, only_w)
    np.testing.assert_array_equal(only_w, full_w)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool_batchnorm_softmax_kernels_match_torch(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 32, 14, 14)).astype(dtype)
    out = np.empty((200, 32, 7, 7), dtype)
    argmax = np.empty(out.shape, np.int64)
    K.max_pool2d_forward(x, out, argmax, 2, 2, 2, 2, 0, 0)
    np.testing.assert_array_equal(out, TF.max_pool2d(torch.tensor(x), 2).numpy())
    K.avg_pool2d_forward(x, out, 2, 2, 2, 2, 0, 0)
    np.testing.assert_allclose(out, TF.avg_pool2d(torch.tensor(x), 2).numpy(), rtol=RTOL[dtype],
                               atol=RTOL[dtype])

    rows = x.reshape(200, 32, -1)
    weight, bias = rng.standard_normal(32).astype(dtype), rng.standard_normal(32).astype(dtype)
    normed, mean, invstd = np.empty_like(rows), np.empty(32, dtype), np.empty(32, dtype)
    K.batch_norm_train_forward(rows, weight, bias, 1e-5, normed, mean, invstd)
    expected = TF.batch_norm(torch.tensor(x), None, None, torch.tensor(weight),
                             torch.tensor(bias), training=True).numpy()
    np.testing.assert_allclose(normed.reshape(x.shape), expected, rtol=RTOL[dtype] * 10,
                               atol=RTOL[dtype] * 10)

    logits = rng.standard_normal((200, 10)).astype(dtype) * 5
    log_probs = np.empty_like(logits)
    K.log_softmax_forward(logits, log_probs)
    np.testing.assert_allclose(log_probs, torch.log_softmax(torch.tensor(logits), 1).numpy(),
                               rtol=RTOL[dtype], atol=RTOL[dtype])


JIT_DISABLED_SCRIPT = r"""
import numpy as np
import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from numba import config
assert config.DISABLE_JIT, "the jit should be off in this process"
x = mt.tensor(np.random.default_rng(0).standard_normal((2, 2, 6, 6)), dtype=mt.float64,
              requires_grad=True)
w = mt.tensor(np.random.default_rng(1).standard_normal((3, 2, 3, 3)), dtype=mt.float64,
              requires_grad=True)
def net(x, w):
    h = F.max_pool2d(F.conv2d(x, w, padding=1), 2)
    h = F.batch_norm(h, None, None, training=True)
    h = F.avg_pool2d(h, 3, 1, 1).flatten(1)
    return F.cross_entropy(h, mt.tensor([1, 4]))
print(net(x, w).item())
mt.gradcheck(net, (x, w))
print("ok")
"""


def test_kernels_run_with_the_jit_disabled():
    """Pure-Python kernels: the same numbers as the compiled ones, and gradcheck passes."""
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    slow = subprocess.run([sys.executable, "-c", JIT_DISABLED_SCRIPT], env=env,
                          capture_output=True, text=True, timeout=300)
    assert slow.returncode == 0, slow.stderr
    fast = subprocess.run([sys.executable, "-c", JIT_DISABLED_SCRIPT.replace(
        'assert config.DISABLE_JIT, "the jit should be off in this process"', "")],
        capture_output=True, text=True, timeout=300)
    assert fast.returncode == 0, fast.stderr
    assert float(slow.stdout.split()[0]) == pytest.approx(float(fast.stdout.split()[0]),
                                                          rel=1e-12)
    assert slow.stdout.split()[1] == "ok"


def _products_on(monkeypatch, threads):
    """kernels.cpu.products, told that numba has `threads` threads."""
    from types import SimpleNamespace

    from kernels.cpu import products
    monkeypatch.setattr(products, "numba", SimpleNamespace(get_num_threads=lambda: threads))
    return products


def test_products_cut_over_threads_are_np_matmuls_values(monkeypatch):
    """2-D products cut into slices of rows (or a transposed left operand's two reduction
    halves) at 1, 2 and 3 threads: np.matmul's values (to rounding: SciPy's BLAS may sum in
    another order than NumPy's), with transposed operands and rows that do not divide
    evenly, float32 and float64; the same values again on a second call. The rows may round
    differently when cut elsewhere (BLAS picks its kernels by the size of each piece), as
    OpenBLAS's own threads' did."""
    rng = np.random.default_rng(9)
    plain = [(rng.standard_normal((201, 96)), rng.standard_normal((96, 50))),
             (rng.standard_normal((201, 96)), rng.standard_normal((50, 96)).T),
             (rng.standard_normal((96, 201)).T, rng.standard_normal((96, 50)))]
    for dtype in (np.float32, np.float64):
        tolerance = 1e-5 if dtype == np.float32 else 1e-12
        for a, b in plain:
            a, b = a.astype(dtype), b.astype(dtype)
            for threads in (1, 2, 3):
                product = _products_on(monkeypatch, threads).matmul
                result = product(a, b)
                np.testing.assert_array_equal(product(a, b), result)
                np.testing.assert_allclose(result, np.matmul(a, b), rtol=tolerance,
                                           atol=tolerance)
                assert result.dtype == dtype


def test_products_stay_whole_where_cutting_them_cannot_pay(monkeypatch):
    """np.matmul, whole, for a small 2-D product, integer or float16 operands (numba's
    np.dot takes float32 and float64 only), and any product while BLAS runs several
    threads per call (then each piece would start BLAS's threads at once); a big one is cut
    (rows, or a transposed left operand's two reduction halves)."""
    products = _products_on(monkeypatch, 2)
    calls, matmul = [], np.matmul
    monkeypatch.setattr(products.np, "matmul", lambda *a, **k: calls.append(1) or matmul(*a, **k))
    rng = np.random.default_rng(3)
    big = rng.standard_normal((200, 96)), rng.standard_normal((96, 50))
    for a, b in [(rng.standard_normal((4, 5)), rng.standard_normal((5, 6))),
                 (np.ones((200, 96), int), np.ones((96, 50), int)),
                 (np.ones((200, 96), np.float16), np.ones((96, 50), np.float16))]:
        calls.clear()
        products.matmul(a, b)
        assert calls == [1]
    calls.clear()
    products.matmul(*big)
    products.matmul(big[0].T.copy().T, big[1])
    products.matmul_pair(*big, big[0].T.copy().T, big[1])
    assert calls == []
    monkeypatch.setattr(products.blas_threads, "blas_single_threaded", lambda: False)
    products.matmul(*big)
    products.matmul_pair(*big, big[0].T.copy().T, big[1])
    assert calls == [1, 1, 1]


@pytest.mark.parametrize("threads", [1, 2])
def test_matmul_pair_is_two_matmuls(monkeypatch, threads):
    """A backward's two products at once, each whole on its own thread: np.matmul's values
    (to rounding), float32 and float64, transposed operands read in place; and where the two
    differ too much in size, or one is small, two separate matmuls."""
    products = _products_on(monkeypatch, threads)
    rng = np.random.default_rng(4)
    for dtype, tolerance in ((np.float32, 1e-4), (np.float64, 1e-12)):
        g, w, x = (rng.standard_normal(shape).astype(dtype)
                   for shape in ((200, 100), (100, 576), (200, 576)))
        for a, b, c, d in [(g, w, g.T, x), (g, w[:, :8], g.T, x), (g[:3], w, g.T, x),
                           (x, w.T, g.T, x)]:
            pair = products.matmul_pair(a, b, c, d)
            for result, (left, right) in zip(pair, ((a, b), (c, d))):
                assert result.dtype == dtype
                np.testing.assert_allclose(result, left @ right, rtol=tolerance,
                                           atol=tolerance * 10)


@pytest.mark.parametrize("threads", [1, 2])
def test_linear_kernels_fuse_the_bias_and_its_sums(monkeypatch, threads):
    """linear_forward (the bias added by the threads that write the product) and
    linear_backward (the bias's sums taken beside the two products) at the study's 576->100
    layer and a small one, against NumPy, float32 and float64, for every subset of needed
    gradients."""
    products = _products_on(monkeypatch, threads)
    rng = np.random.default_rng(11)
    for dtype, tolerance in ((np.float32, 1e-4), (np.float64, 1e-12)):
        for rows, ins, outs in ((200, 576, 100), (3, 4, 5)):
            x, w, b, g = (rng.standard_normal(shape).astype(dtype)
                          for shape in ((rows, ins), (outs, ins), (outs,), (rows, outs)))
            out = products.linear_forward(x, w, b)
            assert out.dtype == dtype
            np.testing.assert_allclose(out, x @ w.T + b, rtol=tolerance, atol=tolerance * 10)
            np.testing.assert_allclose(products.linear_forward(x, w, None), x @ w.T,
                                       rtol=tolerance, atol=tolerance * 10)
            expected = (g @ w, g.T @ x, g.sum(axis=0))
            for needs in ((True, True, True), (True, True, False), (False, True, True),
                          (True, False), (False, True)):
                grads = products.linear_backward(g, x, w, needs)
                for need, grad, want in zip(needs, grads, expected):
                    if not need:
                        assert grad is None
                        continue
                    assert grad.dtype == dtype
                    np.testing.assert_allclose(grad, want, rtol=tolerance, atol=tolerance * 10)


def test_per_image_convolution_sums_alike_at_any_thread_count():
    """The per-image path's gradients are bit for bit the same at 1 and 2 threads (the
    batch is summed in fixed chunks)."""
    import numba

    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((37, 2, 14, 14)), rng.standard_normal((64, 2, 4, 4))
    x, w, b = x.astype(np.float32), w.astype(np.float32), np.zeros(64, np.float32)
    g = rng.standard_normal((37, 64, 11, 11)).astype(np.float32)
    results, before = [], numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            out = np.empty(g.shape, np.float32)
            plan = K.conv2d_plan(x.shape, w.shape, x.dtype, (1, 1), (0, 0))
            assert plan.algorithm == PER_IMAGE
            saved = K.conv2d_forward(plan, x, w, b, out)
            grads = [np.empty_like(x), np.empty_like(w)]
            grads.append(K.conv2d_backward(plan, g, w, saved, *grads))
            results.append([out] + grads)
    finally:
        numba.set_num_threads(before)
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


def test_relu_kernels_serial_and_parallel_agree_and_follow_torch():
    """Small arrays run on the calling thread, large ones on numba's threads: both forms give
    torch's values (a NaN passes forward; the gradient passes where the output is > 0 or NaN)
    on either side of the threshold, and the public kernels pick by size."""
    from kernels import policy
    from kernels.cpu import activation
    rng = np.random.default_rng(11)
    for size in (7, policy.get().parallel_from + 3):
        x = rng.standard_normal(size).astype(np.float32)
        x[:3] = [np.nan, 0.0, -0.0]
        g = rng.standard_normal(size).astype(np.float32)
        g[3] = np.nan
        tx = torch.tensor(x, requires_grad=True)
        ty = torch.relu(tx)
        ty.backward(torch.tensor(g))
        for forward, backward in ((activation._relu_serial, activation._relu_grad_serial),
                                  (activation._relu_parallel, activation._relu_grad_parallel),
                                  (K.relu_forward, K.relu_backward)):
            out, grad_x = np.empty_like(x), np.empty_like(x)
            forward(x, out)
            backward(g, out, grad_x)
            np.testing.assert_array_equal(out, ty.detach().numpy())
            np.testing.assert_array_equal(grad_x, tx.grad.numpy())


def test_optimizer_updates_serial_and_parallel_agree_bit_for_bit():
    """Small parameters update on the calling thread, large ones on numba's threads: the same
    per-element rule, so the same values, either side of the threshold."""
    from kernels import policy
    from kernels.cpu import optim
    rng = np.random.default_rng(10)
    size = policy.get().parallel_from + 3
    for update, state_count, args in (
            (("_sgd_serial", "_sgd_parallel"), 1, (0.1, 0.9, 0.1, 0.01, True, False, False)),
            (("_adam_serial", "_adam_parallel"), 3,
             (1e-3, 0.9, 0.999, 1e-8, 0.01, 1e-3, 0.5, True, False))):
        param, grad = rng.standard_normal(size), rng.standard_normal(size)
        state = [np.abs(rng.standard_normal(size)) for _ in range(state_count)]
        results = []
        for name in update:
            arrays = [param.copy(), grad] + [s.copy() for s in state]
            getattr(optim, name)(*arrays, *args)
            results.append(arrays)
        for serial, parallel in zip(*results):
            np.testing.assert_array_equal(serial, parallel)
