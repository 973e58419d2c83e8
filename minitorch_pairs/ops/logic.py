"""where, the comparisons and the logic tests under torch's names and rules: where(condition,
x, y) (the gradient goes to the side chosen; where(condition) gives the nonzero indices), eq
... ge and their aliases, equal, isclose, allclose, isnan, isinf, isfinite, isposinf,
isneginf, and logical_and/or/xor/not (any dtype in, nonzero is True, bool out). Only where
is differentiable; the tests are outside the graph, as in torch.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from .. import backend, dtypes
from ..autograd import Function, _common_device
from ..errors import ShapeError
from ..tensor import Tensor, expect_tensors
from . import comparison
from .promotion import as_operand, operands
from .pointwise import _both_tensors

__all__ = [
    "where", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
    "less_equal", "not_equal", "equal", "isclose", "allclose", "isnan", "isinf", "isfinite",
    "isposinf", "isneginf", "logical_and", "logical_or", "logical_xor", "logical_not",
]


# ----- where --------------------------------------------------------------------------------

class Where(Function):
    @staticmethod
    def forward(ctx, condition, x, y):
        ctx.save_for_backward(condition)
        return np.where(condition, x, y)

    @staticmethod
    def backward(ctx, grad):
        condition = ctx.saved[0]
        zero = grad.dtype.type(0)
        return (None,
                np.where(condition, grad, zero) if ctx.needs_input_grad[1] else None,
                np.where(condition, zero, grad) if ctx.needs_input_grad[2] else None)


def _nonzero_tuple(condition: Tensor) -> tuple:
    """where(condition): the indices of the nonzero elements, one int64 tensor per dim."""
    expect_tensors("where", condition=condition)
    backend.require_cpu("where", condition)
    array = condition._data.reshape(-1) if condition.ndim == 0 else condition._data
    return tuple(Tensor._from_array(index.astype(dtypes.int64), condition.device)
                 for index in np.nonzero(array))


def where(condition: Tensor, input=None, other=None):
    """input where condition is True, other elsewhere (broadcast together; tensors or
    Python numbers, promoted as torch does); the gradient goes to the chosen side.
    where(condition) alone is nonzero(condition, as_tuple=True)."""
    if input is None and other is None:
        return _nonzero_tuple(condition)
    if input is None or other is None:
        raise TypeError("where: expected where(condition) or where(condition, input, other), "
                        "got two arguments")
    expect_tensors("where", condition=condition)
    for name, value in (("input", input), ("other", other)):
        if not isinstance(value, (Tensor, numbers.Real)):
            raise TypeError(f"where: expected {name} to be a Tensor or a number, got "
                            f"{type(value).__name__}")
    if condition.dtype == dtypes.uint8:
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated "
                      "(as in torch); use a boolean condition instead", UserWarning,
                      stacklevel=2)
        condition = Tensor._from_array(condition._data != 0, condition.device)
    elif condition.dtype != dtypes.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                           f"tensor with dtype {condition.dtype}")
    dtype = dtypes.result_type(input, other)
    x, y = as_operand(input, dtype, condition), as_operand(other, dtype, condition)
    try:
        np.broadcast_shapes(condition.shape, x.shape, y.shape)
    except ValueError:
        raise ShapeError(f"where: shapes {condition.shape} (condition), {x.shape} and "
                         f"{y.shape} cannot be broadcast together") from None
    return Where.apply(condition, x, y)


# ----- comparisons (outside the graph) -----------------------------------------------------

def _compare(op: str, ufunc, input, other) -> Tensor:
    expect_tensors(op, input=input)
    if not isinstance(other, (Tensor, numbers.Number)):
        raise TypeError(f"{op}: expected other to be a Tensor or a number, got "
                        f"{type(other).__name__}")
    return comparison.compare(ufunc, input, other)


def eq(input: Tensor, other) -> Tensor: return _compare("eq", np.equal, input, other)
def ne(input: Tensor, other) -> Tensor: return _compare("ne", np.not_equal, input, other)
def lt(input: Tensor, other) -> Tensor: return _compare("lt", np.less, input, other)
def le(input: Tensor, other) -> Tensor: return _compare("le", np.less_equal, input, other)
def gt(input: Tensor, other) -> Tensor: return _compare("gt", np.greater, input, other)
def ge(input: Tensor, other) -> Tensor: return _compare("ge", np.greater_equal, input, other)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both have the same shape and equal elements (compared in their promoted
    dtype; NaN is never equal)."""
    _both_tensors("equal", input, other)
    _common_device("equal", (input, other))
    if input.shape != other.shape:
        return False
    a, b = operands("equal", input, other)
    return bool(np.array_equal(backend.transfer(a._data, "cpu"),
                               backend.transfer(b._data, "cpu")))


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other| elementwise, or equal (so inf == inf);
    NaNs equal each other only with equal_nan. Both tensors must have the same dtype, as
    in torch; integers and bools are compared in the default float dtype."""
    _both_tensors("isclose", input, other)
    _common_device("isclose", (input, other))
    if input.dtype != other.dtype:
        raise RuntimeError(f"isclose: expected both tensors to have the same dtype, got "
                           f"{input.dtype} and {other.dtype} (torch: did not match)")
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got "
                               f"{value}")
    _broadcastable("isclose", input, other)
    a, b = input._data, other._data
    close = a == b
    floating = input.dtype.kind == "f"
    if equal_nan and floating:
        close = close | ((a != a) & (b != b))
    if rtol == 0 and atol == 0:  # an exact test: no rounding to float may blur it
        return Tensor._from_array(close, input.device)
    if not floating:
        a, b = (x.astype(dtypes.get_default_dtype()) for x in (a, b))
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf
        allowed = atol + np.abs(rtol * b)
        actual = np.abs(a - b)
        close = close | ((actual < np.inf) & (actual <= allowed))
    return Tensor._from_array(close, input.device)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether isclose holds everywhere (a Python bool)."""
    close = isclose(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return bool(np.all(backend.transfer(close._data, "cpu")))


def _broadcastable(op: str, *tensors) -> None:
    try:
        np.broadcast_shapes(*(t.shape for t in tensors))
    except ValueError:
        shapes = " and ".join(str(t.shape) for t in tensors)
        raise ShapeError(f"{op}: shapes {shapes} cannot be broadcast together") from None


def _float_test(op: str, input, test, otherwise: bool) -> Tensor:
    """A bool tensor: test(array) for a floating tensor, `otherwise` everywhere for an
    integer or bool one (which holds no NaN or infinity)."""
    expect_tensors(op, input=input)
    if input.dtype.kind != "f":
        return Tensor._from_array(backend.full(input.shape, otherwise, np.bool_, input._data),
                                  input.device)
    return Tensor._from_array(test(input._data), input.device)


# (written with comparisons, which the device has, rather than np.isnan and friends)
def isnan(input: Tensor) -> Tensor:
    return _float_test("isnan", input, lambda a: a != a, False)


def isinf(input: Tensor) -> Tensor:
    return _float_test("isinf", input, lambda a: np.abs(a) == np.inf, False)


def isfinite(input: Tensor) -> Tensor:
    return _float_test("isfinite", input, lambda a: np.abs(a) < np.inf, True)


def isposinf(input: Tensor) -> Tensor:
    return _float_test("isposinf", input, lambda a: a == np.inf, False)


def isneginf(input: Tensor) -> Tensor:
    return _float_test("isneginf", input, lambda a: a == -np.inf, False)


# ----- logic: any dtype in (nonzero is True), bool out -------------------------------------

def _truth(t: Tensor):
    return t._data if t.dtype == dtypes.bool_ else t._data != 0


def _logical(op: str, ufunc, input, other) -> Tensor:
    _both_tensors(op, input, other)
    device = _common_device(op, (input, other))
    _broadcastable(op, input, other)
    return Tensor._from_array(ufunc(_truth(input), _truth(other)), device)


def logical_and(input: Tensor, other: Tensor) -> Tensor:
    return _logical("logical_and", np.bitwise_and, input, other)


def logical_or(input: Tensor, other: Tensor) -> Tensor:
    return _logical("logical_or", np.bitwise_or, input, other)


def logical_xor(input: Tensor, other: Tensor) -> Tensor:
    return _logical("logical_xor", np.not_equal, input, other)


def logical_not(input: Tensor) -> Tensor:
    expect_tensors("logical_not", input=input)
    return Tensor._from_array(np.equal(_truth(input), False), input.device)
