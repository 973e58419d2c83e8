"""Reshaping ops with torch's names, signatures and errors: flips and rolls,
expand / repeat / tile / repeat_interleave, triangles (tril, triu) and stacking (hstack,
vstack, dstack, atleast_*d); the ops that return views of their input (view, squeeze,
movedim, t, narrow, split, chunk, unbind ...) are in views.py, F.pad in padding.py.

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
from ..tensor import Tensor
from . import shape_ops

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "dstack", "flip", "fliplr", "flipud",
           "hstack", "repeat_interleave", "roll", "tile", "tril", "triu", "vstack"]


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
