"""Indexing ops with torch's names, shape rules and errors: gather, scatter (a tensor or a
value, reduce='add'/'multiply'), scatter_add, index_select, take_along_dim and masked_select
(differentiable), nonzero and argwhere (int64 results). Each picks or writes the elements a
NumPy index names, so one body serves host and device arrays (the CUDA array gathers and
scatters index arrays); torch's named products (ops/linalg.py) are exported from here too.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from .. import backend, dtypes
from ..autograd import Function
from ..errors import ShapeError
from ..factories import scalar_in_dtype
from ..tensor import Tensor
from .reduction import normalize_dims
from .shape_ops import clone, reshape

__all__ = ["argwhere", "gather", "index_select", "masked_select", "nonzero", "scatter",
           "scatter_add", "take_along_dim"]


# ----- the primitives: pick the elements an index names, or write them ------------------

# Each takes the index (or mask) tensor as an input too, saved for backward: its version
# counter then tells an in-place change of it before backward, which torch refuses as well.

class Take(Function):
    """source[key] (source: x broadcast to `shape`; key made from `index`); the gradient
    adds back at the picked positions, repeats adding up."""

    @staticmethod
    def forward(ctx, x, index, key, shape):
        ctx.save_for_backward(index)
        ctx.key, ctx.shape = key, shape
        return (x if x.shape == shape else np.broadcast_to(x, shape))[key]

    @staticmethod
    def backward(ctx, grad):
        full = backend.zeros(ctx.shape, grad.dtype, like=grad)
        np.add.at(full, ctx.key, grad)
        return full, None


class Gather(Take):
    """gather and take_along_dim."""


class IndexSelect(Take):
    """index_select."""


class MaskedSelect(Take):
    """masked_select."""


class Scatter(Function):
    """x with src's leading block (`region`) written at `key`. Gradients: x's, with the
    written positions zeroed; src's, the gradient at each element's target (torch's rule,
    also when targets repeat) in the block, zero outside it."""

    @staticmethod
    def forward(ctx, x, src, index, key, region):
        ctx.save_for_backward(index)
        ctx.key, ctx.region, ctx.src_shape = key, region, src.shape
        out = x.copy()
        out[key] = src[region]
        return out

    @staticmethod
    def backward(ctx, grad):
        needs = ctx.needs_input_grad
        grad_x = grad_src = None
        if needs[0]:
            grad_x = grad.copy()
            grad_x[ctx.key] = 0
        if needs[1]:
            grad_src = _into_region(grad[ctx.key], ctx.src_shape, ctx.region)
        return grad_x, grad_src, None


class ScatterValue(Function):
    """x with `value` written at `key`; x's gradient is zero there."""

    @staticmethod
    def forward(ctx, x, index, key, value):
        ctx.save_for_backward(index)
        ctx.key = key
        out = x.copy()
        out[key] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        grad = grad.copy()
        grad[ctx.key] = 0
        return grad, None


class ScatterAdd(Function):
    """x plus src's leading block added at `key` (repeats add up); x's gradient passes
    through, src's is the gradient at each element's target."""

    @staticmethod
    def forward(ctx, x, src, index, key, region):
        ctx.save_for_backward(index)
        ctx.key, ctx.region, ctx.src_shape = key, region, src.shape
        out = x.copy()
        np.add.at(out, key, src[region])
        return out

    @staticmethod
    def backward(ctx, grad):
        needs = ctx.needs_input_grad
        return (grad if needs[0] else None,
                _into_region(grad[ctx.key], ctx.src_shape, ctx.region) if needs[1] else None,
                None)


class ScatterReduce(Function):
    """scatter's reduce='add'/'multiply': torch has no derivative for it, nor do we."""

    @staticmethod
    def forward(ctx, x, *src, key, region, ufunc, value=None):
        out = x.copy()
        ufunc.at(out, key, src[0][region] if src else value)
        return out

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("scatter: the derivative for scatter with reduce= is not "
                           "implemented (nor is it in torch); use scatter_add, or scatter "
                           "without reduce=")


def _into_region(values, shape, region):
    """Zeros of `shape` with `values` in its leading block `region`."""
    full = backend.zeros(shape, values.dtype, like=values)
    full[region] = values
    return full


# ----- checks and keys -------------------------------------------------------------------

def _expect_tensor(op: str, name: str, value) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}")


def _same_device(op: str, *tensors) -> None:
    if any(t.device != tensors[0].device for t in tensors):
        raise RuntimeError(f"{op}: expected all tensors on one device, got "
                           f"{sorted({str(t.device) for t in tensors})}")


def _expect_integer_index(op: str, index: Tensor, allowed=(dtypes.int64, dtypes.int32)) -> None:
    if index.dtype not in allowed:
        names = " or ".join(str(d) for d in allowed)
        raise RuntimeError(f"{op}(): expected dtype {names} for index, got {index.dtype}")


