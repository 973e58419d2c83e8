"""Tensor factories with torch's signatures: zeros, ones, full, empty, rand, randn, randperm,
arange, eye, linspace, logspace and the `*_like` forms. Without dtype= they take torch's dtype
(the default float, or for full and arange the type of their values); the storage is made on
`device`."""
from __future__ import annotations

import math
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


def eye(n, m=None, *, dtype=None, requires_grad=False, device="cpu") -> Tensor:
    """An n x m matrix (m defaults to n) with ones on the diagonal (torch.eye)."""
    for name, size in (("n", n), ("m", m)):
        if size is None and name == "m":
            continue
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise TypeError(f"eye(): argument '{name}' must be int, not {type(size).__name__}")
        if size < 0:
            raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {size}")
    dtype = as_dtype(dtype) or dtypes.get_default_dtype()
    return _factory(np.eye(int(n), int(n if m is None else m)), dtype, requires_grad, device)


# ----- evenly spaced values: torch's CPU arithmetic, step for step ------------------------
# torch computes element i as start + step * i for the first half and end - step * (n-1-i)
# for the second (so both ends are exact). linspace works in the result's dtype (double for
# integer dtypes, then truncated), each element one fused multiply-add (its kernel is
# compiled for FMA units): a single rounding, which the NumPy expressions below reproduce
# with error-free products and sums. logspace's exponents are plain double arithmetic.


def _number(op: str, value):
    """A start or end as the Python number torch's Scalar holds (a 0-d tensor's item)."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"{op} only supports 0-dimensional start and end tensors, but "
                               f"got one with {value.ndim} dimension(s).")
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{op}(): expected start and end to be numbers or 0-d tensors, got "
                        f"{type(value).__name__}")
    return value if isinstance(value, numbers.Integral) else float(value)


def scalar_in_dtype(op: str, value, dtype, filling: bool = False):
    """A Python number as c10's checked conversion to `dtype` gives it (what torch does to
    the numbers its factories and scatter take): a float that an integer dtype cannot hold
    once truncated (NaN and infinities too) is an error, as is a finite value beyond a float
    dtype's range; an int may be negative down to -max for an unsigned dtype (it wraps).
    `filling`: fill_'s conversion, which lets float16 overflow to infinity."""
    if dtype.kind == "b":
        return bool(value)
    if isinstance(value, (bool, np.bool_)):
        value = int(value)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if isinstance(value, numbers.Integral):
            low = -int(info.max) if dtype.kind == "u" else int(info.min)
            fits = low <= value <= info.max
        else:
            fits = info.min <= value < info.max + 1  # (False for NaN)
        if fits:
            whole = int(value)
            return whole + int(info.max) + 1 if whole < 0 and dtype.kind == "u" else whole
    elif (filling and dtype == np.float16) or not np.isfinite(float(value)) or \
            abs(value) <= float(np.finfo(dtype).max):
        return float(value)
    raise RuntimeError(f"{op}: value {value} cannot be converted to type {dtype} without "
                       "overflow")


def _two_sum(a, b):
    """(s, e) with s = fl(a + b) and s + e = a + b exactly (Knuth)."""
    s = a + b
    virtual = s - a
    return s, (a - (s - virtual)) + (b - virtual)


def _two_product(a, b):
    """(p, e) with p = fl(a * b) and p + e = a * b exactly (Dekker, Veltkamp's split)."""
    def split(x):
        scaled = 134217729.0 * x  # 2**27 + 1
        high = scaled - (scaled - x)
        return high, x - high
    p = a * b
    (ah, al), (bh, bl) = split(a), split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _round_to_float32(high, low):
    """high + low (float64s, |low| <= half an ulp of high) rounded once to float32."""
    rounded = high.astype(np.float32)
    off = high - rounded.astype(np.float64)
    toward = np.nextafter(rounded, np.where(off > 0, np.float32(np.inf), np.float32(-np.inf)))
    # high halfway between two float32s: the exact value's side of it is low's sign
    halfway = (off != 0) & (2 * off == toward.astype(np.float64) - rounded.astype(np.float64))
    past = halfway & (low != 0) & (np.sign(low) == np.sign(off))
    return np.where(past, toward, rounded)


def _fused(base, step, count, dtype):
    """base + step * count (count an integer array) with one rounding into `dtype`:
    float32 for a float32 result, float64 otherwise."""
    count = count.astype(np.float64)
    if dtype == np.float32:
        high, low = _two_sum(np.float64(base), np.float64(step) * count)  # the product is exact
        return _round_to_float32(high, low)
    product, product_error = _two_product(np.float64(step), count)
    high, low = _two_sum(np.float64(base), product)
    return high + (low + product_error)


