"""Softmax family and losses, with torch's signatures and semantics: log_softmax, softmax,
cross_entropy (the kernels' fused log-softmax + NLL for plain (N, C) logits; otherwise
log_softmax + ClassNLL, or primitives for class-probability targets), nll_loss,
binary_cross_entropy, binary_cross_entropy_with_logits, mse_loss."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from ..autograd import Function, is_grad_enabled
from ..errors import ShapeError
from ..tensor import Tensor
from . import reduction
from .reduction import normalize_dims

REDUCTIONS = ("mean", "sum", "none")


def _rows(x, axis):
    """x with `axis` moved last, as a contiguous (rows, K) array, and the moved shape."""
    moved = np.moveaxis(x, axis, -1)
    rows = int(math.prod(moved.shape[:-1]))  # (not -1: ambiguous for an empty axis)
    return backend.contiguous(moved).reshape(rows, x.shape[axis]), moved.shape


def _as_row(x, axis):
    """A 0-d tensor's array as one row of one class (torch: softmax of a scalar is 1)."""
    return (x.reshape(1), 0) if x.ndim == 0 else (x, axis)


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.input_shape = x.shape
        x, axis = _as_row(x, axis)
        rows, moved_shape = _rows(x, axis)
        out = np.empty_like(rows)
        ctx.kernels.log_softmax_forward(rows, out)
        ctx.save_for_backward(out)
        ctx.axis, ctx.moved_shape = axis, moved_shape
        return np.moveaxis(out.reshape(moved_shape), -1, axis).reshape(ctx.input_shape)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        grad, _ = _as_row(grad, ctx.axis)
        grad_rows, _ = _rows(grad, ctx.axis)
        grad_x = np.empty_like(out)
        ctx.kernels.log_softmax_backward(grad_rows, out, grad_x)
        return np.moveaxis(grad_x.reshape(ctx.moved_shape), -1, ctx.axis) \
            .reshape(ctx.input_shape)


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        input_shape = x.shape
        x, axis = _as_row(x, axis)
        rows, moved_shape = _rows(x, axis)
        log_probs = np.empty_like(rows)
        ctx.kernels.log_softmax_forward(rows, log_probs)
        out = np.moveaxis(np.exp(log_probs).reshape(moved_shape), -1, axis)
        ctx.save_for_backward(out)
        ctx.axis, ctx.input_shape = axis, input_shape
        return out.reshape(input_shape)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        grad, _ = _as_row(grad, ctx.axis)
        grad_x = out * (grad - (grad * out).sum(axis=ctx.axis, keepdims=True))
        return grad_x.reshape(ctx.input_shape)


def _reduce(losses: Tensor, reduction_name: str) -> Tensor:
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


def _softmax_axis(op: str, x: Tensor, dim) -> int:
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point Tensor, got "
                        f"{getattr(x, 'dtype', type(x).__name__)}")
    if dim is None:
        raise TypeError(f"{op}: dim must be given (an int), as in torch")
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}: expected dim to be an int, got {dim!r}")
    axes = normalize_dims(op, dim, x.ndim)
    return axes[0] if axes else 0  # a 0-d tensor: dim 0 or -1, one element


def log_softmax(x: Tensor, dim: int = None) -> Tensor:
    return LogSoftmax.apply(x, axis=_softmax_axis("log_softmax", x, dim))


def softmax(x: Tensor, dim: int = None) -> Tensor:
    return Softmax.apply(x, axis=_softmax_axis("softmax", x, dim))


# ----- argument checks shared by the losses -------------------------------------------------

