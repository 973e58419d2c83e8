"""Operands of torch's result dtype: `operands` promotes a pair (tensors and Python numbers)
by torch's rules (dtypes.py) and checks that they broadcast; `as_floating` gives the float
ops their input; `cast` is the differentiable dtype conversion they use."""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend, dtypes
from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor, tensor

_REAL = (int, float, np.integer, np.floating, np.bool_)  # bool is an int


def operands(op: str, a, b, floating: bool = False) -> tuple:
    """Both operands as tensors of torch's result dtype (`floating`: at least the default
    float, as for true division), checked to broadcast."""
    a_tensor, b_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
    if not a_tensor and not b_tensor:
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    if a_tensor and b_tensor and a.dtype == b.dtype:
        dtype = a.dtype  # the common cases, without the promotion rules
    elif a_tensor and a.dtype.kind == "f" and isinstance(b, _REAL):
        dtype = a.dtype  # a Python number never widens a floating tensor
    elif b_tensor and b.dtype.kind == "f" and isinstance(a, _REAL):
        dtype = b.dtype
    else:
        a, b = (x if isinstance(x, (Tensor, numbers.Number)) else tensor(x) for x in (a, b))
        dtype = dtypes.result_type(a, b)
    if floating:
        dtype = dtypes.float_result(dtype)
    like = a if a_tensor else b
    a, b = as_operand(a, dtype, like), as_operand(b, dtype, like)
    if a.shape != b.shape:
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ShapeError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast "
                             "together") from None
    return a, b


def as_operand(value, dtype, like: Tensor) -> Tensor:
    """`value` (a tensor or a Python number) as a tensor of `dtype` on `like`'s device; a
    tensor that requires grad is cast by a differentiable op."""
    if not isinstance(value, Tensor):
        if dtype.kind in "iu":  # an integer out of the dtype's range wraps, as in torch
            value = np.array(value).astype(dtype)[()]
        return Tensor._from_array(backend.full((), value, dtype, like._data), like.device)
    if value.dtype == dtype:
        return value
    if value.requires_grad:
        return cast(value, dtype)
    return Tensor._from_array(value._data.astype(dtype), value.device)


def as_floating(op: str, a) -> Tensor:
    """`a` as a floating tensor: integers and bools take the default float dtype (torch's
    exp, log, sqrt, ... of an integer tensor)."""
    if not isinstance(a, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(a).__name__}")
    return as_operand(a, dtypes.float_result(a.dtype), a)


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        ctx.input_dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.input_dtype)


def cast(a: Tensor, dtype) -> Tensor: return Cast.apply(a, dtype=dtype)
