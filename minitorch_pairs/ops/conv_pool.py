"""Convolution and pooling over N x C x H x W tensors; the loops are device kernels."""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor, expect_tensors


def pair(op: str, name: str, value, minimum: int) -> tuple:
    """An int or a pair of ints as (h, w), each at least `minimum`."""
    values = (value, value) if isinstance(value, numbers.Integral) else \
        tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(values) != 2 or not all(isinstance(v, numbers.Integral) and v >= minimum
                                   for v in values):
        raise ShapeError(f"{op}: expected {name} to be an int >= {minimum} or a pair of them, "
                         f"got {value!r}")
    return int(values[0]), int(values[1])


def output_size(op: str, size: tuple, kernel: tuple, stride: tuple, padding: tuple) -> tuple:
    out = tuple((n + 2 * p - k) // s + 1 for n, k, s, p in zip(size, kernel, stride, padding))
    if min(out) < 1:
        raise ShapeError(f"{op}: input of spatial size {size} (padding {padding}) is smaller "
                         f"than the kernel {kernel}; the output would be empty")
    return out


def _contiguous(*arrays):
    return tuple(backend.contiguous(a) for a in arrays)


class Conv2d(Function):
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=(0, 0)):
        x, weight = _contiguous(x, weight)
        n, _, h, w = x.shape
        oh, ow = output_size("conv2d", (h, w), weight.shape[2:], stride, padding)
        ctx.plan = ctx.kernels.conv2d_plan(x.shape, weight.shape, x.dtype, stride, padding)
        out = backend.empty((n, weight.shape[0], oh, ow), x.dtype, like=x)
        columns = ctx.kernels.conv2d_forward(ctx.plan, x, weight, bias, out)
        ctx.save_for_backward(weight, columns)
        ctx.x_shape = x.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        (grad,) = _contiguous(grad)
        return _conv_backward(ctx, ctx.kernels.conv2d_backward, grad)


def _conv_backward(ctx, kernel, *grads):
    """The input, weight and bias gradients that are needed, from kernel(plan, *grads,
    weight, saved, grad_x, grad_weight), which fills the first two and returns the last: the
    forward's plan, whatever the settings are now."""
    weight, saved = ctx.saved[:2]
    needs = ctx.needs_input_grad
    grad_x = backend.empty(ctx.x_shape, weight.dtype, like=weight) if needs[0] else None
    grad_weight = np.empty_like(weight) if needs[1] else None
    grad_bias = kernel(ctx.plan, *grads, weight, saved, grad_x, grad_weight)
    return (grad_x, grad_weight) + ((grad_bias,) if len(needs) == 3 else ())


class Conv2dReluPool(Function):
    """relu(max_pool2d(conv2d(x, weight, bias), 2)) as one op (the ReLU on the pooled
    output, as in MaxPool2d). On the CPU's Winograd path the convolution's output and its
    gradient are never made: each output tile is pooled while in cache, and the backward
    builds each tile's gradient from the pooled one. Elsewhere the kernels compose conv2d
    and max_pool2d."""
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=(0, 0), relu_last=False):
        x, weight = _contiguous(x, weight)
        n, _, h, w = x.shape
        oh, ow = output_size("conv2d_relu_max_pool2d", (h, w), weight.shape[2:], stride,
                             padding)
        ph, pw = output_size("conv2d_relu_max_pool2d: its max_pool2d", (oh, ow), (2, 2), (2, 2),
                             (0, 0))
        ctx.x_shape = x.shape
        ctx.plan = ctx.kernels.conv2d_plan(x.shape, weight.shape, x.dtype, stride, padding,
                                           pooled=True)
        pooled = backend.empty((n, weight.shape[0], ph, pw), x.dtype, like=x)
        saved, ctx.winners = ctx.kernels.conv2d_relu_pool_forward(ctx.plan, x, weight, bias,
                                                                  pooled)
        ctx.save_for_backward(weight, saved, *_relu_output(pooled, relu_last))
        return pooled

    @staticmethod
    def backward(ctx, grad):
        return _conv_backward(ctx, ctx.kernels.conv2d_relu_pool_backward,
                              _relu_masked(ctx, grad, ctx.saved[2]), ctx.winners)


def _relu_output(out, relu_last: bool) -> tuple:
    """What the backward masks the gradient with: the output itself where the ReLU is the
    chain's last op (saved, so an in-place change of it stops backward, as torch's relu);
    else a copy (torch's pool after the ReLU keeps its own input: the output may change)."""
    return (out,) if relu_last else (out.copy(),)


def _relu_masked(ctx, grad, relu_out):
    """The gradient through a ReLU whose output was relu_out (a new contiguous array)."""
    (grad,) = _contiguous(grad)
    masked = backend.empty(grad.shape, grad.dtype, like=grad)
    ctx.kernels.relu_backward(grad.reshape(-1), relu_out.reshape(-1), masked.reshape(-1))
    return masked


