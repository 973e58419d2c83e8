"""Division under torch's names and rules: remainder (the `%` operator, the divisor's sign)
and fmod (the dividend's), div with rounding_mode None / "trunc" / "floor", true_divide and
floor_divide (the `//` operator). Integer division by zero raises torch's RuntimeError; the
rounding divisions have a zero gradient and floor_divide none (its backward raises, as in
torch). These ops refuse device tensors (the CUDA array has no floor or fmod kernels)."""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend, dtypes
from ..autograd import Function
from ..tensor import Tensor, expect_tensors, tensor
from . import elementwise
from .pointwise import _ZeroGradient, _zero
from .promotion import operands

__all__ = ["remainder", "fmod", "div", "divide", "true_divide", "floor_divide"]


# ----- remainder, fmod, the rounding divisions --------------------------------------------

def _division_operands(op: str, input, other) -> tuple:
    """Promoted operands of an integer-aware division on the CPU: bool is refused and an
    integer division by zero is torch's RuntimeError."""
    a, b = operands(op, input, other)
    backend.require_cpu(op, a, b)
    if a.dtype == dtypes.bool_:
        raise NotImplementedError(f"{op}: not implemented for bool tensors (as in torch)")
    if a.dtype.kind in "iu" and bool((b._data == 0).any()):
        raise RuntimeError(f"ZeroDivisionError: {op}: integer division by zero (torch "
                           "raises this RuntimeError too; divide floating tensors for inf/nan)")
    return a, b


def _floor_quotient(a, b):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.floor_divide(a, b)  # Python's floor division, as torch's (also for floats)


def _trunc_quotient(a, b):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if a.dtype.kind == "f":
            return np.trunc(a / b)
        quotient = np.floor_divide(a, b)
        # floor is one below trunc where the quotient is negative and not exact
        inexact = (np.remainder(a, b) != 0) & ((a < 0) != (b < 0))
        return quotient + inexact.astype(quotient.dtype)


_QUOTIENTS = {"floor": _floor_quotient, "trunc": _trunc_quotient}


class Remainder(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if a.dtype.kind != "f":
                return np.remainder(a, b)
            # torch's formula: fmod, moved to the divisor's sign (a zero keeps fmod's sign)
            mod = np.fmod(a, b)
            return np.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return grad, (-grad * _floor_quotient(a, b) if ctx.needs_input_grad[1] else None)


class Fmod(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.fmod(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return grad, (-grad * _trunc_quotient(a, b) if ctx.needs_input_grad[1] else None)


class RoundedDivision(_ZeroGradient):
    @staticmethod
    def forward(ctx, a, b, mode):
        return _QUOTIENTS[mode](a, b)

    @staticmethod
    def backward(ctx, grad):
        return _zero(grad), _zero(grad)


class FloorDivide(Function):
    """floor_divide (and //): as in torch, the result is in the graph but has no
    derivative; div(..., rounding_mode='floor') is the differentiable twin (gradient 0)."""

    @staticmethod
    def forward(ctx, a, b):
        return _floor_quotient(a, b)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("floor_divide: the derivative is not implemented (as torch: "
                           "derivative for aten::floor_divide is not implemented); use "
                           "div(a, b, rounding_mode='floor'), whose gradient is 0")


def remainder(input, other) -> Tensor:
    """Python's modulus (the result takes the divisor's sign): input - floor(input / other)
    * other; tensors or a Python number on either side. The `%` operator."""
    return Remainder.apply(*_division_operands("remainder", input, other))


def fmod(input: Tensor, other) -> Tensor:
    """C's modulus (the result takes the dividend's sign); other a tensor or a number."""
    expect_tensors("fmod", input=input)
    return Fmod.apply(*_division_operands("fmod", input, other))


def _numbers_as_tensor(input, other):
    """torch's div and floor_divide also take two Python numbers (the first as a 0-d
    tensor)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor) and \
            isinstance(input, numbers.Real):
        return tensor(input)
    return input


def div(input, other, *, rounding_mode=None) -> Tensor:
    """True division (an integer quotient takes the default float dtype); with
    rounding_mode 'trunc' or 'floor', rounded in the operands' dtype (gradient 0)."""
    input = _numbers_as_tensor(input, other)
    if rounding_mode is None:
        return elementwise.div(input, other)
    if rounding_mode not in _QUOTIENTS:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or "
                           f"'floor' but found {rounding_mode!r}")
    a, b = _division_operands("div", input, other)
    return RoundedDivision.apply(a, b, mode=rounding_mode)


def true_divide(input, other) -> Tensor:
    return div(input, other)


def floor_divide(input, other) -> Tensor:
    """input / other rounded toward minus infinity, in the operands' dtype. The `//`
    operator."""
    input = _numbers_as_tensor(input, other)
    return FloorDivide.apply(*_division_operands("floor_divide", input, other))


divide = div
