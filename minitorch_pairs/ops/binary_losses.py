"""Losses against binary targets, with torch's signatures and semantics: the probability
target losses binary_cross_entropy and binary_cross_entropy_with_logits (with weight and
pos_weight), and the margin losses against targets of 1 / -1: soft_margin_loss,
hinge_embedding_loss, margin_ranking_loss and cosine_embedding_loss."""
from __future__ import annotations

import numbers

import numpy as np

from .. import dtypes
from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor
from .losses import (REDUCTIONS, NotImplementedForDtype, check_constant, reduce_losses,
                     reduction_mode)
from .promotion import as_operand


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


def _weighted(losses: Tensor, weight: Tensor | None) -> Tensor:
    """The losses times their weights, in the losses' dtype (torch multiplies in place); a
    host weight follows the input."""
    if weight is None:
        return losses
    return losses * weight.to(device=losses.device, dtype=losses.dtype)


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
    return reduce_losses(_weighted(losses, weight), reduction_name)


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
    return reduce_losses(_weighted(losses, weight), reduction_name)


# ----- margin losses against targets of 1 / -1 ----------------------------------------------

class SoftMargin(Function):
    """log(1 + exp(-y x)), as softplus(-y x) so that a large margin cannot overflow."""

    @staticmethod
    def forward(ctx, x, y):
        z = -x * y
        ctx.save_for_backward(z, y)
        return (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        z, y = ctx.saved
        e = np.exp(-np.abs(z))
        sigmoid_z = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
        return (-grad * y * sigmoid_z).astype(z.dtype, copy=False)


class HingeEmbedding(Function):
    """max(0, margin - x) where the target is not 1, plus x where it is not -1 (torch's
    rule, so other target values get both terms); the target has no gradient."""

    @staticmethod
    def forward(ctx, x, target, margin):
        gap = margin - x
        not_positive, not_negative = target != 1, target != -1
        ctx.save_for_backward(not_positive & (gap > 0), not_negative)
        return (np.where(not_positive, np.maximum(gap, 0), 0)
                + np.where(not_negative, x, 0)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        inside_margin, not_negative = ctx.saved
        slope = not_negative.astype(grad.dtype) - inside_margin.astype(grad.dtype)
        return grad * slope


class MarginRanking(Function):
    """max(0, -y (x1 - x2) + margin); at the kink (0) no gradient passes, as torch."""

    @staticmethod
    def forward(ctx, x1, x2, y, margin):
        gap = x1 - x2
        z = -y * gap + margin
        active = z > 0
        ctx.save_for_backward(gap, y, active)
        return np.where(active, z, 0).astype(z.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        gap, y, active = ctx.saved
        g = np.where(active, grad, 0)
        return -g * y, g * y, -g * gap


class CosineEmbedding(Function):
    """1 - cos(x1, x2) where the target is 1, max(0, cos - margin) where it is -1, 0
    elsewhere; cos over the last dim, each squared norm plus 1e-12 (torch's EPSILON). The
    target has no gradient."""

    EPSILON = 1e-12

    @staticmethod
    def forward(ctx, x1, x2, target, margin):
        axis = max(x1.ndim, x2.ndim) - 1
        dot = (x1 * x2).sum(axis=axis)
        norm1 = (x1 * x1).sum(axis=axis) + CosineEmbedding.EPSILON
        norm2 = (x2 * x2).sum(axis=axis) + CosineEmbedding.EPSILON
        denominator = np.sqrt(norm1 * norm2)
        cos = dot / denominator
        # d loss / d cos: -1 for a target of 1, 1 beyond the margin for -1, else 0
        slope = np.where(target == 1, -1.0, 0.0) + \
            np.where((target == -1) & (cos - margin > 0), 1.0, 0.0)
        ctx.save_for_backward(x1, x2, cos, norm1, norm2, denominator, slope)
        losses = np.where(target == 1, 1 - cos, 0) + \
            np.where(target == -1, np.maximum(cos - margin, 0), 0)
        return losses.astype(cos.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x1, x2, cos, norm1, norm2, denominator, slope = ctx.saved
        g = np.expand_dims(grad * slope, -1)
        cos, norm1, norm2, denominator = (np.expand_dims(a, -1)
                                          for a in (cos, norm1, norm2, denominator))
        return (g * (x2 / denominator - cos * x1 / norm1),
                g * (x1 / denominator - cos * x2 / norm2))


def _check_tensors(op: str, **tensors) -> None:
    for name, value in tensors.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(value).__name__}")


def _check_margin(op: str, margin) -> float:
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real):
        raise TypeError(f"{op}: expected margin to be a number, got {margin!r}")
    return float(margin)


def _broadcast_shape(op: str, *shapes: tuple) -> tuple:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"{op}: expected shapes that broadcast together, got "
                         f"{', '.join(map(str, shapes))}") from None


def _floating_operands(op: str, *tensors: Tensor) -> list:
    """The tensors in torch's result dtype, which must be floating point here."""
    dtype = dtypes.result_type(*tensors)
    if dtype.kind != "f":
        raise ShapeError(f"{op}: expected floating-point inputs, got dtypes "
                         f"{', '.join(str(t.dtype) for t in tensors)}")
    return [as_operand(t, dtype, t) for t in tensors]


def _target_array(target: Tensor, input: Tensor):
    """A target that takes no gradient, as an array on the input's device."""
    return target.to(input.device)._data


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """torch.nn.functional.soft_margin_loss: mean of log(1 + exp(-y x)) for targets y of
    1 / -1. The loss has the input's dtype and shape (the target broadcasts to it); the
    target takes no gradient."""
    op = "soft_margin_loss"
    reduction_name = reduction_mode(op, reduction, size_average, reduce)
    _check_tensors(op, input=input, target=target)
    if input.dtype == dtypes.bool_:
        raise NotImplementedForDtype(f"{op}: negation of a bool input is not supported, as in "
                                     f"torch")
    if input.dtype.kind != "f":
        raise ShapeError(f"{op}: expected a floating-point input (the loss has its dtype), "
                         f"got {input.dtype}")
    _check_broadcasts_to(op, "target", target, input.shape)
    check_constant(op, "target", target)
    y = _target_array(target, input).astype(input.dtype, copy=False)
    return reduce_losses(SoftMargin.apply(input, y=y), reduction_name)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """torch.nn.functional.hinge_embedding_loss: x where the target is 1, max(0, margin - x)
    where it is -1 (input and target broadcast); the target takes no gradient."""
    op = "hinge_embedding_loss"
    reduction_name = reduction_mode(op, reduction, size_average, reduce)
    _check_tensors(op, input=input, target=target)
    margin = _check_margin(op, margin)
    _broadcast_shape(op, input.shape, target.shape)
    if input.dtype.kind != "f":  # torch computes integers in integers, margin truncated
        raise NotImplementedForDtype(f"{op}: expected a floating-point input, got "
                                     f"{input.dtype} (torch's integer arithmetic here, with "
                                     f"the margin truncated, is not supported)")
    losses = HingeEmbedding.apply(input, target=_target_array(target, input), margin=margin)
    return reduce_losses(losses, reduction_name)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """torch.nn.functional.margin_ranking_loss: max(0, -y (x1 - x2) + margin) for targets y
    of 1 / -1 (x1 should rank higher) and -1; the three have one number of dims and
    broadcast."""
    op = "margin_ranking_loss"
    reduction_name = reduction_mode(op, reduction, size_average, reduce)
    _check_tensors(op, input1=input1, input2=input2, target=target)
    margin = _check_margin(op, margin)
    if not input1.ndim == input2.ndim == target.ndim:
        raise ShapeError(f"{op}: all input tensors should have the same number of dims, got "
                         f"input1 {input1.shape}, input2 {input2.shape}, target "
                         f"{target.shape}")
    _broadcast_shape(op, input1.shape, input2.shape, target.shape)
    input1, input2, target = _floating_operands(op, input1, input2, target)
    return reduce_losses(MarginRanking.apply(input1, input2, target, margin=margin),
                         reduction_name)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """torch.nn.functional.cosine_embedding_loss: 1 - cos(x1, x2) for a target of 1,
    max(0, cos - margin) for -1; inputs (N, D) with a target (N,), or (D,) with a 0-d
    target. The target takes no gradient."""
    op = "cosine_embedding_loss"
    reduction_name = reduction_mode(op, reduction, size_average, reduce)
    _check_tensors(op, input1=input1, input2=input2, target=target)
    margin = _check_margin(op, margin)
    if target.ndim > 1:
        raise ShapeError(f"{op}: 0D or 1D target tensor expected, multi-target not supported "
                         f"(got target of shape {target.shape})")
    expected = target.ndim + 1
    if input1.ndim != expected or input2.ndim != expected:
        raise ShapeError(f"{op}: a {target.ndim}-D target expects {expected}-D inputs, got "
                         f"input1 {input1.shape} and input2 {input2.shape}")
    rows = _broadcast_shape(op, input1.shape, input2.shape)[:-1]
    _broadcast_shape(op, rows, target.shape)  # one target per row
    input1, input2 = _floating_operands(op, input1, input2)
    losses = CosineEmbedding.apply(input1, input2, target=_target_array(target, input1),
                                   margin=margin)
    return reduce_losses(losses, reduction_name)