def _expect_dim(op: str, dim) -> None:
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")


def _check_bounds(op: str, index: Tensor, size: int, dim: int, error=RuntimeError) -> None:
    """torch's error (RuntimeError, unless `error` says) for an index outside [0, size)
    (negative indices too). On the device, a count first: the index reaches the host only
    when something is wrong."""
    array = index._data
    if not array.size:
        return
    if index.device != "cpu":
        wrong = (array < 0).sum() + (array >= size).sum()
        if not int(backend.transfer(wrong, "cpu")):
            return
        array = backend.transfer(array, "cpu")
    elif 0 <= array.min() and array.max() < size:
        return
    value = array[(array < 0) | (array >= size)].flat[0]
    raise error(f"{op}: index {value} is out of bounds for dimension {dim} with size {size}")


def _on_device(array: np.ndarray, like):
    """A host array (an arange of a key) on the device of the array `like`."""
    return array if isinstance(like, np.ndarray) else backend.transfer(array, "cuda")


def _along(index, dim: int):
    """The NumPy key that picks, at each position of `index`, the element along `dim` the
    index names and, along every other dim, the same position."""
    key = []
    for d, size in enumerate(index.shape):
        if d == dim:
            key.append(index)
        else:
            positions = np.arange(size).reshape([-1 if k == d else 1
                                                 for k in range(index.ndim)])
            key.append(_on_device(positions, index))
    return tuple(key)


def _at_least_1d(t: Tensor) -> Tensor:
    """torch treats a 0-d tensor as 1-d of one element in gather and scatter."""
    return reshape(t, 1) if t.ndim == 0 else t


def _check_index_shape(op: str, x: Tensor, dim: int, index: Tensor, src=None) -> None:
    """torch's rules: one number of dims for all, index no larger than src anywhere nor
    than x outside `dim`."""
    if index.ndim != x.ndim:
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as "
                           f"input tensor (index {index.shape}, input {x.shape})")
    if src is not None and index.ndim != src.ndim:
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as "
                           f"src tensor (index {index.shape}, src {src.shape})")
    for d in range(x.ndim):
        if (d != dim and index.shape[d] > x.shape[d]) or \
                (src is not None and index.shape[d] > src.shape[d]):
            against = "" if src is None else f" and to be no larger size than src {src.shape}"
            raise RuntimeError(f"{op}(): expected index {index.shape} to be no larger than "
                               f"self {x.shape} apart from dimension {dim}{against}")


# ----- gather, scatter, scatter_add ------------------------------------------------------

def gather(input: Tensor, dim, index: Tensor) -> Tensor:
    """out[i][j][k] = input[i][index[i][j][k]][k] for dim=1 (torch.gather): index (int64 or
    int32) has input's number of dims and is no larger outside `dim`."""
    _expect_tensor("gather", "input", input)
    _expect_tensor("gather", "index", index)
    _expect_dim("gather", dim)
    _same_device("gather", input, index)
    axis = normalize_dims("gather", dim, input.ndim)
    axis = axis[0] if axis else 0
    x, idx = _at_least_1d(input), _at_least_1d(index)
    if not idx.numel():  # torch checks nothing more for an empty index: an empty result
        nothing = _on_device(np.zeros(index.shape, np.int64), x._data)
        return Gather.apply(reshape(x, -1), index, key=(nothing,), shape=(x.numel(),))
    _expect_integer_index("gather", index)
    _check_index_shape("gather", x, axis, idx)
    _check_bounds("gather", idx, x.shape[axis], axis)
    out = Gather.apply(x, idx, key=_along(idx._data, axis), shape=x.shape)
    return reshape(out, *index.shape) if index.ndim == 0 else out


_REDUCTIONS = {"add": np.add, "multiply": np.multiply}


def _scatter_value(op: str, value, dtype):
    """A number `value` in `dtype`, converted as torch converts it (factories.py)."""
    if isinstance(value, Tensor):
        value = value.item()
    if not isinstance(value, (numbers.Real, np.bool_)):
        raise TypeError(f"{op}(): value must be a number, not {type(value).__name__}")
    return dtype.type(scalar_in_dtype(op, value, dtype))


def _scatter_operands(op: str, input, dim, index, src):
    """Checked (x, index, src or None, dim) of scatter and scatter_add, 0-d made 1-d."""
    _expect_tensor(op, "input", input)
    _expect_tensor(op, "index", index)
    _expect_dim(op, dim)
    _same_device(op, input, index, *([] if src is None else [src]))
    if src is not None and src.dtype != input.dtype:
        raise RuntimeError(f"{op}(): expected self.dtype to be equal to src.dtype, got "
                           f"{input.dtype} and {src.dtype}")
    axis = normalize_dims(op, dim, input.ndim)
    axis = axis[0] if axis else 0
    x, idx = _at_least_1d(input), _at_least_1d(index)
    src = None if src is None else _at_least_1d(src)
    if idx.numel():  # (torch checks nothing more for an empty index)
        _expect_integer_index(op, index)
        _check_index_shape(op, x, axis, idx, src)
        _check_bounds(op, idx, x.shape[axis], axis)
    return x, idx, src, axis


