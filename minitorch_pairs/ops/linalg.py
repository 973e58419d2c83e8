"""Matrix products: matmul (1-D, 2-D and batched with broadcasting), the fused linear, and
torch's named products with their checks: dot, vdot, outer (ger), mm, bmm, mv, addmm, baddbmm
(tensordot and einsum are in contractions.py)."""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor, expect_tensors
from .shape_ops import reshape

__all__ = ["addmm", "baddbmm", "bmm", "dot", "ger", "matmul", "mm", "mv", "outer", "vdot"]


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


# ----- torch's named products: checked entry points over matmul ---------------------------

_DTYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool"}


def _expect(op: str, **tensors) -> None:
    for name, value in tensors.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not "
                            f"{type(value).__name__}")


def _same_dtype(op: str, *tensors) -> None:
    """torch's products multiply one dtype only (no promotion), and not bools."""
    dtypes = [t.dtype for t in tensors]
    if any(d != dtypes[0] for d in dtypes):
        names = ", ".join(_DTYPE_NAMES[d.name] for d in dtypes)
        raise ShapeError(f"{op}: expected all operands to have the same dtype, got {names}")
    if dtypes[0] == np.bool_:
        raise NotImplementedError(f"{op}: not implemented for 'Bool' tensors (as torch)")


def _expect_dims(op: str, ndim: int, **tensors) -> None:
    for name, t in tensors.items():
        if t.ndim != ndim:
            raise ShapeError(f"{op}: expected {name} to be {ndim}-D, got a {t.ndim}-D tensor "
                             f"of shape {t.shape}")


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """The inner product of two 1-D tensors of one dtype and length (torch.dot)."""
    _expect("dot", input=input, tensor=tensor)
    if input.ndim != 1 or tensor.ndim != 1:
        raise ShapeError(f"dot: 1D tensors expected, but got {input.ndim}D and {tensor.ndim}D "
                         "tensors")
    _same_dtype("dot", input, tensor)
    if input.shape != tensor.shape:
        raise ShapeError(f"dot: inconsistent tensor size: {input.shape[0]} and "
                         f"{tensor.shape[0]} elements")
    return matmul(input, tensor)


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """dot with the first vector conjugated: for real tensors, dot (torch.vdot)."""
    _expect("vdot", input=input, other=other)
    return dot(input, other)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """input[i] * vec2[j] of two 1-D tensors, promoted as torch multiplies (torch.outer)."""
    _expect("outer", input=input, vec2=vec2)
    for name, t in (("self", input), ("vec2", vec2)):
        if t.ndim != 1:
            raise ShapeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    return reshape(input, input.shape[0], 1) * reshape(vec2, 1, vec2.shape[0])


ger = outer


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """A (n, k) @ (k, m) matrix product, no broadcasting (torch.mm)."""
    _expect("mm", input=input, mat2=mat2)
    _expect_dims("mm", 2, self=input, mat2=mat2)
    _same_dtype("mm", input, mat2)
    if input.shape[1] != mat2.shape[0]:
        raise ShapeError(f"mm: mat1 and mat2 shapes cannot be multiplied "
                         f"({input.shape[0]}x{input.shape[1]} and "
                         f"{mat2.shape[0]}x{mat2.shape[1]})")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched (b, n, k) @ (b, k, m), equal batch sizes, no broadcasting (torch.bmm)."""
    _expect("bmm", input=input, mat2=mat2)
    _expect_dims("bmm", 3, batch1=input, batch2=mat2)
    _same_dtype("bmm", input, mat2)
    if mat2.shape[:2] != (input.shape[0], input.shape[2]):
        raise ShapeError(f"bmm: expected size for first two dimensions of batch2 tensor to "
                         f"be: [{input.shape[0]}, {input.shape[2]}] but got: "
                         f"[{mat2.shape[0]}, {mat2.shape[1]}]")
    return matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """A (n, k) matrix times a (k,) vector (torch.mv)."""
    _expect("mv", input=input, vec=vec)
    _expect_dims("mv", 2, mat=input)
    _expect_dims("mv", 1, vec=vec)
    _same_dtype("mv", input, vec)
    if input.shape[1] != vec.shape[0]:
        raise ShapeError(f"mv: size mismatch, got mat ({input.shape[0]}x{input.shape[1]}), "
                         f"vec ({vec.shape[0]})")
    return matmul(input, vec)


class AddMatMul(Function):
    """beta * c + alpha * (a @ b), c broadcast to the product; beta = 0 ignores c (its NaNs
    too), as torch's addmm and baddbmm do."""

    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, c, a, b, beta, alpha):
        ctx.save_for_backward(a, b)
        ctx.beta, ctx.alpha = beta, alpha
        out = ctx.kernels.matmul(a, b)
        if alpha != 1:
            out = out * alpha
        if beta != 0:
            out = out + (c if beta == 1 else c * beta)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        needs, beta, alpha = ctx.needs_input_grad, ctx.beta, ctx.alpha
        scaled = grad if alpha == 1 else grad * alpha
        return (grad * beta if needs[0] else None,
                ctx.kernels.matmul(scaled, np.swapaxes(b, -1, -2)) if needs[1] else None,
                ctx.kernels.matmul(np.swapaxes(a, -1, -2), scaled) if needs[2] else None)


def _factor(op: str, name: str, value, dtype):
    """beta or alpha as the number torch multiplies by: a number or 0-d tensor, truncated to
    an integer for integer tensors (torch converts the scalar to the tensor's dtype)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(f"{op}: {name} must be a number, got a tensor of shape "
                               f"{value.shape}")
        value = value.item()
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{op}(): argument '{name}' must be a number, not "
                        f"{type(value).__name__}")
    return int(value) if dtype.kind in "iub" else float(value)


def _add_product(op, input, mat1, mat2, beta, alpha) -> Tensor:
    _same_dtype(op, input, mat1, mat2)
    shape = mat1.shape[:-1] + mat2.shape[-1:]
    try:
        expands = input.ndim <= len(shape) and np.broadcast_shapes(input.shape, shape) == shape
    except ValueError:
        expands = False
    if not expands:
        raise ShapeError(f"{op}: input of shape {input.shape} cannot be expanded to the "
                         f"product's shape {shape}")
    beta, alpha = (_factor(op, n, v, input.dtype) for n, v in (("beta", beta), ("alpha", alpha)))
    return AddMatMul.apply(input, mat1, mat2, beta=beta, alpha=alpha)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2), input broadcast to (n, m) (torch.addmm)."""
    _expect("addmm", input=input, mat1=mat1, mat2=mat2)
    _expect_dims("addmm", 2, mat1=mat1, mat2=mat2)
    if mat1.shape[1] != mat2.shape[0]:
        raise ShapeError(f"addmm: mat1 and mat2 shapes cannot be multiplied "
                         f"({mat1.shape[0]}x{mat1.shape[1]} and "
                         f"{mat2.shape[0]}x{mat2.shape[1]})")
    return _add_product("addmm", input, mat1, mat2, beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * bmm(batch1, batch2), input broadcast (torch.baddbmm)."""
    _expect("baddbmm", input=input, batch1=batch1, batch2=batch2)
    _expect_dims("baddbmm", 3, batch1=batch1, batch2=batch2)
    if batch2.shape[:2] != (batch1.shape[0], batch1.shape[2]):
        raise ShapeError(f"baddbmm: expected size for first two dimensions of batch2 tensor "
                         f"to be: [{batch1.shape[0]}, {batch1.shape[2]}] but got: "
                         f"[{batch2.shape[0]}, {batch2.shape[1]}]")
    return _add_product("baddbmm", input, batch1, batch2, beta, alpha)
