"""Pointwise math under torch's names and rules: the float functions (reciprocal, expm1,
log1p, log2, log10, rsqrt, square, sin ... atan), rounding (floor, ceil, round, trunc, frac,
sign) and the binary ops pow, atan2, minimum, maximum, fmin, fmax. Division (remainder,
fmod, div with rounding modes, floor_divide) is in division.py; where and the comparisons
and logic tests in logic.py.

Integer and bool inputs of the float functions take the default float dtype, as in torch;
the rounding functions keep an integer dtype. Gradients follow torch's conventions at the
edges: zero for the rounding functions and sign, half to each side at a tie of
minimum/maximum. Ops whose array code the CUDA array lacks (the trigonometric and rounding
functions) refuse device tensors.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend, dtypes
from ..autograd import Function
from ..tensor import Tensor, expect_tensors
from . import elementwise
from .elementwise import neg
from .promotion import as_floating, as_operand, operands

__all__ = [
    "neg", "negative", "sign", "reciprocal", "expm1", "log1p", "log2", "log10", "rsqrt",
    "square", "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan",
    "floor", "ceil", "round", "trunc", "fix", "frac",
    "pow", "atan2", "arctan2", "minimum", "maximum", "fmin", "fmax",
]

_LN_BASES = {2: math.log(2.0), 10: math.log(10.0)}
_HOST_LOGS = {2: np.log2, 10: np.log10}


def _zero(grad):
    return backend.zeros(grad.shape, grad.dtype, grad)


def _on_host(array) -> bool:
    return isinstance(array, (np.ndarray, np.generic))


# ----- float functions ------------------------------------------------------------------

class Reciprocal(Function):
    @staticmethod
    def forward(ctx, a):
        with np.errstate(divide="ignore"):  # 1/0 is inf, silently as in torch
            out = 1 / a
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out = ctx.saved[0]
        return -grad * out * out


class Expm1(Function):
    @staticmethod
    def forward(ctx, a):
        with np.errstate(over="ignore"):
            out = np.expm1(a)  # exact near 0, where exp(a) - 1 cancels
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad * (ctx.saved[0] + 1)


class Log1p(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(a)  # exact near 0, where log(1 + a) loses a's digits

    @staticmethod
    def backward(ctx, grad):
        return grad / (ctx.saved[0] + 1)


class LogBase(Function):
    """log2 and log10: the device has no kernel for either, so there log(a) / ln(base); on
    the host NumPy's own keep exact powers of the base exact."""

    @staticmethod
    def forward(ctx, a, base):
        ctx.save_for_backward(a)
        ctx.ln_base = _LN_BASES[base]
        with np.errstate(divide="ignore", invalid="ignore"):
            return _HOST_LOGS[base](a) if _on_host(a) else np.log(a) * (1 / ctx.ln_base)

    @staticmethod
    def backward(ctx, grad):
        return grad / (ctx.saved[0] * ctx.ln_base)


class Rsqrt(Function):
    @staticmethod
    def forward(ctx, a):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 1 / np.sqrt(a)  # torch's CPU rsqrt is this quotient too
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out = ctx.saved[0]
        return grad * (-0.5 * out * out * out)


