"""Elementwise selection and comparison: clamp and masked_fill (differentiable: the gradient
passes where the input is kept), the comparisons and the bitwise logic of bool and integer
tensors (outside the graph). Operands are promoted as torch does."""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend, dtypes
from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor
from .promotion import as_operand, operands


class Clamp(Function):
    @staticmethod
    def forward(ctx, a, low, high):
        # NOTE: the gradient passes strictly inside (low, high): torch's choice for number
        # bounds gives 0 at a bound.
        low, high = (None if v is None else a.dtype.type(v) for v in (low, high))
        inside = backend.full(a.shape, True, np.bool_, a) if low is None else a > low
        if high is not None:
            inside = inside & (a < high)
        ctx.save_for_backward(inside)
        out = a if low is None else np.maximum(a, low)
        return out if high is None else np.minimum(out, high)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.saved[0]


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, a, mask, value):
        ctx.save_for_backward(mask)
        return np.where(mask, a.dtype.type(value), a)

    @staticmethod
    def backward(ctx, grad):
        return np.where(ctx.saved[0], grad.dtype.type(0), grad), None


def clamp(a: Tensor, min=None, max=None) -> Tensor:
    """Elements limited to [min, max] (Python numbers; either may be None)."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and not isinstance(bound, numbers.Real):
            raise TypeError(f"clamp: expected {name} to be a number or None, got "
                            f"{type(bound).__name__} (tensor bounds are not supported)")
    bounds = [bound for bound in (min, max) if bound is not None]
    a = as_operand(a, dtypes.result_type(a, *bounds), a)
    return Clamp.apply(a, low=min, high=max)


def masked_fill(a: Tensor, mask: Tensor, value) -> Tensor:
    """`value` where the bool `mask` (broadcast to a's shape) is True, `a` elsewhere."""
    if not isinstance(mask, Tensor) or mask.dtype != dtypes.bool_:
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_fill: expected a bool tensor as mask, got {got}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill: only supports a 0-dimensional value tensor, "
                               f"but got one with {value.ndim} dimension(s)")
        value = value.item()
    if np.broadcast_shapes(a.shape, mask.shape) != a.shape:
        raise ShapeError(f"masked_fill: mask of shape {mask.shape} does not broadcast to the "
                         f"tensor's shape {a.shape}")
    return MaskedFill.apply(a, mask, value=value)


def bitwise(ufunc, a, b) -> Tensor:
    """&, |, ^ of bool or integer tensors (promoted as torch does), outside the graph."""
    a, b = operands(ufunc.__name__, a, b)
    if a.dtype.kind not in "iub":
        raise NotImplementedError(f"{ufunc.__name__}: not implemented for dtype {a.dtype} "
                                  "(only bool and integer tensors, as in torch)")
    return Tensor._from_array(ufunc(a._data, b._data), a.device)


def compare(ufunc, a, b) -> Tensor:
    """A comparison: a boolean tensor, outside the graph (operands promoted as torch does)."""
    a, b = operands(ufunc.__name__, a, b)
    return Tensor._from_array(ufunc(a._data, b._data), a.device)
