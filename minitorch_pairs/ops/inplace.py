"""In-place ops (`add_`, `fill_`, `t[i] = v`, ...) with torch's rules.

An in-place op runs its out-of-place twin and writes the result into the tensor's own
storage, so every alias (views, `.data`, `.detach()`) sees the new values. Autograd then
treats the tensor as the twin's output: its history is rebased onto a node whose input is
a copy of the old value. The tensor's version counter goes up by one; a backward that saved
the old array checks the counter and refuses (autograd.py), as torch does.
"""
from __future__ import annotations

from .. import autograd, backend, dtypes
from ..autograd import Function
from ..tensor import Tensor
from . import fusion, shape_ops


def _check_target(op: str, target: Tensor) -> None:
    if not autograd.is_grad_enabled():
        return
    if target.requires_grad and target.is_leaf:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                           "in-place operation (torch refuses this too); do it inside "
                           "`with mt.no_grad():`, or on a clone()")


def apply_inplace(op: str, target: Tensor, compute) -> Tensor:
    """Write `compute(old)` (an out-of-place result) into `target`'s storage and make
    `target` that result for autograd. Returns `target`."""
    _check_target(op, target)
    old = target
    if autograd.is_grad_enabled():
        # the twin may save its input for backward: give it the old values, not the storage
        old = Tensor._from_array(target._data.copy(), target.device, target.requires_grad)
        old.grad_fn = target.grad_fn
    result = compute(old)
    if not dtypes.can_cast(result.dtype, target.dtype):
        raise RuntimeError(f"{op}: result type {result.dtype} can't be cast to the desired "
                           f"output type {target.dtype} (torch's rule for in-place ops)")
    if result.shape != target.shape:
        raise RuntimeError(f"{op}: output with shape {target.shape} doesn't match the "
                           f"broadcast shape {result.shape}")
    if target._base is not None and (result.grad_fn is not None or target._base.requires_grad):
        return _through_base(op, target, result)
    _write(target, result._data)
    if result.grad_fn is not None:
        target.grad_fn, target.requires_grad = result.grad_fn, True
    return target


def _through_base(op: str, view: Tensor, result: Tensor) -> Tensor:
    """An in-place change of a view that autograd records, as torch does it: the base gets
    `base[index] = result` (recorded on the base), and the view becomes `base[index]` of the
    new base. Only views taken by basic indexing straight from their base know their index;
    other views are refused."""
    base, index = view._base, getattr(view, "_view_index", None)
    if index is None:
        raise RuntimeError(f"{op}: an in-place change of this view (a reshape, permute or "
                           "view of a view) that autograd records is not supported by "
                           "minitorch_pairs (torch rewrites the base's history); change the "
                           "base tensor, work on a clone(), or use mt.no_grad()")
    if base.requires_grad and base.is_leaf:
        raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being used "
                           "in an in-place operation (torch refuses this too); do it inside "
                           "`with mt.no_grad():`")
    base[index] = result
    fresh = shape_ops.GetItem.apply(base, index=index)
    view.grad_fn, view.requires_grad = fresh.grad_fn, fresh.requires_grad
    return view


def _write(target: Tensor, array) -> None:
    """Copy `array` into `target`'s storage (cast, broadcast) and count the change."""
    fusion.before_write(target._data)
    target._data[...] = array
    target._version_counter[0] += 1


def _zeros(grad):
    """The overwritten values' gradient: zeros, as torch gives them (not NaN * 0)."""
    return backend.full(grad.shape, 0, grad.dtype, grad)


class Fill(Function):
    """Every element set to `value`; the old values get a zero gradient."""

    @staticmethod
    def forward(ctx, a, value):
        return backend.full(a.shape, value, a.dtype, a)

    @staticmethod
    def backward(ctx, grad):
        return _zeros(grad)


class CopyFrom(Function):
    """`source` broadcast to `a`'s shape and cast to its dtype (copy_'s out-of-place twin)."""

    @staticmethod
    def forward(ctx, a, source):
        ctx.source_dtype = source.dtype
        out = backend.empty(a.shape, a.dtype, like=a)
        out[...] = source
        return out

    @staticmethod
    def backward(ctx, grad):
        return _zeros(grad), grad.astype(ctx.source_dtype)


def _region(array, basic: tuple):
    """The view `array[basic]`, also for a 0-d array (whose `a[()]` is a scalar, not a view)."""
    if not any(part is Ellipsis for part in basic):
        basic = basic + (Ellipsis,)
    return array[basic]


class SetItem(Function):
    """`a` with `a[index] = value` (index in split_index's two steps); the gradient of the
    overwritten elements of `a` is zero, that of `value` is the gradient gathered there."""

    @staticmethod
    def forward(ctx, a, value, basic, advanced):
        ctx.basic, ctx.advanced, ctx.value_shape = basic, advanced, value.shape
        out = a.copy()
        _region(out, basic)[advanced or ...] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_a = grad.copy()
        region = _region(grad_a, ctx.basic)
        grad_value = region[ctx.advanced or ...].copy()
        region[ctx.advanced or ...] = 0
        if grad_value.ndim < len(ctx.value_shape):  # value had extra leading 1s
            grad_value = grad_value.reshape(ctx.value_shape)
        return grad_a, grad_value
