"""Class losses, with torch's signatures and semantics: cross_entropy (the kernels' fused
log-softmax + NLL for plain (N, C) logits; otherwise log_softmax + ClassNLL, or primitives
for class-probability targets) and nll_loss; and what every loss shares (the reduction and
its deprecated flags, the check that a weight is a constant)."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import backend
from ..autograd import Function, is_grad_enabled
from ..errors import ShapeError
from ..tensor import Tensor
from . import reduction
from .softmax import log_softmax

REDUCTIONS = ("mean", "sum", "none")


class NotImplementedForDtype(NotImplementedError, TypeError):
    """torch's NotImplementedError for a dtype its kernels do not take (an integer input to
    a loss); also a TypeError, the class this framework gives a wrong argument type."""


def reduce_losses(losses: Tensor, reduction_name: str) -> Tensor:
    """Per-element losses reduced as `reduction` asks: their mean, their sum, or themselves."""
    if reduction_name == "mean":
        return reduction.mean(losses)
    if reduction_name == "sum":
        return reduction.sum(losses)
    return losses


def _as_output(total):
    """A NumPy scalar from a whole-array reduction, as the 0-d array a Function returns."""
    return np.asarray(total) if isinstance(total, np.generic) else total


def _mean_or_nan(total, count):
    """total / count, NaN where count is 0 (torch's mean over nothing), with no NumPy 0/0
    warning: the division only ever sees a non-zero count."""
    nothing = count == 0
    quotient = total / np.where(nothing, 1, count)
    return _as_output(np.where(nothing, np.nan, quotient).astype(total.dtype, copy=False))


class CrossEntropy(Function):
    """Per-sample -log softmax(logits)[target], fused so no probabilities are formed, and
    reduced in the same op: the loss is one node of the graph, not three. `valid` (or None
    when no target is ignored) masks the rows whose target is ignore_index; their targets
    come in replaced by 0, so the kernels never index with them."""

    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, logits, target, reduction, valid=None):
        logits = backend.contiguous(logits)
        log_probs = np.empty_like(logits)
        losses = backend.empty(logits.shape[0], logits.dtype, like=logits)
        ctx.kernels.cross_entropy_forward(logits, target, log_probs, losses)
        ctx.save_for_backward(log_probs, target)
        ctx.reduction, ctx.valid = reduction, valid
        if valid is not None:
            losses = np.where(valid, losses, 0).astype(losses.dtype, copy=False)
        if reduction == "none":
            return losses
        if reduction == "sum":
            return _as_output(losses.sum())
        count = losses.shape[0] if valid is None else valid.sum()
        ctx.count = count
        return _mean_or_nan(losses.sum(), count) if valid is not None else \
            _as_output(losses.sum() * (1.0 / count))

    @staticmethod
    def backward(ctx, grad):
        log_probs, target = ctx.saved
        rows = log_probs.shape[0]
        if ctx.reduction == "none":
            grad = backend.contiguous(grad)
        else:  # every sample's loss gets the same share of the reduced loss's gradient
            share = grad if ctx.reduction == "sum" else \
                _mean_or_nan(grad, ctx.count) if ctx.valid is not None else grad * (1.0 / rows)
            grad = backend.empty(rows, log_probs.dtype, like=log_probs)
            grad[...] = share
        if ctx.valid is not None:  # ignored rows pass no gradient
            grad = backend.contiguous(np.where(ctx.valid, grad, 0).astype(log_probs.dtype))
        grad_logits = np.empty_like(log_probs)
        ctx.kernels.cross_entropy_backward(log_probs, target, grad, grad_logits)
        return grad_logits


class ClassNLL(Function):
    """torch's negative log-likelihood of class-index targets over (M, C) log-probabilities:
    class weights, ignored rows (`valid` False) and label smoothing, reduced in the same op.

    loss_i = valid_i * ((1 - eps) * -w[t_i] * lp[i, t_i] + eps / C * -sum_c w[c] lp[i, c]);
    'mean' divides the sum by the total weight of the valid rows' targets (NaN when 0)."""

    @staticmethod
    def forward(ctx, log_probs, target, valid, class_weight, smoothing, reduction):
        classes = log_probs.shape[1]
        # a device cannot raise on a bad target without a sync: its row's loss is NaN
        in_range = (target >= 0) & (target < classes)
        safe = np.where(valid & in_range, target, 0)
        validity = valid.astype(log_probs.dtype)
        row_weight = validity if class_weight is None else validity * class_weight[safe]
        picked = np.take_along_axis(log_probs, safe.reshape(-1, 1), axis=1).reshape(-1)
        losses = -(1.0 - smoothing) * row_weight * picked
        if smoothing:
            weighted = log_probs if class_weight is None else log_probs * class_weight
            losses = losses - (smoothing / classes) * validity * weighted.sum(axis=1)
        answered = np.where(valid, in_range, True)  # an ignored row's loss is 0, never NaN
        losses = np.where(answered, losses, np.nan).astype(log_probs.dtype, copy=False)
        ctx.save_for_backward(safe, valid, row_weight, class_weight)
        ctx.shape, ctx.smoothing, ctx.reduction = log_probs.shape, smoothing, reduction
        if reduction == "none":
            return losses
        if reduction == "sum":
            return _as_output(losses.sum())
        ctx.total_weight = row_weight.sum()
        return _mean_or_nan(losses.sum(), ctx.total_weight)

    @staticmethod
    def backward(ctx, grad):
        safe, valid, row_weight, class_weight = ctx.saved
        rows, classes = ctx.shape
        if ctx.reduction == "mean":
            grad = _mean_or_nan(grad, ctx.total_weight)
        # each row's upstream gradient; ignored rows get none, even when the mean is NaN
        upstream = np.where(valid, np.broadcast_to(grad, (rows,)), 0).astype(row_weight.dtype)
        # the target's share into zeros (the device's put_along_axis writes into zeros only)
        grad_lp = backend.zeros((rows, classes), row_weight.dtype, like=row_weight)
        nll = -(1.0 - ctx.smoothing) * row_weight * upstream
        np.put_along_axis(grad_lp, safe.reshape(-1, 1), nll.reshape(-1, 1), axis=1)
        if ctx.smoothing:  # every class's share of the smoothing term
            spread = (-ctx.smoothing / classes) * upstream.reshape(-1, 1)
            grad_lp = grad_lp + spread * (1.0 if class_weight is None else class_weight)
        return grad_lp


# ----- argument checks shared by the losses -------------------------------------------------

def reduction_mode(op: str, reduction_name: str, size_average=None, reduce=None) -> str:
    """The reduction, from torch's deprecated size_average/reduce flags (with torch's
    deprecation warning) when either is given."""
    if size_average is not None or reduce is not None:
        reduction_name = legacy_reduction(size_average, reduce)
    if reduction_name not in REDUCTIONS:
        raise ValueError(f"{op}: expected reduction in {REDUCTIONS}, got {reduction_name!r}")
    return reduction_name


def legacy_reduction(size_average, reduce) -> str:
    """The reduction torch's deprecated flags stand for (None counts as True), warned about
    as torch does."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    name = "mean" if reduce and size_average else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{name}' instead.", UserWarning, stacklevel=4)
    return name


def _check_scores(op: str, scores) -> int:
    """The class dim of a floating-point input of shape (C,) or (N, C, d1, ...)."""
    if not isinstance(scores, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(scores).__name__}")
    if scores.dtype.kind != "f":
        raise NotImplementedForDtype(f"{op}: expected a floating-point input, got dtype "
                                     f"{scores.dtype} (not implemented for it, as in torch)")
    if scores.ndim == 0:
        raise ShapeError(f"{op}: expected an input of shape (C,) or (N, C, ...), got a 0-d "
                         f"tensor")
    return 0 if scores.ndim == 1 else 1


def _check_class_weight(op: str, weight, scores: Tensor, class_dim: int):
    """The class weights' array (or None): a (C,) tensor of the input's dtype, as torch."""
    if weight is None:
        return None
    classes = scores.shape[class_dim]
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}: expected weight to be a Tensor or None, got "
                        f"{type(weight).__name__}")
    if weight.shape != (classes,):
        raise ShapeError(f"{op}: weight tensor should be defined either for all {classes} "
                         f"classes or no classes, expected shape ({classes},), got "
                         f"{weight.shape}")
    if weight.dtype != scores.dtype:
        raise ShapeError(f"{op}: expected weight of the input's dtype {scores.dtype}, got "
                         f"{weight.dtype}")
    return weight.to(scores.device)._data  # a host weight follows the input, as targets do


def check_constant(op: str, name: str, weight) -> None:
    """torch has no gradient for these weights and refuses one that asks for it."""
    if weight is not None and weight.requires_grad and is_grad_enabled():
        raise RuntimeError(f"{op}: not differentiable with respect to {name}; expected a "
                           f"{name} with requires_grad=False")


def _check_class_targets(op: str, scores: Tensor, target, ignore_index: int) -> tuple:
    """Class-index targets of the input's shape without the class dim (torch's checks and
    exception classes); on the CPU every target is in [0, C) or is ignore_index. Returns the
    targets and whether none is ignored (known on the CPU; False on a device, which cannot
    tell without a sync)."""
    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected target to be an int64 Tensor, got "
                        f"{type(target).__name__}")
    if target.dtype not in (np.int64, np.uint8):
        raise ShapeError(f"{op}: expected target dtype int64 (class indices) or uint8, got "
                         f"{target.dtype}")
    if not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{op}: expected ignore_index to be an int, got {ignore_index!r}")
    _check_target_shape(op, scores, target)
    values = target._data.astype(np.int64, copy=False)
    classes = scores.shape[0 if scores.ndim == 1 else 1]
    # On the device the check would cost a sync per loss; there the kernels give an
    # out-of-range target a NaN loss instead (torch's CUDA kernels assert on the device).
    none_ignored = False
    if target.device == "cpu":
        none_ignored = not values.size or (values.min() >= 0 and values.max() < classes)
        if not none_ignored:
            bad = ((values < 0) | (values >= classes)) & (values != ignore_index)
            if bad.any():
                raise IndexError(f"{op}: target {values[bad][0]} is out of range for "
                                 f"{classes} classes (expected 0 <= target < {classes}, or "
                                 f"ignore_index {ignore_index})")
        if 0 <= ignore_index < classes:  # an ignored target can be a class index too
            none_ignored = none_ignored and not bool((values == ignore_index).any())
    # host targets for a device input travel with it (the training loop's batches do)
    return (Tensor._from_array(backend.contiguous(values), target.device).to(scores.device),
            none_ignored)


def _check_target_shape(op: str, scores: Tensor, target: Tensor) -> None:
    if scores.ndim == 1:  # unbatched: one target, 0-d (torch also takes shape (1,))
        if target.ndim > 1 or (target.ndim == 1 and target.shape[0] != 1):
            raise ValueError(f"{op}: for an input of shape {scores.shape} (one sample), "
                             f"expected a 0-d target (or of shape (1,)), got {target.shape}")
        return
    batch = target.shape[0] if target.ndim else 0
    if batch != scores.shape[0]:
        raise ValueError(f"{op}: expected input batch_size ({scores.shape[0]}) to match "
                         f"target batch_size ({batch}): input {scores.shape}, target "
                         f"{target.shape}")
    expected = scores.shape[:1] + scores.shape[2:]
    if target.shape != expected:
        raise ShapeError(f"{op}: expected target of shape {expected} for input "
                         f"{scores.shape}, got {target.shape}")


def _rows_of_classes(scores: Tensor) -> Tensor:
    """(C,) or (N, C, d1, ...) scores as (M, C) rows, one per target: class dim last."""
    if scores.ndim == 1:
        return scores.reshape(1, -1)
    if scores.ndim == 2:
        return scores
    order = (0,) + tuple(range(2, scores.ndim)) + (1,)
    return scores.permute(*order).reshape(-1, scores.shape[1])


def _class_nll(scores: Tensor, target: Tensor, weight, ignore_index: int, smoothing: float,
               reduction_name: str) -> Tensor:
    """ClassNLL over log-probabilities of any supported layout; 'none' has target's shape
    (0-d for one unbatched sample, also when its target came as shape (1,))."""
    flat = target._data.reshape(-1)
    losses = ClassNLL.apply(_rows_of_classes(scores), target=flat,
                            valid=flat != ignore_index, class_weight=weight,
                            smoothing=smoothing, reduction=reduction_name)
    if reduction_name != "none":
        return losses
    return losses.reshape(() if scores.ndim == 1 else target.shape)


def _check_smoothing(op: str, label_smoothing) -> float:
    if not isinstance(label_smoothing, numbers.Real):
        raise TypeError(f"{op}: expected label_smoothing to be a float, got "
                        f"{label_smoothing!r}")
    if label_smoothing > 1.0:
        raise ShapeError(f"{op}: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    return max(float(label_smoothing), 0.0)  # torch: <= 0 is no smoothing


def _fused_cross_entropy(scores: Tensor, target: Tensor, ignore_index: int,
                         reduction_name: str, none_ignored: bool) -> Tensor:
    """The kernels' fused path for (N, C) logits, ignored targets masked (unless none is)."""
    valid = None if none_ignored else target._data != ignore_index
    safe = target._data if valid is None else np.where(valid, target._data, 0)
    return CrossEntropy.apply(scores, target=safe, reduction=reduction_name, valid=valid)


