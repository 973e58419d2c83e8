"""The ops that behave differently in training and evaluation: batch_norm and dropout."""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend, random
from ..autograd import Function, no_grad
from ..errors import ShapeError
from ..tensor import Tensor, expect_tensors
from .elementwise import mul


class BatchNormTrain(Function):
    """Normalise with the batch's statistics; backward goes through them."""

    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        rows = backend.contiguous(x).reshape(x.shape[0], x.shape[1], -1)
        channels = x.shape[1]
        out = np.empty_like(rows)
        mean = backend.empty(channels, x.dtype, like=x)
        invstd = backend.empty(channels, x.dtype, like=x)
        ctx.kernels.batch_norm_train_forward(rows, weight, bias, eps, out, mean, invstd)
        ctx.save_for_backward(rows, weight, mean, invstd)
        ctx.shape = x.shape
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        rows, weight, mean, invstd = ctx.saved
        grad_rows = backend.contiguous(grad).reshape(rows.shape)
        # in the input's shape, so that a leaf keeps it (a reshaped view would be copied)
        grad_x = backend.empty(ctx.shape, rows.dtype, like=rows)
        grad_weight, grad_bias = np.empty_like(weight), np.empty_like(weight)
        ctx.kernels.batch_norm_backward(grad_rows, rows, mean, invstd, weight,
                                        grad_x.reshape(rows.shape), grad_weight, grad_bias)
        return grad_x, grad_weight, grad_bias


class BatchNormEval(Function):
    """Normalise with fixed running statistics: an affine map per channel."""

    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps):
        rows = backend.contiguous(x).reshape(x.shape[0], x.shape[1], -1)
        out = np.empty_like(rows)
        ctx.kernels.batch_norm_eval_forward(rows, weight, bias, running_mean, running_var,
                                            eps, out)
        invstd = (1 / np.sqrt(running_var + eps)).astype(x.dtype)
        ctx.save_for_backward(rows, weight, running_mean, invstd)
        ctx.shape = x.shape
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        rows, weight, running_mean, invstd = ctx.saved
        grad_rows = grad.reshape(rows.shape)
        x_hat = (rows - running_mean[:, None]) * invstd[:, None]
        grad_x = grad_rows * (weight * invstd)[:, None]
        return (grad_x.reshape(ctx.shape), (grad_rows * x_hat).sum(axis=(0, 2)),
                grad_rows.sum(axis=(0, 2)))


def _check_channel_vector(name: str, t, channels: int, x: Tensor) -> None:
    if t is None:
        return
    if t.shape != (channels,) or t.dtype != x.dtype:
        raise ShapeError(f"batch_norm: expected {name} of shape ({channels},) and dtype "
                         f"{x.dtype}, got shape {t.shape} and dtype {t.dtype}")
    if t.device != x.device:
        raise RuntimeError(f"batch_norm: expected all tensors on one device, got input on "
                           f"{x.device} and {name} on {t.device}")


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """torch.nn.functional.batch_norm: (N, C) or (N, C, H, W) input, stats per channel C."""
    if not isinstance(x, Tensor) or x.ndim not in (2, 3, 4):
        raise ShapeError(f"batch_norm: expected a 2-D, 3-D or 4-D input (N, C, ...), got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    if x.dtype.kind != "f":
        raise TypeError(f"batch_norm: expected a floating-point input, got dtype {x.dtype}")
    channels = x.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        _check_channel_vector(name, t, channels, x)
    if weight is None:
        weight = Tensor._from_array(backend.transfer(np.ones(channels, x.dtype), x.device),
                                    x.device)
    if bias is None:
        bias = Tensor._from_array(backend.zeros(channels, x.dtype, like=x._data), x.device)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation mode needs running_mean and running_var")
        return BatchNormEval.apply(x, weight, bias, running_mean=running_mean._data,
                                   running_var=running_var._data, eps=eps)
    if channels == 0 or x.shape[0] == 0:
        raise ShapeError(f"batch_norm: expected a non-empty batch and channels, got input "
                         f"shape {x.shape}")
    count = x.numel() // channels
    if count < 2:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input shape {x.shape}")
    out = BatchNormTrain.apply(x, weight, bias, eps=eps)
    if running_mean is not None and running_var is not None:
        _update_running_stats(x, out, running_mean, running_var, momentum, count)
    return out


@no_grad()
def _update_running_stats(x, out, running_mean, running_var, momentum, count) -> None:
    """running = (1 - momentum) * running + momentum * batch (unbiased variance), as torch."""
    axes = (0,) + tuple(range(2, x.ndim))
    mean = x._data.sum(axis=axes, keepdims=True, dtype=np.float64) / count  # float64, as np.var
    centered = x._data - mean
    var = (centered * centered).sum(axis=axes, dtype=np.float64) / (count - 1)
    running_mean._data[...] = (1 - momentum) * running_mean._data + momentum * mean.reshape(-1)
    running_var._data[...] = (1 - momentum) * running_var._data + momentum * var


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p)."""
    expect_tensors("dropout", input=x)
    if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout: expected a probability p in [0, 1], got {p!r}")
    if not training or p == 0:
        return x
    seed = np.uint64(random.default_generator().integers(2 ** 63))  # one draw per call
    mask = backend.empty(x.shape, x.dtype, like=x._data)
    backend.kernels(x.device).dropout_mask(seed, float(p), 0.0 if p == 1 else 1.0 / (1 - p),
                                           mask.reshape(-1))
    return mul(x, Tensor._from_array(mask, x.device))
