"""The softmax family over one dim: softmax and log_softmax (a 0-d tensor is one class, as
in torch), both on the kernels' row-wise log-softmax."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import backend
from ..autograd import Function
from ..tensor import Tensor
from .reduction import normalize_dims


def _rows(x, axis):
    """x with `axis` moved last, as a contiguous (rows, K) array, and the moved shape."""
    moved = np.moveaxis(x, axis, -1)
    rows = int(math.prod(moved.shape[:-1]))  # (not -1: ambiguous for an empty axis)
    return backend.contiguous(moved).reshape(rows, x.shape[axis]), moved.shape


def _as_row(x, axis):
    """A 0-d tensor's array as one row of one class (torch: softmax of a scalar is 1)."""
    return (x.reshape(1), 0) if x.ndim == 0 else (x, axis)


class LogSoftmax(Function):
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.input_shape = x.shape
        x, axis = _as_row(x, axis)
        rows, moved_shape = _rows(x, axis)
        out = np.empty_like(rows)
        ctx.kernels.log_softmax_forward(rows, out)
        ctx.save_for_backward(out)
        ctx.axis, ctx.moved_shape = axis, moved_shape
        return np.moveaxis(out.reshape(moved_shape), -1, axis).reshape(ctx.input_shape)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        grad, _ = _as_row(grad, ctx.axis)
        grad_rows, _ = _rows(grad, ctx.axis)
        grad_x = np.empty_like(out)
        ctx.kernels.log_softmax_backward(grad_rows, out, grad_x)
        return np.moveaxis(grad_x.reshape(ctx.moved_shape), -1, ctx.axis) \
            .reshape(ctx.input_shape)


class Softmax(Function):
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, axis):
        input_shape = x.shape
        x, axis = _as_row(x, axis)
        rows, moved_shape = _rows(x, axis)
        log_probs = np.empty_like(rows)
        ctx.kernels.log_softmax_forward(rows, log_probs)
        out = np.moveaxis(np.exp(log_probs).reshape(moved_shape), -1, axis)
        ctx.save_for_backward(out)
        ctx.axis, ctx.input_shape = axis, input_shape
        return out.reshape(input_shape)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        grad, _ = _as_row(grad, ctx.axis)
        grad_x = out * (grad - (grad * out).sum(axis=ctx.axis, keepdims=True))
        return grad_x.reshape(ctx.input_shape)


def implicit_dim(name: str, ndim: int) -> int:
    """torch's legacy choice where no dim was given (with its deprecation warning)."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_axis(op: str, x: Tensor, dim) -> int:
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point Tensor, got "
                        f"{getattr(x, 'dtype', type(x).__name__)}")
    if dim is None:
        dim = implicit_dim(op, x.ndim)
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}: expected dim to be an int, got {dim!r}")
    axes = normalize_dims(op, dim, x.ndim)
    return axes[0] if axes else 0  # a 0-d tensor: dim 0 or -1, one element


def log_softmax(x: Tensor, dim: int = None) -> Tensor:
    return LogSoftmax.apply(x, axis=_softmax_axis("log_softmax", x, dim))


def softmax(x: Tensor, dim: int = None) -> Tensor:
    return Softmax.apply(x, axis=_softmax_axis("softmax", x, dim))
