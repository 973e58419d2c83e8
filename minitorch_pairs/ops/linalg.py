"""Matrix products: matmul (1-D, 2-D and batched with broadcasting), the fused linear, and
torch's named products with their checks: dot, vdot, outer (ger), mm, bmm, mv, addmm, baddbmm,
tensordot and einsum."""
from __future__ import annotations

import math
import numbers
import string

import numpy as np

from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor, expect_tensors
from . import reduction
from .shape_ops import getitem, permute, reshape


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


# ----- contractions of labelled dims: tensordot and einsum -------------------------------
# Both name each dim of each operand with a label, take diagonals of labels repeated within
# an operand, sum labels needed nowhere else, and contract two operands as one batched
# matmul over (shared kept labels, own labels, shared summed labels): every step is a
# differentiable op (permute, reshape, getitem, sum, matmul), so gradients need no code here.


def _arranged(t: Tensor, labels: list, order: list) -> Tensor:
    """t with its dims permuted from `labels` order to `order` (itself if already so)."""
    axes = [labels.index(label) for label in order]
    return t if axes == list(range(t.ndim)) else permute(t, *axes)


def _summed(t: Tensor, labels: list, drop) -> tuple:
    """(t summed over the dims whose labels are in `drop`, the labels left)."""
    axes = tuple(i for i, label in enumerate(labels) if label in drop)
    if not axes:
        return t, labels
    return reduction.sum(t, axes), [label for label in labels if label not in drop]


def _contract(x: Tensor, x_labels: list, y: Tensor, y_labels: list, keep) -> tuple:
    """x times y with shared labels not in `keep` summed: (result, its labels), which are the
    shared kept labels, then x's own, then y's own. Shared labels have one size. As torch:
    a product summing nothing is a broadcast multiply (which promotes dtypes), otherwise a
    batched matmul (one dtype, not bool)."""
    x, x_labels = _summed(x, x_labels, {l for l in x_labels if l not in y_labels + list(keep)})
    y, y_labels = _summed(y, y_labels, {l for l in y_labels if l not in x_labels + list(keep)})
    batch = [l for l in x_labels if l in y_labels and l in keep]
    summed = [l for l in x_labels if l in y_labels and l not in keep]
    x_own = [l for l in x_labels if l not in y_labels]
    y_own = [l for l in y_labels if l not in x_labels]
    size = {**dict(zip(x_labels, x.shape)), **dict(zip(y_labels, y.shape))}
    labels = batch + x_own + y_own
    if not summed:
        ones = [1] * (len(x_own) + len(y_own))
        left = reshape(_arranged(x, x_labels, batch + x_own),
                       *[size[l] for l in batch + x_own], *ones[:len(y_own)])
        right = reshape(_arranged(y, y_labels, batch + y_own),
                        *[size[l] for l in batch], *ones[:len(x_own)], *[size[l] for l in y_own])
        return left * right, labels
    if np.bool_ in (x.dtype, y.dtype):
        raise NotImplementedError("einsum/tensordot: contracting bool tensors is not "
                                  "implemented (torch's bmm refuses them too)")
    if x.dtype != y.dtype:  # torch's bmm: no promotion
        raise ShapeError(f"einsum/tensordot: a contraction needs both operands of one dtype, "
                         f"got {x.dtype} and {y.dtype}")

    def count(group):
        return math.prod(size[label] for label in group)

    left = reshape(_arranged(x, x_labels, batch + x_own + summed),
                   count(batch), count(x_own), count(summed))
    right = reshape(_arranged(y, y_labels, batch + summed + y_own),
                    count(batch), count(summed), count(y_own))
    return reshape(matmul(left, right), *[size[label] for label in labels]), labels


def _without_broadcast_dims(t: Tensor, labels: list, sizes: dict) -> tuple:
    """Drop the size-1 dims of labels that are larger elsewhere: the operand is constant
    along them (broadcast), so the label becomes the other operands' alone."""
    kept = [i for i, label in enumerate(labels) if not (t.shape[i] == 1 and sizes[label] > 1)]
    if len(kept) == len(labels):
        return t, labels
    return reshape(t, *[t.shape[i] for i in kept]), [labels[i] for i in kept]


def _diagonals(t: Tensor, labels: list) -> tuple:
    """t restricted to the diagonal of each label repeated in `labels` ('ii' -> 'i')."""
    while len(set(labels)) < len(labels):
        label = next(l for l in labels if labels.count(l) > 1)
        at = [i for i, l in enumerate(labels) if l == label]
        rest = [i for i in range(len(labels)) if i not in at]
        t = permute(t, *(rest + at)) if rest + at != list(range(t.ndim)) else t
        diagonal = np.arange(t.shape[-1])
        t = getitem(t, (Ellipsis,) + (diagonal,) * len(at))  # the repeated dims, last, as one
        labels = [labels[i] for i in rest] + [label]
    return t, labels


