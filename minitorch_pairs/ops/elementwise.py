"""Elementwise arithmetic with broadcasting: add sub mul div neg pow, exp log sqrt abs,
relu tanh sigmoid selu; operands promoted as torch does (promotion.py).

Binary ops broadcast like NumPy/PyTorch; the engine (`autograd.unbroadcast`)
sums each gradient back to its operand's shape, so backwards here return
full-size gradients. Derivatives reuse the saved output where they can.
"""
from __future__ import annotations

import numpy as np

from .. import backend, dtypes
from ..autograd import Function
from ..tensor import Tensor
from .promotion import as_floating, operands

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


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
    computes_half_in_float32 = True

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


def add(a, b) -> Tensor: return Add.apply(*operands("add", a, b))
def mul(a, b) -> Tensor: return Mul.apply(*operands("mul", a, b))
def div(a, b) -> Tensor: return Div.apply(*operands("div", a, b, floating=True))
def exp(a: Tensor) -> Tensor: return Exp.apply(as_floating("exp", a))
def log(a: Tensor) -> Tensor: return Log.apply(as_floating("log", a))
def sqrt(a: Tensor) -> Tensor: return Sqrt.apply(as_floating("sqrt", a))
def tanh(a: Tensor) -> Tensor: return Tanh.apply(as_floating("tanh", a))
def sigmoid(a: Tensor) -> Tensor: return Sigmoid.apply(as_floating("sigmoid", a))
def selu(a: Tensor) -> Tensor: return Selu.apply(as_floating("selu", a))


def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_)) or (
        isinstance(value, Tensor) and value.dtype == dtypes.bool_)


def sub(a, b) -> Tensor:
    if _is_bool(a) or _is_bool(b):
        raise NotImplementedError("sub: subtraction, the `-` operator, with a bool tensor is not "
                                  "supported (as in torch); use the `^` operator instead")
    return Sub.apply(*operands("sub", a, b))


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
    a, b = operands("pow", a, b)
    if a.dtype == dtypes.bool_:
        if isinstance(exponent, (bool, np.bool_)):  # torch's shortcut: x ** True is x, ** False 1
            array = a._data.copy() if exponent else backend.full(a.shape, True, a.dtype, a._data)
            return Tensor._from_array(array, a.device)
        raise NotImplementedError("pow: not implemented for bool tensors (as in torch)")
    if a.dtype.kind in "iu" and bool((backend.transfer(b._data, "cpu") < 0).any()):
        raise RuntimeError("pow: integers to negative integer powers are not allowed (torch's "
                           "rule); make the base a float tensor")
    return Pow.apply(a, b)