class Square(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(over="ignore"):
            return a * a

    @staticmethod
    def backward(ctx, grad):
        return grad * (2 * ctx.saved[0])


class Sin(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, grad):
        return grad * np.cos(ctx.saved[0])


class Cos(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx, grad):
        return -grad * np.sin(ctx.saved[0])


class Tan(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.tan(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out = ctx.saved[0]
        return grad * (1 + out * out)


class Asin(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(invalid="ignore"):  # nan outside [-1, 1], as in torch
            return np.arcsin(a)

    @staticmethod
    def backward(ctx, grad):
        a = ctx.saved[0]
        return grad / np.sqrt(1 - a * a)


class Acos(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(invalid="ignore"):
            return np.arccos(a)

    @staticmethod
    def backward(ctx, grad):
        a = ctx.saved[0]
        return -grad / np.sqrt(1 - a * a)


class Atan(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.arctan(a)

    @staticmethod
    def backward(ctx, grad):
        a = ctx.saved[0]
        return grad / (1 + a * a)


def reciprocal(input: Tensor) -> Tensor: return Reciprocal.apply(as_floating("reciprocal", input))
def expm1(input: Tensor) -> Tensor: return Expm1.apply(as_floating("expm1", input))
def log1p(input: Tensor) -> Tensor: return Log1p.apply(as_floating("log1p", input))
def log2(input: Tensor) -> Tensor: return LogBase.apply(as_floating("log2", input), base=2)
def log10(input: Tensor) -> Tensor: return LogBase.apply(as_floating("log10", input), base=10)
def rsqrt(input: Tensor) -> Tensor: return Rsqrt.apply(as_floating("rsqrt", input))


def _cpu_float(op: str, cls, input) -> Tensor:
    """A float function the device cannot run (the CUDA array has no such kernel)."""
    backend.require_cpu(op, input)
    return cls.apply(as_floating(op, input))


def sin(input: Tensor) -> Tensor: return _cpu_float("sin", Sin, input)
def cos(input: Tensor) -> Tensor: return _cpu_float("cos", Cos, input)
def tan(input: Tensor) -> Tensor: return _cpu_float("tan", Tan, input)
def asin(input: Tensor) -> Tensor: return _cpu_float("asin", Asin, input)
def acos(input: Tensor) -> Tensor: return _cpu_float("acos", Acos, input)
def atan(input: Tensor) -> Tensor: return _cpu_float("atan", Atan, input)


def square(input: Tensor) -> Tensor:
    """input * input; an integer tensor stays integer, a bool one becomes int64 (torch's
    pow(input, 2))."""
    expect_tensors("square", input=input)
    if input.dtype == dtypes.bool_:
        input = as_operand(input, dtypes.int64, input)
    return Square.apply(input)


negative = neg
arcsin, arccos, arctan = asin, acos, atan


# ----- rounding and sign: zero gradient (frac: the identity's) -------------------------

class _ZeroGradient(Function):
    """A step function: its gradient is 0 wherever it is defined (torch's choice)."""

    @staticmethod
    def backward(ctx, grad):
        return _zero(grad)


class Floor(_ZeroGradient):
    @staticmethod
    def forward(ctx, a):
        return np.floor(a)


class Ceil(_ZeroGradient):
    @staticmethod
    def forward(ctx, a):
        return np.ceil(a)


class Trunc(_ZeroGradient):
    @staticmethod
    def forward(ctx, a):
        return np.trunc(a)


class Round(_ZeroGradient):
    @staticmethod
    def forward(ctx, a, decimals):
        if decimals == 0:
            return np.rint(a)  # half to even, as torch's nearbyint
        # torch's kernel: scale by 10**|decimals| in the op's compute type (float32 for
        # float16), round half to even, scale back
        compute = np.promote_types(a.dtype, np.float32)
        scale = compute.type(10.0 ** abs(decimals))
        x = a.astype(compute, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.rint(x * scale) / scale if decimals > 0 else np.rint(x / scale) * scale
        return out.astype(a.dtype, copy=False)


class Sign(_ZeroGradient):
    @staticmethod
    def forward(ctx, a):
        if a.dtype == np.bool_:
            return a.copy()
        # (a > 0) - (a < 0): 0 for NaN and +0 for -0, as torch (np.sign keeps NaN)
        return (a > 0).astype(a.dtype) - (a < 0).astype(a.dtype)


class Frac(Function):
    @staticmethod
    def forward(ctx, a):
        with np.errstate(invalid="ignore"):  # frac(inf) is nan, as in torch
            return a - np.trunc(a)

    @staticmethod
    def backward(ctx, grad):
        return grad


def _rounding(op: str, cls, input, **options) -> Tensor:
    """floor/ceil/round/trunc: an integer tensor comes back as a copy; bool is refused."""
    expect_tensors(op, input=input)
    backend.require_cpu(op, input)
    if input.dtype == dtypes.bool_:
        raise NotImplementedError(f"{op}: not implemented for bool tensors (as in torch)")
    if input.dtype.kind in "iu":
        return Tensor._from_array(input._data.copy(), input.device)
    return cls.apply(input, **options)


def floor(input: Tensor) -> Tensor: return _rounding("floor", Floor, input)
def ceil(input: Tensor) -> Tensor: return _rounding("ceil", Ceil, input)
def trunc(input: Tensor) -> Tensor: return _rounding("trunc", Trunc, input)


def round(input: Tensor, *, decimals=None) -> Tensor:
    """Round half to even; with `decimals`, to that many decimal places (negative: to tens,
    hundreds, ...). As torch, an integer tensor is returned as a copy only when decimals is
    not given: torch's round.decimals refuses integer tensors even for decimals=0."""
    if decimals is None:
        return _rounding("round", Round, input, decimals=0)
    if not isinstance(decimals, numbers.Integral) or isinstance(decimals, bool):
        raise TypeError(f"round: expected decimals to be an int, got {decimals!r}")
    expect_tensors("round", input=input)
    if input.dtype.kind != "f":
        raise NotImplementedError(f"round: decimals= is not implemented for {input.dtype} "
                                  "tensors (as in torch); round a floating tensor")
    backend.require_cpu("round", input)
    return Round.apply(input, decimals=int(decimals))


def frac(input: Tensor) -> Tensor:
    """input - trunc(input), with the sign of input; floating tensors only, as in torch."""
    expect_tensors("frac", input=input)
    backend.require_cpu("frac", input)
    if input.dtype.kind != "f":
        raise NotImplementedError(f"frac: not implemented for {input.dtype} tensors (as in "
                                  "torch); convert to a floating dtype first")
    return Frac.apply(input)


def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 in input's dtype (0 for NaN, as torch; a bool tensor is returned as is)."""
    expect_tensors("sign", input=input)
    return Sign.apply(input)


fix = trunc


# ----- pow --------------------------------------------------------------------------------

def _integer_power(a, b):
    """torch's integer a ** b for a tensor exponent: a negative power of 1 is 1, of -1 is
    +-1, of anything else 0 (a Python number exponent may not be negative: see pow)."""
    with np.errstate(over="ignore"):  # integer powers wrap around, as in torch
        out = np.power(a, np.maximum(b, 0))
    if b.dtype.kind == "u":
        return out
    dtype = out.dtype
    one, zero = dtype.type(1), dtype.type(0)
    odd = np.bitwise_and(b, 1) != 0
    minus_one_power = np.where(odd, dtype.type(-1), one)
    negative_power = np.where(a == 1, one, np.where(a == -1, minus_one_power, zero))
    return np.where(b < 0, negative_power.astype(dtype), out).astype(dtype, copy=False)


def pow(input, exponent) -> Tensor:
    """input ** exponent, tensors or Python numbers on either side (not both), with torch's
    result dtype. An integer result with a tensor exponent follows torch's integer rules
    (negative powers allowed); a negative Python int exponent of an integer tensor is
    torch's RuntimeError."""
    if isinstance(exponent, Tensor):
        base, power = operands("pow", input, exponent)
        if base.dtype.kind in "iu":
            return Tensor._from_array(_integer_power(base._data, power._data), base.device)
    return elementwise.pow(input, exponent)


# ----- atan2, minimum/maximum, fmin/fmax ---------------------------------------------------

def _both_tensors(op: str, input, other) -> None:
    expect_tensors(op, input=input, other=other)


class Atan2(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        square_sum = a * a + b * b
        # torch takes 0 at the origin, where the angle has no derivative
        with np.errstate(divide="ignore"):
            scale = np.where(square_sum == 0, 0, grad / square_sum)
        return scale * b, -scale * a


def atan2(input: Tensor, other: Tensor) -> Tensor:
    """The angle of (other, input) in (-pi, pi], elementwise; both tensors, as in torch."""
    _both_tensors("atan2", input, other)
    backend.require_cpu("atan2", input, other)
    return Atan2.apply(*operands("atan2", input, other, floating=True))


def _extremum_backward(ctx, grad, keeps_larger: bool):
    """torch's rule for maximum/minimum (and fmax/fmin): the gradient goes to the winner,
    half to each side at a tie, in full to both where a NaN is involved."""
    a, b = ctx.saved
    zero = grad.dtype.type(0)
    shared = np.where(a == b, grad * 0.5, grad)
    a_loses, b_loses = (a < b, a > b) if keeps_larger else (a > b, a < b)
    return (np.where(a_loses, zero, shared) if ctx.needs_input_grad[0] else None,
            np.where(b_loses, zero, shared) if ctx.needs_input_grad[1] else None)


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)  # NaN wins, as in torch

    @staticmethod
    def backward(ctx, grad):
        return _extremum_backward(ctx, grad, keeps_larger=True)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        return _extremum_backward(ctx, grad, keeps_larger=False)


class Fmax(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        # a NaN loses to a number (written with where: the device has no fmax kernel)
        return np.where((a >= b) | (b != b), a, b)

    @staticmethod
    def backward(ctx, grad):
        return _extremum_backward(ctx, grad, keeps_larger=True)


class Fmin(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.where((a <= b) | (b != b), a, b)

    @staticmethod
    def backward(ctx, grad):
        return _extremum_backward(ctx, grad, keeps_larger=False)


def _extremum(op: str, cls, input, other) -> Tensor:
    _both_tensors(op, input, other)
    return cls.apply(*operands(op, input, other))


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise maximum of two tensors (NaN propagates)."""
    return _extremum("maximum", Maximum, input, other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise minimum of two tensors (NaN propagates)."""
    return _extremum("minimum", Minimum, input, other)


def fmax(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise maximum ignoring NaN (NaN only where both are NaN)."""
    return _extremum("fmax", Fmax, input, other)


def fmin(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise minimum ignoring NaN (NaN only where both are NaN)."""
    return _extremum("fmin", Fmin, input, other)


arctan2 = atan2
