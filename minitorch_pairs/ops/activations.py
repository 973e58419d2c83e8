"""torch.nn.functional's activations beyond relu, tanh, sigmoid and selu (elementwise.py):
leaky_relu, elu, gelu, silu, softplus, hardtanh (relu6 is hardtanh(0, 6), as in torch), with
their `inplace=True` forms (inplace_forms.py) where torch has them.

One Function per activation, forward and backward side by side, on NumPy's ufuncs only, so
each runs on device arrays too (their ufunc protocol); gelu's normal CDF has its own device
path (normal_cdf.py). Gradients at kinks, infinities and NaN follow torch's kernels (each
NOTE says where that is a choice). Where torch's in-place backward reads the result
(leaky_relu_, elu_), the in-place form saves the result (`from_result`), with torch's
refusal of a negative slope there.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .inplace_forms import in_place
from .normal_cdf import normal_cdf

_GELU_TANH_BETA = math.sqrt(2.0 / math.pi)  # torch's kBeta = M_SQRT2 * M_2_SQRTPI * 0.5
_GELU_TANH_KAPPA = 0.044715
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _negative_slope_in_place(op: str, name: str) -> RuntimeError:
    return RuntimeError(
        f"In-place {name} backward calculation is triggered with a negative slope which is "
        "not supported. This is caused by calling in-place forward function with a negative "
        f"slope, please call out-of-place version instead ({op}, as torch)")


class LeakyRelu(Function):
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, a, negative_slope, from_result=False):
        out = np.where(a > 0, a, a * negative_slope)
        ctx.slope, ctx.from_result = negative_slope, from_result
        ctx.save_for_backward(out if from_result else a)
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx.from_result and ctx.slope < 0:
            raise _negative_slope_in_place("leaky_relu_", "leakyReLu")
        # NOTE: at exactly 0 (and at NaN) the slope is negative_slope, as torch's x > 0 test
        return np.where(ctx.saved[0] > 0, grad, grad * ctx.slope)


class Elu(Function):
    """scale * (x if x > 0 else alpha * (exp(x) - 1)): elu, and selu_ (torch's in-place selu
    is this with selu's constants)."""

    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, a, alpha, scale=1.0, from_result=False):
        with np.errstate(invalid="ignore"):
            out = np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0)))
        if scale != 1.0:
            out = scale * out
        ctx.alpha, ctx.scale, ctx.from_result = alpha, scale, from_result
        ctx.save_for_backward(out if from_result else a)
        return out

    @staticmethod
    def backward(ctx, grad):
        (saved,) = ctx.saved
        alpha, scale = ctx.alpha, ctx.scale
        if ctx.from_result:
            if alpha < 0:
                raise _negative_slope_in_place("elu_", "elu")
            return np.where(saved > 0, grad * scale, grad * (saved + alpha * scale))
        # NOTE: at exactly 0 the negative branch's slope (alpha), as torch; at NaN, NaN (as
        # torch's vectorised kernel, which all but a tensor's last few elements take)
        return np.where(saved > 0, grad * scale,
                        grad * (alpha * scale) * np.exp(np.minimum(saved, 0)))


class Gelu(Function):
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, a, approximate):
        ctx.approximate = approximate
        with np.errstate(over="ignore", invalid="ignore"):  # -inf * 0 is NaN, as in torch
            if approximate == "tanh":
                factor = np.tanh(_GELU_TANH_BETA * (a + _GELU_TANH_KAPPA * (a * a * a)))
                out = 0.5 * a * (1 + factor)
            else:
                factor = normal_cdf(a)
                out = a * factor
        ctx.save_for_backward(a, factor)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, factor = ctx.saved
        with np.errstate(over="ignore", invalid="ignore"):  # inf * 0 is NaN at +-inf, as torch
            if ctx.approximate == "tanh":  # torch's formula, term for term
                left_derivative = 0.5 * (1 + factor)
                right_derivative = (1 - factor * factor) * _GELU_TANH_BETA * \
                    (1 + 3 * _GELU_TANH_KAPPA * (a * a))
                return grad * (left_derivative + 0.5 * a * right_derivative)
            return grad * (factor + a * (_INV_SQRT_2PI * np.exp(-0.5 * (a * a))))