def scatter(input: Tensor, dim, index: Tensor, src=None, *, value=None, reduce=None) -> Tensor:
    """input with src[i][j][k] written at [i][index[i][j][k]][k] for dim=1, or the number
    `value` written there (torch.scatter; src may also be given as a number). With
    reduce='add' or 'multiply' the written elements combine with input's instead (no
    gradient, as in torch). Where index repeats a target, which write wins is unspecified,
    as in torch."""
    if src is None and value is None:
        raise TypeError("scatter(): expected src (a tensor) or value (a number)")
    if src is not None and value is not None:
        raise TypeError("scatter(): expected src or value, not both")
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src
    if reduce is not None and reduce not in _REDUCTIONS:
        raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got "
                           f"{reduce!r}")
    x, idx, src, axis = _scatter_operands("scatter", input, dim, index, src)
    if not idx.numel():  # nothing written
        return clone(input)
    if reduce == "multiply":
        backend.require_cpu("scatter(reduce='multiply')", input)
    key = _along(idx._data, axis)
    region = tuple(slice(0, n) for n in idx.shape)
    if src is None:
        value = _scatter_value("scatter", value, x.dtype)
        out = ScatterValue.apply(x, idx, key=key, value=value) if reduce is None else \
            ScatterReduce.apply(x, key=key, region=region, ufunc=_REDUCTIONS[reduce],
                                value=value)
    elif reduce is None:
        out = Scatter.apply(x, src, idx, key=key, region=region)
    else:
        warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated "
                      "(as in torch); use scatter_add or scatter_reduce", UserWarning,
                      stacklevel=2)
        out = ScatterReduce.apply(x, src, key=key, region=region, ufunc=_REDUCTIONS[reduce])
    return reshape(out, *input.shape) if input.ndim == 0 else out


def scatter_add(input: Tensor, dim, index: Tensor, src: Tensor) -> Tensor:
    """input with src[i][j][k] added at [i][index[i][j][k]][k] for dim=1, repeated targets
    adding up (torch.scatter_add)."""
    _expect_tensor("scatter_add", "src", src)
    x, idx, src, axis = _scatter_operands("scatter_add", input, dim, index, src)
    if not idx.numel():  # nothing added
        return clone(input)
    out = ScatterAdd.apply(x, src, idx, key=_along(idx._data, axis),
                           region=tuple(slice(0, n) for n in idx.shape))
    return reshape(out, *input.shape) if input.ndim == 0 else out


# ----- index_select, take_along_dim, masked_select ---------------------------------------

def index_select(input: Tensor, dim, index: Tensor) -> Tensor:
    """input's slices along `dim` at the positions of the 1-D (or 0-d) int64/int32 index,
    in its order, repeats included (torch.index_select)."""
    _expect_tensor("index_select", "input", input)
    _expect_tensor("index_select", "index", index)
    _expect_dim("index_select", dim)
    _same_device("index_select", input, index)
    axis = normalize_dims("index_select", dim, input.ndim)
    if index.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector, got shape "
                         f"{index.shape}")
    if input.ndim == 0 and index.numel() != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                           f"{index.numel()} value(s)")
    _expect_integer_index("index_select", index)
    if input.ndim == 0:  # as the 1-element vector, and the result 0-d again
        return reshape(index_select(reshape(input, 1), 0, reshape(index, 1)))
    axis = axis[0]
    flat = reshape(index, 1) if index.ndim == 0 else index
    if input.ndim > 1 and not input.numel() and flat.numel() and not input.shape[axis]:
        raise RuntimeError(f"index_select(): self indexing axis dim should be positive, got "
                           f"size 0 in dim {axis}")
    # the class of torch's error depends on its CPU kernel: a RuntimeError from its kernel
    # for dim 1 and its path for empty inputs, an IndexError otherwise
    bad = RuntimeError if input.ndim > 1 and (axis == 1 or not input.numel()) else IndexError
    _check_bounds("index_select", flat, input.shape[axis], axis, bad)
    key = (slice(None),) * axis + (flat._data,)
    return IndexSelect.apply(input, flat, key=key, shape=input.shape)


