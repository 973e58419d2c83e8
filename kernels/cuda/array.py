"""CudaArray: a NumPy-like array on the GPU, a strided view (shape, element strides, offset)
over a flat numba device buffer, for up to 4 dimensions.

Views (reshape of contiguous data, transpose, basic slicing, broadcast_to) cost nothing;
arithmetic, comparisons and the math functions go through NumPy's ufunc protocol
(`np.exp(a)`, `a + b`, `np.maximum(a, 0)`) to the kernels in elementwise.py, with NumPy's
broadcasting and type promotion; `sum` reduces over any axes. Data reaches the host only
through `.get()`: converting implicitly (np.asarray) is an error, so a hidden round trip
cannot creep into a training step. A ufunc not implemented here says so by name. NumPy's
array functions (np.where, np.concatenate, ...) live in array_functions.py.
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


def padded(values, fill) -> tuple:
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

    def device_view(self):
        """The numba device array behind this contiguous array, in its shape (no copy): what
        kernels take."""
        if not self.is_contiguous:
            raise ValueError(f"CUDA kernels take contiguous arrays, got strides {self.strides} "
                             f"for shape {self.shape}")
        return self.buffer[self.offset:self.offset + max(self.size, 1)].reshape(self.shape)

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
        copy_into(value.astype(self.dtype, copy=False).broadcast_to(view.shape), view)

    # --- computation ---------------------------------------------------------------------

    def astype(self, dtype, copy: bool = True) -> "CudaArray":
        if not copy and np.dtype(dtype) == self.dtype:
            return self
        out = CudaArray.empty(self.shape, dtype)
        elementwise.unary("copy", self.buffer, self.offset, padded(self.strides, 0),
                          out.buffer, padded(self.shape, 1))
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
        arrays = [x if isinstance(x, CudaArray) else scalar_array(x, inputs) for x in inputs]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        if name in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal"):
            dtype = np.dtype(np.bool_)
        else:
            dtype = np.result_type(*(x.dtype if isinstance(x, CudaArray) else x
                                     for x in inputs))
        result = CudaArray.empty(shape, dtype)
        views = [a.broadcast_to(shape) for a in arrays]
        arguments = [value for v in views
                     for value in (v.buffer, v.offset, padded(v.strides, 0))]
        if len(arrays) == 2:
            elementwise.binary(name, *arguments, result.buffer, padded(shape, 1))
        else:
            elementwise.unary(name, *arguments, result.buffer, padded(shape, 1))
        return result

    def __array_function__(self, func, types, args, kwargs):
        from .array_functions import ARRAY_FUNCTIONS  # NumPy's functions, on CudaArrays
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


def scalar_array(value, inputs) -> CudaArray:
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
        gemm(a.device_view(), b.device_view(), out.device_view())
        return out
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a3, b3 = (x.reshape((1,) + x.shape) if x.ndim == 2 else x for x in (a, b))
    out = CudaArray.empty(batch + (a.shape[-2], b.shape[-1]), dtype)
    for i in range(batch[0]):
        gemm(a3[i % a3.shape[0]].contiguous().device_view(),
             b3[i % b3.shape[0]].contiguous().device_view(), out[i].device_view())
    return out


def copy_into(source: CudaArray, target: CudaArray) -> None:
    """target[...] = source for a (possibly strided) target view, by a select kernel that
    always picks the source: the only strided write the elementwise kernels need."""
    if target.is_contiguous:
        elementwise.unary("copy", source.buffer, source.offset, padded(source.strides, 0),
                          target.buffer[target.offset:target.offset + target.size],
                          padded(target.shape, 1))
    else:
        elementwise.scatter_copy(source.buffer, source.offset, padded(source.strides, 0),
                                 target.buffer, target.offset, padded(target.strides, 0),
                                 padded(target.shape, 1))
