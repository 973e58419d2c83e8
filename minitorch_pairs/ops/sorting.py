"""Order statistics with torch's names, signatures and gradients: sort, argsort, topk,
kthvalue, median, mode (statistics.py exports them with the other statistics).

They need NumPy's sorts, which the CUDA array does not have: they refuse device tensors by
name (backend.require_cpu). Ties are broken as a stable sort breaks them; torch promises no
order among equal elements except for a stable sort. The gradients flow through the values
taken (reduction.py's TakeAlong, or EvenSplit for the median of all elements).
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..tensor import Tensor, expect_tensors
from .reduction import EvenSplit, TakeAlong, check_reduced_dims, named_result, wrap_dim

__all__ = ["sort", "argsort", "topk", "kthvalue", "median", "mode"]


def _stable_order(a, axis: int, descending: bool):
    """The indices that sort `a` along axis, equal elements in their original order, NaN
    counted as the largest value (as torch)."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    # ascending over the reversed axis, read backwards: descending, ties still in order
    backwards = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return (a.shape[axis] - 1) - np.flip(backwards, axis)


def _sorting_checks(op: str, a: Tensor, dim) -> int:
    expect_tensors(op, input=a)
    backend.require_cpu(op, a)
    return wrap_dim(op, dim, a.ndim)


def _taken(op: str, a: Tensor, index, axis: int, keepdim: bool = True):
    """The named (values, indices) at `index` (keeping the axis) along `axis`."""
    values = TakeAlong.apply(a, index=index, axis=axis, keepdim=keepdim)
    indices = Tensor._from_array(index if keepdim else np.squeeze(index, axis=axis), a.device)
    return named_result(op, values, indices)


def _of_a_scalar(op: str, a: Tensor):
    """A 0-d tensor's (values, indices): itself, at index 0."""
    return named_result(op, a.clone(), Tensor._from_array(np.zeros((), np.int64), a.device))