def take_along_dim(input: Tensor, indices: Tensor, dim=None) -> Tensor:
    """gather along `dim` with input and indices broadcast against each other in every other
    dim; without dim, of the flattened input at the flattened indices (torch.take_along_dim;
    indices int64)."""
    _expect_tensor("take_along_dim", "input", input)
    _expect_tensor("take_along_dim", "indices", indices)
    _same_device("take_along_dim", input, indices)
    if dim is None:  # (gather's checks: int32 indices pass here)
        return gather(reshape(input, -1), 0, reshape(indices, -1))
    _expect_dim("take_along_dim", dim)
    if input.ndim != indices.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {input.ndim} dimensions for input, "
                           f"and {indices.ndim} dimensions for indices")
    if indices.dtype != dtypes.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be int64 but got "
                           f"{indices.dtype}")
    if input.ndim == 0:
        raise IndexError(f"take_along_dim: dimension specified as {dim} but tensor has no "
                         "dimensions")
    axis = normalize_dims("take_along_dim", dim, input.ndim)[0]
    try:  # every dim but `axis` broadcasts
        common = list(np.broadcast_shapes(*(t.shape[:axis] + (1,) + t.shape[axis + 1:]
                                            for t in (input, indices))))
    except ValueError:
        raise ShapeError(f"take_along_dim: input of shape {input.shape} and indices of shape "
                         f"{indices.shape} do not broadcast outside dim {axis}") from None
    shape = tuple(common[:axis] + [input.shape[axis]] + common[axis + 1:])
    wanted = tuple(common[:axis] + [indices.shape[axis]] + common[axis + 1:])
    if np.prod(wanted):  # (broadcast to nothing, the indices are not looked at)
        _check_bounds("take_along_dim", indices, input.shape[axis], axis)
    index = indices._data if indices.shape == wanted else np.broadcast_to(indices._data, wanted)
    return Gather.apply(input, indices, key=_along(index, axis), shape=shape)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of input where the bool mask is True (both broadcast to one shape), as
    a 1-D tensor in row-major order (torch.masked_select)."""
    _expect_tensor("masked_select", "input", input)
    _expect_tensor("masked_select", "mask", mask)
    if mask.dtype != dtypes.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {mask.dtype}")
    _same_device("masked_select", input, mask)
    try:
        shape = np.broadcast_shapes(input.shape, mask.shape)
    except ValueError:
        raise ShapeError(f"masked_select: input of shape {input.shape} and mask of shape "
                         f"{mask.shape} cannot be broadcast together") from None
    selector = mask._data if mask.shape == shape else np.broadcast_to(mask._data, shape)
    if not shape:  # NumPy's x[mask] of a 0-d mask keeps a new dim; torch's result is 1-D
        flat = reshape(mask, 1)
        return MaskedSelect.apply(reshape(input, 1), flat, key=(flat._data,), shape=(1,))
    return MaskedSelect.apply(input, mask, key=(selector,), shape=shape)


# ----- nonzero, argwhere: integer results, computed where the data is ---------------------

def nonzero(input: Tensor, *, as_tuple: bool = False):
    """The indices of the non-zero elements: an int64 (count, ndim) tensor, or with
    as_tuple=True one 1-D tensor per dim (a 0-d input counts as 1-d) (torch.nonzero). On the
    device the values go to the host and back: the result's size depends on them (torch
    synchronises here too)."""
    _expect_tensor("nonzero", "input", input)
    values = backend.transfer(input._data, "cpu")
    if as_tuple:
        return tuple(Tensor._from_array(backend.transfer(np.asarray(i, np.int64), input.device),
                                        input.device)
                     for i in np.nonzero(np.atleast_1d(values)))
    where = np.argwhere(values).astype(np.int64)
    return Tensor._from_array(backend.transfer(where, input.device), input.device)


def argwhere(input: Tensor) -> Tensor:
    """nonzero(input) as an int64 (count, ndim) tensor (torch.argwhere)."""
    _expect_tensor("argwhere", "input", input)
    return nonzero(input)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot vectors along a new last dim for the int64 class indices in `tensor`;
    num_classes=-1 takes max + 1 (torch.nn.functional.one_hot, with its checks; a device
    tensor's values are read on the host for them, as torch reads its min and max)."""
    _expect_tensor("one_hot", "tensor", tensor)
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"one_hot(): argument 'num_classes' must be int, not "
                        f"{type(num_classes).__name__}")
    if tensor.dtype != dtypes.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor "
                           f"(int64), got {tensor.dtype}")
    values = backend.transfer(tensor._data, "cpu")
    if not values.size:
        if num_classes <= 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty "
                               "tensor.")
    elif values.min() < 0:
        raise RuntimeError("one_hot: Class values must be non-negative.")
    elif num_classes == -1:
        num_classes = int(values.max()) + 1
    elif num_classes <= values.max():
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes "
                           f"({num_classes}), got {values.max()}")
    classes = _on_device(np.arange(int(num_classes), dtype=np.int64), tensor._data)
    hot = (np.expand_dims(tensor._data, -1) == classes).astype(np.int64)
    return Tensor._from_array(hot, tensor.device)
