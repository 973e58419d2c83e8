"""Shape primitives: reshape, permute, indexing, cat, clone; and what is built from them
(flatten, transpose, unsqueeze, squeeze, stack)."""
from __future__ import annotations

import numbers
import math

import numpy as np

from .. import backend
from ..autograd import Function
from ..tensor import Tensor
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
        return np.asarray(out) if np.isscalar(out) else out

    @staticmethod
    def backward(ctx, grad):
        full = backend.zeros(ctx.shape, grad.dtype, like=grad)
        if _is_basic(ctx.index):
            full[ctx.index] = grad  # slices and integers: each element is picked at most once
        else:
            np.add.at(full, ctx.index, grad)  # repeated integer indices add up
        return full


def _is_basic(index) -> bool:
    """Integers and slices only (NumPy's basic indexing: a view, no repeats)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (slice, numbers.Integral)) for p in parts)


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
        raise ValueError(f"reshape: cannot view a tensor of shape {a.shape} "
                         f"({a.numel()} elements) as shape {tuple(shape)}")
    return Reshape.apply(a, shape=target)


def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if a.ndim == 0:
        return reshape(a, 1)
    start, end = (normalize_dims("flatten", d, a.ndim)[0] for d in (start_dim, end_dim))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return reshape(a, *a.shape[:start], int(math.prod(a.shape[start:end + 1])), *a.shape[end + 1:])


def permute(a: Tensor, *dims) -> Tensor:
    dims = _sizes(dims)
    axes = tuple(normalize_dims("permute", d, a.ndim)[0] for d in dims) if a.ndim else ()
    if sorted(axes) != list(range(a.ndim)):
        raise ValueError(f"permute: expected a permutation of the {a.ndim} dims, got {dims}")
    return Permute.apply(a, dims=axes)


def transpose(a: Tensor, dim0: int, dim1: int) -> Tensor:
    axes = [normalize_dims("transpose", d, a.ndim) for d in (dim0, dim1)]
    if a.ndim == 0:  # torch: a 0-d tensor transposes to itself
        return Permute.apply(a, dims=())
    d0, d1 = (axis[0] for axis in axes)
    dims = list(range(a.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(a, dims=tuple(dims))


def unsqueeze(a: Tensor, dim: int) -> Tensor:
    if not isinstance(dim, numbers.Integral) or not -a.ndim - 1 <= dim <= a.ndim:
        raise IndexError(f"unsqueeze: dim {dim!r} out of range for a tensor of {a.ndim} dims")
    dim = dim % (a.ndim + 1)
    return reshape(a, *a.shape[:dim], 1, *a.shape[dim:])


def squeeze(a: Tensor, dim=None) -> Tensor:
    axes = normalize_dims("squeeze", dim, a.ndim)
    return reshape(a, *(n for i, n in enumerate(a.shape) if not (i in axes and n == 1)))


def _check_index(a: Tensor, index) -> object:
    """Index arrays/tensors as int64 or bool NumPy arrays; anything else goes to NumPy."""
    items = index if isinstance(index, tuple) else (index,)
    converted = []
    for item in items:
        if isinstance(item, Tensor):
            item = item.data
        if isinstance(item, (list, np.ndarray)):
            item = np.asarray(item)
            if item.dtype.kind not in "iub" or (item.size == 0 and item.dtype.kind == "f"):
                raise IndexError(f"getitem: index arrays must be integer or boolean, "
                                 f"got dtype {item.dtype}")
        converted.append(item)
    return tuple(converted) if isinstance(index, tuple) else converted[0]


def getitem(a: Tensor, index) -> Tensor:
    index = _check_index(a, index)
    try:
        return GetItem.apply(a, index=index)
    except IndexError as error:
        raise IndexError(f"getitem: index {index!r} does not fit a tensor of shape "
                         f"{a.shape}: {error}") from None


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated (stack them)")
    axis = normalize_dims("cat", dim, first.ndim)[0]
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or t.shape[:axis] + t.shape[axis + 1:] != \
                first.shape[:axis] + first.shape[axis + 1:]:
            raise ValueError(f"cat: tensor {i} has shape {t.shape}, expected shape "
                             f"{first.shape} except in dim {axis}")
    return Cat.apply(*tensors, axis=axis)


def stack(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, expected {tensors[0].shape}")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def clone(a: Tensor) -> Tensor:
    return Clone.apply(a)
