"""Shape primitives: reshape, permute, indexing, cat, clone; and what is built from them
(flatten, transpose, unsqueeze, squeeze, stack)."""
from __future__ import annotations

import numbers
import math

import numpy as np

from .. import backend, dtypes
from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor
from .promotion import as_operand
from .reduction import normalize_dims


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Permute(Function):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.inverse = tuple(np.argsort(dims))
        return np.transpose(a, dims)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, ctx.inverse)


class GetItem(Function):
    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.index = a.shape, index
        out = a[index]
        if isinstance(out, np.generic):  # one element: a 0-d view of it, as torch's x[i]
            out = a[(index if type(index) is tuple else (index,)) + (Ellipsis,)]
        return out

    @staticmethod
    def backward(ctx, grad):
        full = backend.zeros(ctx.shape, grad.dtype, like=grad)
        if _is_basic(ctx.index):
            full[ctx.index] = grad  # slices and integers: each element is picked at most once
        else:
            np.add.at(full, ctx.index, grad)  # repeated integer indices add up
        return full


def _is_basic(index) -> bool:
    """No arrays (NumPy's basic indexing: a view, each element picked at most once)."""
    parts = index if isinstance(index, tuple) else (index,)
    return not any(_is_array(p) for p in parts)


class Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        ctx.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.split(grad, ctx.bounds, axis=ctx.axis))


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def view_of(out: Tensor, base: Tensor) -> Tensor:
    """Mark `out` a view of `base` when it shares its storage: it shares the version counter,
    so autograd sees an in-place change made through either (torch's rule)."""
    if out._data is not base._data and backend.shares_storage(out._data, base._data):
        out._base = base._base if base._base is not None else base
        out._version_counter = base._version_counter
    return out


