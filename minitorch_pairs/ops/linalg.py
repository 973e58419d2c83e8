"""Matrix products: matmul (1-D, 2-D and batched with broadcasting) and the fused linear."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor, expect_tensors
from .shape_ops import reshape


class MatMul(Function):
    """a @ b for inputs of at least 2 dims; batch dims broadcast."""

    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.kernels.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        needs, b_t, a_t = ctx.needs_input_grad, np.swapaxes(b, -1, -2), np.swapaxes(a, -1, -2)
        if needs[0] and needs[1]:
            return ctx.kernels.matmul_pair(grad, b_t, a_t, grad)
        return (ctx.kernels.matmul(grad, b_t) if needs[0] else None,
                ctx.kernels.matmul(a_t, grad) if needs[1] else None)


class Linear(Function):
    """x @ weight.T + bias in one op: one pass forward (the bias added as the product is
    written), two products and the bias's sums backward."""

    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        return ctx.kernels.linear_forward(x, weight, bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved
        grads = ctx.kernels.linear_backward(grad, x, weight, ctx.needs_input_grad)
        return grads[:len(ctx.needs_input_grad)]


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """torch.matmul semantics: 1-D operands are promoted to matrices and the added dim removed."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul: expected two Tensors, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: both operands need at least 1 dim, got shapes "
                         f"{a.shape} and {b.shape}")
    if a.dtype != b.dtype:  # torch multiplies matrices of one dtype only
        raise ShapeError(f"matmul: expected both operands to have the same dtype, got "
                         f"{a.dtype} and {b.dtype}")
    if a.shape[-1] != b.shape[0 if b.ndim == 1 else -2]:
        raise ShapeError(f"matmul: inner sizes differ: shapes {a.shape} and {b.shape}")
    a2 = reshape(a, 1, a.shape[0]) if a.ndim == 1 else a
    b2 = reshape(b, b.shape[0], 1) if b.ndim == 1 else b
    try:
        np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ShapeError(f"matmul: batch dims of shapes {a.shape} and {b.shape} cannot be "
                         "broadcast together") from None
    out = MatMul.apply(a2, b2)
    if a.ndim == 1:
        out = reshape(out, *out.shape[:-2], out.shape[-1])
    if b.ndim == 1:
        out = reshape(out, *out.shape[:-1])
    return out


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias over the last dim of x (any leading dims, as in torch)."""
    expect_tensors("linear", input=x, weight=weight, optional_bias=bias)
    if x.ndim < 1 or weight.ndim != 2:
        raise ShapeError(f"linear: expected input (*, in_features) and weight (out, in), "
                         f"got shapes {x.shape} and {weight.shape}")
    if x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: input has {x.shape[-1]} features, weight expects "
                         f"{weight.shape[1]} (weight shape {weight.shape})")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(f"linear: expected bias of shape ({weight.shape[0]},), got {bias.shape}")
    if x.dtype != weight.dtype:
        raise ShapeError(f"linear: input dtype {x.dtype} differs from weight dtype {weight.dtype}")
    rows = reshape(x, -1, x.shape[-1]) if x.ndim != 2 else x
    out = Linear.apply(*((rows, weight) if bias is None else (rows, weight, bias)))
    return out if x.ndim == 2 else reshape(out, *x.shape[:-1], weight.shape[0])