class MaxPool2d(Function):
    """With relu=True, max_pool2d(relu(x)) as one op. It equals relu(max_pool2d(x)), values
    and gradients alike: a window's first largest value is the same before and after the
    ReLU when it is positive, and gets no gradient either way when it is not; a NaN wins its
    window and passes the ReLU, with zero gradient. So the ReLU and its mask run on the
    pooled output, and the input-sized ReLU output and gradient are never made."""
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, relu=False):
        (x,) = _contiguous(x)
        n, c, h, w = x.shape
        oh, ow = output_size("max_pool2d", (h, w), kernel_size, stride, padding)
        out = backend.empty((n, c, oh, ow), x.dtype, like=x)
        argmax = backend.empty((n, c, oh, ow), np.int64, like=x)
        ctx.geometry = kernel_size + stride + padding
        ctx.kernels.max_pool2d_forward(x, out, argmax, *ctx.geometry)
        if relu:
            ctx.kernels.relu_forward(out.reshape(-1), out.reshape(-1))
            ctx.save_for_backward(*_relu_output(out, relu_last=False))
        ctx.shape, ctx.argmax = x.shape, argmax
        return out

    @staticmethod
    def backward(ctx, grad):
        (grad,) = _contiguous(grad)
        if ctx.saved:
            grad = _relu_masked(ctx, grad, ctx.saved[0])
        grad_x = backend.empty(ctx.shape, grad.dtype, like=grad)
        ctx.kernels.max_pool2d_backward(grad, ctx.argmax, grad_x, *ctx.geometry)
        return grad_x


class AvgPool2d(Function):
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding):
        (x,) = _contiguous(x)
        n, c, h, w = x.shape
        oh, ow = output_size("avg_pool2d", (h, w), kernel_size, stride, padding)
        out = backend.empty((n, c, oh, ow), x.dtype, like=x)
        ctx.geometry = kernel_size + stride + padding
        ctx.kernels.avg_pool2d_forward(x, out, *ctx.geometry)
        ctx.shape, ctx.dtype = x.shape, x.dtype
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_x = backend.empty(ctx.shape, ctx.dtype, like=grad)
        ctx.kernels.avg_pool2d_backward(*_contiguous(grad), grad_x, *ctx.geometry)
        return grad_x


def _check_image(op: str, x: Tensor) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if x.ndim != 4:
        raise ShapeError(f"{op}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {x.dtype}")


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
           padding=0) -> Tensor:
    inputs, options = _conv_arguments("conv2d", x, weight, bias, stride, padding)
    return Conv2d.apply(*inputs, **options)


def conv2d_relu_max_pool2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                           padding=0) -> Tensor:
    """max_pool2d(relu(conv2d(x, weight, bias, stride, padding)), 2), fused (see
    Conv2dReluPool): nn.Sequential runs Conv2d, ReLU, MaxPool2d(2) this way."""
    inputs, options = _conv_arguments("conv2d_relu_max_pool2d", x, weight, bias, stride,
                                      padding)
    return Conv2dReluPool.apply(*inputs, **options)


def _conv_arguments(op: str, x, weight, bias, stride, padding) -> tuple:
    _check_image(op, x)
    expect_tensors(op, weight=weight, optional_bias=bias)
    if weight.ndim != 4:
        raise ShapeError(f"{op}: expected a 4-D weight (out, in, kH, kW), got {weight.shape}")
    if x.shape[1] != weight.shape[1]:
        raise ShapeError(f"{op}: input has {x.shape[1]} channels, weight expects "
                         f"{weight.shape[1]} (input {x.shape}, weight {weight.shape})")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(f"{op}: expected bias of shape ({weight.shape[0]},), got {bias.shape}")
    if x.dtype != weight.dtype:
        raise ShapeError(f"{op}: input dtype {x.dtype} differs from weight dtype {weight.dtype}")
    stride, padding = pair(op, "stride", stride, 1), pair(op, "padding", padding, 0)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return inputs, dict(stride=stride, padding=padding)


def _pool_arguments(op: str, x: Tensor, kernel_size, stride, padding) -> dict:
    _check_image(op, x)
    kernel = pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else pair(op, "stride", stride, 1)
    padding = pair(op, "padding", padding, 0)
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ShapeError(f"{op}: padding {padding} must be at most half the kernel {kernel}")
    return dict(kernel_size=kernel, stride=stride, padding=padding)


def _plain_pool(x, dilation=1, ceil_mode=False, return_indices=False) -> bool:
    """Whether the kernels here take this pooling: a 4-D input (or not a tensor: the checks
    below refuse it), no dilation, ceil_mode or indices. Else ops/pooling_general.py."""
    return (not isinstance(x, Tensor) or x.ndim == 4) and not ceil_mode and \
        not return_indices and (dilation == 1 or dilation == (1, 1) or dilation == [1, 1])


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    if not _plain_pool(input, dilation, ceil_mode, return_indices):
        from . import pooling_general  # (it builds on this module)
        return pooling_general.max_pool2d(input, kernel_size, stride, padding, dilation,
                                          ceil_mode, return_indices)
    return MaxPool2d.apply(input, **_pool_arguments("max_pool2d", input, kernel_size, stride,
                                                    padding))


def relu_max_pool2d(x: Tensor, kernel_size, stride=None, padding=0) -> Tensor:
    """max_pool2d(relu(x)), fused (see MaxPool2d), by name: nothing fuses a ReLU and a pool
    on its own (ops/fusion.py fuses them after a convolution)."""
    return MaxPool2d.apply(x, relu=True,
                           **_pool_arguments("relu_max_pool2d", x, kernel_size, stride, padding))


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    if not _plain_pool(input, ceil_mode=ceil_mode) or not count_include_pad or \
            divisor_override is not None:
        from . import pooling_general
        return pooling_general.avg_pool2d(input, kernel_size, stride, padding, ceil_mode,
                                          count_include_pad, divisor_override)
    return AvgPool2d.apply(input, **_pool_arguments("avg_pool2d", input, kernel_size, stride,
                                                    padding))
