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

    # --- computation ---------------------------------------------------------------------

    def astype(self, dtype) -> "CudaArray":
        out = CudaArray.empty(self.shape, dtype)
        elementwise.unary("copy", self.buffer, self.offset, _padded(self.strides, 0),
                          out.buffer, _padded(self.shape, 1))
        return out

    def copy(self) -> "CudaArray":
        return self.astype(self.dtype)

    def sum(self, axis=None, keepdims: bool = False, dtype=None) -> "CudaArray":
        axes = tuple(range(self.ndim)) if axis is None else \
            tuple(a % self.ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
        kept = [a for a in range(self.ndim) if a not in axes]
        moved = self.transpose(*(kept + list(axes))).contiguous()
        rows = int(np.prod([self.shape[a] for a in kept]))
        matrix = moved.buffer[moved.offset:moved.offset + max(self.size, 1)]
        out = CudaArray.empty([self.shape[a] for a in kept], dtype or self.dtype)
        elementwise.row_sums(matrix.reshape(rows, self.size // max(rows, 1)),
                             out.buffer[:max(rows, 1)])
        if keepdims:
            return out.reshape([1 if a in axes else self.shape[a] for a in range(self.ndim)])
        return out

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        name = ufunc.__name__
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

    # Python operators, through the ufuncs above
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
