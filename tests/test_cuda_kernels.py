"""kernels.cuda against kernels.cpu: every CUDA kernel on the same inputs as its CPU twin,
forward and backward. On a GPU this runs on the device; elsewhere (CI) under numba's CUDA
simulator (tests/conftest.py), which runs every thread in Python: shapes stay small."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from numba import cuda

from kernels import cpu
from kernels import cuda as gpu

# float64: the same sums in another order (the GEMM's tiles vs BLAS; the CPU's col2im adds
# in another order than the CUDA gather).
RTOL = {np.float64: 1e-12, np.float32: 2e-5}
SIMULATOR = settings(max_examples=4)


def on_device(kernel, *args):
    """Run `kernel` on device copies of the array arguments; return every array argument
    copied back (outputs included) and the kernel's own result, on the host."""
    device = [cuda.to_device(a) if isinstance(a, np.ndarray) else a for a in args]
    result = kernel(*device)
    host = [d.copy_to_host() if hasattr(d, "copy_to_host") else d for d in device]
    if hasattr(result, "get"):  # a CudaArray (what the kernels return)
        result = result.get()
    return host, result


def close(ours, expected, dtype, label):
    rtol = RTOL[dtype]
    np.testing.assert_allclose(ours, expected, rtol=rtol,
                               atol=rtol * max(1.0, np.abs(expected).max(initial=0)),
                               err_msg=label)


def test_the_cuda_module_has_the_cpu_modules_interface():
    assert gpu.__all__ == cpu.__all__
    for name in cpu.__all__:
        assert callable(getattr(gpu, name))


@SIMULATOR
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(4, 7),
       st.integers(1, 3), st.integers(1, 2), st.integers(0, 1),
       st.sampled_from([np.float64, np.float32]))
