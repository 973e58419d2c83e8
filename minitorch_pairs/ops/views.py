"""The ops that return views under torch's rules: view / view_as / reshape_as with torch's
stride rule, contiguous, squeeze / unsqueeze, the dim moves (movedim, t, swapaxes,
unflatten) and the cuts (narrow, split, chunk, unbind). Each result shares storage and the
version counter with its input (shape_ops.view_of); which in-place changes of these views
autograd accepts is said in reshaping.py's docstring. Their array code runs on device arrays
too.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor
from . import shape_ops
from .reshaping import _as_int, _check_tensor, _distinct_dims, _int_tuple, _wrap_dim, as_sizes

__all__ = ["chunk", "moveaxis", "movedim", "narrow", "split", "squeeze", "swapaxes",
           "swapdims", "t", "unbind", "unflatten", "unsqueeze"]


# ----- torch's view, contiguous, squeeze, unsqueeze -----------------------------------------

def _infer_shape(op: str, shape: tuple, numel: int) -> tuple:
    """torch's infer_size: one -1 resolved; errors as torch words them."""
    shape = tuple(_as_int(op, "size", n) for n in shape)
    inferred = None
    for index, n in enumerate(shape):
        if n == -1:
            if inferred is not None:
                raise ShapeError(f"{op}: only one dimension can be inferred")
            inferred = index
        elif n < 0:
            raise ShapeError(f"{op}: invalid shape dimension {n} at index {index} of shape "
                             f"{list(shape)}")
    known = math.prod(n for n in shape if n != -1)
    if inferred is not None:
        if known == 0:
            raise ShapeError(f"{op}: cannot reshape tensor of 0 elements into shape "
                             f"{list(shape)} because the unspecified dimension size -1 can "
                             "be any value and is ambiguous")
        if numel % known == 0:
            shape = shape[:inferred] + (numel // known,) + shape[inferred + 1:]
    if math.prod(shape) != numel or -1 in shape:
        raise ShapeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _element_strides(array) -> tuple:
    if isinstance(array, (np.ndarray, np.generic)):
        return tuple(s // array.itemsize for s in array.strides)
    return tuple(array.strides)


def _view_strides(old_shape: tuple, old_strides: tuple, new_shape: tuple):
    """The strides of `new_shape` viewing memory laid out as (old_shape, old_strides), or None
    when no view can (torch's rule: each run of dims that memory steps through as one block
    must be re-cut into whole dims of the new shape)."""
    if not old_shape:
        return (1,) * len(new_shape)
    if math.prod(old_shape) == 0:
        if old_shape == new_shape:
            return old_strides
        strides, step = [], 1
        for n in reversed(new_shape):
            strides.append(step)
            step *= max(n, 1)
        return tuple(reversed(strides))
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    base_stride, tensor_numel, view_numel = old_strides[-1], 1, 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_strides[tensor_d - 1] != tensor_numel * base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                base_stride, tensor_numel, view_numel = old_strides[tensor_d - 1], 1, 1
    return tuple(new_strides) if view_d == -1 else None


class View(Function):
    """A reshape known to be a view (the strides come from _view_strides)."""

    @staticmethod
    def forward(ctx, a, shape, strides):
        ctx.shape = a.shape
        if isinstance(a, (np.ndarray, np.generic)):
            return np.asarray(a).reshape(shape)
        return type(a)(a.buffer, shape, strides, a.offset)  # the device array's own view

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


def _layout_as_torch(a: Tensor) -> bool:
    """Whether `a`'s strides are surely the ones torch's tensor would have: a view (or not)
    of C-contiguous memory. Some ops here lay out their results differently from torch's
    (NumPy keeps the input's order where torch makes a contiguous result, and the reverse)."""
    root = a._base if a._base is not None else a
    return backend.is_contiguous(root._data)


def view(a: Tensor, *shape) -> Tensor:
    """torch's Tensor.view: the same storage in `shape`, or torch's RuntimeError where the
    strides allow no view. Where this tensor's memory layout is its own (see
    _layout_as_torch) and allows no view, it is reshaped into a copy instead (torch may view
    it, or refuse)."""
    shape = as_sizes(shape)
    if len(shape) == 1 and isinstance(shape[0], (np.dtype, type, str)):
        raise NotImplementedError(f"view: view(dtype) is not supported by minitorch_pairs "
                                  f"(got {shape[0]!r}); use .to(dtype) for a converted copy")
    target = _infer_shape("view", shape, a.numel())
    strides = _view_strides(a.shape, _element_strides(a._data), target)
    if strides is None:
        if _layout_as_torch(a):
            raise RuntimeError("view size is not compatible with input tensor's size and "
                               "stride (at least one dimension spans across two contiguous "
                               "subspaces). Use .reshape(...) instead.")
        return shape_ops.reshape(a, target)
    return shape_ops.view_of(View.apply(a, shape=target, strides=strides), a)


def view_as(a: Tensor, other: Tensor) -> Tensor:
    _check_tensor("view_as", other, "other")
    return view(a, other.shape)


def reshape_as(a: Tensor, other: Tensor) -> Tensor:
    _check_tensor("reshape_as", other, "other")
    return shape_ops.reshape(a, other.shape)


def contiguous(a: Tensor) -> Tensor:
    """The tensor itself when its memory is in C order, else a C-order copy (differentiable)."""
    return a if backend.is_contiguous(a._data) else shape_ops.clone(a)


def squeeze(input: Tensor, dim=None) -> Tensor:
    """torch.squeeze: size-1 dims removed (all of them, or those of `dim`, an int or a
    sequence; a listed dim whose size is not 1 stays). A view."""
    _check_tensor("squeeze", input)
    if isinstance(dim, (tuple, list)):
        _distinct_dims("squeeze", dim, input.ndim)
    elif dim is not None:
        _wrap_dim("squeeze", dim, input.ndim)
    return shape_ops.squeeze(input, dim)


def unsqueeze(input: Tensor, dim) -> Tensor:
    _check_tensor("unsqueeze", input)
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"unsqueeze(): argument 'dim' must be int, not {type(dim).__name__}")
    if not -input.ndim - 1 <= dim <= input.ndim:
        raise IndexError(f"unsqueeze: Dimension out of range (expected to be in range of "
                         f"[{-input.ndim - 1}, {input.ndim}], but got {dim})")
    return shape_ops.unsqueeze(input, int(dim))


# ----- moving dims: views through permute ----------------------------------------------------

def movedim(input: Tensor, source, destination) -> Tensor:
    """torch.movedim: the dims `source` (an int or a sequence) moved to the positions
    `destination`, the other dims keeping their order. A view."""
    _check_tensor("movedim", input)
    if isinstance(source, (tuple, list)) != isinstance(destination, (tuple, list)):
        raise TypeError("movedim(): source and destination must both be ints or both be "
                        f"tuples of ints, got {type(source).__name__} and "
                        f"{type(destination).__name__}")
    if not isinstance(source, (tuple, list)):
        source, destination = (source,), (destination,)
    source, destination = (_int_tuple("movedim", name, values) for name, values in
                           (("source", source), ("destination", destination)))
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source "
                           f"({list(source)} dims) should contain the same number of dims as "
                           f"destination ({list(destination)} dims)")
    ndim = input.ndim
    src = [_wrap_dim("movedim", d, ndim) for d in source]
    dst = [_wrap_dim("movedim", d, ndim) for d in destination]
    for name, given, wrapped in (("source", source, src), ("destination", destination, dst)):
        if len(set(wrapped)) != len(wrapped):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(given)})")
    if ndim == 0:
        return shape_ops.permute(input)
    order = [-1] * ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(ndim) if d not in src)
    order = [next(rest) if o == -1 else o for o in order]
    return shape_ops.permute(input, *order)


