"""Reductions with torch's signatures: sum and mean (over dims, keepdim, dtype=), the
extremum family max/min (everything, along a dim with a named (values, indices) result,
or elementwise against another tensor), amax/amin (over dims), aminmax, argmax/argmin,
and any/all. Also the pieces the other reductions (statistics.py, sorting.py) build on:
torch's dim rules (`reduction_axes`, `wrap_dim`), the named results, the selection Functions
whose gradient goes to the selected elements (`EvenSplit`, `TakeAlong`).
"""
from __future__ import annotations

import builtins
import collections
import functools
import math
import numbers

import numpy as np

from .. import backend, dtypes
from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor, expect_tensors
from .promotion import as_operand, operands


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


def wrap_dim(op: str, dim, ndim: int) -> int:
    """One dim as a non-negative axis (0 for a 0-d tensor, which accepts 0 and -1)."""
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"{op}: expected dim to be an int, got {type(dim).__name__}")
    rank = builtins.max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(f"{op}: dim {dim} out of range for a tensor of {ndim} dims "
                         f"(Dimension out of range: expected to be in range of "
                         f"[{-rank}, {rank - 1}], but got {dim})")
    return int(dim) % rank if ndim else 0


def reduction_axes(op: str, dim, ndim: int) -> tuple:
    """torch's reduction dims as a sorted tuple of axes: None, () and [] mean every dim; a
    dim given twice is an error (RuntimeError, as torch)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        if not dim:
            return tuple(range(ndim))
        axes = [wrap_dim(op, d, ndim) for d in dim]
    elif isinstance(dim, numbers.Integral) and not isinstance(dim, bool):
        axes = [wrap_dim(op, dim, ndim)]
    else:
        raise TypeError(f"{op}: expected dim to be an int or a tuple of ints, got "
                        f"{type(dim).__name__}")
    for axis in axes:
        if axes.count(axis) > 1:
            raise ShapeError(f"{op}(): dim {axis} appears multiple times in the list of dims")
    return tuple(sorted(axes)) if ndim else ()


def reduced_count(shape: tuple, axes: tuple) -> int:
    return int(math.prod([shape[axis] for axis in axes]))


@functools.lru_cache(maxsize=None)
def _result_class(op: str, fields: tuple):
    result = collections.namedtuple(op, fields)
    result.__module__ = "minitorch_pairs.return_types"  # (torch.return_types.<op>)
    return result


def named_result(op: str, *values, fields=("values", "indices")):
    """torch's named tuple result: `max(a, 0)` is (values, indices), also as `.values` and
    `.indices`."""
    return _result_class(op, tuple(fields))(*values)


def with_reduced_axes(grad, axes: tuple, keepdim: bool):
    """Reinsert the reduced axes (size 1) into a gradient, ready to broadcast over the
    input."""
    return grad if keepdim or not axes else np.expand_dims(grad, axes)


def without_reduced_axes(array, axes: tuple, keepdim: bool):
    """A result computed with keepdims, as keepdim asks."""
    return array if keepdim or not axes else np.squeeze(array, axis=axes)


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        # torch sums bools and every integer dtype into int64
        out = a.sum(axis=axes, keepdims=keepdim, dtype=np.int64 if a.dtype.kind in "biu" else None)
        return np.asarray(out) if isinstance(out, np.generic) else out

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(with_reduced_axes(grad, ctx.axes, ctx.keepdim), ctx.shape)


class EvenSplit(Function):
    """A value chosen from the input over `axes` by `select(a, axes)` (keeping the reduced
    axes: a largest, a smallest, a median element); the gradient is shared evenly by the
    elements equal to it, torch's rule for amax/amin and for max(), min(), median() without
    dim. With `nan_ties` a NaN result shares it among the NaNs (max(), min(), median());
    without, a NaN result gives NaN gradients (amax, amin), both as torch."""

    @staticmethod
    def forward(ctx, a, select, axes, keepdim, nan_ties):
        value = select(a, axes)
        ctx.save_for_backward(a, value)
        ctx.axes, ctx.keepdim, ctx.nan_ties = axes, keepdim, nan_ties
        return without_reduced_axes(value, axes, keepdim)

    @staticmethod
    def backward(ctx, grad):
        a, value = ctx.saved
        grad = with_reduced_axes(grad, ctx.axes, ctx.keepdim)
        winners = a == value
        if ctx.nan_ties:
            winners = winners | ((a != a) & (value != value))
        shares = winners.sum(axis=ctx.axes, keepdims=True).astype(grad.dtype)
        return winners * (grad / shares)


class TakeAlong(Function):
    """The elements at `index` (an int64 array, the input's shape except along `axis`); the
    gradient goes to those elements: max/min/median/kthvalue/mode along a dim (one index,
    size 1 along the axis), sort and topk (distinct indices along the axis)."""

    @staticmethod
    def forward(ctx, a, index, axis, keepdim):
        ctx.shape, ctx.index, ctx.axis, ctx.keepdim = a.shape, index, axis, keepdim
        out = np.take_along_axis(a, index, axis=axis)
        return out if keepdim else np.squeeze(out, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.keepdim:
            grad = np.expand_dims(grad, ctx.axis)
        full = backend.zeros(ctx.shape, grad.dtype, like=grad)
        np.put_along_axis(full, ctx.index, grad, axis=ctx.axis)
        return full


class Extremum2(Function):
    """Elementwise maximum (`largest`) or minimum of two tensors, NaN propagating; at a tie
    each operand gets half the gradient (torch's rule for max(a, b) / maximum)."""

    @staticmethod
    def forward(ctx, a, b, largest):
        ctx.save_for_backward(a, b)
        ctx.largest = largest
        return np.maximum(a, b) if largest else np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        shared = np.where(a == b, grad * 0.5, grad)
        a_loses, b_loses = (a < b, a > b) if ctx.largest else (a > b, a < b)
        return (np.where(a_loses, 0, shared) if ctx.needs_input_grad[0] else None,
                np.where(b_loses, 0, shared) if ctx.needs_input_grad[1] else None)


# ----- the extremes of raw arrays (a CUDA array has max and argmax only) ---------------

def _on_host(fn, array):
    """fn of a device array's host copy, moved back (integer min/argmin on the device)."""
    return backend.transfer(np.asarray(fn(backend.transfer(array, "cpu"))), "cuda")


def max_of(a, axes):
    return a.max(axis=axes, keepdims=True)


def min_of(a, axes):
    if isinstance(a, np.ndarray):
        return a.min(axis=axes, keepdims=True)
    if a.dtype.kind == "f":  # (-x is exact for floats; it would wrap an integer)
        return -((-a).max(axis=axes, keepdims=True))
    return _on_host(lambda host: host.min(axis=axes, keepdims=True), a)


def _extreme_index(a, axis, largest: bool):
    """The index of the first largest/smallest element along `axis` (NaN counts as
    extreme, as in torch), keeping the axis."""
    if largest:
        index = np.argmax(a, axis=axis)
    elif isinstance(a, np.ndarray):
        index = np.argmin(a, axis=axis)
    elif a.dtype.kind == "f":
        index = np.argmax(-a, axis=axis)
    else:
        index = _on_host(lambda host: np.argmin(host, axis=axis), a)
    return np.expand_dims(index, axis).astype(np.int64)


def check_reduced_dims(op: str, a: Tensor, axes, everything: bool = False) -> None:
    """torch: an extremum over the whole of an empty tensor asks for a dim (RuntimeError;
    IndexError for argmax/argmin); over a dim of size 0 it has no answer (IndexError)."""
    if everything:
        if a.numel() == 0:
            error = IndexError if op.startswith("arg") else ShapeError
            raise error(f"{op}(): expected reduction dim to be specified for input.numel() "
                        f"== 0 (got a tensor of shape {a.shape}); specify the dim")
        return
    for axis in axes:
        if a.ndim and a.shape[axis] == 0:
            raise IndexError(f"{op}(): expected reduction dim {axis} to have non-zero size "
                             f"(got shape {a.shape})")


# ----- sum, mean ----------------------------------------------------------------------

def with_dtype(a: Tensor, dtype) -> Tensor:
    """`a` cast to `dtype=` (differentiably), as torch casts the input before reducing."""
    if dtype is None:
        return a
    return as_operand(a, dtypes.as_dtype(dtype), a)


def sum(a: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    expect_tensors("sum", input=a)
    a = with_dtype(a, dtype)
    return Sum.apply(a, axes=reduction_axes("sum", dim, a.ndim), keepdim=keepdim)


def mean(a: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    expect_tensors("mean", input=a)
    if dtype is not None and dtypes.as_dtype(dtype).kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Optional dtype must be "
                           f"either a floating point or complex dtype. Got: {dtype}")
    a = with_dtype(a, dtype)
    if a.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype: expected a floating-point "
                           f"input (as torch), got dtype {a.dtype}; call .float() first")
    axes = reduction_axes("mean", dim, a.ndim)
    count = reduced_count(a.shape, axes)
    # torch: the mean of no elements is NaN; the empty sum (0) times NaN gives it unwarned
    scale = 1.0 / count if count else math.nan
    return Sum.apply(a, axes=axes, keepdim=keepdim) * scale


# ----- max, min, amax, amin, aminmax, argmax, argmin ------------------------------------

def max(a: Tensor, dim=None, keepdim: bool = False):
    """max(a): the largest element; max(a, dim, keepdim=False): the named result (values,
    indices), indices of the first largest; max(a, other): the elementwise maximum."""
    return _extremum("max", a, dim, keepdim, largest=True)


def min(a: Tensor, dim=None, keepdim: bool = False):
    """min(a), min(a, dim, keepdim=False) -> (values, indices), min(a, other): as max."""
    return _extremum("min", a, dim, keepdim, largest=False)


def _extremum(op: str, a: Tensor, dim, keepdim: bool, largest: bool):
    expect_tensors(op, input=a)
    if isinstance(dim, Tensor):
        return _elementwise_extremum(op, a, dim, largest)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}(): keepdim=True needs a dim (as torch); pass dim=")
        check_reduced_dims(op, a, None, everything=True)
        return EvenSplit.apply(a, select=max_of if largest else min_of,
                               axes=tuple(range(a.ndim)), keepdim=False, nan_ties=True)
    axis = wrap_dim(op, dim, a.ndim)
    if a.ndim == 0:
        return named_result(op, a.clone(), _zero_index(a))
    check_reduced_dims(op, a, (axis,))
    index = _extreme_index(a._data, axis, largest)
    values = TakeAlong.apply(a, index=index, axis=axis, keepdim=keepdim)
    return named_result(op, values, _index_tensor(index, axis, keepdim, a.device))


def _elementwise_extremum(op: str, a: Tensor, other: Tensor, largest: bool) -> Tensor:
    a, other = operands(op, a, other)
    return Extremum2.apply(a, other, largest=largest)


def _zero_index(a: Tensor) -> Tensor:
    return Tensor._from_array(backend.zeros((), np.int64, like=a._data), a.device)


def _index_tensor(index, axis: int, keepdim: bool, device) -> Tensor:
    return Tensor._from_array(index if keepdim else np.squeeze(index, axis=axis), device)


def amax(a: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """The largest elements over `dim` (an int or a tuple; () means all); ties share the
    gradient evenly."""
    return _amax_amin("amax", a, dim, keepdim, largest=True)


def amin(a: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    return _amax_amin("amin", a, dim, keepdim, largest=False)


def _amax_amin(op: str, a: Tensor, dim, keepdim: bool, largest: bool) -> Tensor:
    expect_tensors(op, input=a)
    axes = reduction_axes(op, dim, a.ndim)
    everything = dim is None or (isinstance(dim, (tuple, list)) and not dim)
    check_reduced_dims(op, a, axes, everything=everything)
    return EvenSplit.apply(a, select=max_of if largest else min_of, axes=axes, keepdim=keepdim,
                           nan_ties=False)


def aminmax(a: Tensor, *, dim=None, keepdim: bool = False):
    """The named result (min, max) over everything or along one dim."""
    expect_tensors("aminmax", input=a)
    if dim is None:
        if a.numel() == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as "
                               "the operation has no identity.")
        axes = tuple(range(a.ndim))
    else:
        axes = (wrap_dim("aminmax", dim, a.ndim),) if a.ndim else ()
        check_reduced_dims("aminmax", a, axes)
    pair = [EvenSplit.apply(a, select=select, axes=axes, keepdim=keepdim, nan_ties=False)
            for select in (min_of, max_of)]
    return named_result("aminmax", *pair, fields=("min", "max"))


def argmax(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The index of the first largest element (into the flattened tensor without dim)."""
    return _arg_extremum("argmax", a, dim, keepdim, largest=True)


def argmin(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _arg_extremum("argmin", a, dim, keepdim, largest=False)


def _arg_extremum(op: str, a: Tensor, dim, keepdim: bool, largest: bool) -> Tensor:
    expect_tensors(op, input=a)
    if a.dtype.kind == "b":
        raise RuntimeError(f"{op}(): does not support bool input (as torch); call .int() "
                           "first")
    if dim is None:
        check_reduced_dims(op, a, None, everything=True)
        flat = a._data.reshape(-1)
        index = _extreme_index(flat, 0, largest).reshape(())
        if keepdim:  # torch: every dim kept, of size 1
            index = index.reshape((1,) * a.ndim)
        return Tensor._from_array(index, a.device)
    axis = wrap_dim(op, dim, a.ndim)
    if a.ndim == 0:
        return _zero_index(a)
    check_reduced_dims(op, a, (axis,))
    return _index_tensor(_extreme_index(a._data, axis, largest), axis, keepdim, a.device)


# ----- any, all -----------------------------------------------------------------------

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
