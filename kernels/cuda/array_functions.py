"""NumPy's array functions on CudaArrays (what `np.where`, `np.concatenate`, `np.zeros(...,
like=)` and the others the ops call become on the device), dispatched from
CudaArray.__array_function__ by name."""
from __future__ import annotations

import numbers

import numpy as np

from . import elementwise
from .array import CudaArray, constant, copy_into, kernel_operands, scalar_array


def _like(shape, dtype, fill, options: dict) -> CudaArray:
    """A new device array; `options` are NumPy's pass-through creation options."""
    if options.get("order", "C") not in ("C", "K", "A") or \
            options.get("device") not in (None, "cpu"):
        raise TypeError(f"CUDA arrays: unsupported creation options {options}")
    out = CudaArray.empty(shape if isinstance(shape, tuple) else (shape,)
                          if isinstance(shape, numbers.Integral) else tuple(shape), dtype)
    if fill is not None:  # a kernel broadcasting a cached 0-d constant: no upload
        copy_into(constant(fill, out.dtype).broadcast_to(out.shape), out)
    return out


def _where(condition, x, y) -> CudaArray:
    """np.where(condition, x, y): elementwise choice, with broadcasting and promotion."""
    inputs = (x, y)
    x, y = (v if isinstance(v, CudaArray) else scalar_array(v, inputs) for v in inputs)
    condition = condition if isinstance(condition, CudaArray) else \
        CudaArray.from_host(np.asarray(condition, dtype=np.bool_))
    shape = np.broadcast_shapes(condition.shape, x.shape, y.shape)
    out = CudaArray.empty(shape, np.result_type(x.dtype, y.dtype))
    shape4, operands = kernel_operands(shape, *(v.broadcast_to(shape) for v in (condition, x, y)))
    elementwise.select(*[value for operand in operands for value in operand], out.buffer, shape4)
    return out


def _concatenate(arrays, axis=0) -> CudaArray:
    arrays = list(arrays)
    axis %= arrays[0].ndim
    shape = list(arrays[0].shape)
    shape[axis] = sum(a.shape[axis] for a in arrays)
    out = CudaArray.empty(shape, np.result_type(*(a.dtype for a in arrays)))
    start = 0
    for a in arrays:  # copy each into its slab of the output
        index = (slice(None),) * axis + (slice(start, start + a.shape[axis]),)
        copy_into(a, out[index])
        start += a.shape[axis]
    return out


def _split(array, indices, axis=0) -> list:
    axis %= array.ndim
    bounds = [0] + [int(i) for i in indices] + [array.shape[axis]]
    return [array[(slice(None),) * axis + (slice(a, b),)] for a, b in zip(bounds, bounds[1:])]


def _expand_dims(array, axis) -> CudaArray:
    axes = sorted(a % (array.ndim + len(axis if isinstance(axis, tuple) else (axis,)))
                  for a in (axis if isinstance(axis, tuple) else (axis,)))
    shape = list(array.shape)
    for a in axes:
        shape.insert(a, 1)
    return array.reshape(shape)