def sort(a: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """The named result (values, indices) of `a` sorted along dim. Always stable (torch's
    unstable sort may order ties either way); NaN sorts as the largest value."""
    axis = _sorting_checks("sort", a, dim)
    if a.ndim == 0:
        return _of_a_scalar("sort", a)
    return _taken("sort", a, _stable_order(a._data, axis, descending), axis)


def argsort(a: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    axis = _sorting_checks("argsort", a, dim)
    if a.ndim == 0:
        return Tensor._from_array(np.zeros((), np.int64), a.device)
    return Tensor._from_array(_stable_order(a._data, axis, descending), a.device)


def _check_k(op: str, k, size: int, low: int, message: str) -> None:
    if not isinstance(k, numbers.Integral) or isinstance(k, bool):
        raise TypeError(f"{op}(): argument 'k' must be int, not {type(k).__name__}")
    if not low <= k <= size:
        raise RuntimeError(f"{message} (k={k}, size {size})")


def topk(a: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The named result (values, indices) of the k largest (smallest with largest=False)
    along dim, in order (also with sorted=False, which leaves the order to the
    implementation). Among equal values the first ones come first."""
    axis = _sorting_checks("topk", a, dim)
    if a.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU (as torch)")
    _check_k("topk", k, a.shape[axis] if a.ndim else 1, 0, "selected index k out of range")
    if a.ndim == 0:  # (torch: also for k = 0)
        return _of_a_scalar("topk", a)
    order = _stable_order(a._data, axis, descending=largest)
    return _taken("topk", a, np.take(order, np.arange(k), axis=axis), axis)


def _ranked_checks(op: str, a: Tensor, dim) -> int:
    axis = _sorting_checks(op, a, dim)
    if a.dtype.kind == "b":
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for 'Bool' (as torch)")
    check_reduced_dims(op, a, (axis,))
    return axis


def kthvalue(a: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The named result (values, indices) of the k-th smallest element along dim."""
    axis = _ranked_checks("kthvalue", a, dim)
    _check_k("kthvalue", k, a.shape[axis] if a.ndim else 1, 1,
             f"kthvalue(): selected number k out of range for dimension {dim}")
    if a.ndim == 0:
        return _of_a_scalar("kthvalue", a)
    order = _stable_order(a._data, axis, descending=False)
    return _taken("kthvalue", a, np.take(order, [k - 1], axis=axis), axis, keepdim)


def median(a: Tensor, dim=None, keepdim: bool = False):
    """median(a): the lower median (NaN if any element is NaN), its gradient shared by the
    elements equal to it; median(a, dim): the named result (values, indices), indices as a
    stable sort ranks ties (torch's choice too), of the first NaN in a row that has one."""
    if dim is None:
        expect_tensors("median", input=a)
        backend.require_cpu("median", a)
        if a.dtype.kind == "b":
            raise NotImplementedError("\"median_cpu\" not implemented for 'Bool' (as torch)")
        if a.numel() == 0:
            if a.dtype.kind != "f":
                raise RuntimeError("median(): an empty integer tensor has no median (torch "
                                   "returns an undefined value here)")
            return Tensor._from_array(np.full((), np.nan, a.dtype), a.device)
        return EvenSplit.apply(a, select=_median_of, axes=tuple(range(a.ndim)), keepdim=False,
                               nan_ties=True)
    axis = _ranked_checks("median", a, dim)
    if a.ndim == 0:
        return _of_a_scalar("median", a)
    data, size = a._data, a.shape[axis]
    rank = np.full(data.shape[:axis] + (1,) + data.shape[axis + 1:], (size - 1) // 2)
    if data.dtype.kind == "f":  # a row with NaN: its first NaN, the first NaN ranked
        numbers_in_row = np.sum(~np.isnan(data), axis=axis, keepdims=True)
        rank = np.where(numbers_in_row < size, numbers_in_row, rank)
    index = np.take_along_axis(_stable_order(data, axis, False), rank, axis=axis)
    return _taken("median", a, index, axis, keepdim)


def _median_of(a, axes: tuple):
    """The lower median over `axes` (all of them), keeping them; NaN if any is NaN."""
    values = np.sort(a.reshape(-1))  # NaN sorts last
    middle = values[-1] if a.dtype.kind == "f" and np.isnan(values[-1]) else \
        values[(values.size - 1) // 2]
    return np.full((1,) * a.ndim, middle, a.dtype)


def mode(a: Tensor, dim: int = -1, keepdim: bool = False):
    """The named result (values, indices) of the most frequent value along dim (the smallest
    of equally frequent ones), at its last position. NaNs are never equal, as under `==`:
    each counts once, and ranks last (torch's answer for a row with NaN and no repeated value
    depends on where the NaN stands)."""
    axis = _sorting_checks("mode", a, dim)
    check_reduced_dims("mode", a, (axis,))
    if a.ndim == 0:
        return _of_a_scalar("mode", a)
    rows = np.moveaxis(a._data, axis, -1)
    order = np.argsort(rows, axis=-1, kind="stable")
    ranked = np.take_along_axis(rows, order, axis=-1)
    size = ranked.shape[-1]
    starts = np.ones(ranked.shape, bool)  # where a run of equal values begins
    starts[..., 1:] = ranked[..., 1:] != ranked[..., :-1]
    ends = np.ones(ranked.shape, bool)
    ends[..., :-1] = starts[..., 1:]
    place = np.arange(size)
    run_start = np.maximum.accumulate(np.where(starts, place, 0), axis=-1)
    run_end = np.flip(np.minimum.accumulate(np.flip(np.where(ends, place, size), -1), axis=-1),
                      -1)
    best = np.argmax(run_end - run_start, axis=-1)[..., None]  # the first longest run
    last = np.take_along_axis(run_end, best, axis=-1)
    index = np.moveaxis(np.take_along_axis(order, last, axis=-1), -1, axis)
    return _taken("mode", a, index, axis, keepdim)