def _reduction(op: str, reduction_name: str, size_average=None, reduce=None) -> str:
    """The reduction, from torch's deprecated size_average/reduce flags when either is given."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction_name = "mean" if reduce and size_average else "sum" if reduce else "none"
    if reduction_name not in REDUCTIONS:
        raise ValueError(f"{op}: expected reduction in {REDUCTIONS}, got {reduction_name!r}")
    return reduction_name


def _check_scores(op: str, scores) -> int:
    """The class dim of a floating-point input of shape (C,) or (N, C, d1, ...)."""
    if not isinstance(scores, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(scores).__name__}")
    if scores.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {scores.dtype}")
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


def _check_constant(op: str, name: str, weight) -> None:
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
    """ClassNLL over log-probabilities of any supported layout; 'none' has target's shape."""
    flat = target._data.reshape(-1)
    losses = ClassNLL.apply(_rows_of_classes(scores), target=flat,
                            valid=flat != ignore_index, class_weight=weight,
                            smoothing=smoothing, reduction=reduction_name)
    return losses.reshape(target.shape) if reduction_name == "none" else losses


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
    reduction_name = _reduction(op, reduction, size_average, reduce)
    class_dim = _check_scores(op, input)
    smoothing = _check_smoothing(op, label_smoothing)
    class_weight = _check_class_weight(op, weight, input, class_dim)
    if isinstance(target, Tensor) and target.shape == input.shape:
        return _probability_targets(op, input, target, weight, ignore_index, smoothing,
                                    reduction_name, class_dim)
    _check_constant(op, "weight", weight)
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
    reduction_name = _reduction(op, reduction, size_average, reduce)
    class_dim = _check_scores(op, input)
    class_weight = _check_class_weight(op, weight, input, class_dim)
    _check_constant(op, "weight", weight)
    target, _ = _check_class_targets(op, input, target, ignore_index)
    return _class_nll(input, target, class_weight, ignore_index, 0.0, reduction_name)


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
    reduction_name = _reduction(op, reduction, size_average, reduce)
    _check_same_shape(op, input, target, reduction_name)
    _check_floating(op, input, target)
    if target.dtype != input.dtype:
        raise ShapeError(f"{op}: expected target of the input's dtype {input.dtype}, got "
                         f"{target.dtype}")
    _check_broadcasts_to(op, "weight", weight, input.shape)
    _check_constant(op, "weight", weight)
    # the CPU checks the range as torch does; a device would need a sync (NaN/inf instead)
    if input.device == "cpu" and input.numel() and \
            not bool(((input._data >= 0) & (input._data <= 1)).all()):
        raise RuntimeError(f"{op}: all elements of input should be between 0 and 1")
    losses = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        losses = losses * weight.to(losses.device)  # a host weight follows the input
    return _reduce(losses, reduction_name)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """torch.nn.functional.binary_cross_entropy_with_logits; weight and pos_weight broadcast
    to the input's shape (pos_weight: one weight per class, the last dim)."""
    op = "binary_cross_entropy_with_logits"
    reduction_name = _reduction(op, reduction, size_average, reduce)
    _check_same_shape(op, input, target, reduction_name)
    _check_floating(op, input, target)
    _check_broadcasts_to(op, "weight", weight, input.shape)
    _check_broadcasts_to(op, "pos_weight", pos_weight, input.shape)
    _check_constant(op, "weight", weight)
    _check_constant(op, "pos_weight", pos_weight)
    dtype = np.promote_types(input.dtype, target.dtype)  # torch: the loss in the wider dtype
    input, target = (t if t.dtype == dtype else t.to(dtype=dtype) for t in (input, target))
    losses = BinaryCrossEntropyWithLogits.apply(
        input, target, pos_weight=None if pos_weight is None else pos_weight.to(input.device)._data)
    if weight is not None:
        losses = losses * weight.to(losses.device)  # a host weight follows the input
    return _reduce(losses, reduction_name)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    _check_same_shape("mse_loss", input, target, reduction)
    if input.dtype.kind != "f" or target.dtype != input.dtype:
        raise TypeError(f"mse_loss: expected floating-point input and target of one dtype, "
                        f"got {input.dtype} and {target.dtype}")
    diff = input - target
    return _reduce(diff * diff, reduction)
