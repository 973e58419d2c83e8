"""Losses of a prediction against a target of its own shape, with torch's signatures and
semantics: l1_loss, mse_loss, smooth_l1_loss and huber_loss (with torch's warning when the
shapes differ and broadcast, and its optional elementwise weight), kl_div (with
'batchmean' and log_target) and poisson_nll_loss. Operands take torch's result dtype."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import dtypes
from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor
from . import reduction as reductions
from .losses import NotImplementedForDtype, legacy_reduction, reduce_losses, reduction_mode
from .promotion import as_operand, cast


class AbsoluteError(Function):
    """|x - y|; at x = y the gradient is 0 (sign), as torch's."""

    @staticmethod
    def forward(ctx, x, y):
        difference = x - y
        ctx.save_for_backward(np.sign(difference))
        return np.abs(difference)

    @staticmethod
    def backward(ctx, grad):
        slope = grad * ctx.saved[0]
        return slope, -slope


class SquaredError(Function):
    @staticmethod
    def forward(ctx, x, y):
        difference = x - y
        ctx.save_for_backward(difference)
        return difference * difference

    @staticmethod
    def backward(ctx, grad):
        slope = 2 * grad * ctx.saved[0]
        return slope, -slope


class SmoothL1(Function):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = x - y, beta > 0); its
    slope d / beta clipped to [-1, 1] is continuous, so the kink at |d| = beta is torch's."""

    @staticmethod
    def forward(ctx, x, y, beta):
        difference = x - y
        size = np.abs(difference)
        ctx.save_for_backward(difference)
        ctx.beta = beta
        return np.where(size < beta, 0.5 * difference * difference / beta, size - 0.5 * beta)

    @staticmethod
    def backward(ctx, grad):
        slope = grad * np.minimum(np.maximum(ctx.saved[0] / ctx.beta, -1), 1)
        return slope, -slope


