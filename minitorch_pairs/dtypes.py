"""Dtypes and torch's type-promotion rules.

A dtype is a NumPy dtype (`mt.float32 == np.dtype("float32")`). Promotion follows torch,
not NumPy: the categories are bool < integer < floating; an operand's kind of participation
ranks dimensioned tensors over zero-dim tensors over Python scalars, and a lower rank changes
the result only when its category is higher (`float32 tensor * int64 tensor` is float32,
`int tensor * 0.5` is the default float dtype, `float32 tensor + float64 0-d tensor` float32).
"""
from __future__ import annotations

import numbers

import numpy as np

bool_ = np.dtype(np.bool_)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)

# torch's names and aliases for the dtypes we support
_BY_NAME = {"bool": bool_, "uint8": uint8, "int8": int8, "int16": int16, "short": int16,
            "int32": int32, "int": int32, "int64": int64, "long": int64,
            "float16": float16, "half": float16, "float32": float32, "float": float32,
            "float64": float64, "double": float64}
SUPPORTED_NAMES = frozenset(_BY_NAME)
SUPPORTED = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)

_default_dtype = float32


def as_dtype(dtype) -> np.dtype | None:
    """Canonical dtype of `dtype` (a dtype, a NumPy type or a torch-style name); None stays
    None. A TypeError names the supported dtypes otherwise."""
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in _BY_NAME:
        return _BY_NAME[dtype]
    try:
        canonical = np.dtype(dtype)
    except TypeError:
        canonical = None
    # (None compares equal to float64 in NumPy, so it is tested first)
    if canonical is None or canonical not in SUPPORTED or canonical.byteorder not in "=|":
        names = ", ".join(d.name for d in SUPPORTED)
        raise TypeError(f"dtype: expected one of {names}, got {dtype!r}")
    return canonical


def get_default_dtype() -> np.dtype:
    """The floating dtype of Python floats, of int->float results and of float factories."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Set the default floating dtype (float32 or float64, as torch allows)."""
    global _default_dtype
    dtype = as_dtype(dtype)
    if dtype not in (float32, float64):
        raise TypeError(f"set_default_dtype: only float32 and float64 are supported as the "
                        f"default dtype, got {dtype}")
    _default_dtype = dtype


def is_floating_point(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def _category(dtype) -> int:
    return {"b": 0, "u": 1, "i": 1, "f": 2}[dtype.kind]


def promote_types(a, b) -> np.dtype:
    """torch.promote_types: the smallest dtype both convert to without changing category
    (an integer and a float give the float, unlike NumPy's float64)."""
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)  # same category: NumPy's table is torch's


def can_cast(source, target) -> bool:
    """torch.can_cast: whether an op's result may be written into a tensor of `target`
    (in-place ops): never to a lower category (float into int, int into bool)."""
    return _category(np.dtype(source)) <= _category(np.dtype(target))


def scalar_dtype(value) -> np.dtype:
    """The dtype a Python number takes as an operand: bool, int64, or the default float."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, numbers.Integral):
        return int64
    if isinstance(value, numbers.Real):
        return _default_dtype
    raise TypeError(f"expected a real number, got {type(value).__name__}")


def _combine(higher, lower):
    """torch's combine_categories: a lower-priority group changes the result only if its
    category is higher (or the higher group is bool)."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher == bool_ or lower.kind == "f":
        return promote_types(higher, lower)
    return higher


def result_type(*operands) -> np.dtype:
    """torch.result_type over tensors (anything with .dtype and .ndim) and Python numbers."""
    dimensioned = zero_dim = scalars = None
    for operand in operands:
        if hasattr(operand, "dtype") and hasattr(operand, "ndim"):
            dtype = np.dtype(operand.dtype)
            if operand.ndim:
                dimensioned = dtype if dimensioned is None else promote_types(dimensioned, dtype)
            else:
                zero_dim = dtype if zero_dim is None else promote_types(zero_dim, dtype)
        else:
            dtype = scalar_dtype(operand)
            scalars = dtype if scalars is None else promote_types(scalars, dtype)
    return _combine(dimensioned, _combine(zero_dim, scalars))


def float_result(dtype) -> np.dtype:
    """The dtype of a floating-point result from `dtype` (true division, exp, ...)."""
    return dtype if dtype.kind == "f" else _default_dtype