moveaxis = movedim


def t(input: Tensor) -> Tensor:
    """torch.t: a 2-d tensor transposed; 0-d and 1-d tensors as they are (a view)."""
    _check_tensor("t", input)
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    return shape_ops.transpose(input, 0, input.ndim - 1 if input.ndim else 0)


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    _check_tensor("swapaxes", input)
    return shape_ops.transpose(input, _wrap_dim("swapaxes", axis0, input.ndim),
                               _wrap_dim("swapaxes", axis1, input.ndim))


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    _check_tensor("swapdims", input)
    return shape_ops.transpose(input, _wrap_dim("swapdims", dim0, input.ndim),
                               _wrap_dim("swapdims", dim1, input.ndim))


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """torch.unflatten: dim `dim` split into `sizes` (one may be -1). A view."""
    _check_tensor("unflatten", input)
    if input.ndim == 0:
        raise RuntimeError("unflatten: Dimension specified as 0 but tensor has no dimensions")
    axis = _wrap_dim("unflatten", dim, input.ndim)
    sizes = _int_tuple("unflatten", "sizes", sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    have = input.shape[axis]
    if -1 not in sizes and math.prod(sizes) != have:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({have}) in the input tensor")
    sizes = _infer_shape("unflatten", sizes, have)
    return view(input, input.shape[:axis] + sizes + input.shape[axis + 1:])


# ----- cutting into views: narrow, split, chunk, unbind -------------------------------------

def _slab(input: Tensor, axis: int, start: int, stop: int) -> Tensor:
    return shape_ops.getitem(input, (slice(None),) * axis + (slice(start, stop),))


def _pieces(views: list) -> tuple:
    """Views made together by one call (split, chunk, unbind): torch refuses an in-place
    change of one that autograd records, so they do not get the index that would allow it."""
    for piece in views:
        if getattr(piece, "_view_index", None) is not None:
            piece._view_index = None
    return tuple(views)


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """torch.narrow: `length` elements of dim `dim` from `start` (negative counts from the
    end; an int or a 0-d integer tensor). A view, changeable in place like a slice."""
    _check_tensor("narrow", input)
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if isinstance(start, Tensor) and (start.ndim != 0 or start.dtype.kind not in "iu"):
        raise RuntimeError("narrow: start must be an 0-dim integral Tensor.")
    start, length = _as_int("narrow", "start", start), _as_int("narrow", "length", length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    axis = _wrap_dim("narrow", dim, input.ndim)
    size = input.shape[axis]
    if not -size <= start <= size:
        raise IndexError(f"narrow: start out of range (expected to be in range of [{-size}, "
                         f"{size}], but got {start})")
    if start < 0:
        start += size
    if start > size - length:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                           f"size ({size}).")
    return _slab(input, axis, start, start + length)


def _split_sizes(op: str, size: int, split_size: int) -> list:
    if split_size < 0:
        raise RuntimeError(f"{op}: split expects split_size be non-negative, but got "
                           f"split_size={split_size}")
    if split_size == 0:
        if size != 0:
            raise RuntimeError(f"{op}: split_size can only be 0 if dimension size is 0, but "
                               f"got dimension size of {size}")
        return [0]
    count = max(-(-size // split_size), 1)
    return [split_size] * (count - 1) + [size - split_size * (count - 1)]


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """torch.split: pieces of `split_size` along `dim` (the last may be smaller), or of the
    listed sizes, which must add up to the dim's size. Views."""
    _check_tensor("split", tensor, "tensor")
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    axis = _wrap_dim("split", dim, tensor.ndim)
    size = tensor.shape[axis]
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = list(_int_tuple("split_with_sizes", "split_sizes", split_size_or_sections))
        if any(n < 0 for n in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sizes}")
        if sum(sizes) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                               f"(input tensor's size at dimension {axis}), but got "
                               f"split_sizes={sizes}")
    else:
        if isinstance(split_size_or_sections, Tensor) and split_size_or_sections.ndim:
            raise TypeError("split_with_sizes(): argument 'split_sizes' must be tuple of "
                            "ints, not Tensor")
        sizes = _split_sizes("split", size, _as_int("split", "split_size",
                                                    split_size_or_sections))
    bounds = np.cumsum([0] + sizes).tolist()
    return _pieces([_slab(tensor, axis, a, b) for a, b in zip(bounds, bounds[1:])])


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """torch.chunk: `chunks` pieces of ceil(size / chunks) along `dim` (the last smaller; fewer
    pieces where the size runs out). Views."""
    _check_tensor("chunk", input)
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    chunks = _as_int("chunk", "chunks", chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    axis = _wrap_dim("chunk", dim, input.ndim)
    size = input.shape[axis]
    if size == 0:  # torch keeps the number of chunks here: all empty
        return _pieces([_slab(input, axis, 0, 0) for _ in range(chunks)])
    return split(input, -(-size // chunks), axis)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """torch.unbind: the slices along `dim`, that dim removed. Views."""
    _check_tensor("unbind", input)
    axis = _wrap_dim("unbind", dim, input.ndim, scalar_ok=False)
    lead = (slice(None),) * axis
    return _pieces([shape_ops.getitem(input, lead + (i,)) for i in range(input.shape[axis])])
