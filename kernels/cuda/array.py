"""CudaArray: a NumPy-like array on the GPU, a strided view (shape, element strides, offset)
over a flat numba device buffer. The kernels are 4-D: an operation whose operands cannot be
folded into 4 dimensions (size-1 dims dropped, mergeable neighbours merged) is refused.

Views (reshape of contiguous data, transpose, basic slicing, broadcast_to) cost nothing;
arithmetic, comparisons and the math functions go through NumPy's ufunc protocol
(`np.exp(a)`, `a + b`, `np.maximum(a, 0)`) to the kernels in elementwise.py, with NumPy's
broadcasting and type promotion; `sum` reduces over any axes. Data reaches the host only
through `.get()`: converting implicitly (np.asarray) is an error, so a hidden round trip
cannot creep into a training step. A ufunc not implemented here says so by name. NumPy's
array functions (np.where, np.concatenate, ...) live in array_functions.py.
"""
from __future__ import annotations

import functools
import numbers

import numpy as np
from numba import cuda

from . import elementwise, indexing

MAX_DIMS = 4  # what the elementwise kernels index; views may have more


def contiguous_strides(shape) -> tuple:
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return tuple(reversed(strides))


def padded(values, fill) -> tuple:
    """Left-pad a shape or strides to MAX_DIMS entries (the kernels are 4-D)."""
    return (fill,) * (MAX_DIMS - len(values)) + tuple(values)


def kernel_operands(shape, *views) -> tuple:
    """(4-D shape, [(buffer, offset, 4-D strides) per view]) for a kernel that walks `shape`
    in C order over views broadcast to it: size-1 dims are dropped and neighbouring dims
    merged where every view steps through them as one, so any rank that folds to 4 runs."""
    dims = []  # (size, [stride in each view])
    for axis, size in enumerate(shape):
        if size == 1:
            continue
        strides = [v.strides[axis] for v in views]
        if dims and all(outer == inner * size for outer, inner in zip(dims[-1][1], strides)):
            dims[-1] = (dims[-1][0] * size, strides)
        else:
            dims.append((size, strides))
    if len(dims) > MAX_DIMS:
        raise ValueError(f"CudaArray: the kernels walk at most {MAX_DIMS} dimensions; shape "
                         f"{tuple(shape)} with these strides does not fold into {MAX_DIMS}")
    shape4 = padded([size for size, _ in dims], 1)
    return shape4, [(v.buffer, v.offset, padded([s[k] for _, s in dims], 0))
                    for k, v in enumerate(views)]


