"""Reshaping ops with torch's names, signatures and errors: flips and rolls,
expand / repeat / tile / repeat_interleave, dim moves (movedim, t, swapaxes), the views that
cut a tensor into pieces (narrow, chunk, split, unbind), triangles (tril, triu), stacking
(hstack, vstack, dstack, atleast_*d), and torch's view / contiguous / squeeze rules.

Every op's array code uses only what the device array implements too (basic slicing,
broadcast_to, reshape, concatenate, where, gathers with host index arrays and np.add.at), so
the ops run on CUDA tensors as well.

Views: where torch returns a view, so does this module, sharing storage and the version
counter (shape_ops.view_of). An in-place change of such a view without autograd reaches the
base, as in torch. With autograd recording the change, narrow's view (a basic index of its
base) is changed as torch changes it; the views made by expand, movedim, t, swapaxes, view,
view_as and unflatten are refused by ops/inplace.py with a RuntimeError, where torch accepts
them; the pieces of split, chunk and unbind are refused as torch refuses them (outputs of a
function that returns several views). Writing to an expanded tensor whose elements share
memory raises NumPy's ValueError (read-only), where torch raises a RuntimeError.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import autograd, backend
from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor
from . import shape_ops

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "chunk", "dstack", "flip", "fliplr",
           "flipud", "hstack", "moveaxis", "movedim", "narrow", "repeat_interleave", "roll",
           "split", "squeeze", "swapaxes", "swapdims", "t", "tile", "tril", "triu", "unbind",
           "unflatten", "unsqueeze", "vstack"]


# ----- argument checks ------------------------------------------------------------------

def _check_tensor(op: str, value, name: str = "input") -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}")


def _as_int(op: str, name: str, value) -> int:
    """A Python int from an int, a NumPy integer or a 0-d integer tensor (not a bool)."""
    if isinstance(value, (bool, np.bool_)) or not (
            isinstance(value, numbers.Integral) or
            (isinstance(value, Tensor) and value.ndim == 0 and value.dtype.kind in "iu")):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    return int(value)


def _int_tuple(op: str, name: str, values) -> tuple:
    """A tuple or list of ints as a tuple (torch's 'tuple of ints' arguments)."""
    if not isinstance(values, (tuple, list)):
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not "
                        f"{type(values).__name__}")
    for position, value in enumerate(values):
        if isinstance(value, (bool, np.bool_)) or not (
                isinstance(value, numbers.Integral) or isinstance(value, Tensor)):
            raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, but found "
                            f"element of type {type(value).__name__} at pos {position}")
    return tuple(_as_int(op, name, value) for value in values)


def as_sizes(values) -> tuple:
    """A method's sizes given as separate ints or as one sequence: x.expand(2, 3) or
    x.expand((2, 3))."""
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        return tuple(values[0])
    return tuple(values)


def _wrap_dim(op: str, dim, ndim: int, scalar_ok: bool = True) -> int:
    """`dim` as a non-negative axis, torch's way: a 0-d tensor takes dim 0 or -1 (unless
    `scalar_ok` is false, as for unbind and roll)."""
    dim = _as_int(op, "dim", dim)
    if ndim == 0 and not scalar_ok:
        raise IndexError(f"{op}: Dimension specified as {dim} but tensor has no dimensions")
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[{-rank}, {rank - 1}], but got {dim})")
    return dim % rank


def _distinct_dims(op: str, dims, ndim: int) -> tuple:
    axes = tuple(_wrap_dim(op, d, ndim) for d in dims)
    for axis in axes:
        if axes.count(axis) > 1:
            raise RuntimeError(f"{op}: dim {axis} appears multiple times in the list of dims")
    return axes if ndim else ()


def _fresh(out, given):
    """`out`, copied if it still shares memory with the input (an op that returns a new
    tensor in torch must not alias its input, even where nothing moved)."""
    return out.copy() if backend.shares_storage(out, given) else out


def _take(array, index: np.ndarray, axis: int):
    """array gathered along `axis` at the host positions `index` (a new array)."""
    if isinstance(array, np.ndarray):
        return np.take(array, index, axis=axis)
    return array[(slice(None),) * axis + (index,)]