class Huber(Function):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta): smooth_l1 times delta."""

    @staticmethod
    def forward(ctx, x, y, delta):
        difference = x - y
        size = np.abs(difference)
        ctx.save_for_backward(difference)
        ctx.delta = delta
        return np.where(size < delta, 0.5 * difference * difference,
                        delta * (size - 0.5 * delta))

    @staticmethod
    def backward(ctx, grad):
        slope = grad * np.minimum(np.maximum(ctx.saved[0], -ctx.delta), ctx.delta)
        return slope, -slope


class KLDivergence(Function):
    """Pointwise y (log y - x) for log-probabilities x, with torch's xlogy(y, y) (0 where
    y = 0); with log_target, exp(y) (y - x). The target's gradient is torch's too: NaN where
    a probability target is 0."""

    @staticmethod
    def forward(ctx, x, y, log_target):
        ctx.save_for_backward(x, y)
        ctx.log_target = log_target
        with np.errstate(divide="ignore", invalid="ignore"):  # log of 0 or < 0, as torch
            if log_target:
                return np.exp(y) * (y - x)
            return np.where(y == 0, 0, y * np.log(y)) - y * x

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.log_target:
                weight = np.exp(y)
                return -grad * weight, grad * weight * (y - x + 1)
            # xlogy's gradient at y = 0 is 0 / 0 in torch
            return -grad * y, grad * (np.where(y == 0, np.nan, np.log(y) + 1) - x)


class PoissonNLL(Function):
    """exp(x) - y x for log rates x (log_input), else x - y log(x + eps); `full` adds
    Stirling's y log y - y + 0.5 log(2 pi y) where y > 1. torch's target gradient of the
    masked Stirling term is 0 * (log y + 0.5 / y): NaN where y <= 0."""

    @staticmethod
    def forward(ctx, x, y, log_input, full, eps):
        ctx.save_for_backward(x, y)
        ctx.log_input, ctx.full, ctx.eps = log_input, full, eps
        with np.errstate(divide="ignore", invalid="ignore"):
            losses = np.exp(x) - y * x if log_input else x - y * np.log(x + eps)
            if full:
                stirling = y * np.log(y) - y + 0.5 * np.log(2 * math.pi * y)
                losses = losses + np.where(y > 1, stirling, 0)
        return losses

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.log_input:
                grad_x, grad_y = grad * (np.exp(x) - y), -grad * x
            else:
                grad_x, grad_y = grad * (1 - y / (x + ctx.eps)), -grad * np.log(x + ctx.eps)
            if ctx.full:
                stirling = np.where(y > 1, np.log(y) + 0.5 / y, np.where(y > 0, 0, np.nan))
                grad_y = grad_y + grad * stirling
        return grad_x, grad_y


# ----- argument checks ---------------------------------------------------------------------

def _check_pair(op: str, input, target, warn: bool) -> None:
    """Two tensors that broadcast together, with torch's warning when their shapes differ."""
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected input and target to be Tensors, got "
                        f"{type(input).__name__} and {type(target).__name__}")
    if input.shape == target.shape:
        return
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise ShapeError(f"{op}: expected target of the input's shape {input.shape}, got "
                         f"{target.shape}, and the two do not broadcast together") from None
    if warn:
        warnings.warn(f"{op}: Using a target size {target.shape} that is different to the "
                      f"input size {input.shape}. This will likely lead to incorrect results "
                      f"due to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=3)


def _promoted(op: str, input: Tensor, target: Tensor, integral_error=ShapeError) -> tuple:
    """Both operands in torch's result dtype, which must be floating point (an integer one
    raises `integral_error`, the class torch raises for the op)."""
    dtype = dtypes.result_type(input, target)
    if dtype.kind != "f":
        raise integral_error(f"{op}: expected a floating-point input or target, got "
                             f"{input.dtype} and {target.dtype} (not supported, as in torch)")
    return as_operand(input, dtype, input), as_operand(target, dtype, target)


def _check_positive(op: str, name: str, value, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: expected {name} to be a number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "negative" if allow_zero else "non-positive"
        raise ShapeError(f"{op} does not support {bound} values for {name}, got {value}")
    return float(value)


def _reduce(op: str, losses: Tensor, input_shape: tuple, reduction_name: str, weight,
            mean_over_weights: bool = True) -> Tensor:
    """The losses reduced; with torch's elementwise weight (of the input's shape), 'mean'
    divides the weighted sum by the weights' sum (l1, mse) or the count (huber)."""
    if weight is None:
        return reduce_losses(losses, reduction_name)
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}: expected weight to be a Tensor or None, got "
                        f"{type(weight).__name__}")
    if weight.shape != input_shape:
        raise ValueError(f"{op}: Weights and input must have the same size: expected weight "
                         f"of shape {input_shape}, got {weight.shape}")
    weighted = losses * weight.to(losses.device)  # a host weight follows the input
    if reduction_name != "mean" or not mean_over_weights:
        return reduce_losses(weighted, reduction_name)
    return reductions.sum(weighted) / reductions.sum(weight.to(losses.device))


# ----- the losses -------------------------------------------------------------------------

