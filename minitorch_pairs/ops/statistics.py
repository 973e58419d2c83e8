"""Statistics and scans with torch's names, signatures and gradients: var, std, var_mean,
std_mean, prod, cumsum, cumprod, logsumexp, norm, nansum, nanmean, count_nonzero. The
extremum family (max, min, amax, amin, aminmax, argmax, argmin) lives in reduction.py, and
the order statistics (sort, argsort, topk, kthvalue, median, mode) in sorting.py; both are
exported from here too.

Products and scans need NumPy calls the CUDA array does not have: those ops refuse device
tensors by name (backend.require_cpu).
"""
from __future__ import annotations

import builtins
import math
import numbers
import warnings

import numpy as np

from .. import backend, dtypes
from ..autograd import Function
from ..tensor import Tensor, expect_tensors
from . import reduction
from .comparison import masked_fill
from .promotion import as_floating
from .reduction import (amax, amin, aminmax, argmax, argmin, max, min, min_of,
                        reduced_count, reduction_axes, with_dtype, with_reduced_axes,
                        without_reduced_axes, wrap_dim)
from .sorting import argsort, kthvalue, median, mode, sort, topk

__all__ = ["max", "min", "amax", "amin", "aminmax", "argmax", "argmin", "var", "std",
           "var_mean", "std_mean", "median", "kthvalue", "mode", "prod", "cumsum", "cumprod",
           "logsumexp", "norm", "nansum", "nanmean", "count_nonzero", "sort", "argsort",
           "topk"]


# ----- var, std -----------------------------------------------------------------------

class Variance(Function):
    """Variance over `axes` with `correction` (divided by max(0, n - correction)); its square
    root with `root` (std, whose gradient is 0 where it is 0, as torch)."""

    computes_half_in_float32 = True  # float16 accumulates in float32, as torch

    @staticmethod
    def forward(ctx, a, axes, correction, keepdim, root):
        count = reduced_count(a.shape, axes)
        dof = builtins.max(count - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):  # NaN/inf as torch
            centred = a - a.sum(axis=axes, keepdims=True) / count
            out = (centred * centred).sum(axis=axes, keepdims=True) / dof
            if root:
                out = np.sqrt(out)
        ctx.save_for_backward(centred, out)
        ctx.axes, ctx.keepdim, ctx.dof, ctx.root = axes, keepdim, dof, root
        return without_reduced_axes(out, axes, keepdim)

    @staticmethod
    def backward(ctx, grad):
        centred, out = ctx.saved
        grad = with_reduced_axes(grad, ctx.axes, ctx.keepdim)
        if ctx.root:
            grad = np.where(out == 0, 0, grad / (2 * out))
        return grad * (2.0 / ctx.dof if ctx.dof else math.inf) * centred


def _correction(op: str, unbiased, correction) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): pass correction= or the older unbiased=, not both (as torch)")
    if correction is None:
        return 1.0 if unbiased is None or unbiased else 0.0
    if isinstance(correction, Tensor):
        correction = correction.item()
    if not isinstance(correction, numbers.Real):
        raise TypeError(f"{op}(): expected correction to be a number, got "
                        f"{type(correction).__name__}")
    return float(correction)


def _variance(op: str, a: Tensor, dim, unbiased, keepdim: bool, correction, root: bool):
    expect_tensors(op, input=a)
    if isinstance(dim, bool) and unbiased is None:  # torch's older var(input, unbiased)
        dim, unbiased = None, dim
    if a.dtype.kind != "f":
        raise RuntimeError(f"{op}(): std and var only support floating point and complex "
                           f"dtypes, got {a.dtype}")
    correction = _correction(op, unbiased, correction)
    axes = reduction_axes(op, dim, a.ndim)
    if reduced_count(a.shape, axes) - correction <= 0:
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly "
                      "less than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    out = Variance.apply(a, axes=axes, correction=correction, keepdim=keepdim, root=root)
    return out, axes


