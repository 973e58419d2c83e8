"""Reductions: sum, mean, max (whole tensor, or along dims with keepdim), argmax."""
from __future__ import annotations

import builtins
import math
import numbers

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor


def normalize_dims(op: str, dim, ndim: int) -> tuple:
    """`dim` (None, an int or a sequence) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if not isinstance(dim, (numbers.Integral, tuple, list)):
        raise TypeError(f"{op}: expected dim to be an int or a sequence of ints, got {dim!r}")
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    rank = builtins.max(ndim, 1)  # a 0-d tensor accepts dim 0 / -1, as in torch
    for d in dims:
        if not isinstance(d, numbers.Integral) or not -rank <= d < rank:
            raise IndexError(f"{op}: dim {d!r} out of range for a tensor of {ndim} dims "
                             f"(expected an integer in [{-rank}, {rank - 1}])")
    axes = tuple(sorted({int(d) % rank for d in dims}))
    return axes if ndim else ()


def _expand_back(grad, input_shape: tuple, axes: tuple, keepdim: bool):
    """Reinsert the reduced axes into a gradient, ready to broadcast over the input."""
    return grad if keepdim else np.expand_dims(grad, axes)


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        # torch sums bools and every integer dtype into int64
        out = a.sum(axis=axes, keepdims=keepdim, dtype=np.int64 if a.dtype.kind in "biu" else None)
        return np.asarray(out) if isinstance(out, np.generic) else out

    @staticmethod
    def backward(ctx, grad):
        grad = _expand_back(grad, ctx.shape, ctx.axes, ctx.keepdim)
        return np.broadcast_to(grad, ctx.shape)


class MaxAll(Function):
    """max over axes; ties share the gradient evenly (torch's max()/amax rule)."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        out = a.max(axis=axes, keepdims=True)
        out = np.asarray(out) if np.isscalar(out) else out
        ctx.save_for_backward(a, out)
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved
        grad = _expand_back(grad, ctx.shape, ctx.axes, ctx.keepdim)
        winners = a == out
        return winners * (grad / winners.sum(axis=ctx.axes, keepdims=True))


class MaxDim(Function):
    """max along one dim; the gradient goes to the first maximal element (the returned index)."""

    @staticmethod
    def forward(ctx, a, axis, keepdim):
        index = np.expand_dims(np.argmax(a, axis=axis), axis)
        out = np.take_along_axis(a, index, axis=axis)
        ctx.shape, ctx.axis, ctx.index, ctx.keepdim = a.shape, axis, index, keepdim
        return out if keepdim else np.squeeze(out, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        grad = _expand_back(grad, ctx.shape, (ctx.axis,), ctx.keepdim)
        full = backend.zeros(ctx.shape, grad.dtype, like=grad)
        np.put_along_axis(full, ctx.index, grad, axis=ctx.axis)
        return full


def _check_reduced_dim(op: str, a: Tensor, axis) -> None:
    """torch: a max/argmax over a dim of size 0 has no answer (IndexError); over the whole
    of an empty tensor it asks for a dim (RuntimeError for max, IndexError for argmax)."""
    if axis is None:
        if a.numel() == 0:
            error = ShapeError if op == "max" else IndexError
            raise error(f"{op}(): expected reduction dim to be specified for input.numel() "
                        f"== 0 (got a tensor of shape {a.shape}); specify the dim")
    elif a.shape[axis] == 0:
        raise IndexError(f"{op}(): expected reduction dim {axis} to have non-zero size, got "
                         f"shape {a.shape}")


def sum(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return Sum.apply(a, axes=normalize_dims("sum", dim, a.ndim), keepdim=keepdim)


def mean(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    if a.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype: expected a floating-point "
                           f"input (as torch), got dtype {a.dtype}; call .float() first")
    axes = normalize_dims("mean", dim, a.ndim)
    count = int(math.prod([a.shape[d] for d in axes]))
    # torch: the mean of no elements is NaN; the empty sum (0) times NaN gives it unwarned
    scale = 1.0 / count if count else math.nan
    return Sum.apply(a, axes=axes, keepdim=keepdim) * scale


def max(a: Tensor, dim=None, keepdim: bool = False):
    """max(a) -> the largest element; max(a, dim) -> (values, indices), as in torch."""
    if dim is None:
        _check_reduced_dim("max", a, None)
        return MaxAll.apply(a, axes=tuple(range(a.ndim)), keepdim=False)
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"max: expected dim to be an int, got {dim!r}")
    (axis,) = normalize_dims("max", dim, a.ndim) or (None,)
    if axis is None:  # 0-d tensor
        return a.clone(), Tensor._from_array(np.zeros((), np.int64), a.device)
    _check_reduced_dim("max", a, axis)
    values = MaxDim.apply(a, axis=axis, keepdim=keepdim)
    return values, _argmax(a, dim, keepdim)


def argmax(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    if a.dtype.kind == "b":
        raise RuntimeError("argmax(): does not support bool input (as torch); call .int() first")
    return _argmax(a, dim, keepdim)


def _argmax(a: Tensor, dim, keepdim: bool) -> Tensor:
    """The index of the first largest element (over all, or along `dim`), as int64."""
    if dim is None:
        _check_reduced_dim("argmax", a, None)
        return Tensor._from_array(np.asarray(np.argmax(a._data), dtype=np.int64), a.device)
    (axis,) = normalize_dims("argmax", dim, a.ndim) or (None,)
    if axis is None:
        return Tensor._from_array(np.zeros((), np.int64), a.device)
    _check_reduced_dim("argmax", a, axis)
    index = np.argmax(a._data, axis=axis)
    if keepdim:
        index = np.expand_dims(index, axis)
    return Tensor._from_array(index.astype(np.int64), a.device)


def _truth(name: str, a: Tensor, dim, keepdim: bool) -> Tensor:
    """any/all: a bool tensor, outside the graph (torch: over all, or along dim)."""
    axes = normalize_dims(name, dim, a.ndim)
    method = getattr(a._data, name)
    out = method(axis=axes, keepdims=keepdim)
    return Tensor._from_array(np.asarray(out) if np.isscalar(out) else out, a.device)


def any(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _truth("any", a, dim, keepdim)


def all(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _truth("all", a, dim, keepdim)