def _sizes(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return shape


def _target_shape(shape: tuple, size: int) -> tuple | None:
    """`shape` with its one -1 resolved for `size` elements, or None if it cannot hold them."""
    if not all(isinstance(n, numbers.Integral) and n >= -1 for n in shape):
        return None
    if list(shape).count(-1) > 1:
        return None
    known = int(math.prod([n for n in shape if n != -1]))
    if -1 in shape:
        if known == 0 or size % known:
            return None
        shape = tuple(size // known if n == -1 else n for n in shape)
    shape = tuple(int(n) for n in shape)
    return shape if int(math.prod(shape)) == size else None


def reshape(a: Tensor, *shape) -> Tensor:
    shape = _sizes(shape)
    target = _target_shape(tuple(shape), a.numel())
    if target is None:
        raise ShapeError(f"reshape: cannot view a tensor of shape {a.shape} "
                         f"({a.numel()} elements) as shape {tuple(shape)}")
    return view_of(Reshape.apply(a, shape=target), a)


def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if a.ndim == 0:
        return reshape(a, 1)
    start, end = (normalize_dims("flatten", d, a.ndim)[0] for d in (start_dim, end_dim))
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return reshape(a, *a.shape[:start], int(math.prod(a.shape[start:end + 1])), *a.shape[end + 1:])


def permute(a: Tensor, *dims) -> Tensor:
    dims = _sizes(dims)
    axes = tuple(normalize_dims("permute", d, a.ndim)[0] for d in dims) if a.ndim else ()
    if sorted(axes) != list(range(a.ndim)):
        raise ShapeError(f"permute: expected a permutation of the {a.ndim} dims, got {dims}")
    return view_of(Permute.apply(a, dims=axes), a)


def transpose(a: Tensor, dim0: int, dim1: int) -> Tensor:
    axes = [normalize_dims("transpose", d, a.ndim) for d in (dim0, dim1)]
    if a.ndim == 0:  # torch: a 0-d tensor transposes to itself
        return view_of(Permute.apply(a, dims=()), a)
    d0, d1 = (axis[0] for axis in axes)
    dims = list(range(a.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return view_of(Permute.apply(a, dims=tuple(dims)), a)


def unsqueeze(a: Tensor, dim: int) -> Tensor:
    if not isinstance(dim, numbers.Integral) or not -a.ndim - 1 <= dim <= a.ndim:
        raise IndexError(f"unsqueeze: dim {dim!r} out of range for a tensor of {a.ndim} dims")
    dim = dim % (a.ndim + 1)
    return reshape(a, *a.shape[:dim], 1, *a.shape[dim:])


def squeeze(a: Tensor, dim=None) -> Tensor:
    axes = normalize_dims("squeeze", dim, a.ndim)
    return reshape(a, *(n for i, n in enumerate(a.shape) if not (i in axes and n == 1)))


_BASIC = (numbers.Integral, slice, type(None), type(Ellipsis))
_PLAIN = frozenset((int, slice, type(None), type(Ellipsis)))  # exact types: no bool, no arrays


def _is_array(part) -> bool:
    """An index array (NumPy's or the device's), not an integer, slice, None or Ellipsis."""
    return not isinstance(part, _BASIC) and hasattr(part, "dtype") and hasattr(part, "ndim")


def _index_parts(index) -> list:
    """The parts of an index, tensors and lists as NumPy arrays (integer or bool), a 0-d
    integer tensor as a Python int (torch indexes with it as with an int)."""
    parts = []
    for item in index if isinstance(index, tuple) else (index,):
        if isinstance(item, Tensor):
            if item.ndim == 0 and item.dtype.kind in "iu":
                item = int(item.item())
            else:
                item = item._data  # a device index stays on the device: no copy, no wait
        if isinstance(item, list):
            item = np.asarray(item) if item else np.zeros(0, np.int64)
        if _is_array(item) and item.dtype.kind not in "iub":
            raise IndexError(f"getitem: tensors used as indices must be long, int, byte or "
                             f"bool tensors, got dtype {item.dtype}")
        if isinstance(item, slice) and item.step is not None and item.step <= 0:
            raise ValueError(f"getitem: step must be greater than zero (torch has no negative "
                             f"steps; use flip), got {item}")
        if not isinstance(item, _BASIC) and not _is_array(item):
            raise IndexError(f"getitem: only integers, slices, None, Ellipsis and integer or "
                             f"bool tensors are valid indices, got {type(item).__name__}")
        parts.append(item)
    return parts


def split_index(index) -> tuple:
    """torch's indexing as two NumPy steps: `basic` (ints, slices, None, Ellipsis, with each
    array replaced by full slices) selects a view, then `advanced` (the arrays at the dims
    they now sit at) gathers. Integers are applied first, as torch does: in
    `x[0, :, [1, 2]]` only the list is advanced, so its dim stays in place ((3, 2) for x of
    shape (2, 3, 4); NumPy, taking the 0 as advanced too, gives (2, 3)). `advanced` is None
    when the index has no arrays."""
    parts = index if type(index) is tuple else (index,)
    if all(type(p) in _PLAIN and (type(p) is not slice or p.step is None or p.step > 0)
           for p in parts):  # the common x[:, 0] and x[i]: NumPy's basic indexing is torch's
        return parts, None
    parts = _index_parts(index)
    if not any(_is_array(p) for p in parts):
        return tuple(parts), None
    basic, advanced = [], []
    for part in parts:
        if _is_array(part):
            width = part.ndim if part.dtype.kind == "b" else 1
            basic.extend([slice(None)] * width)
            advanced.append(part)
        elif isinstance(part, numbers.Integral) and not isinstance(part, (bool, np.bool_)):
            basic.append(part)  # the dim is gone: nothing of it in the second step
        else:
            basic.append(part)
            advanced.append(Ellipsis if part is Ellipsis else slice(None))
    return tuple(basic), tuple(advanced)


def getitem(a: Tensor, index) -> Tensor:
    basic, advanced = split_index(index)
    try:
        out = view_of(GetItem.apply(a, index=basic), a) if basic else a
        if advanced is None and out._base is a:
            out._view_index = basic  # lets an in-place change of the view reach the base
        return out if advanced is None else GetItem.apply(out, index=advanced)
    except IndexError as error:
        raise IndexError(f"getitem: index {index!r} does not fit a tensor of shape "
                         f"{a.shape}: {error}") from None


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("cat: expected a non-empty sequence of tensors")
    first = tensors[0]
    if first.ndim == 0:
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated (stack them)")
    axis = normalize_dims("cat", dim, first.ndim)[0]
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or t.shape[:axis] + t.shape[axis + 1:] != \
                first.shape[:axis] + first.shape[axis + 1:]:
            raise ShapeError(f"cat: tensor {i} has shape {t.shape}, expected shape "
                             f"{first.shape} except in dim {axis}")
    dtype = tensors[0].dtype
    if any(t.dtype != dtype for t in tensors):  # torch's result dtype of them all
        dtype = dtypes.result_type(*tensors)
        tensors = [as_operand(t, dtype, t) for t in tensors]
    return Cat.apply(*tensors, axis=axis)


def stack(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("stack: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ShapeError(f"stack: tensor {i} has shape {t.shape}, expected {tensors[0].shape}")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def clone(a: Tensor) -> Tensor:
    return Clone.apply(a)
