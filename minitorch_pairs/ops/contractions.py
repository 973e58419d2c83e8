"""Contractions of labelled dims under torch's rules: tensordot (int dims, pairs of dim
lists, dims as a tensor) and einsum (any subscripts, implicit output, ellipses, traces and
diagonals, size-1 broadcasting, any number of operands, the sublist form)."""
from __future__ import annotations

import math
import numbers
import string

import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor
from . import reduction
from .linalg import _expect, _same_dtype, matmul
from .shape_ops import getitem, permute, reshape

__all__ = ["einsum", "tensordot"]


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
