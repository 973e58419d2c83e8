"""Losses against a target of the input's own shape: binary_cross_entropy,
binary_cross_entropy_with_logits (with weight and pos_weight) and mse_loss, with torch's
signatures and semantics."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor
from .losses import REDUCTIONS, check_constant, reduce_losses, reduction_mode


class BinaryCrossEntropy(Function):
    """-(y log x + (1 - y) log(1 - x)) with each log clamped to >= -100, as torch; the input
    gradient divides by max(x (1 - x), 1e-12), torch's guard at x = 0 or 1."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
            log_x = np.maximum(np.log(x), -100.0)
            log_rest = np.maximum(np.log1p(-x), -100.0)
        return (-(y * log_x + (1 - y) * log_rest)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        grad_x = grad * (x - y) / np.maximum(x * (1 - x), 1e-12)
        with np.errstate(divide="ignore"):  # torch: the target's gradient is -logit(x), unclamped
            grad_y = -grad * (np.log(x) - np.log1p(-x))
        return grad_x.astype(x.dtype, copy=False), grad_y.astype(y.dtype, copy=False)


def _softplus_of_negative(x):
    """log(1 + exp(-x)) without overflow for any x."""
    return np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))


class BinaryCrossEntropyWithLogits(Function):
    """(1 - y) x + lw softplus(-x), lw = 1 + (pos_weight - 1) y: torch's formula, which is
    -(pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))) without overflow."""

    @staticmethod
    def forward(ctx, x, y, pos_weight=None):
        ctx.save_for_backward(x, y, pos_weight)
        softplus = _softplus_of_negative(x)
        if pos_weight is None:
            return ((1 - y) * x + softplus).astype(x.dtype, copy=False)
        log_weight = 1 + (pos_weight - 1) * y
        return ((1 - y) * x + log_weight * softplus).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, y, pw = ctx.saved
        e = np.exp(-np.abs(x))
        sigmoid_of_negative = np.where(x >= 0, e / (1 + e), 1 / (1 + e))
        if pw is None:
            grad_x = grad * ((1 - y) - sigmoid_of_negative)
            return grad_x.astype(x.dtype, copy=False), (-grad * x).astype(y.dtype, copy=False)
        log_weight = 1 + (pw - 1) * y
        grad_x = grad * ((1 - y) - log_weight * sigmoid_of_negative)
        grad_y = grad * (-x + (pw - 1) * _softplus_of_negative(x))
        return grad_x.astype(x.dtype, copy=False), grad_y.astype(y.dtype, copy=False)


def _check_same_shape(op: str, input: Tensor, target: Tensor, reduction_name: str) -> None:
    if reduction_name not in REDUCTIONS:
        raise ValueError(f"{op}: expected reduction in {REDUCTIONS}, got {reduction_name!r}")
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected Tensors, got {type(input).__name__} and "
                        f"{type(target).__name__}")
    if input.shape != target.shape:
        raise ValueError(f"{op}: expected target of the input's shape {input.shape}, "
                         f"got {target.shape}")


def _check_floating(op: str, input: Tensor, target: Tensor) -> None:
    if input.dtype.kind != "f" or target.dtype.kind != "f":
        raise ShapeError(f"{op}: expected floating-point input and target, got "
                         f"{input.dtype} and {target.dtype}")


def _check_broadcasts_to(op: str, name: str, other, shape: tuple) -> None:
    """`other` (a weight) must broadcast to the input's shape without growing it, as torch's
    in-place multiply of the losses requires."""
    if other is None:
        return
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor or None, got "
                        f"{type(other).__name__}")
    try:
        fits = np.broadcast_shapes(other.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{op}: expected {name} to broadcast to the input's shape {shape}, "
                         f"got {other.shape}")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """torch.nn.functional.binary_cross_entropy: input probabilities in [0, 1]."""
    op = "binary_cross_entropy"
    reduction_name = reduction_mode(op, reduction, size_average, reduce)
    _check_same_shape(op, input, target, reduction_name)
    _check_floating(op, input, target)
    if target.dtype != input.dtype:
        raise ShapeError(f"{op}: expected target of the input's dtype {input.dtype}, got "
                         f"{target.dtype}")
    _check_broadcasts_to(op, "weight", weight, input.shape)
    check_constant(op, "weight", weight)
    # the CPU checks the range as torch does; a device would need a sync (NaN/inf instead)
    if input.device == "cpu" and input.numel() and \
            not bool(((input._data >= 0) & (input._data <= 1)).all()):
        raise RuntimeError(f"{op}: all elements of input should be between 0 and 1")
    losses = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        losses = losses * weight.to(losses.device)  # a host weight follows the input
    return reduce_losses(losses, reduction_name)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """torch.nn.functional.binary_cross_entropy_with_logits; weight and pos_weight broadcast
    to the input's shape (pos_weight: one weight per class, the last dim)."""
    op = "binary_cross_entropy_with_logits"
    reduction_name = reduction_mode(op, reduction, size_average, reduce)
    _check_same_shape(op, input, target, reduction_name)
    _check_floating(op, input, target)
    _check_broadcasts_to(op, "weight", weight, input.shape)
    _check_broadcasts_to(op, "pos_weight", pos_weight, input.shape)
    check_constant(op, "weight", weight)
    check_constant(op, "pos_weight", pos_weight)
    dtype = np.promote_types(input.dtype, target.dtype)  # torch: the loss in the wider dtype
    input, target = (t if t.dtype == dtype else t.to(dtype=dtype) for t in (input, target))
    losses = BinaryCrossEntropyWithLogits.apply(
        input, target, pos_weight=None if pos_weight is None else pos_weight.to(input.device)._data)
    if weight is not None:
        losses = losses * weight.to(losses.device)  # a host weight follows the input
    return reduce_losses(losses, reduction_name)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    _check_same_shape("mse_loss", input, target, reduction)
    if input.dtype.kind != "f" or target.dtype != input.dtype:
        raise TypeError(f"mse_loss: expected floating-point input and target of one dtype, "
                        f"got {input.dtype} and {target.dtype}")
    diff = input - target
    return reduce_losses(diff * diff, reduction)
