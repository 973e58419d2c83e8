"""Elementwise primitives with broadcasting: add sub mul div neg pow, exp log sqrt abs,
relu tanh sigmoid selu, cast; and the non-differentiable comparisons.

Binary ops broadcast like NumPy/PyTorch; the engine (`autograd.unbroadcast`)
sums each gradient back to its operand's shape, so backwards here return
full-size gradients. Derivatives reuse the saved output where they can.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function
from ..tensor import Tensor, as_tensor

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _operands(op: str, a, b) -> tuple:
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    a = as_tensor(a, like=b if isinstance(b, Tensor) else None)
    b = as_tensor(b, like=a)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast "
                         "together") from None
    return a, b


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
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
        out = a ** b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved
        grad_a = grad * b * a ** (b - 1) if ctx.needs_input_grad[0] else None
        grad_b = None
        if ctx.needs_input_grad[1]:
            # NOTE: like torch, d(0**b)/db is taken as 0 where b >= 0 (not 0 * -inf = nan).
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_b = np.where((a == 0) & (b >= 0), 0, grad * out * np.log(a))
        return grad_a, grad_b


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
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


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        ctx.input_dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.input_dtype)


def add(a, b) -> Tensor: return Add.apply(*_operands("add", a, b))
def sub(a, b) -> Tensor: return Sub.apply(*_operands("sub", a, b))
def mul(a, b) -> Tensor: return Mul.apply(*_operands("mul", a, b))
def div(a, b) -> Tensor: return Div.apply(*_operands("div", a, b))
def pow(a, b) -> Tensor: return Pow.apply(*_operands("pow", a, b))
def neg(a: Tensor) -> Tensor: return Neg.apply(a)
def exp(a: Tensor) -> Tensor: return Exp.apply(a)
def log(a: Tensor) -> Tensor: return Log.apply(a)
def sqrt(a: Tensor) -> Tensor: return Sqrt.apply(a)
def abs(a: Tensor) -> Tensor: return Abs.apply(a)
def relu(a: Tensor) -> Tensor: return Relu.apply(a)
def tanh(a: Tensor) -> Tensor: return Tanh.apply(a)
def sigmoid(a: Tensor) -> Tensor: return Sigmoid.apply(a)
def selu(a: Tensor) -> Tensor: return Selu.apply(a)
def cast(a: Tensor, dtype) -> Tensor: return Cast.apply(a, dtype=dtype)


def compare(ufunc, a, b) -> Tensor:
    """A comparison: a boolean tensor, outside the graph."""
    a, b = _operands(ufunc.__name__, a, b)
    return Tensor._from_array(ufunc(a.data, b.data), a.device)