def _squeeze(array, axis=None) -> CudaArray:
    axes = tuple(range(array.ndim)) if axis is None else \
        tuple(a % array.ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
    for a in axes:
        if axis is not None and array.shape[a] != 1:
            raise ValueError(f"cannot squeeze axis {a} of size {array.shape[a]}")
    keep = [a for a in range(array.ndim) if not (a in axes and array.shape[a] == 1)]
    return CudaArray(array.buffer, [array.shape[a] for a in keep],
                     [array.strides[a] for a in keep], array.offset)


def _moveaxis(array, source, destination) -> CudaArray:
    order = [a for a in range(array.ndim) if a != source % array.ndim]
    order.insert(destination % array.ndim, source % array.ndim)
    return array.transpose(*order)


def _swapaxes(array, axis1, axis2) -> CudaArray:
    order = list(range(array.ndim))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return array.transpose(*order)


def _along_axis_rows(array, axis):
    """(rows, rest shape) for an array whose `axis` is moved last and made contiguous."""
    moved = _moveaxis(array, axis, -1).contiguous()
    return moved.reshape(-1, array.shape[axis]).device_view(), moved.shape[:-1]


def _take_along_axis(array, index, axis) -> CudaArray:
    """Only the max/argmax case: `index` has size 1 along `axis`."""
    if index.shape[axis] != 1:
        raise TypeError("take_along_axis on CUDA arrays: only an index of size 1 along axis")
    rows, rest = _along_axis_rows(array, axis)
    out = CudaArray.empty(rest, array.dtype)
    flat_index = index.reshape(-1).astype(np.int64)
    elementwise.pick(rows, flat_index.device_view(), out.buffer[:rows.shape[0]])
    return _expand_dims(out, axis % array.ndim)


def _put_along_axis(array, index, values, axis) -> None:
    """Only the max backward's case: `array` is all zeros, `index` has size 1 along axis,
    and array is contiguous with `axis` last or handled through a moved copy."""
    if index.shape[axis] != 1 or not array.is_contiguous:
        raise TypeError("put_along_axis on CUDA arrays: only a contiguous array and an index "
                        "of size 1 along axis")
    rows, rest = _along_axis_rows(array, axis)
    values = values.broadcast_to(index.shape).contiguous().reshape(-1)
    elementwise.place(values.device_view(), index.reshape(-1).astype(np.int64).device_view(),
                      rows)
    moved_back = _moveaxis(CudaArray(rows.reshape(-1), rest + (array.shape[axis],)),
                           -1, axis)
    copy_into(moved_back, array)


ARRAY_FUNCTIONS = {
    # creation: NumPy passes its options (like=, device=, order=) through; C order only
    "empty": lambda shape, dtype=float, **options: _like(shape, dtype, None, options),
    "zeros": lambda shape, dtype=float, **options: _like(shape, dtype, 0, options),
    "ones": lambda shape, dtype=float, **options: _like(shape, dtype, 1, options),
    "full": lambda shape, fill_value, dtype=None, **options: _like(
        shape, dtype or np.asarray(fill_value).dtype, fill_value, options),
    "empty_like": lambda a, dtype=None, shape=None, **options: _like(
        shape or a.shape, dtype or a.dtype, None, options),
    "zeros_like": lambda a, dtype=None, shape=None, **options: _like(
        shape or a.shape, dtype or a.dtype, 0, options),
    "ones_like": lambda a, dtype=None, shape=None, **options: _like(
        shape or a.shape, dtype or a.dtype, 1, options),
    # (NumPy dispatches ascontiguousarray only when called with like=)
    "ascontiguousarray": lambda a, dtype=None, like=None: a.contiguous()
    if dtype in (None, a.dtype) else a.astype(dtype),
    "where": _where,
    "concatenate": _concatenate,
    "stack": lambda arrays, axis=0: _concatenate([_expand_dims(a, axis) for a in arrays],
                                                 axis),
    "split": _split,
    "expand_dims": _expand_dims,
    "squeeze": _squeeze,
    "moveaxis": _moveaxis,
    "swapaxes": _swapaxes,
    "transpose": lambda a, axes=None: a.transpose(*(axes or ())),
    "reshape": lambda a, shape: a.reshape(shape),
    "broadcast_to": lambda a, shape: a.broadcast_to(shape),
    "sum": lambda a, axis=None, keepdims=False, dtype=None: a.sum(axis, keepdims, dtype),
    "max": lambda a, axis=None, keepdims=False: a.max(axis, keepdims),
    "amax": lambda a, axis=None, keepdims=False: a.max(axis, keepdims),
    "argmax": lambda a, axis=None, keepdims=False: a.argmax(axis, keepdims),
    "take_along_axis": _take_along_axis,
    "put_along_axis": _put_along_axis,
}