class CudaArray:
    __array_priority__ = 100  # ndarray (op) CudaArray defers to us

    def __init__(self, buffer, shape, strides=None, offset: int = 0):
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
        shape = tuple(shape[0]) if len(shape) == 1 and \
            not isinstance(shape[0], numbers.Integral) else shape
        if -1 in shape:
            known = int(np.prod([s for s in shape if s != -1]))
            shape = tuple(self.size // max(known, 1) if s == -1 else s for s in shape)
        if int(np.prod(shape)) != self.size:
            raise ValueError(f"reshape: cannot view {self.shape} as {shape}")
        source = self.contiguous()
        return CudaArray(source.buffer, shape, offset=source.offset)

    def transpose(self, *axes) -> "CudaArray":
        axes = tuple(axes[0]) if len(axes) == 1 and \
            not isinstance(axes[0], numbers.Integral) else axes
        axes = tuple(int(a) % self.ndim for a in axes) or tuple(reversed(range(self.ndim)))
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
        """Basic indexing (integers, slices with steps > 0, None, ...) is a view; index
        arrays gather a copy (indexing.py)."""
        if indexing.is_advanced(key):
            return indexing.take(self, key)
        key = key if isinstance(key, tuple) else (key,)
        if Ellipsis in key:
            at = key.index(Ellipsis)
            rest = key[:at] + key[at + 1:]
            fill = self.ndim - sum(part is not None for part in rest)
            key = key[:at] + (slice(None),) * fill + key[at + 1:]
        if sum(part is not None for part in key) > self.ndim:
            raise IndexError(f"too many indices ({len(key)}) for an array of shape {self.shape}")
        shape, strides, offset, axis = [], [], self.offset, 0
        for index in key:
            if index is None:  # a new axis of size 1
                shape.append(1)
                strides.append(0)
                continue
            size, stride = self.shape[axis], self.strides[axis]
            axis += 1
            if isinstance(index, numbers.Integral):
                if not -size <= index < size:
                    raise IndexError(f"index {index} is out of bounds for axis {axis - 1} with "
                                     f"size {size}")
                offset += (index % size) * stride
            else:
                start, stop, step = index.indices(size)
                if step < 1:
                    raise IndexError("CudaArray: only positive slice steps are supported")
                shape.append(len(range(start, stop, step)))
                strides.append(stride * step)
                offset += start * stride
        shape += self.shape[axis:]
        strides += self.strides[axis:]
        return CudaArray(self.buffer, shape, strides, offset)

    def __setitem__(self, key, value) -> None:
        """self[key] = value: a strided write into a view, or a scatter for index arrays."""
        value = value if isinstance(value, CudaArray) else \
            CudaArray.from_host(np.asarray(value, dtype=self.dtype))
        if indexing.is_advanced(key):
            indexing.put(self, key, value)
            return
        view = self[key]
        copy_into(value.astype(self.dtype, copy=False).broadcast_to(view.shape), view)

    # --- computation ---------------------------------------------------------------------

    def astype(self, dtype, copy: bool = True) -> "CudaArray":
        if not copy and np.dtype(dtype) == self.dtype:
            return self
        out = CudaArray.empty(self.shape, dtype)
        shape4, operands = kernel_operands(self.shape, self)
        elementwise.unary("copy", *operands[0], out.buffer, shape4)
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
        if name == "add" and method == "at" and not kwargs:  # np.add.at(a, key, values)
            target, key, values = inputs
            values = values if isinstance(values, CudaArray) else \
                CudaArray.from_host(np.asarray(values, dtype=target.dtype))
            indexing.put(target, key, values, add=True)
            return None
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
        shape4, operands = kernel_operands(shape, *(a.broadcast_to(shape) for a in arrays))
        arguments = [value for operand in operands for value in operand]
        if len(arrays) == 2:
            elementwise.binary(name, *arguments, result.buffer, shape4)
        else:
            elementwise.unary(name, *arguments, result.buffer, shape4)
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
    def __and__(self, other): return np.bitwise_and(self, other)
    def __or__(self, other): return np.bitwise_or(self, other)
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
    return constant(value, dtype)


def constant(value, dtype) -> CudaArray:
    """`value` as a 0-d device array, uploaded once per (value, dtype) and then reused: an
    upload is a host-to-device copy, which waits for the kernels queued before it, so a
    fresh one for every `x * 2.0` would stall each training step. Never written to."""
    host = np.asarray(value, dtype=dtype)
    return _constant(host.tobytes(), host.dtype)  # the bytes tell -0.0 from 0.0, keep NaN


@functools.lru_cache(maxsize=4096)
def _constant(raw: bytes, dtype: np.dtype) -> CudaArray:
    return CudaArray.from_host(np.frombuffer(raw, dtype=dtype).reshape(()))


def _matmul(a, b) -> CudaArray:
    """2-D @ 2-D on the GEMM kernel, or a stack of them (NumPy's broadcasting over the
    leading dims; one launch per matrix)."""
    from .gemm import matmul as gemm
    if a.ndim < 2 or b.ndim < 2:
        raise TypeError(f"matmul on CUDA arrays: operands of 2 or more dims (the ops reshape "
                        f"vectors), got {a.shape} and {b.shape}")
    dtype = np.result_type(a.dtype, b.dtype)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    n, m = a.shape[-2], b.shape[-1]
    # contiguous (count, rows, cols) copies the kernel can index
    a3, b3 = (x.broadcast_to(batch + x.shape[-2:]).astype(dtype).reshape(
        (-1,) + x.shape[-2:]) for x in (a, b))
    out = CudaArray.empty(batch + (n, m), dtype)
    out3 = out.reshape((-1, n, m))
    for i in range(out3.shape[0]):
        gemm(a3[i].device_view(), b3[i].device_view(), out3[i].device_view())
    return out


def copy_into(source: CudaArray, target: CudaArray) -> None:
    """target[...] = source for a (possibly strided) target view, by a select kernel that
    always picks the source: the only strided write the elementwise kernels need."""
    if target.is_contiguous:
        shape4, operands = kernel_operands(target.shape, source)
        elementwise.unary("copy", *operands[0],
                          target.buffer[target.offset:target.offset + target.size], shape4)
    else:
        shape4, operands = kernel_operands(target.shape, source, target)
        elementwise.scatter_copy(*operands[0], *operands[1], shape4)
