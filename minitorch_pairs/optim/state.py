"""Per-parameter optimizer state as torch keeps it: tensors shaped like the parameter, on its
device, plus a "step" counter that is a 0-d tensor on the CPU (float32, or float64 when that
is the default dtype, as torch's _get_scalar_dtype). The updates work on flat views of the
arrays behind these tensors."""
from __future__ import annotations

import numpy as np

from .. import backend, dtypes
from ..tensor import Tensor


def zeros_like(p: Tensor) -> Tensor:
    return Tensor._from_array(backend.zeros(p.shape, p.dtype, like=p._data), p.device)


def full_like(p: Tensor, value) -> Tensor:
    return Tensor._from_array(backend.full(p.shape, value, p.dtype, like=p._data), p.device)


def step_counter() -> Tensor:
    dtype = np.float64 if dtypes.get_default_dtype() == np.float64 else np.float32
    return Tensor._from_array(np.zeros((), dtype), "cpu")


def advance(counter: Tensor) -> float:
    """Add one to a step counter (in its own dtype, as torch's `step_t += 1`); the new value."""
    counter._data[...] = counter._data + 1
    return float(counter._data)


def flat(tensor_or_array):
    """A flat view of a state tensor's (contiguous) array, which the updates write through."""
    array = tensor_or_array._data if isinstance(tensor_or_array, Tensor) else tensor_or_array
    if not backend.is_contiguous(array):
        raise ValueError(f"optimizer state: expected a contiguous array, got one of shape "
                         f"{array.shape} with strides {array.strides}")
    return array.reshape(-1)


def loaded(value: Tensor, param: Tensor, key) -> Tensor:
    """A loaded state tensor as the optimizer keeps it: a copy (the state dict stays the
    caller's) on the parameter's device, in its dtype where the parameter is floating;
    "step" keeps its own dtype and stays on the CPU."""
    array = backend.transfer(value._data, "cpu" if key == "step" else param.device)
    if array is value._data:
        array = array.copy()
    if key != "step" and dtypes.is_floating_point(param.dtype) and array.dtype != param.dtype:
        array = array.astype(param.dtype)
    return Tensor._from_array(backend.contiguous(array), "cpu" if key == "step"
                              else param.device)