def test_conv2d(n, c, o, size, kernel, stride, pad, dtype):
    rng = np.random.default_rng([n, c, o, size, kernel, stride, pad])
    x = rng.standard_normal((n, c, size, size)).astype(dtype)
    w = rng.standard_normal((o, c, kernel, kernel)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    side = (size + 2 * pad - kernel) // stride + 1
    plans = [k.conv2d_plan(x.shape, w.shape, dtype, (stride, stride), (pad, pad))
             for k in (cpu, gpu)]
    assert plans[1].algorithm == "im2col" and plans[1].geometry == plans[0].geometry
    out = np.empty((n, o, side, side), dtype)
    cols = cpu.conv2d_forward(plans[0], x, w, b, out)
    (_, _, _, _, gpu_out), gpu_cols = on_device(gpu.conv2d_forward, plans[1], x, w, b,
                                                np.empty_like(out))
    close(gpu_out, out, dtype, "forward")

    g = rng.standard_normal(out.shape).astype(dtype)
    grad_x, grad_w = np.empty_like(x), np.empty_like(w)
    grad_b = cpu.conv2d_backward(plans[0], g, w, cols, grad_x, grad_w)
    (_, _, _, _, gpu_grad_x, gpu_grad_w), gpu_grad_b = on_device(
        gpu.conv2d_backward, plans[1], g, w, gpu_cols, np.empty_like(x), np.empty_like(w))
    close(gpu_grad_x, grad_x, dtype, "grad x")
    close(gpu_grad_w, grad_w, dtype, "grad w")
    close(gpu_grad_b, grad_b, dtype, "grad b")


@pytest.mark.parametrize("with_ties", [False, True])
@SIMULATOR
@given(st.integers(1, 3), st.integers(1, 2), st.integers(1, 2), st.integers(0, 1))
def test_pooling(with_ties, kernel, stride, extra, pad):
    pad = min(pad, kernel // 2)
    rng = np.random.default_rng([kernel, stride, extra, pad])
    x = rng.standard_normal((2, 2, kernel + extra + 2, kernel + extra + 3))
    if with_ties:
        x = np.round(x / 2)  # equal values in windows: the first maximum must win on both
    geometry = (kernel, kernel, stride, stride, pad, pad)
    h, w = ((s + 2 * pad - kernel) // stride + 1 for s in x.shape[2:])
    out, argmax = np.empty((2, 2, h, w)), np.empty((2, 2, h, w), np.int64)
    cpu.max_pool2d_forward(x, out, argmax, *geometry)
    (_, gpu_out, gpu_argmax, *_), _ = on_device(gpu.max_pool2d_forward, x, np.empty_like(out),
                                                np.empty_like(argmax), *geometry)
    np.testing.assert_array_equal(gpu_out, out)
    np.testing.assert_array_equal(gpu_argmax, argmax)
    g = rng.standard_normal(out.shape)
    grad_x = np.empty_like(x)
    cpu.max_pool2d_backward(g, argmax, grad_x, *geometry)
    (_, _, gpu_grad_x, *_), _ = on_device(gpu.max_pool2d_backward, g, argmax,
                                          np.empty_like(x), *geometry)
    close(gpu_grad_x, grad_x, np.float64, "max pool grad x")

    cpu.avg_pool2d_forward(x, out, *geometry)
    (_, gpu_out, *_), _ = on_device(gpu.avg_pool2d_forward, x, np.empty_like(out), *geometry)
    close(gpu_out, out, np.float64, "avg pool forward")
    cpu.avg_pool2d_backward(g, grad_x, *geometry)
    (_, gpu_grad_x, *_), _ = on_device(gpu.avg_pool2d_backward, g, np.empty_like(x), *geometry)
    close(gpu_grad_x, grad_x, np.float64, "avg pool grad x")


def test_max_pool_lets_a_nan_win_like_the_cpu():
    x = np.array([[[[1.0, np.nan], [3.0, 2.0]]]])
    out, argmax = np.empty((1, 1, 1, 1)), np.empty((1, 1, 1, 1), np.int64)
    (_, gpu_out, gpu_argmax, *_), _ = on_device(gpu.max_pool2d_forward, x, out, argmax,
                                                2, 2, 2, 2, 0, 0)
    assert np.isnan(gpu_out.item()) and gpu_argmax.item() == 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_norm(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 2, 5)).astype(dtype) * 3 + 1
    weight, bias = rng.standard_normal(2).astype(dtype), rng.standard_normal(2).astype(dtype)
    out, mean, invstd = np.empty_like(x), np.empty(2, dtype), np.empty(2, dtype)
    cpu.batch_norm_train_forward(x, weight, bias, 1e-5, out, mean, invstd)
    (_, _, _, _, gpu_out, gpu_mean, gpu_invstd), _ = on_device(
        gpu.batch_norm_train_forward, x, weight, bias, 1e-5, np.empty_like(x),
        np.empty(2, dtype), np.empty(2, dtype))
    for label, ours, theirs in (("out", gpu_out, out), ("mean", gpu_mean, mean),
                                ("invstd", gpu_invstd, invstd)):
        close(ours, theirs, dtype, label)

    g = rng.standard_normal(x.shape).astype(dtype)
    grads = [np.empty_like(x), np.empty(2, dtype), np.empty(2, dtype)]
    cpu.batch_norm_backward(g, x, mean, invstd, weight, *grads)
    (*_, gx, gw, gb), _ = on_device(gpu.batch_norm_backward, g, x, mean, invstd, weight,
                                    *[np.empty_like(a) for a in grads])
    for label, ours, theirs in zip(("grad x", "grad weight", "grad bias"), (gx, gw, gb), grads):
        close(ours, theirs, dtype, label)

    running_mean, running_var = mean.copy(), rng.uniform(0.5, 2, 2).astype(dtype)
    cpu.batch_norm_eval_forward(x, weight, bias, running_mean, running_var, 1e-5, out)
    (*_, gpu_out), _ = on_device(gpu.batch_norm_eval_forward, x, weight, bias, running_mean,
                                 running_var, 1e-5, np.empty_like(x))
    close(gpu_out, out, dtype, "eval forward")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_relu_softmax_and_cross_entropy(dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal(40).astype(dtype)
    x[:3] = [0.0, -0.0, np.nan]
    out, grad_x = np.empty_like(x), np.empty_like(x)
    cpu.relu_forward(x, out)
    (_, gpu_out), _ = on_device(gpu.relu_forward, x, np.empty_like(x))
    np.testing.assert_array_equal(gpu_out, out)
    g = rng.standard_normal(40).astype(dtype)
    cpu.relu_backward(g, out, grad_x)
    (*_, gpu_grad), _ = on_device(gpu.relu_backward, g, out, np.empty_like(x))
    np.testing.assert_array_equal(gpu_grad, grad_x)

    logits = (rng.standard_normal((6, 10)) * 20).astype(dtype)  # large: tests the shift
    target = rng.integers(0, 10, 6)
    log_probs, losses = np.empty_like(logits), np.empty(6, dtype)
    cpu.cross_entropy_forward(logits, target, log_probs, losses)
    (_, _, gpu_log_probs, gpu_losses), _ = on_device(
        gpu.cross_entropy_forward, logits, target, np.empty_like(logits), np.empty(6, dtype))
    close(gpu_log_probs, log_probs, dtype, "log softmax")
    close(gpu_losses, losses, dtype, "losses")
    grad_losses, grad_logits = rng.standard_normal(6).astype(dtype), np.empty_like(logits)
    cpu.cross_entropy_backward(log_probs, target, grad_losses, grad_logits)
    (*_, gpu_grad_logits), _ = on_device(gpu.cross_entropy_backward, log_probs, target,
                                         grad_losses, np.empty_like(logits))
    close(gpu_grad_logits, grad_logits, dtype, "cross-entropy grad")
    grad_out = rng.standard_normal(logits.shape).astype(dtype)
    cpu.log_softmax_backward(grad_out, log_probs, grad_logits)
    (*_, gpu_grad_logits), _ = on_device(gpu.log_softmax_backward, grad_out, log_probs,
                                         np.empty_like(logits))
    close(gpu_grad_logits, grad_logits, dtype, "log softmax grad")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("options", [
    dict(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False),
    dict(momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=False, maximize=True),
    dict(momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=True, maximize=False),
])
def test_fused_sgd_step(dtype, options):
    rng = np.random.default_rng(5)
    param, buffer = rng.standard_normal(37).astype(dtype), np.zeros(37, dtype)
    gpu_param, gpu_buffer = cuda.to_device(param), cuda.to_device(buffer)
    for step in range(3):
        grad = rng.standard_normal(37).astype(dtype)
        args = (0.1, *options.values(), step == 0)
        cpu.sgd_step(param, grad, buffer, *args)
        gpu.sgd_step(gpu_param, cuda.to_device(grad), gpu_buffer, *args)
    close(gpu_param.copy_to_host(), param, dtype, "param")
    close(gpu_buffer.copy_to_host(), buffer, dtype, "momentum buffer")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("amsgrad,maximize,weight_decay", [(False, False, 0.0),
                                                           (True, True, 0.01)])
def test_fused_adam_step(dtype, amsgrad, maximize, weight_decay):
    rng = np.random.default_rng(6)
    host = [rng.standard_normal(29).astype(dtype)] + [np.zeros(29, dtype) for _ in range(3)]
    device = [cuda.to_device(a) for a in host]
    for step in range(1, 4):
        grad = rng.standard_normal(29).astype(dtype)
        args = (1e-2, 0.9, 0.999, 1e-8, weight_decay, step, amsgrad, maximize)
        cpu.adam_step(host[0], grad, *host[1:], *args)
        gpu.adam_step(device[0], cuda.to_device(grad), *device[1:], *args)
    for label, ours, theirs in zip(("param", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
                                   device, host):
        close(ours.copy_to_host(), theirs, dtype, label)


@SIMULATOR
@given(st.sampled_from(["tiled", "dot per element"]), st.integers(0, 2 ** 32 - 1),
       st.booleans(), st.sampled_from([np.float64, np.float32]))
def test_gemm_both_paths_on_strided_operands(path, seed, transposed, dtype):
    """Both GEMM kernels (tiles from TILED_FROM on every side, a dot per element below),
    sides that are not multiples of a tile, and a transposed (strided) operand."""
    from kernels.cuda import gemm
    rng = np.random.default_rng(seed)
    low, high = (gemm.TILED_FROM, gemm.TILED_FROM + gemm.TILE + 1) if path == "tiled" else \
        (1, gemm.TILED_FROM - 1)
    m, k, n = (int(rng.integers(low, high + 1)) for _ in range(3))
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if transposed else (k, n)).astype(dtype)
    device_b = cuda.to_device(b)
    out = gemm.matmul(cuda.to_device(a), device_b.T if transposed else device_b)
    close(out.copy_to_host(), a @ (b.T if transposed else b), dtype, f"{path} {m}x{k}x{n}")