def _no_gradient(shape: tuple, grad):
    """Zeros for an input whose output is empty (the device array cannot sum an empty
    array)."""
    return backend.zeros(shape, grad.dtype, like=grad)


# ----- differentiable primitives ----------------------------------------------------------

class Expand(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        if grad.size == 0:
            return _no_gradient(ctx.shape, grad)
        return autograd.unbroadcast(grad, ctx.shape)


class Repeat(Function):
    """torch's repeat (tile): the input, given leading 1s up to len(repeats) dims, repeated
    whole `repeats[d]` times along each dim d. One dim at a time, each as a 3-d broadcast
    (before, repeats, block), which the device kernels can walk."""

    @staticmethod
    def forward(ctx, a, repeats):
        ctx.shape, ctx.steps = a.shape, []
        out = a.reshape((1,) * (len(repeats) - a.ndim) + a.shape)
        for axis, count in enumerate(repeats):
            if count == 1:
                continue
            shape = out.shape
            before, block = math.prod(shape[:axis]), math.prod(shape[axis:])
            ctx.steps.append((shape, before, count, block))
            tiled = np.broadcast_to(out.reshape(before, 1, block), (before, count, block))
            out = backend.contiguous(tiled).reshape(
                shape[:axis] + (count * shape[axis],) + shape[axis + 1:])
        return _fresh(out, a)

    @staticmethod
    def backward(ctx, grad):
        if grad.size == 0:
            return _no_gradient(ctx.shape, grad)
        for shape, before, count, block in reversed(ctx.steps):
            grad = grad.reshape(before, count, block).sum(axis=1).reshape(shape)
        return grad.reshape(ctx.shape)


class RepeatEach(Function):
    """repeat_interleave by one count: each slice along `axis` repeated `count` times in a
    row, as a broadcast over a new dim after `axis`."""

    @staticmethod
    def forward(ctx, a, axis, count):
        ctx.shape, ctx.axis, ctx.count = a.shape, axis, count
        head, tail = a.shape[:axis + 1], a.shape[axis + 1:]
        spread = np.broadcast_to(a.reshape(head + (1,) + tail), head + (count,) + tail)
        out = backend.contiguous(spread).reshape(
            a.shape[:axis] + (a.shape[axis] * count,) + tail)
        return _fresh(out, a)

    @staticmethod
    def backward(ctx, grad):
        if grad.size == 0:
            return _no_gradient(ctx.shape, grad)
        head, tail = ctx.shape[:ctx.axis + 1], ctx.shape[ctx.axis + 1:]
        return grad.reshape(head + (ctx.count,) + tail).sum(axis=ctx.axis + 1)


class Gather(Function):
    """The input picked along each listed axis in turn at host positions (repeats allowed):
    the non-constant paddings and repeat_interleave by a tensor. The gradient adds up what
    each position was picked for."""

    @staticmethod
    def forward(ctx, a, picks):
        ctx.picks, ctx.shapes = picks, []
        out = a
        for axis, index in picks:
            ctx.shapes.append(out.shape)
            out = _take(out, index, axis)
        return _fresh(out, a)

    @staticmethod
    def backward(ctx, grad):
        if grad.size == 0:
            return _no_gradient(ctx.shapes[0] if ctx.shapes else grad.shape, grad)
        for (axis, index), shape in zip(reversed(ctx.picks), reversed(ctx.shapes)):
            full = backend.zeros(shape, grad.dtype, like=grad)
            np.add.at(full, (slice(None),) * axis + (index,), grad)
            grad = full
        return grad


def _flipped(array, axes: tuple):
    if not axes:
        return array.copy()
    if isinstance(array, np.ndarray):
        return np.flip(array, axes).copy()  # torch's flip is a copy, in C order
    for axis in axes:  # (the device array has no negative steps: a reversed gather)
        array = _take(array, np.arange(array.shape[axis] - 1, -1, -1), axis)
    return array


class Flip(Function):
    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return _flipped(a, axes)

    @staticmethod
    def backward(ctx, grad):
        return _flipped(grad, ctx.axes)


def _rolled(array, shifts: tuple, axes: tuple):
    """np.roll by basic slices and concatenate (what the device array has)."""
    for shift, axis in zip(shifts, axes):
        size = array.shape[axis]
        if size == 0 or shift % size == 0:
            continue
        cut = size - shift % size
        lead = (slice(None),) * axis
        array = np.concatenate([array[lead + (slice(cut, None),)],
                                array[lead + (slice(0, cut),)]], axis=axis)
    return array


class Roll(Function):
    """Rolled along `axes`; with axes None, rolled as if flattened (torch's roll without
    dims)."""

    @staticmethod
    def forward(ctx, a, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return _fresh(Roll._roll(a, shifts, axes), a)

    @staticmethod
    def backward(ctx, grad):
        return Roll._roll(grad, tuple(-s for s in ctx.shifts), ctx.axes)

    @staticmethod
    def _roll(array, shifts, axes):
        if axes is None:
            return _rolled(array.reshape(-1), shifts, (0,)).reshape(array.shape)
        return _rolled(array, shifts, axes)


class Triangle(Function):
    """The input where `mask` (the (rows, cols) triangle, broadcast over the batch dims) is
    set, 0 elsewhere."""

    @staticmethod
    def forward(ctx, a, mask):
        ctx.mask = mask
        return np.where(mask, a, backend.zeros((), a.dtype, like=a))

    @staticmethod
    def backward(ctx, grad):
        return np.where(ctx.mask, grad, backend.zeros((), grad.dtype, like=grad))


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


# ----- expand, repeat, tile, repeat_interleave ------------------------------------------------

def expand(a: Tensor, *sizes) -> Tensor:
    """Tensor.expand: size-1 dims (and new leading dims) stretched without copying; -1 keeps a
    size. A view; where it really repeats memory it is read-only, and writing to it raises (a
    RuntimeError in torch: more than one element refers to one memory location)."""
    if not sizes:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    sizes = tuple(_as_int("expand", "size", n) for n in as_sizes(sizes))
    if len(sizes) < a.ndim:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be "
                           f"greater or equal to the number of dimensions in the tensor "
                           f"({a.ndim})")
    extra = len(sizes) - a.ndim
    target = []
    for index, size in enumerate(sizes):
        if index < extra:
            if size < 0:
                raise RuntimeError(f"expand: The expanded size of the tensor ({size}) isn't "
                                   f"allowed in a leading, non-existing dimension {index}")
            target.append(size)
            continue
        have = a.shape[index - extra]
        if size == -1:
            size = have
        if size != have and have != 1:
            raise RuntimeError(f"expand: The expanded size of the tensor ({size}) must match "
                               f"the existing size ({have}) at non-singleton dimension {index}."
                               f"  Target sizes: {list(sizes)}.  Tensor sizes: {list(a.shape)}")
        if size < 0:
            raise RuntimeError(f"expand: The expanded size of the tensor ({size}) must match "
                               f"the existing size ({have}) at non-singleton dimension {index}")
        target.append(size)
    target = tuple(target)
    if math.prod(target) == math.prod(a.shape) and math.prod(target) != 0:
        return shape_ops.reshape(a, target)  # nothing repeats: an ordinary (writable) view
    return shape_ops.view_of(Expand.apply(a, shape=target), a)


def expand_as(a: Tensor, other: Tensor) -> Tensor:
    _check_tensor("expand_as", other, "other")
    return expand(a, other.shape)


def _repeat_counts(op: str, counts: tuple, shape: tuple) -> tuple:
    """The counts, checked as torch checks them: on the result's sizes (a negative count of
    an empty dim is no error; it is taken as 0, which gives the same empty dim)."""
    result = [n * c for n, c in zip((1,) * (len(counts) - len(shape)) + shape, counts)]
    if any(n < 0 for n in result):
        raise RuntimeError(f"{op}: Trying to create tensor with negative dimension "
                           f"{min(result)}: {result}")
    return tuple(max(c, 0) for c in counts)


def repeat(a: Tensor, *repeats) -> Tensor:
    """Tensor.repeat: the whole tensor repeated along each dim (new leading dims too)."""
    if not repeats:
        raise TypeError("repeat() missing 1 required positional arguments: \"repeats\"")
    counts = tuple(_as_int("repeat", "repeats", n) for n in as_sizes(repeats))
    if len(counts) < a.ndim:
        raise RuntimeError("repeat: Number of dimensions of repeat dims can not be smaller "
                           "than number of dimensions of tensor")
    return Repeat.apply(a, repeats=_repeat_counts("repeat", counts, a.shape))


def tile(input: Tensor, dims) -> Tensor:
    """torch.tile: repeat, with `dims` given leading 1s when shorter than the tensor's dims."""
    _check_tensor("tile", input)
    counts = _int_tuple("tile", "dims", dims)
    counts = (1,) * (input.ndim - len(counts)) + counts
    return Repeat.apply(input, repeats=_repeat_counts("tile", counts, input.shape))


def _host_counts(repeats: Tensor) -> np.ndarray:
    if repeats.dtype.kind not in "iu":
        raise NotImplementedError(f"repeat_interleave: repeats of dtype {repeats.dtype} are "
                                  "not implemented (integer tensors only, as in torch)")
    counts = backend.transfer(repeats._data, "cpu")
    if counts.size and counts.min() < 0:
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    return np.asarray(counts, dtype=np.int64)


def repeat_interleave(input: Tensor, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """torch.repeat_interleave: each element (each slice along `dim`; of the flattened
    tensor without dim) repeated `repeats` times, an int or a tensor of one count per slice.
    With only a 1-D integer tensor of counts: the indices each repeated that many times."""
    _check_tensor("repeat_interleave", input)
    if repeats is None:  # torch.repeat_interleave(counts)
        if input.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        counts = _host_counts(input)
        out = np.repeat(np.arange(len(counts), dtype=input.dtype), counts)
        return Tensor._from_array(backend.transfer(out, input.device), input.device)
    if dim is not None and input.ndim == 0:
        raise IndexError(f"repeat_interleave: Dimension out of range (expected to be in range "
                         f"of [-1, 0], but got {dim + 1 if isinstance(dim, int) else dim})")
    source = input if dim is not None else shape_ops.flatten(input)
    axis = _wrap_dim("repeat_interleave", 0 if dim is None else dim, source.ndim)
    size = source.shape[axis]
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1:
            raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim tensor")
        counts = _host_counts(repeats).reshape(-1)
        if counts.size == 1:
            repeats = int(counts[0])
        elif counts.size != size:
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as input "
                               f"along dim, but got repeats.size(0) = {counts.size} and "
                               f"input.size({axis}) = {size}")
    if isinstance(repeats, Tensor):  # one count per slice: a gather
        expected = int(counts.sum())
        function, options = Gather, {"picks": ((axis, np.repeat(np.arange(size), counts)),)}
    else:
        count = _as_int("repeat_interleave", "repeats", repeats)
        if count < 0:
            raise RuntimeError("repeat_interleave: Repeats must be non-negative")
        expected = size * count
        function, options = RepeatEach, {"axis": axis, "count": count}
    if output_size is not None and _as_int("repeat_interleave", "output_size",
                                           output_size) != expected:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {expected} but "
                           f"got {output_size}")
    return function.apply(source, **options)


