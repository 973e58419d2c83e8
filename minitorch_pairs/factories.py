"""Tensor factories with torch's signatures: zeros, ones, full, empty, rand, randn, randperm,
arange and their `*_like` forms. Without dtype= they take torch's dtype (the default float, or
for full and arange the type of their values); the storage is made on `device`."""
from __future__ import annotations

import numbers

import numpy as np

from . import backend, dtypes, random
from .dtypes import as_dtype
from .errors import ShapeError
from .tensor import Tensor


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for extent in size:
        if not isinstance(extent, numbers.Integral) or extent < 0:
            raise ShapeError(f"size: expected non-negative integers, got {size}")
    return tuple(int(extent) for extent in size)


def _factory(array, dtype, requires_grad, device) -> Tensor:
    """A host array made by a factory, in `dtype` (default float), moved to `device`."""
    dtype = as_dtype(dtype) or dtypes.get_default_dtype()
    device = backend.check_device(device)
    array = backend.transfer(array.astype(dtype, copy=False), device)
    result = Tensor._from_array(array, device)
    return result.requires_grad_(requires_grad)


def zeros(*size, dtype=None, requires_grad=False, device="cpu") -> Tensor:
    return _factory(np.zeros(_shape(size)), dtype, requires_grad, device)


def ones(*size, dtype=None, requires_grad=False, device="cpu") -> Tensor:
    return _factory(np.ones(_shape(size)), dtype, requires_grad, device)


def full(size, fill_value, dtype=None, requires_grad=False, device="cpu") -> Tensor:
    """`fill_value` everywhere; without dtype= its type decides (bool, int64, default float)."""
    dtype = as_dtype(dtype) or dtypes.scalar_dtype(fill_value)
    return _factory(np.full(_shape((size,)), fill_value, dtype=dtype), dtype, requires_grad,
                    device)


def empty(*size, dtype=None, requires_grad=False, device="cpu") -> Tensor:
    """Uninitialised in torch; zeros here (the same cost for our NumPy storage)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad, device=device)


def _like(factory, other: Tensor, dtype, requires_grad, device, *args) -> Tensor:
    """`factory` with `other`'s shape, and its dtype and device unless given."""
    return factory(other.shape, *args, dtype=dtype or other.dtype, requires_grad=requires_grad,
                   device=other.device if device is None else device)


def zeros_like(other: Tensor, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _like(zeros, other, dtype, requires_grad, device)


def ones_like(other: Tensor, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _like(ones, other, dtype, requires_grad, device)


def empty_like(other: Tensor, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _like(empty, other, dtype, requires_grad, device)


def full_like(other: Tensor, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _like(full, other, dtype, requires_grad, device, fill_value)


def rand_like(other: Tensor, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _like(rand, other, dtype, requires_grad, device)


def randn_like(other: Tensor, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _like(randn, other, dtype, requires_grad, device)


def randn(*size, dtype=None, requires_grad=False, device="cpu", generator=None) -> Tensor:
    rng = random.numpy_generator(generator)
    return _factory(rng.standard_normal(_shape(size)), dtype, requires_grad, device)


def rand(*size, dtype=None, requires_grad=False, device="cpu", generator=None) -> Tensor:
    rng = random.numpy_generator(generator)
    return _factory(rng.random(_shape(size)), dtype, requires_grad, device)


def _largest_exact_integer(dtype) -> int:
    """The largest integer n such that 0..n all have exact values in `dtype`."""
    if dtype.kind == "f":
        return 2 ** (np.finfo(dtype).nmant + 1)
    return int(np.iinfo(dtype).max)


def randperm(n, *, generator=None, dtype=dtypes.int64, device="cpu",
             requires_grad=False) -> Tensor:
    """A random permutation of 0..n-1 drawn from `generator` (torch.randperm; torch's checks:
    n an int >= 0 whose values all fit `dtype`)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"randperm(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    dtype = as_dtype(dtype) or dtypes.int64
    if dtype == dtypes.bool_:
        raise NotImplementedError("randperm: not implemented for dtype bool")
    if n - 1 > _largest_exact_integer(dtype):
        raise RuntimeError(f"randperm: n={n} is too large for dtype {dtype}: its values 0..{n - 1} "
                           f"do not all fit")
    return _factory(random.numpy_generator(generator).permutation(int(n)), dtype, requires_grad,
                    device)


def arange(start, end=None, step=1, dtype=None, device="cpu") -> Tensor:
    if end is None:
        start, end = 0, start
    array = np.arange(start, end, step)
    if dtype is None:  # any float bound or step: the default dtype (torch), else int64
        dtype = dtypes.result_type(start, end, step) if all(
            isinstance(v, numbers.Number) for v in (start, end, step)) else array.dtype
    return _factory(array, as_dtype(dtype) or array.dtype, False, device)
