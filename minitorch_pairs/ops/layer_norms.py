"""Normalisation over each sample's own values, the same in training and evaluation:
layer_norm (over the trailing normalized_shape dims) and group_norm (over groups of channels
and their spatial positions), with torch's checks and optional affine weight and bias.

Both normalise rows of a (rows, count) view: (x - mean) / sqrt(var + eps), var biased, as
torch; the affine map is per element of normalized_shape (layer_norm) or per channel
(group_norm). The array code is NumPy's (sums, elementwise ops), so device tensors run too.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor


def _normalize_rows(rows, eps: float):
    """(x_hat, rstd) of each row of the (rows, count) array."""
    count = rows.shape[1]
    mean = rows.sum(axis=1, keepdims=True) / count
    centered = rows - mean
    var = (centered * centered).sum(axis=1, keepdims=True) / count
    rstd = 1 / np.sqrt(var + eps)
    return centered * rstd, rstd


def _rows_backward(grad_hat, x_hat, rstd):
    """The input gradient of x_hat = normalize(rows), given d(loss)/d(x_hat), per row:
    rstd * (g - mean(g) - x_hat * mean(g * x_hat))."""
    count = x_hat.shape[1]
    mean_grad = grad_hat.sum(axis=1, keepdims=True) / count
    mean_projection = (grad_hat * x_hat).sum(axis=1, keepdims=True) / count
    return rstd * (grad_hat - mean_grad - x_hat * mean_projection)


class LayerNorm(Function):
    """x as (rows, count), each row normalised; then * weight + bias, each of normalized_shape
    and optional (the inputs after x are those given)."""
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, *params, rows, eps, has_weight, has_bias):
        count = int(np.prod(x.shape)) // rows if rows else 0
        x_hat, rstd = _normalize_rows(backend.contiguous(x).reshape(rows, count), eps)
        weight, bias = _given(params, has_weight, has_bias)
        out = _affine(x_hat, weight, bias, (1, count))
        ctx.save_for_backward(x_hat, rstd)
        ctx.params, ctx.flags, ctx.shape = params, (has_weight, has_bias), x.shape
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x_hat, rstd = ctx.saved
        grad = backend.contiguous(grad).reshape(x_hat.shape)
        weight, bias = _given(ctx.params, *ctx.flags)
        grad_hat = grad if weight is None else grad * weight.reshape(1, x_hat.shape[1])
        grads = [_rows_backward(grad_hat, x_hat, rstd).reshape(ctx.shape)
                 if ctx.needs_input_grad[0] else None]
        if weight is not None:
            grads.append((grad * x_hat).sum(axis=0).reshape(weight.shape))
        if bias is not None:
            grads.append(grad.sum(axis=0).reshape(bias.shape))
        return tuple(grads)


class GroupNorm(Function):
    """(N, C, *) normalised over each sample's groups of C / G channels and their
    positions; then * weight + bias per channel (each optional, as in LayerNorm)."""
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, *params, groups, eps, has_weight, has_bias):
        n, c, positions = x.shape[0], x.shape[1], int(np.prod(x.shape[2:]))
        rows = backend.contiguous(x).reshape(n * groups, c // groups * positions)
        x_hat, rstd = _normalize_rows(rows, eps)
        weight, bias = _given(params, has_weight, has_bias)
        out = _affine(x_hat.reshape(n, c, positions), weight, bias, (1, c, 1))
        ctx.save_for_backward(x_hat, rstd)
        ctx.params, ctx.flags, ctx.shape = params, (has_weight, has_bias), x.shape
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x_hat, rstd = ctx.saved
        n, c, positions = ctx.shape[0], ctx.shape[1], int(np.prod(ctx.shape[2:]))
        grad = backend.contiguous(grad).reshape(n, c, positions)
        weight, bias = _given(ctx.params, *ctx.flags)
        grad_hat = grad if weight is None else grad * weight.reshape(1, c, 1)
        grads = [_rows_backward(backend.contiguous(grad_hat).reshape(x_hat.shape), x_hat,
                                rstd).reshape(ctx.shape) if ctx.needs_input_grad[0] else None]
        if weight is not None:
            grads.append((grad * x_hat.reshape(n, c, positions)).sum(axis=(0, 2)))
        if bias is not None:
            grads.append(grad.sum(axis=(0, 2)))
        return tuple(grads)


def _given(params, has_weight: bool, has_bias: bool) -> tuple:
    """(weight, bias) from the params given after x, None where absent."""
    return (params[0] if has_weight else None), (params[-1] if has_bias else None)


def _affine(x_hat, weight, bias, layout):
    """x_hat * weight + bias, the parameters reshaped to `layout` (broadcast over x_hat);
    a new contiguous array."""
    out = x_hat if weight is None else x_hat * weight.reshape(layout)
    out = out if bias is None else out + bias.reshape(layout)
    return backend.contiguous(out.copy() if out is x_hat else out)


def _check_param(op: str, name: str, t, shape: tuple, x: Tensor, what: str) -> None:
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if tuple(t.shape) != shape:
        raise ShapeError(f"{op}: Expected {name} to be {what}, but got {name} of shape "
                         f"{list(t.shape)} and input of shape {list(x.shape)}")
    if t.dtype != x.dtype:
        raise RuntimeError(f"{op}: mixed dtype: expected {name} to have the input's dtype "
                           f"{x.dtype}, got {t.dtype}")
    if t.device != x.device:
        raise RuntimeError(f"{op}: expected all tensors on one device, got input on "
                           f"{x.device} and {name} on {t.device}")


def _check_input(op: str, x) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for dtype {x.dtype} (floating point "
                                  "only, as in torch)")


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """torch.nn.functional.layer_norm: each sample normalised over its trailing
    len(normalized_shape) dims, which must equal normalized_shape (a tuple or list, as
    torch's functional form wants it)."""
    _check_input("layer_norm", input)
    if not isinstance(normalized_shape, (tuple, list)) or not all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool)
            for n in normalized_shape):
        raise TypeError(f"layer_norm(): argument 'normalized_shape' must be tuple of ints, "
                        f"not {type(normalized_shape).__name__}")
    shape = tuple(int(n) for n in normalized_shape)
    if not shape:
        raise ShapeError("layer_norm: Expected normalized_shape to be at least 1-dimensional, "
                         "i.e., containing at least one element, but got normalized_shape = []")
    if input.shape[input.ndim - len(shape):] != shape or input.ndim < len(shape):
        raise ShapeError(f"layer_norm: Given normalized_shape={list(shape)}, expected input "
                         f"with shape [*, {', '.join(map(str, shape))}], but got input of "
                         f"size{list(input.shape)}")
    what = f"of same shape as normalized_shape {list(shape)}"
    _check_param("layer_norm", "weight", weight, shape, input, what)
    _check_param("layer_norm", "bias", bias, shape, input, what)
    params = tuple(t for t in (weight, bias) if t is not None)
    rows = int(np.prod(input.shape[:input.ndim - len(shape)]))
    return LayerNorm.apply(input, *params, rows=rows, eps=float(eps),
                           has_weight=weight is not None, has_bias=bias is not None)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """torch.nn.functional.group_norm: (N, C, *) with C split into num_groups groups, each
    sample's group normalised over its channels and positions."""
    _check_input("group_norm", input)
    if input.ndim < 2:
        raise ShapeError(f"group_norm: Expected at least 2 dimensions for input tensor but "
                         f"received {input.ndim}")
    if not isinstance(num_groups, numbers.Integral) or isinstance(num_groups, bool):
        raise TypeError(f"group_norm(): argument 'num_groups' must be int, not "
                        f"{type(num_groups).__name__}")
    n, c = input.shape[0], input.shape[1]
    if num_groups == 0:
        raise ZeroDivisionError("group_norm: num_groups must be positive, got 0 (torch: "
                                "integer division or modulo by zero)")
    sizes = [n * c // num_groups, num_groups] + list(input.shape[2:])
    if sizes[0] * int(np.prod(sizes[2:])) == 1:  # torch's _verify_batch_size
        raise ValueError(f"group_norm: Expected more than 1 value per channel when training, "
                         f"got input size {sizes}")
    if num_groups < 0 or c % num_groups:
        raise ShapeError(f"group_norm: Expected number of channels in input to be divisible by "
                         f"num_groups, but got input of shape {list(input.shape)} and "
                         f"num_groups={num_groups}")
    what = "a vector of size equal to the number of channels in input"
    _check_param("group_norm", "weight", weight, (c,), input, what)
    _check_param("group_norm", "bias", bias, (c,), input, what)
    params = tuple(t for t in (weight, bias) if t is not None)
    return GroupNorm.apply(input, *params, groups=int(num_groups), eps=float(eps),
                           has_weight=weight is not None, has_bias=bias is not None)