def _to_half(value) -> np.float16:
    """A double as c10::Half takes it: through float32 (two roundings, as torch)."""
    return np.float16(np.float32(value))


def _c_pow(base: float, exponent: float) -> float:
    """C's pow(), which torch calls: math.pow, with C's results where Python raises."""
    try:
        return math.pow(base, exponent)
    except OverflowError:
        odd = exponent.is_integer() and int(exponent) % 2 == 1
        return -math.inf if base < 0 and odd else math.inf
    except ValueError:  # 0 to a negative power: C's pole; a negative base's root: NaN
        return math.inf if base == 0 else math.nan


def _power(base: float, exponents) -> np.ndarray:
    """base ** exponents by the C library's pow (NumPy's own vectorised power differs from
    it in the last bit for about one value in twenty)."""
    return np.array([_c_pow(base, e) for e in exponents.tolist()], dtype=np.float64)


def _spaced(start, end, steps: int, dtype) -> np.ndarray:
    """torch's linspace values in `dtype` (start and end already converted to it)."""
    index = np.arange(steps)
    first_half = index < steps // 2
    if dtype == np.float16:  # c10::Half: every operation rounded to half, nothing fused
        start, end = _to_half(start), _to_half(end)
        with np.errstate(all="ignore"):
            step = (end - start) / _to_half(steps - 1)
            return np.where(first_half, start + step * _to_half(index),
                            end - step * _to_half(steps - 1 - index))
    wide = np.float32 if dtype == np.float32 else np.float64  # integers: a double step
    start, end = wide(start), wide(end)
    step = (end - start) / wide(steps - 1)
    with np.errstate(all="ignore"):
        if not np.isfinite(step) or not np.isfinite(start):
            values = np.where(first_half, start + step * index.astype(wide),
                              end - step * (steps - 1 - index).astype(wide))
        else:
            values = np.where(first_half, _fused(start, step, index, wide),
                              _fused(end, -step, steps - 1 - index, wide))
        return values.astype(dtype)


def _spacing_dtype(op: str, steps, dtype) -> np.dtype:
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
        raise TypeError(f"{op}(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError(f"{op}: number of steps must be non-negative, got {steps}")
    dtype = as_dtype(dtype) or dtypes.get_default_dtype()
    if dtype == dtypes.bool_ and steps > 1:
        raise NotImplementedError(f"{op}: not implemented for dtype bool (as torch)")
    return dtype


def linspace(start, end, steps, *, dtype=None, requires_grad=False, device="cpu") -> Tensor:
    """`steps` values from start to end, evenly spaced (torch.linspace; the default float
    dtype unless dtype=; integer dtypes truncate)."""
    dtype = _spacing_dtype("linspace", steps, dtype)
    start, end = _number("linspace", start), _number("linspace", end)
    if steps <= 1:  # torch converts only what it uses: start, for one step
        values = np.full(steps, scalar_in_dtype("linspace", start, dtype, filling=True)
                         if steps else 0)
        values = _to_half(values) if dtype == np.float16 else values.astype(dtype)
    else:
        start, end = (scalar_in_dtype("linspace", v, dtype) for v in (start, end))
        values = _spaced(start, end, int(steps), dtype)
    return _factory(values, dtype, requires_grad, device)


def logspace(start, end, steps, base=10.0, *, dtype=None, requires_grad=False,
             device="cpu") -> Tensor:
    """base ** (`steps` exponents evenly spaced from start to end) (torch.logspace: the
    exponents in double, from start and end in `dtype`)."""
    dtype = _spacing_dtype("logspace", steps, dtype)
    start, end = _number("logspace", start), _number("logspace", end)
    base = float(base)
    with np.errstate(all="ignore"):
        if steps <= 1:  # torch: base ** start (as given), converted to dtype with checks
            value = _c_pow(base, float(start))
            values = np.full(steps, scalar_in_dtype("logspace", value, dtype, filling=True)
                             if steps else 0)
        else:
            low, high = (scalar_in_dtype("logspace", v, dtype) for v in (start, end))
            if dtype.kind == "f":  # the difference is taken in dtype, the rest in double
                convert = _to_half if dtype == np.float16 else dtype.type
                low, high = convert(low), convert(high)
            index = np.arange(steps)
            step = np.float64(high - low) / (steps - 1)
            # (torch's logspace is not compiled with fused multiply-adds: two roundings)
            exponents = np.where(index < steps // 2, np.float64(low) + step * index,
                                 np.float64(high) - step * (steps - 1 - index))
            values = _power(base, exponents)
        if dtype == np.float16:
            values = _to_half(values)
        return _factory(values.astype(dtype), dtype, requires_grad, device)
