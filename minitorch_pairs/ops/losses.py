"""Softmax family and losses: log_softmax, softmax, cross_entropy (fused log-softmax + NLL),
nll_loss, binary_cross_entropy_with_logits, mse_loss."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from ..autograd import Function
from ..tensor import Tensor
from . import reduction
from .reduction import normalize_dims

REDUCTIONS = ("mean", "sum", "none")


def _rows(x, axis):
    """x with `axis` moved last, as a contiguous (rows, K) array, and the moved shape."""
    moved = np.moveaxis(x, axis, -1)
    rows = int(math.prod(moved.shape[:-1]))  # (not -1: ambiguous for an empty axis)
    return backend.contiguous(moved).reshape(rows, x.shape[axis]), moved.shape


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        rows, moved_shape = _rows(x, axis)
        out = np.empty_like(rows)
        ctx.kernels.log_softmax_forward(rows, out)
        ctx.save_for_backward(out)
        ctx.axis, ctx.moved_shape = axis, moved_shape
        return np.moveaxis(out.reshape(moved_shape), -1, axis)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        grad_rows, _ = _rows(grad, ctx.axis)
        grad_x = np.empty_like(out)
        ctx.kernels.log_softmax_backward(grad_rows, out, grad_x)
        return np.moveaxis(grad_x.reshape(ctx.moved_shape), -1, ctx.axis)


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        rows, moved_shape = _rows(x, axis)
        log_probs = np.empty_like(rows)
        ctx.kernels.log_softmax_forward(rows, log_probs)
        out = np.moveaxis(np.exp(log_probs).reshape(moved_shape), -1, axis)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return out * (grad - (grad * out).sum(axis=ctx.axis, keepdims=True))


def _reduce(losses: Tensor, reduction_name: str) -> Tensor:
    if reduction_name == "mean":
        return reduction.mean(losses)
    if reduction_name == "sum":
        return reduction.sum(losses)
    return losses


class CrossEntropy(Function):
    """Per-sample -log softmax(logits)[target], fused so no probabilities are formed, and
    reduced in the same op: the loss is one node of the graph, not three."""

    @staticmethod
    def forward(ctx, logits, target, reduction):
        logits = backend.contiguous(logits)
        log_probs = np.empty_like(logits)
        losses = backend.empty(logits.shape[0], logits.dtype, like=logits)
        ctx.kernels.cross_entropy_forward(logits, target, log_probs, losses)
        ctx.save_for_backward(log_probs, target)
        # each sample's share of a reduced loss (None: no reduction)
        ctx.share = None if reduction == "none" else \
            1.0 / losses.shape[0] if reduction == "mean" else 1.0
        if ctx.share is None:
            return losses
        total = losses.sum() * ctx.share
        return np.asarray(total) if isinstance(total, np.generic) else total

    @staticmethod
    def backward(ctx, grad):
        log_probs, target = ctx.saved
        if ctx.share is None:
            grad = backend.contiguous(grad)
        else:  # every sample's loss gets the same share of the reduced loss's gradient
            share = grad * ctx.share
            grad = backend.empty(log_probs.shape[0], log_probs.dtype, like=log_probs)
            grad[...] = share
        grad_logits = np.empty_like(log_probs)
        ctx.kernels.cross_entropy_backward(log_probs, target, grad, grad_logits)
        return grad_logits


class BinaryCrossEntropyWithLogits(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        # max(x, 0) - x*y + log(1 + exp(-|x|)): no overflow for any x
        return np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        e = np.exp(-np.abs(x))
        sigmoid = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return (grad * (sigmoid - y)).astype(x.dtype, copy=False), -grad * x


def _softmax_axis(op: str, x: Tensor, dim) -> int:
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point Tensor, got "
                        f"{getattr(x, 'dtype', type(x).__name__)}")
    if dim is None:
        raise TypeError(f"{op}: dim must be given (an int), as in torch")
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}: expected dim to be an int, got {dim!r}")
    if x.ndim == 0:
        raise ValueError(f"{op}: expected at least 1 dim, got a 0-d tensor")
    return normalize_dims(op, dim, x.ndim)[0]


def log_softmax(x: Tensor, dim: int = None) -> Tensor:
    return LogSoftmax.apply(x, axis=_softmax_axis("log_softmax", x, dim))


def softmax(x: Tensor, dim: int = None) -> Tensor:
    return Softmax.apply(x, axis=_softmax_axis("softmax", x, dim))


def _check_class_targets(op: str, scores: Tensor, target, reduction_name: str) -> Tensor:
    if reduction_name not in REDUCTIONS:
        raise ValueError(f"{op}: expected reduction in {REDUCTIONS}, got {reduction_name!r}")
    if not isinstance(scores, Tensor) or scores.ndim != 2 or scores.dtype.kind != "f":
        raise ValueError(f"{op}: expected a floating-point input of shape (N, C), got "
                         f"{getattr(scores, 'shape', type(scores).__name__)}")
    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected target to be an int64 Tensor, got "
                        f"{type(target).__name__}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected target of class indices (int64), got dtype "
                        f"{target.dtype}; class-probability targets are not supported")
    if target.shape != scores.shape[:1]:
        raise ValueError(f"{op}: expected target of shape ({scores.shape[0]},) for input "
                         f"{scores.shape}, got {target.shape}")
    classes = scores.shape[1]
    values = target.data
    # On the device the check would cost a sync per loss; there the kernels give an
    # out-of-range target a NaN loss instead (torch's CUDA kernels assert on the device).
    if target.device == "cpu" and target.numel() and \
            (values.min() < 0 or values.max() >= classes):
        bad = values[(values < 0) | (values >= classes)][0]
        raise IndexError(f"{op}: target {bad} is out of range for {classes} classes "
                         f"(expected 0 <= target < {classes})")
    if scores.shape[0] == 0 and reduction_name == "mean":
        raise ValueError(f"{op}: mean over an empty batch (input shape {scores.shape})")
    return Tensor._from_array(backend.contiguous(target.data).astype(np.int64, copy=False),
                              target.device)



def cross_entropy(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    target = _check_class_targets("cross_entropy", input, target, reduction)
    return CrossEntropy.apply(input, target=target.data, reduction=reduction)


def nll_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    target = _check_class_targets("nll_loss", input, target, reduction)
    rows = np.arange(input.shape[0])
    if target.device == "cpu":
        return _reduce(-input[rows, target.data], reduction)
    # unchecked device targets: an out-of-range one gives NaN, as in cross_entropy's kernels
    valid = (target.data >= 0) & (target.data < input.shape[1])
    picked = input[rows, np.where(valid, target.data, 0)]
    nan = Tensor._from_array(np.where(valid, 0.0, np.nan).astype(input.dtype), input.device)
    return _reduce(-picked + nan, reduction)


def _check_same_shape(op: str, input: Tensor, target: Tensor, reduction_name: str) -> None:
    if reduction_name not in REDUCTIONS:
        raise ValueError(f"{op}: expected reduction in {REDUCTIONS}, got {reduction_name!r}")
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected Tensors, got {type(input).__name__} and "
                        f"{type(target).__name__}")
    if input.shape != target.shape:
        raise ValueError(f"{op}: expected target of the input's shape {input.shape}, "
                         f"got {target.shape}")
    if input.dtype.kind != "f" or target.dtype != input.dtype:
        raise TypeError(f"{op}: expected floating-point input and target of one dtype, got "
                        f"{input.dtype} and {target.dtype}")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     reduction: str = "mean") -> Tensor:
    _check_same_shape("binary_cross_entropy_with_logits", input, target, reduction)
    losses = BinaryCrossEntropyWithLogits.apply(input, target)
    return _reduce(losses, reduction)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    _check_same_shape("mse_loss", input, target, reduction)
    diff = input - target
    return _reduce(diff * diff, reduction)