def _axis(op: str, dim, ndim: int) -> int:
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}: dims must be integers, got {dim!r}")
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dim {dim} out of range for a tensor of {ndim} dims "
                         f"(expected an integer in [{-ndim}, {ndim - 1}])")
    return int(dim) % ndim


def _tensordot_dims(dims, a: Tensor, b: Tensor) -> tuple:
    if isinstance(dims, Tensor):
        dims = dims.item() if dims.ndim == 0 else dims.tolist()
    if isinstance(dims, numbers.Integral) and not isinstance(dims, bool):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got "
                               f"dims={dims}")
        return list(range(a.ndim - dims, a.ndim)), list(range(dims))
    if isinstance(dims, (list, tuple)) and len(dims) == 2:
        if not all(isinstance(side, (list, tuple)) for side in dims):
            raise TypeError(f"tensordot(): dims as a pair must hold two lists of dims, got "
                            f"{dims!r}")
        if len(dims[0]) != len(dims[1]):
            raise RuntimeError("tensordot: both dimension lists should have same length")
        return list(dims[0]), list(dims[1])
    raise RuntimeError(f"tensordot expects dims to be int or tuple[list[int], list[int]] or "
                       f"list[list[int]] containing two lists, but got dims={dims!r}")


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Sum of products over the dims `dims` pairs up (an int n: a's last n with b's first
    n); the result has a's other dims, then b's (torch.tensordot)."""
    _expect("tensordot", a=a, b=b)
    first, second = _tensordot_dims(dims, a, b)
    _same_dtype("tensordot", a, b)
    axes = []
    for t, side in ((a, first), (b, second)):
        normal = [_axis("tensordot", d, t.ndim) for d in side]
        for d in normal:
            if normal.count(d) > 1:
                raise RuntimeError(f"tensordot: dim {d} appears multiple times in the list of "
                                   "dims")
        axes.append(normal)
    a_labels, b_labels = [("a", i) for i in range(a.ndim)], [("b", j) for j in range(b.ndim)]
    sizes = {}
    for k, (i, j) in enumerate(zip(*axes)):
        if a.shape[i] != b.shape[j] and 1 not in (a.shape[i], b.shape[j]):
            raise ShapeError(f"tensordot: contracted dimensions need to match, but first has "
                             f"size {a.shape[i]} in dim {i} and second has size {b.shape[j]} "
                             f"in dim {j}")
        a_labels[i] = b_labels[j] = ("sum", k)
        sizes[("sum", k)] = max(a.shape[i], b.shape[j])
    a, a_labels = _without_broadcast_dims(a, a_labels, {**dict(zip(a_labels, a.shape)), **sizes})
    b, b_labels = _without_broadcast_dims(b, b_labels, {**dict(zip(b_labels, b.shape)), **sizes})
    free = [l for l in a_labels + b_labels if l[0] != "sum"]
    return _contract(a, a_labels, b, b_labels, free)[0]


_ELLIPSIS = "..."
_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # torch's subscript order


def _sublist_equation(args) -> tuple:
    """einsum(op0, sublist0, op1, sublist1, ..., [output sublist]) as an equation: the
    integers 0-51 name the letters A-Z, a-z; Ellipsis is '...'."""
    def text(sublist):
        try:
            return "".join(_ELLIPSIS if s is Ellipsis else _LETTERS[s] for s in sublist)
        except (IndexError, TypeError):
            raise ValueError(f"einsum(): subscripts in a sublist must be integers in [0, 52) "
                             f"or Ellipsis, got {sublist!r}") from None
    pairs = len(args) // 2 * 2
    equation = ",".join(text(s) for s in args[1:pairs:2])
    if len(args) > pairs:
        equation += "->" + text(args[-1])
    return equation, args[0:pairs:2]


def _einsum_arguments(args) -> tuple:
    if len(args) >= 2 and isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    elif len(args) >= 2:
        equation, operands = _sublist_equation(args)
    else:
        raise ValueError("einsum(): must specify the equation string and at least one "
                         "operand, or at least one operand and its subscripts list")
    for i, operand in enumerate(operands):
        if not isinstance(operand, Tensor):
            raise TypeError(f"einsum(): expected Tensor as element {i} of the operands, but "
                            f"got {type(operand).__name__}")
    return equation.replace(" ", ""), list(operands)


def _subscripts(term: str, offset: int, whose: str) -> list:
    """The labels of one term: letters, and _ELLIPSIS for '...'."""
    labels, i = [], 0
    while i < len(term):
        if term[i] == ".":
            if term[i:i + 3] != _ELLIPSIS:
                raise RuntimeError(f"einsum(): found '.' for {whose} that is not part of any "
                                   "ellipsis")
            if _ELLIPSIS in labels:
                raise RuntimeError(f"einsum(): found '.' for {whose} for which an ellipsis "
                                   "was already found")
            labels.append(_ELLIPSIS)
            i += 3
            continue
        if term[i] not in _LETTERS:
            raise RuntimeError(f"einsum(): invalid subscript given at index {offset + i} in "
                               "the equation string, subscripts must be in [a-zA-Z]")
        labels.append(term[i])
        i += 1
    return labels


def _expand_ellipsis(labels: list, ndim: int, k: int) -> list:
    """The labels of operand k's dims: the ellipsis's dims named by integers counted from
    the right (0 is the last), so that they line up across operands as broadcasting does."""
    if _ELLIPSIS not in labels:
        if len(labels) != ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(labels)}) does not match the number of dimensions "
                               f"({ndim}) for operand {k} and no ellipsis was given")
        return labels
    named = len(labels) - 1
    if named > ndim:
        raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) is "
                           f"more than the number of dimensions ({ndim}) for operand {k}")
    at = labels.index(_ELLIPSIS)
    return labels[:at] + list(range(ndim - named - 1, -1, -1)) + labels[at + 1:]


def _output_labels(rhs, inputs: list, width: int) -> list:
    """The explicit output's labels, checked, or torch's implicit output: the ellipsis's
    dims, then the letters used exactly once, in alphabetical order (A-Z before a-z)."""
    broadcast = list(range(width - 1, -1, -1))
    used = [label for labels in inputs for label in labels]
    if rhs is None:
        once = [l for l in _LETTERS if used.count(l) == 1]
        return broadcast + once
    output = []
    for label in rhs:
        if label == _ELLIPSIS:
            output += broadcast
            continue
        if label in output:
            raise RuntimeError(f"einsum(): output subscript {label} appears more than once in "
                               "the output")
        if label not in used:
            raise RuntimeError(f"einsum(): output subscript {label} does not appear in the "
                               "equation for any input operand")
        output.append(label)
    return output


def _label_sizes(operands: list, inputs: list) -> dict:
    """Each label's size: equal wherever it appears, or 1 (broadcast)."""
    sizes = {}
    for k, (t, labels) in enumerate(zip(operands, inputs)):
        own = {}
        for label, size in zip(labels, t.shape):
            if own.setdefault(label, size) != size:
                raise RuntimeError(f"einsum(): subscript {label} is repeated for operand {k} "
                                   f"but the sizes don't match, {own[label]} != {size}")
        for label, size in own.items():
            seen = sizes.get(label, 1)
            if size != 1 and seen != 1 and size != seen:
                raise ShapeError(f"einsum(): subscript {label} has size {size} for operand "
                                 f"{k} which does not broadcast with previously seen size "
                                 f"{seen}")
            sizes[label] = max(seen, size)
    return sizes


