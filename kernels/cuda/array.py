"""CudaArray: a NumPy-like array on the GPU, a strided view (shape, element strides, offset)
over a flat numba device buffer, for up to 4 dimensions.

Views (reshape of contiguous data, transpose, basic slicing, broadcast_to) cost nothing;
arithmetic, comparisons and the math functions go through NumPy's ufunc protocol
(`np.exp(a)`, `a + b`, `np.maximum(a, 0)`) to the kernels in elementwise.py, with NumPy's
broadcasting and type promotion; `sum` reduces over any axes. Data reaches the host only
through `.get()`: converting implicitly (np.asarray) is an error, so a hidden round trip
cannot creep into a training step. A ufunc not implemented here says so by name.
"""
from __future__ import annotations

import numbers

import numpy as np
from numba import cuda

from . import elementwise

MAX_DIMS = 4


def contiguous_strides(shape) -> tuple:
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return tuple(reversed(strides))


def _padded(values, fill) -> tuple:
    """Left-pad a shape or strides to MAX_DIMS entries (the kernels are 4-D)."""
    return (fill,) * (MAX_DIMS - len(values)) + tuple(values)


class CudaArray:
    __array_priority__ = 100  # ndarray (op) CudaArray defers to us

    def __init__(self, buffer, shape, strides=None, offset: int = 0):
        if len(shape) > MAX_DIMS:
            raise ValueError(f"CudaArray: at most {MAX_DIMS} dimensions, got shape {shape}")
        self.buffer = buffer
        self.shape = tuple(int(s) for s in shape)
        self.strides = contiguous_strides(self.shape) if strides is None else tuple(strides)
        self.offset = int(offset)

    # --- creation and transfer -----------------------------------------------------------

    @classmethod
    def empty(cls, shape, dtype) -> "CudaArray":
        shape = tuple(shape)
        return cls(cuda.device_array(max(1, int(np.prod(shape))), dtype=np.dtype(dtype)), shape)

    @classmethod
    def from_host(cls, array) -> "CudaArray":
        array = np.asarray(array)
        if not array.flags.c_contiguous:  # (ascontiguousarray would make a 0-d array 1-d)
            array = array.copy()
        return cls(cuda.to_device(array.reshape(-1) if array.size else
                                  np.zeros(1, array.dtype)), array.shape)

    def get(self) -> np.ndarray:
        """A host copy (the only way data leaves the device)."""
        flat = self.contiguous()
        host = flat.buffer[flat.offset:flat.offset + self.size].copy_to_host()
        return host.reshape(self.shape)

    def __array__(self, dtype=None, copy=None):
        raise TypeError("a CUDA array does not turn into a NumPy array implicitly; call "
                        ".get() (or Tensor.numpy()/.to('cpu')) to copy it to the host")

    # --- attributes ----------------------------------------------------------------------

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.buffer.dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def is_contiguous(self) -> bool:
        return self.strides == contiguous_strides(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"CudaArray(shape={self.shape}, dtype={self.dtype})"

    # --- views ---------------------------------------------------------------------------

    def contiguous(self) -> "CudaArray":
        return self if self.is_contiguous else self.astype(self.dtype)

    def reshape(self, *shape) -> "CudaArray":
        shape = tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], int) else shape
        if -1 in shape:
            known = int(np.prod([s for s in shape if s != -1]))
            shape = tuple(self.size // max(known, 1) if s == -1 else s for s in shape)
        if int(np.prod(shape)) != self.size:
            raise ValueError(f"reshape: cannot view {self.shape} as {shape}")
        source = self.contiguous()
        return CudaArray(source.buffer, shape, offset=source.offset)

    def transpose(self, *axes) -> "CudaArray":
        axes = tuple(axes[0]) if len(axes) == 1 and not isinstance(axes[0], int) else axes
        axes = axes or tuple(reversed(range(self.ndim)))
        return CudaArray(self.buffer, [self.shape[a] for a in axes],
                         [self.strides[a] for a in axes], self.offset)

    @property
    def T(self) -> "CudaArray":
        return self.transpose()

    def broadcast_to(self, shape) -> "CudaArray":
        shape = tuple(shape)
        np.broadcast_shapes(self.shape, shape)  # raises NumPy's error if impossible
        extra = len(shape) - self.ndim
        strides = [0] * extra + [0 if size == 1 and target != 1 else stride for size, stride,
                                 target in zip(self.shape, self.strides, shape[extra:])]
        return CudaArray(self.buffer, shape, strides, self.offset)

    def __getitem__(self, key) -> "CudaArray":
        """Basic indexing: integers and slices (steps > 0), fewer than ndim allowed."""
        key = key if isinstance(key, tuple) else (key,)
        if len(key) > self.ndim:
            raise IndexError(f"too many indices ({len(key)}) for an array of shape {self.shape}")
        shape, strides, offset = [], [], self.offset
        for axis, index in enumerate(key):
            size, stride = self.shape[axis], self.strides[axis]
            if isinstance(index, numbers.Integral):
                if not -size <= index < size:
                    raise IndexError(f"index {index} is out of bounds for axis {axis} with "
                                     f"size {size}")
                offset += (index % size) * stride
            elif isinstance(index, slice):
                start, stop, step = index.indices(size)
                if step < 1:
                    raise IndexError("CudaArray: only positive slice steps are supported")
                shape.append(len(range(start, stop, step)))
                strides.append(stride * step)
                offset += start * stride
            else:
                raise TypeError(f"CudaArray: unsupported index {index!r} (integers and "
                                "slices only)")
        shape += self.shape[len(key):]
        strides += self.strides[len(key):]
        return CudaArray(self.buffer, shape, strides, offset)

    def __setitem__(self, key, value) -> None:
        """self[key] = value for basic indices (a strided write into the view)."""
        view = self[key]
        value = value if isinstance(value, CudaArray) else \
            CudaArray.from_host(np.asarray(value, dtype=self.dtype))
        _copy_into(value.astype(self.dtype, copy=False).broadcast_to(view.shape), view)

    # --- computation ---------------------------------------------------------------------

    def astype(self, dtype, copy: bool = True) -> "CudaArray":
        if not copy and np.dtype(dtype) == self.dtype:
            return self
        out = CudaArray.empty(self.shape, dtype)
        elementwise.unary("copy", self.buffer, self.offset, _padded(self.strides, 0),
                          out.buffer, _padded(self.shape, 1))
        return out

    def copy(self) -> "CudaArray":
        return self.astype(self.dtype)

    def _rows(self, axis):
        """The data as a contiguous (kept, reduced) device matrix, reduced axes last; also
        the kept shape and the keepdims shape."""
        axes = tuple(range(self.ndim)) if axis is None else \
            tuple(a % self.ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
        kept = [a for a in range(self.ndim) if a not in axes]
        moved = self.transpose(*(kept + list(axes))).contiguous()
        count = int(np.prod([self.shape[a] for a in kept]))
        matrix = moved.buffer[moved.offset:moved.offset + max(self.size, 1)]
        keep_shape = [1 if a in axes else self.shape[a] for a in range(self.ndim)]
        return (matrix.reshape(count, self.size // max(count, 1)),
                [self.shape[a] for a in kept], keep_shape)

    def sum(self, axis=None, keepdims: bool = False, dtype=None) -> "CudaArray":
        rows, kept, keep_shape = self._rows(axis)
        if dtype is None:  # NumPy: booleans and small integers sum as int64
            dtype = np.int64 if self.dtype.kind in "biu" else self.dtype
        out = CudaArray.empty(kept, dtype)
        elementwise.row_sums(rows, out.buffer[:rows.shape[0]])
        return out.reshape(keep_shape) if keepdims else out

    def _max(self, axis):
        rows, kept, keep_shape = self._rows(axis)
        values, index = CudaArray.empty(kept, self.dtype), CudaArray.empty(kept, np.int64)
        elementwise.row_max(rows, values.buffer[:rows.shape[0]], index.buffer[:rows.shape[0]])
        return values, index, keep_shape

    def max(self, axis=None, keepdims: bool = False) -> "CudaArray":
        values, _, keep_shape = self._max(axis)
        return values.reshape(keep_shape) if keepdims else values

    def argmax(self, axis=None, keepdims: bool = False) -> "CudaArray":
        if axis is None and self.ndim > 1:  # NumPy: the index into the flattened array
            return self.reshape(-1).argmax()
        _, index, keep_shape = self._max(axis)
        return index.reshape(keep_shape) if keepdims else index

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        name = ufunc.__name__
        if name == "matmul" and method == "__call__" and out is None and not kwargs:
            return _matmul(*inputs)
        if method != "__call__" or out is not None or kwargs or \
                (name not in elementwise.BINARY and name not in elementwise.UNARY):
            raise TypeError(f"np.{name} ({method}, out={out is not None}, {sorted(kwargs)}) "
                            "is not implemented for CUDA arrays")
        arrays = [x if isinstance(x, CudaArray) else _scalar(x, inputs) for x in inputs]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        if name in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal"):
            dtype = np.dtype(np.bool_)
        else:
            dtype = np.result_type(*(x.dtype if isinstance(x, CudaArray) else x
                                     for x in inputs))
        result = CudaArray.empty(shape, dtype)
        views = [a.broadcast_to(shape) for a in arrays]
        arguments = [value for v in views
                     for value in (v.buffer, v.offset, _padded(v.strides, 0))]
        if len(arrays) == 2:
            elementwise.binary(name, *arguments, result.buffer, _padded(shape, 1))
        else:
            elementwise.unary(name, *arguments, result.buffer, _padded(shape, 1))
        return result

    def __array_function__(self, func, types, args, kwargs):
        implementation = ARRAY_FUNCTIONS.get(func.__name__)
        if implementation is None:
            raise TypeError(f"np.{func.__name__} is not implemented for CUDA arrays")
        return implementation(*args, **kwargs)

    # Python operators, through the ufuncs above
    def __matmul__(self, other): return np.matmul(self, other)
    def __add__(self, other): return np.add(self, other)
    def __radd__(self, other): return np.add(other, self)
    def __sub__(self, other): return np.subtract(self, other)
    def __rsub__(self, other): return np.subtract(other, self)
    def __mul__(self, other): return np.multiply(self, other)
    def __rmul__(self, other): return np.multiply(other, self)
    def __truediv__(self, other): return np.divide(self, other)
    def __rtruediv__(self, other): return np.divide(other, self)
    def __pow__(self, other): return np.power(self, other)
    def __neg__(self): return np.negative(self)
    def __eq__(self, other): return np.equal(self, other)
    def __ne__(self, other): return np.not_equal(self, other)
    def __lt__(self, other): return np.less(self, other)
    def __le__(self, other): return np.less_equal(self, other)
    def __gt__(self, other): return np.greater(self, other)
    def __ge__(self, other): return np.greater_equal(self, other)
    __hash__ = None


def _scalar(value, inputs) -> CudaArray:
    """A Python/NumPy scalar as a 0-d device array of the dtype NumPy would promote it to
    (float32 stays float32 beside a Python float)."""
    if not isinstance(value, (numbers.Number, np.generic)):
        raise TypeError(f"CUDA arrays combine with CUDA arrays and scalars, got "
                        f"{type(value).__name__}")
    dtype = np.result_type(*(x.dtype if isinstance(x, CudaArray) else x for x in inputs))
    return CudaArray.from_host(np.asarray(value, dtype=dtype))


def _matmul(a, b) -> CudaArray:
    """2-D @ 2-D, or a batch of them (3-D, broadcast over the batch), on the GEMM kernel."""
    from .gemm import matmul as gemm
    if a.ndim < 2 or b.ndim < 2 or a.ndim > 3 or b.ndim > 3:
        raise TypeError(f"matmul on CUDA arrays: 2-D or 3-D operands only, got {a.shape} and "
                        f"{b.shape}")
    dtype = np.result_type(a.dtype, b.dtype)
    a, b = a.astype(dtype), b.astype(dtype)  # contiguous copies the kernel can index
    if a.ndim == b.ndim == 2:
        out = CudaArray.empty((a.shape[0], b.shape[1]), dtype)
        gemm(_matrix(a), _matrix(b), _matrix(out))
        return out
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a3, b3 = (x.reshape((1,) + x.shape) if x.ndim == 2 else x for x in (a, b))
    out = CudaArray.empty(batch + (a.shape[-2], b.shape[-1]), dtype)
    for i in range(batch[0]):
        gemm(_matrix(a3[i % a3.shape[0]].contiguous()), _matrix(b3[i % b3.shape[0]].contiguous()),
             _matrix(out[i]))
    return out


def _matrix(array: CudaArray):
    """The numba 2-D device array behind a contiguous 2-D CudaArray (a view, no copy)."""
    return array.buffer[array.offset:array.offset + array.size].reshape(array.shape)


def _like(shape, dtype, fill, options: dict) -> CudaArray:
    """A new device array; `options` are NumPy's pass-through creation options."""
    if options.get("order", "C") not in ("C", "K", "A") or \
            options.get("device") not in (None, "cpu"):
        raise TypeError(f"CUDA arrays: unsupported creation options {options}")
    out = CudaArray.empty(shape if isinstance(shape, tuple) else (shape,)
                          if isinstance(shape, numbers.Integral) else tuple(shape), dtype)
    if fill is not None:
        out.buffer[:] = np.asarray(fill, dtype=out.dtype)  # a device-side fill
    return out


def _where(condition, x, y) -> CudaArray:
    """np.where(condition, x, y): elementwise choice, with broadcasting and promotion."""
    inputs = (x, y)
    x, y = (v if isinstance(v, CudaArray) else _scalar(v, inputs) for v in inputs)
    condition = condition if isinstance(condition, CudaArray) else \
        CudaArray.from_host(np.asarray(condition, dtype=np.bool_))
    shape = np.broadcast_shapes(condition.shape, x.shape, y.shape)
    out = CudaArray.empty(shape, np.result_type(x.dtype, y.dtype))
    views = [v.broadcast_to(shape) for v in (condition, x, y)]
    elementwise.select(*[value for v in views for value in (v.buffer, v.offset,
                                                           _padded(v.strides, 0))],
                       out.buffer, _padded(shape, 1))
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
        _copy_into(a, out[index])
        start += a.shape[axis]
    return out


def _copy_into(source: CudaArray, target: CudaArray) -> None:
    """target[...] = source for a (possibly strided) target view, by a select kernel that
    always picks the source: the only strided write the elementwise kernels need."""
    if target.is_contiguous:
        elementwise.unary("copy", source.buffer, source.offset, _padded(source.strides, 0),
                          target.buffer[target.offset:target.offset + target.size],
                          _padded(target.shape, 1))
    else:
        elementwise.scatter_copy(source.buffer, source.offset, _padded(source.strides, 0),
                                 target.buffer, target.offset, _padded(target.strides, 0),
                                 _padded(target.shape, 1))


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
    return _matrix(moved.reshape(-1, array.shape[axis])), moved.shape[:-1]


def _take_along_axis(array, index, axis) -> CudaArray:
    """Only the max/argmax case: `index` has size 1 along `axis`."""
    if index.shape[axis] != 1:
        raise TypeError("take_along_axis on CUDA arrays: only an index of size 1 along axis")
    rows, rest = _along_axis_rows(array, axis)
    out = CudaArray.empty(rest, array.dtype)
    flat_index = index.reshape(-1).astype(np.int64)
    elementwise.pick(rows, _matrix(flat_index), out.buffer[:rows.shape[0]])
    return _expand_dims(out, axis % array.ndim)


def _put_along_axis(array, index, values, axis) -> None:
    """Only the max backward's case: `array` is all zeros, `index` has size 1 along axis,
    and array is contiguous with `axis` last or handled through a moved copy."""
    if index.shape[axis] != 1 or not array.is_contiguous:
        raise TypeError("put_along_axis on CUDA arrays: only a contiguous array and an index "
                        "of size 1 along axis")
    rows, rest = _along_axis_rows(array, axis)
    values = values.broadcast_to(index.shape).contiguous().reshape(-1)
    elementwise.place(_matrix(values), _matrix(index.reshape(-1).astype(np.int64)), rows)
    moved_back = _moveaxis(CudaArray(rows.reshape(-1), rest + (array.shape[axis],)),
                           -1, axis)
    _copy_into(moved_back, array)


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