def _sigmoid(a):
    """1 / (1 + exp(-a)) without overflow: exp of non-positive numbers only."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


class Silu(Function):
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, a):
        s = _sigmoid(a)
        ctx.save_for_backward(a, s)
        with np.errstate(invalid="ignore"):  # -inf * 0 is NaN, as in torch
            return a * s

    @staticmethod
    def backward(ctx, grad):
        a, s = ctx.saved
        with np.errstate(invalid="ignore"):
            return grad * s * (1 + a * (1 - s))


class Softplus(Function):
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, a, beta, threshold):
        ctx.beta, ctx.threshold = beta, threshold
        ctx.save_for_backward(a)
        # NOTE: linear where beta * x > threshold, as torch (log1p(exp) only below it)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            scaled = a * beta
            return np.where(scaled > threshold, a, np.log1p(np.exp(scaled)) / beta)

    @staticmethod
    def backward(ctx, grad):
        with np.errstate(over="ignore", invalid="ignore"):  # torch's z / (z + 1): inf/inf = NaN
            scaled = ctx.saved[0] * ctx.beta
            z = np.exp(scaled)
            return np.where(scaled > ctx.threshold, grad, grad * z / (z + 1))


class Hardtanh(Function):
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, a, min_val, max_val):
        low, high = a.dtype.type(min_val), a.dtype.type(max_val)
        ctx.low, ctx.high = low, high
        ctx.save_for_backward(a)
        return np.minimum(np.maximum(a, low), high)  # NaN stays NaN

    @staticmethod
    def backward(ctx, grad):
        # NOTE: 0 at and beyond the bounds (clamp's gradient passes at them), and at NaN (as
        # torch's vectorised kernel, which all but a tensor's last few elements take)
        saved = ctx.saved[0]
        return np.where((saved > ctx.low) & (saved < ctx.high), grad, 0)


# ----- checks ------------------------------------------------------------------------------

_TORCH_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short",
                "int32": "Int", "int64": "Long"}


def _floating(op: str, x) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"{op}" not implemented for '
                                  f"'{_TORCH_NAMES.get(x.dtype.name, x.dtype)}' (dtype "
                                  f"{x.dtype}; only floating-point tensors, as in torch)")
    return x


def _number(op: str, name: str, value):
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{op}(): argument '{name}' must be Number, not "
                        f"{type(value).__name__}")
    return value


# ----- the functions, torch.nn.functional's signatures ---------------------------------------

def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    _floating("leaky_relu", input)
    _number("leaky_relu", "negative_slope", negative_slope)
    if inplace:
        return in_place("leaky_relu_", input, LeakyRelu, negative_slope=negative_slope,
                        from_result=True)
    return LeakyRelu.apply(input, negative_slope=negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    _floating("elu", input)
    _number("elu", "alpha", alpha)
    if inplace:
        return in_place("elu_", input, Elu, alpha=alpha, from_result=True)
    return Elu.apply(input, alpha=alpha)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if not isinstance(approximate, str):
        raise TypeError(f"gelu(): argument 'approximate' must be str, not "
                        f"{type(approximate).__name__}")
    _floating("gelu", input)
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh (gelu, got "
                           f"{approximate!r})")
    return Gelu.apply(input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    _floating("silu", input)
    if inplace:
        return in_place("silu_", input, Silu)
    return Silu.apply(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    _floating("softplus", input)
    _number("softplus", "beta", beta)
    _number("softplus", "threshold", threshold)
    return Softplus.apply(input, beta=beta, threshold=threshold)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    if isinstance(input, Tensor) and input.dtype.kind == "b":
        raise NotImplementedError("Bool inputs not supported for hardtanh (as in torch)")
    if not isinstance(input, Tensor):
        raise TypeError(f"hardtanh(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    _number("hardtanh", "min_val", min_val)
    _number("hardtanh", "max_val", max_val)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return in_place("hardtanh_", input, Hardtanh, min_val=min_val, max_val=max_val)
    return Hardtanh.apply(input, min_val=min_val, max_val=max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)