def einsum(*args) -> Tensor:
    """Einstein summation (torch.einsum): 'ij,jk->ik', implicit output ('ij,jk'),
    ellipses, repeated subscripts (traces and diagonals, 'ii->i'), size-1 broadcasting, any
    number of operands (contracted left to right), and the sublist form. Dtypes as torch:
    a step that only multiplies promotes, a contraction (a batched matmul) needs one dtype."""
    equation, operands = _einsum_arguments(args)
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    offsets = np.cumsum([0] + [len(term) + 1 for term in terms])
    inputs = [_expand_ellipsis(_subscripts(term, int(offset), f"operand {k}"), t.ndim, k)
              for k, (term, offset, t) in enumerate(zip(terms, offsets, operands))]
    width = max([sum(isinstance(l, int) for l in labels) for labels in inputs])
    output = _output_labels(_subscripts(rhs, len(lhs) + 2, "the output") if arrow else None,
                            inputs, width)
    sizes = _label_sizes(operands, inputs)
    labelled = [_without_broadcast_dims(*_diagonals(t, labels), sizes)
                for t, labels in zip(operands, inputs)]
    result, labels = labelled[0]
    for k in range(1, len(labelled)):
        later = set(output).union(*(set(other) for _, other in labelled[k + 1:]))
        result, labels = _contract(result, labels, *labelled[k], later)
    result, labels = _summed(result, labels, {l for l in labels if l not in output})
    # (always a new tensor, a view where nothing was computed, as torch returns)
    return permute(result, *[labels.index(label) for label in output])