# ----- flips and rolls ---------------------------------------------------------------------

def flip(input: Tensor, dims) -> Tensor:
    """torch.flip: the order of the elements reversed along each of `dims` (a copy)."""
    _check_tensor("flip", input)
    axes = _distinct_dims("flip", _int_tuple("flip", "dims", dims), input.ndim)
    return Flip.apply(input, axes=axes)


def fliplr(input: Tensor) -> Tensor:
    _check_tensor("fliplr", input)
    if input.ndim < 2:
        raise RuntimeError("fliplr: Input must be >= 2-d.")
    return Flip.apply(input, axes=(1,))


def flipud(input: Tensor) -> Tensor:
    _check_tensor("flipud", input)
    if input.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d.")
    return Flip.apply(input, axes=(0,))


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """torch.roll: elements shifted along `dims` (ints or tuples), those passing the end
    coming back at the start; without dims, over the flattened tensor."""
    _check_tensor("roll", input)
    shifts = _int_tuple("roll", "shifts", shifts if isinstance(shifts, (tuple, list))
                        else (shifts,))
    if dims is None:
        if not shifts:
            raise RuntimeError("roll: `shifts` required")
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: "
                               f"{len(shifts)}, dims:0")
        return Roll.apply(input, shifts=shifts, axes=None)
    dims = _int_tuple("roll", "dims", dims if isinstance(dims, (tuple, list)) else (dims,))
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    if input.numel() == 0:  # torch returns before it looks at the dims
        return Roll.apply(input, shifts=(0,), axes=None)
    axes = tuple(_wrap_dim("roll", d, input.ndim, scalar_ok=False) for d in dims)
    return Roll.apply(input, shifts=shifts, axes=axes)


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