def var(a: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """Variance over dim (None: all), dividing by N - correction (default 1; unbiased=False
    is correction=0)."""
    return _variance("var", a, dim, unbiased, keepdim, correction, root=False)[0]


def std(a: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return _variance("std", a, dim, unbiased, keepdim, correction, root=True)[0]


def var_mean(a: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(var, mean) over the same dims."""
    out, axes = _variance("var_mean", a, dim, unbiased, keepdim, correction, root=False)
    return out, reduction.mean(a, axes, keepdim)


def std_mean(a: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    out, axes = _variance("std_mean", a, dim, unbiased, keepdim, correction, root=True)
    return out, reduction.mean(a, axes, keepdim)


# ----- products and scans: prod, cumsum, cumprod ----------------------------------------

def _accumulating(a: Tensor, dtype) -> Tensor:
    """`a` in the dtype a product or sum is taken in: dtype= if given, int64 for integers
    and bools (as torch)."""
    if dtype is None and a.dtype.kind in "biu":
        dtype = dtypes.int64
    return with_dtype(a, dtype)


class Prod(Function):
    """The product over `axes`; its gradient is right with zeros in the input: one zero gets
    the product of the others, the rest nothing; with two zeros every gradient is 0."""

    # float16 accumulates in float32 (torch's CPU prod rounds every step to float16)
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        out = a.prod(axis=axes, keepdims=True, dtype=a.dtype)
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return without_reduced_axes(out, axes, keepdim)

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved
        grad = with_reduced_axes(grad, ctx.axes, ctx.keepdim)
        zero = a == 0
        zeros = zero.sum(axis=ctx.axes, keepdims=True)
        nonzero = np.where(zero, 1, a)
        others = nonzero.prod(axis=ctx.axes, keepdims=True)  # the product of the non-zeros
        return grad * np.where(zeros == 0, out / nonzero, np.where(zero & (zeros == 1),
                                                                   others, 0))


def prod(a: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The product of all elements, or along one dim (int, as torch)."""
    expect_tensors("prod", input=a)
    backend.require_cpu("prod", a)
    a = _accumulating(a, dtype)
    if dim is None:
        axes = tuple(range(a.ndim))
    else:
        axes = (wrap_dim("prod", dim, a.ndim),) if a.ndim else ()
    return Prod.apply(a, axes=axes, keepdim=keepdim and dim is not None)


def _reverse_cumsum(values, axis: int):
    """sum over k >= i of values[k], along axis."""
    return np.flip(np.cumsum(np.flip(values, axis), axis=axis), axis)


class CumSum(Function):
    computes_half_in_float32 = True  # float16 accumulates in float32, as torch

    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        return np.cumsum(a, axis=axis, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return _reverse_cumsum(grad, ctx.axis)


class CumProd(Function):
    """Running products. d out_k / d a_i is the product of a_j, j <= k, j != i: out_k / a_i
    before the first zero of the row; at the first zero the running product with that zero
    taken as 1; after it, 0."""

    computes_half_in_float32 = True  # float16 accumulates in float32, as torch

    @staticmethod
    def forward(ctx, a, axis):
        out = np.cumprod(a, axis=axis, dtype=a.dtype)
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved
        a, out, grad = (np.moveaxis(x, ctx.axis, -1) for x in (a, out, grad))
        zero = a == 0
        size = a.shape[-1]
        first_zero = np.where(zero.any(axis=-1, keepdims=True),
                              np.argmax(zero, axis=-1)[..., None], size)
        place = np.arange(size)
        before = place < first_zero
        with np.errstate(divide="ignore", invalid="ignore"):
            result = np.where(before, _reverse_cumsum(grad * out, -1) / np.where(before, a, 1),
                              0)
        at_zero = place == first_zero
        if at_zero.any():
            skipping = np.cumprod(np.where(at_zero, 1, a), axis=-1)
            result = np.where(at_zero, _reverse_cumsum(grad * skipping, -1), result)
        return np.moveaxis(result, -1, ctx.axis)


def _scan(op: str, function, a: Tensor, dim, dtype) -> Tensor:
    expect_tensors(op, input=a)
    backend.require_cpu(op, a)
    axis = wrap_dim(op, dim, a.ndim)
    a = _accumulating(a, dtype)
    if a.ndim == 0:
        return function.apply(a.reshape(1), axis=0).reshape(())
    return function.apply(a, axis=axis)


def cumsum(a: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sums along dim (integers and bools in int64, as torch)."""
    return _scan("cumsum", CumSum, a, dim, dtype)


def cumprod(a: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running products along dim; the gradient is right with zeros in the input."""
    return _scan("cumprod", CumProd, a, dim, dtype)


# ----- logsumexp, norm ------------------------------------------------------------------

class LogSumExp(Function):
    """log(sum(exp(a))) over `axes`, the largest element subtracted first (not an infinite
    one: a row of -inf gives -inf, one with +inf gives +inf, as torch)."""

    computes_half_in_float32 = True  # float16 accumulates in float32, as torch

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        kept = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
        if reduced_count(a.shape, axes) == 0:
            out = backend.full(kept, -np.inf, a.dtype, like=a)
        else:
            peak = a.max(axis=axes, keepdims=True)
            peak = np.where(np.abs(peak) == np.inf, 0, peak)
            with np.errstate(divide="ignore", invalid="ignore"):
                out = np.log(np.exp(a - peak).sum(axis=axes, keepdims=True)) + peak
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return without_reduced_axes(out, axes, keepdim)

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved
        return with_reduced_axes(grad, ctx.axes, ctx.keepdim) * np.exp(a - out)


def logsumexp(a: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(a))) over dim (an int or a tuple), computed stably; integer and bool
    inputs give the default float dtype."""
    expect_tensors("logsumexp", input=a)
    a = as_floating("logsumexp", a)
    return LogSumExp.apply(a, axes=reduction_axes("logsumexp", dim, a.ndim), keepdim=keepdim)


class VectorNorm(Function):
    """(sum |a|^p)^(1/p) over `axes`, with its limits p = inf, -inf (largest, smallest |a|,
    gradient shared by ties) and p = 0 (the count of non-zeros, gradient 0). torch's
    subgradients: 0 for p = 2 at the zero vector, 0 for elements at 0 when p < 1."""

    computes_half_in_float32 = True  # float16 accumulates in float32, as torch

    @staticmethod
    def forward(ctx, a, p, axes, keepdim):
        size = np.abs(a)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if p == math.inf:
                out = size.max(axis=axes, keepdims=True)
            elif p == -math.inf:
                out = min_of(size, axes)
            elif p == 0:
                out = (size != 0).sum(axis=axes, keepdims=True).astype(a.dtype)
            elif p == 1:
                out = size.sum(axis=axes, keepdims=True)
            elif p == 2:
                out = np.sqrt((a * a).sum(axis=axes, keepdims=True))
            else:
                out = (size ** p).sum(axis=axes, keepdims=True) ** (1 / p)
        ctx.save_for_backward(a, out)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return without_reduced_axes(out, axes, keepdim)

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved
        p, grad = ctx.p, with_reduced_axes(grad, ctx.axes, ctx.keepdim)
        if p == 0:
            return backend.zeros(a.shape, grad.dtype, like=grad)
        if p == 1:
            return grad * np.sign(a)
        if p == 2:
            return np.where(out == 0, 0, grad / out) * a
        if p in (math.inf, -math.inf):
            winners = np.abs(a) == out
            shares = winners.sum(axis=ctx.axes, keepdims=True).astype(grad.dtype)
            return np.sign(a) * winners * (grad / shares)
        size = np.abs(a)
        scaled = np.where(a == 0, 0, np.sign(a) * size ** (p - 1))
        return scaled * np.where(out == 0, 0, grad * out ** (1 - p))


def norm(a: Tensor, p="fro", dim=None, keepdim: bool = False, out=None, dtype=None) -> Tensor:
    """torch.norm: the vector p-norm over dim (None: all; an int or a tuple) for a number p
    (2, 1, inf, -inf, 0 or any other); "fro" (the default) is the 2-norm over at most two
    dims. The nuclear norm is not implemented."""
    expect_tensors("norm", input=a)
    if out is not None:
        raise NotImplementedError("norm(): out= is not supported; use the returned tensor")
    if a.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor "
                           f"as input. Got {a.dtype}")
    a = with_dtype(a, dtype)
    p = _norm_order(p, dim)
    axes = reduction_axes("norm", dim, a.ndim)
    if p in (math.inf, -math.inf) and reduced_count(a.shape, axes) == 0:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {p} norm over no elements "
                           f"(shape {a.shape}, dims {axes}) because the operation does not "
                           "have an identity")
    return VectorNorm.apply(a, p=p, axes=axes, keepdim=keepdim)


def _norm_order(p, dim) -> float:
    if p is None or (isinstance(p, str) and p == "fro"):
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
        return 2.0
    if isinstance(p, str):
        if p == "nuc":
            raise NotImplementedError("norm(): the nuclear norm (p='nuc') is not implemented "
                                      "(it needs singular values)")
        raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
    if not isinstance(p, numbers.Real):
        raise TypeError(f"norm(): expected p to be a number or 'fro', got {type(p).__name__}")
    return float(p)


# ----- NaN-ignoring sums, count_nonzero ---------------------------------------------------

def _isnan(a: Tensor) -> Tensor:
    return Tensor._from_array(a._data != a._data, a.device)


def nansum(a: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The sum with NaN counted as 0 (their gradient is 0)."""
    expect_tensors("nansum", input=a)
    a = with_dtype(a, dtype)
    if a.dtype.kind == "f":
        a = masked_fill(a, _isnan(a), 0.0)
    return reduction.sum(a, dim, keepdim)


def nanmean(a: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The mean of the elements that are not NaN (NaN where all are)."""
    expect_tensors("nanmean", input=a)
    a = with_dtype(a, dtype)
    if a.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex "
                           f"dtype but got {a.dtype}")
    axes = reduction_axes("nanmean", dim, a.ndim)
    numbers_in = (a._data == a._data).sum(axis=axes, keepdims=keepdim).astype(a.dtype)
    return nansum(a, axes, keepdim) / Tensor._from_array(np.asarray(numbers_in) if np.isscalar(
        numbers_in) else numbers_in, a.device)


def count_nonzero(a: Tensor, dim=None) -> Tensor:
    """The number of non-zero elements (int64) over dim (None: all; an int or a tuple)."""
    expect_tensors("count_nonzero", input=a)
    axes = reduction_axes("count_nonzero", dim, a.ndim)
    counted = (a._data != 0).sum(axis=axes, dtype=np.int64)
    return Tensor._from_array(np.asarray(counted) if np.isscalar(counted) else counted,
                              a.device)