def _probability_cross_entropy(scores: Tensor, target: Tensor, weight, smoothing: float,
                               reduction_name: str, class_dim: int) -> Tensor:
    """Cross entropy against class probabilities, from differentiable primitives; 'mean'
    divides by the number of samples (N d1 ...), not by weights, as torch."""
    classes = scores.shape[class_dim]
    if smoothing:
        target = target * (1.0 - smoothing) + smoothing / classes
    terms = log_softmax(scores, class_dim) * target
    if weight is not None:
        shape = [1] * scores.ndim
        shape[class_dim] = classes
        terms = terms * weight.to(scores.device).reshape(*shape)
    losses = -reduction.sum(terms, class_dim)
    if reduction_name == "none":
        return losses
    total = reduction.sum(losses)
    if reduction_name == "sum":
        return total
    samples = scores.numel() // classes if classes else 0
    return total * (1.0 / samples if samples else math.nan)


# ----- the losses -------------------------------------------------------------------------

def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """torch.nn.functional.cross_entropy: input (C,), (N, C) or (N, C, d1, ...) logits;
    target class indices (the input's shape without C) or class probabilities (the
    input's shape, floating point)."""
    op = "cross_entropy"
    reduction_name = reduction_mode(op, reduction, size_average, reduce)
    class_dim = _check_scores(op, input)
    smoothing = _check_smoothing(op, label_smoothing)
    class_weight = _check_class_weight(op, weight, input, class_dim)
    if isinstance(target, Tensor) and target.shape == input.shape:
        return _probability_targets(op, input, target, weight, ignore_index, smoothing,
                                    reduction_name, class_dim)
    check_constant(op, "weight", weight)
    target, none_ignored = _check_class_targets(op, input, target, ignore_index)
    if input.ndim == 2 and class_weight is None and not smoothing and input.shape[0]:
        return _fused_cross_entropy(input, target, ignore_index, reduction_name, none_ignored)
    return _class_nll(log_softmax(input, class_dim), target, class_weight, ignore_index,
                      smoothing, reduction_name)


def _probability_targets(op, input, target, weight, ignore_index, smoothing,
                         reduction_name, class_dim) -> Tensor:
    if target.dtype.kind != "f":
        raise ShapeError(f"{op}: expected a floating-point target with class probabilities "
                         f"(the input's shape {input.shape}), got dtype {target.dtype}")
    if ignore_index >= 0:
        raise ShapeError(f"{op}: ignore_index is not supported for class-probability targets "
                         f"(expected a negative ignore_index, got {ignore_index})")
    return _probability_cross_entropy(input, target, weight, smoothing, reduction_name,
                                      class_dim)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """torch.nn.functional.nll_loss: input (C,), (N, C) or (N, C, d1, ...) log-probabilities,
    target class indices of the input's shape without C."""
    op = "nll_loss"
    reduction_name = reduction_mode(op, reduction, size_average, reduce)
    class_dim = _check_scores(op, input)
    class_weight = _check_class_weight(op, weight, input, class_dim)
    check_constant(op, "weight", weight)
    target, _ = _check_class_targets(op, input, target, ignore_index)
    return _class_nll(input, target, class_weight, ignore_index, 0.0, reduction_name)


