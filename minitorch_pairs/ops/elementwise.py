"""Elementwise primitives with broadcasting: add sub mul div neg pow, exp log sqrt abs,
relu tanh sigmoid selu, cast; and the non-differentiable comparisons.

Binary ops broadcast like NumPy/PyTorch; the engine (`autograd.unbroadcast`)
sums each gradient back to its operand's shape, so backwards here return
full-size gradients. Derivatives reuse the saved output where they can.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend, dtypes
from ..autograd import KERNEL_FLOATS, Function
from ..errors import ShapeError
from ..tensor import Tensor, tensor

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


_REAL = (int, float, np.integer, np.floating, np.bool_)  # bool is an int


def _operands(op: str, a, b, floating: bool = False) -> tuple:
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
    a, b = _as_operand(a, dtype, like), _as_operand(b, dtype, like)
    if a.shape != b.shape:
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ShapeError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast "
                             "together") from None
    return a, b


def _as_operand(value, dtype, like: Tensor) -> Tensor:
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


def _floating(op: str, a) -> Tensor:
    """`a` as a floating tensor: integers and bools take the default float dtype (torch's
    exp, log, sqrt, ... of an integer tensor)."""
    if not isinstance(a, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(a).__name__}")
    if a.dtype.kind == "f":
        return a
    return Tensor._from_array(a._data.astype(dtypes.get_default_dtype()), a.device)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(over="ignore", invalid="ignore"):  # inf/nan silently, as in torch
            return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(over="ignore", invalid="ignore"):  # inf/nan silently, as in torch
            return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        # each operand is saved only for the other's gradient, so that changing an operand
        # that needs no gradient in place (x * 2, then x.mul_(3)) leaves backward valid
        needs = ctx.needs_input_grad
        ctx.save_for_backward(a if needs[1] else None, b if needs[0] else None)
        with np.errstate(over="ignore", invalid="ignore"):  # inf/nan silently, as in torch
            return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return (grad * b if ctx.needs_input_grad[0] else None,
                grad * a if ctx.needs_input_grad[1] else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):  # x/0 is +-inf or nan, as in torch
            return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        grad_a = grad / b
        return grad_a, (-grad_a * a / b if ctx.needs_input_grad[1] else None)


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(all="ignore"):  # 0 ** -1 is inf, (-1) ** 0.5 nan: silently, as torch
            out = a ** b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved
        grad_a = None
        if ctx.needs_input_grad[0]:
            # NOTE: like torch, d(a**b)/da is 0 where b == 0, also at a == 0 (not 0 * inf)
            grad_a = np.where(b == 0, 0, grad * b * a ** (b - 1))
        grad_b = None
        if ctx.needs_input_grad[1]:
            # NOTE: like torch, d(0**b)/db is taken as 0 where b >= 0 (not 0 * -inf = nan).
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_b = np.where((a == 0) & (b >= 0), 0, grad * out * np.log(a))
        return grad_a, grad_b


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        with np.errstate(over="ignore"):  # exp overflows to inf silently, as in torch
            out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.saved[0]


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):  # torch gives -inf/nan silently
            return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        return grad / ctx.saved[0]


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        with np.errstate(invalid="ignore"):  # sqrt of a negative is nan, silently as in torch
            out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad / (2 * ctx.saved[0])


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        return grad * np.sign(ctx.saved[0])


class Relu(Function):
    kernel_dtypes = KERNEL_FLOATS

    @staticmethod
    def forward(ctx, a):
        out = backend.empty(a.shape, a.dtype, like=a)
        ctx.kernels.relu_forward(a.reshape(-1), out.reshape(-1))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # NOTE: the gradient at exactly 0 is 0, as in torch (the subgradient it picks).
        (out,) = ctx.saved
        grad_x = np.empty_like(out)
        ctx.kernels.relu_backward(grad.reshape(-1), out.reshape(-1), grad_x.reshape(-1))
        return grad_x


class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out = ctx.saved[0]
        return grad * (1 - out * out)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        # exp of a non-positive number only, so no overflow warning for large |a|
        e = np.exp(-np.abs(a))
        out = np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out = ctx.saved[0]
        return grad * out * (1 - out)


class Selu(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        negative = SELU_ALPHA * np.expm1(np.minimum(a, 0))
        return (SELU_SCALE * np.where(a > 0, a, negative)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a = ctx.saved[0]
        # NOTE: at exactly 0 torch takes the negative branch's slope (scale * alpha).
        slope = np.where(a > 0, SELU_SCALE, SELU_SCALE * SELU_ALPHA * np.exp(np.minimum(a, 0)))
        return grad * slope.astype(a.dtype, copy=False)


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


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        ctx.input_dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.input_dtype)


def add(a, b) -> Tensor: return Add.apply(*_operands("add", a, b))
def mul(a, b) -> Tensor: return Mul.apply(*_operands("mul", a, b))
def div(a, b) -> Tensor: return Div.apply(*_operands("div", a, b, floating=True))
def exp(a: Tensor) -> Tensor: return Exp.apply(_floating("exp", a))
def log(a: Tensor) -> Tensor: return Log.apply(_floating("log", a))
def sqrt(a: Tensor) -> Tensor: return Sqrt.apply(_floating("sqrt", a))
def tanh(a: Tensor) -> Tensor: return Tanh.apply(_floating("tanh", a))
def sigmoid(a: Tensor) -> Tensor: return Sigmoid.apply(_floating("sigmoid", a))
def selu(a: Tensor) -> Tensor: return Selu.apply(_floating("selu", a))
def cast(a: Tensor, dtype) -> Tensor: return Cast.apply(a, dtype=dtype)


def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_)) or (
        isinstance(value, Tensor) and value.dtype == dtypes.bool_)


def sub(a, b) -> Tensor:
    if _is_bool(a) or _is_bool(b):
        raise NotImplementedError("sub: subtraction, the `-` operator, with a bool tensor is not "
                                  "supported (as in torch); use the `^` operator instead")
    return Sub.apply(*_operands("sub", a, b))


def neg(a: Tensor) -> Tensor:
    if _is_bool(a):
        raise NotImplementedError("neg: negation, the `-` operator, on a bool tensor is not "
                                  "supported (as in torch); use the `~` operator instead")
    return Neg.apply(a)


def abs(a: Tensor) -> Tensor:
    if _is_bool(a):
        raise NotImplementedError("abs: not implemented for bool tensors (as in torch)")
    return Abs.apply(a)


def relu(a: Tensor) -> Tensor:
    if a.dtype.kind == "b":
        raise NotImplementedError("relu: bool inputs are not supported (as in torch)")
    return Relu.apply(a)


def pow(a, b) -> Tensor:
    exponent = b
    a, b = _operands("pow", a, b)
    if a.dtype == dtypes.bool_:
        if isinstance(exponent, (bool, np.bool_)):  # torch's shortcut: x ** True is x, ** False 1
            array = a._data.copy() if exponent else backend.full(a.shape, True, a.dtype, a._data)
            return Tensor._from_array(array, a.device)
        raise NotImplementedError("pow: not implemented for bool tensors (as in torch)")
    if a.dtype.kind in "iu" and bool((backend.transfer(b._data, "cpu") < 0).any()):
        raise RuntimeError("pow: integers to negative integer powers are not allowed (torch's "
                           "rule); make the base a float tensor")
    return Pow.apply(a, b)


def clamp(a: Tensor, min=None, max=None) -> Tensor:
    """Elements limited to [min, max] (Python numbers; either may be None)."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and not isinstance(bound, numbers.Real):
            raise TypeError(f"clamp: expected {name} to be a number or None, got "
                            f"{type(bound).__name__} (tensor bounds are not supported)")
    bounds = [bound for bound in (min, max) if bound is not None]
    a = _as_operand(a, dtypes.result_type(a, *bounds), a)
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
    a, b = _operands(ufunc.__name__, a, b)
    if a.dtype.kind not in "iub":
        raise NotImplementedError(f"{ufunc.__name__}: not implemented for dtype {a.dtype} "
                                  "(only bool and integer tensors, as in torch)")
    return Tensor._from_array(ufunc(a._data, b._data), a.device)


def compare(ufunc, a, b) -> Tensor:
    """A comparison: a boolean tensor, outside the graph (operands promoted as torch does)."""
    a, b = _operands(ufunc.__name__, a, b)
    return Tensor._from_array(ufunc(a._data, b._data), a.device)