def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """torch.nn.functional.l1_loss: |input - target|, reduced."""
    op = "l1_loss"
    reduction_name = reduction_mode(op, reduction, size_average, reduce)
    _check_pair(op, input, target, warn=True)
    if dtypes.bool_ in (input.dtype, target.dtype):
        raise NotImplementedForDtype(f"{op}: subtraction of a bool tensor is not supported "
                                     f"(got {input.dtype} and {target.dtype}), as in torch")
    dtype = dtypes.result_type(input, target)
    if dtype.kind != "f" and reduction_name == "mean":  # torch: integer 'sum' / 'none' only
        raise ShapeError(f"{op}: the mean of integer losses has no dtype (got {input.dtype} "
                         f"and {target.dtype}); use floating-point tensors or 'sum'")
    shape = input.shape
    losses = AbsoluteError.apply(as_operand(input, dtype, input),
                                 as_operand(target, dtype, target))
    return _reduce(op, losses, shape, reduction_name, weight)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """torch.nn.functional.mse_loss: (input - target)^2, reduced."""
    op = "mse_loss"
    reduction_name = reduction_mode(op, reduction, size_average, reduce)
    _check_pair(op, input, target, warn=True)
    shape = input.shape
    losses = SquaredError.apply(*_promoted(op, input, target, NotImplementedForDtype))
    return _reduce(op, losses, shape, reduction_name, weight)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """torch.nn.functional.smooth_l1_loss: quadratic below beta, linear above; beta = 0 is
    l1_loss."""
    op = "smooth_l1_loss"
    reduction_name = reduction_mode(op, reduction, size_average, reduce)
    _check_pair(op, input, target, warn=True)
    beta = _check_positive(op, "beta", beta, allow_zero=True)
    input, target = _promoted(op, input, target, NotImplementedForDtype)
    losses = AbsoluteError.apply(input, target) if beta == 0 else \
        SmoothL1.apply(input, target, beta=beta)
    return reduce_losses(losses, reduction_name)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """torch.nn.functional.huber_loss: quadratic below delta, linear above; the loss has the
    input's dtype (computed in the operands' result dtype)."""
    op = "huber_loss"
    reduction_name = reduction_mode(op, reduction)
    _check_pair(op, input, target, warn=True)
    delta = _check_positive(op, "delta", delta, allow_zero=False)
    input_dtype, shape = input.dtype, input.shape
    losses = Huber.apply(*_promoted(op, input, target, NotImplementedForDtype), delta=delta)
    if losses.dtype != input_dtype:
        if input_dtype.kind != "f":
            raise ShapeError(f"{op}: result type {losses.dtype} can't be cast to the input's "
                             f"dtype {input_dtype} (the loss has the input's dtype)")
        losses = cast(losses, input_dtype)
    return _reduce(op, losses, shape, reduction_name, weight, mean_over_weights=False)


KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """torch.nn.functional.kl_div: pointwise KL divergence of the target from log-
    probabilities `input` (target as probabilities, or log-probabilities with log_target).
    'batchmean' divides the sum by the batch size (input.shape[0]), the KL divergence;
    'mean' divides by every element's count, with torch's warning about that."""
    op = "kl_div"
    if size_average is not None or reduce is not None:
        summed = legacy_reduction(size_average, reduce)
    elif reduction not in KL_REDUCTIONS:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction, expected "
                         f"one of {KL_REDUCTIONS}")
    else:
        if reduction == "mean":
            warnings.warn("kl_div: reduction: 'mean' divides the total loss by both the batch "
                          "size and the support size.'batchmean' divides only by the batch "
                          "size, and aligns with the KL div math definition.'mean' will be "
                          "changed to behave the same as 'batchmean' in the next major "
                          "release.", UserWarning, stacklevel=2)
        summed = "sum" if reduction == "batchmean" else reduction
    _check_pair(op, input, target, warn=False)
    if input.dtype.kind != "f" or target.dtype.kind != "f":
        raise ShapeError(f"{op}: Integral inputs not supported: expected floating-point input "
                         f"and target, got {input.dtype} and {target.dtype}")
    batch = input.shape[0] if input.ndim else None
    input, target = _promoted(op, input, target)
    losses = reduce_losses(KLDivergence.apply(input, target, log_target=bool(log_target)),
                           summed)
    # torch divides by the batch also when the deprecated flags chose the reduction
    return losses / batch if reduction == "batchmean" and batch is not None else losses


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """torch.nn.functional.poisson_nll_loss: the negative log-likelihood of counts `target`
    under Poisson rates exp(input) (log_input) or input (+ eps inside the log)."""
    op = "poisson_nll_loss"
    reduction_name = reduction_mode(op, reduction, size_average, reduce)
    _check_pair(op, input, target, warn=False)
    dtype = dtypes.result_type(input, target)
    if dtype == dtypes.bool_:  # torch: x - y x of bools has no subtraction
        raise NotImplementedForDtype(f"{op}: not implemented for bool input and target")
    dtype = dtypes.float_result(dtype)  # integer counts and rates: the default float
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"{op}: expected eps to be a number, got {eps!r}")
    losses = PoissonNLL.apply(as_operand(input, dtype, input), as_operand(target, dtype, target),
                              log_input=bool(log_input), full=bool(full), eps=float(eps))
    return reduce_losses(losses, reduction_name)