# ----- triangles ---------------------------------------------------------------------------

def _triangle(op: str, input: Tensor, diagonal, lower: bool) -> Tensor:
    _check_tensor(op, input)
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
    diagonal = _as_int(op, "diagonal", diagonal)
    rows, cols = input.shape[-2:]
    mask = np.tri(rows, cols, diagonal, dtype=bool) if lower else \
        ~np.tri(rows, cols, diagonal - 1, dtype=bool)
    return Triangle.apply(input, mask=backend.transfer(mask, input.device))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """torch.tril: the lower triangle (on and below `diagonal`) of the last two dims."""
    return _triangle("tril", input, diagonal, lower=True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """torch.triu: the upper triangle (on and above `diagonal`) of the last two dims."""
    return _triangle("triu", input, diagonal, lower=False)


# ----- stacking ----------------------------------------------------------------------------

def _at_least(op: str, ndim: int, tensors):
    """atleast_Nd's argument forms: one tensor -> a tensor; several, or one sequence -> a
    tuple."""
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    for t_ in tensors:
        _check_tensor(op, t_)
    grown = tuple(_grown(t_, ndim) for t_ in tensors)
    return grown[0] if single else grown


def _grown(x: Tensor, ndim: int) -> Tensor:
    if x.ndim >= ndim:
        return x
    if ndim == 3 and x.ndim:  # (n,) -> (1, n, 1); (m, n) -> (m, n, 1), as NumPy's
        return shape_ops.reshape(x, ((1,) if x.ndim == 1 else ()) + x.shape + (1,))
    return shape_ops.reshape(x, (1,) * (ndim - x.ndim) + x.shape)


def atleast_1d(*tensors):
    return _at_least("atleast_1d", 1, tensors)


def atleast_2d(*tensors):
    return _at_least("atleast_2d", 2, tensors)


def atleast_3d(*tensors):
    return _at_least("atleast_3d", 3, tensors)


def _stack_along(op: str, tensors, ndim: int, dim) -> Tensor:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (tuple, list)):
        raise TypeError(f"{op}(): argument 'tensors' must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{op} expects a non-empty TensorList")
    for x in tensors:
        _check_tensor(op, x, "tensors")
    grown = [_grown(x, ndim) for x in tensors]
    return shape_ops.cat(grown, dim(grown))


def hstack(tensors) -> Tensor:
    """torch.hstack: 1-d tensors (0-d ones made 1-d) joined along dim 0, others along dim 1."""
    return _stack_along("hstack", tensors, 1, lambda grown: 0 if grown[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """torch.vstack: the tensors made at least 2-d, joined along dim 0."""
    return _stack_along("vstack", tensors, 2, lambda grown: 0)


def dstack(tensors) -> Tensor:
    """torch.dstack: the tensors made at least 3-d, joined along dim 2."""
    return _stack_along("dstack", tensors, 3, lambda grown: 2)
