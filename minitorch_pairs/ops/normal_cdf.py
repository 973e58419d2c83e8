"""The standard normal CDF, Phi(x) = (1 + erf(x / sqrt 2)) / 2, which gelu needs.

On host arrays it is that formula with SciPy's erf, torch's formula (so also its rounding,
such as 1 + erf cancelling to 0 below x = -8). The device arrays' elementwise kernels have no erf, so
there Phi is built from the ufuncs they do have (and one matrix product), accurate to a few
units in the last place of float64:

    Phi(-|x|) = erfc(z) / 2 = t exp(g(y) - z^2) / 2,   z = |x| / sqrt 2,
    t = 2 / (2 + z) in (0, 1],  y = 2t - 1 in (-1, 1],

where g(y) = log(erfcx(z) / t) is smooth on [-1, 1]. g is interpolated once, at first use,
at Chebyshev nodes (from SciPy's erfcx) and evaluated as a polynomial in y: the powers of y
as an (n, degree + 1) matrix times the coefficients, two kernel launches instead of a
Horner loop's fifty.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import backend

# Degree of the polynomial in y: the interpolation error of g falls to float64 rounding
# (3e-15) at 24; higher degrees gain nothing.
DEGREE = 24


def normal_cdf(a):
    """Phi(a), elementwise, in a's dtype, on a's device."""
    if isinstance(a, (np.ndarray, np.generic)):
        from scipy.special import erf
        return (0.5 * (1 + np.asarray(erf(a * math.sqrt(0.5))))).astype(a.dtype, copy=False)
    return normal_cdf_by_polynomial(a)


def normal_cdf_by_polynomial(a):
    """Phi(a) from the interpolated tail (any array type with NumPy's ufuncs and matmul):
    Phi(x) = Phi(-|x|) for x < 0, else 1 - Phi(-|x|). NaN stays NaN, Phi(+-inf) = 1, 0."""
    if a.size == 0:
        return a.copy()
    z = np.abs(a) * math.sqrt(0.5)
    t = 2.0 / (2.0 + z)
    y = (2.0 * t - 1.0).reshape(-1, 1)
    exponents, coefficients = _polynomial(a.dtype, "cpu" if isinstance(a, np.ndarray) else "cuda")
    g = (y ** exponents @ coefficients).reshape(a.shape)
    with np.errstate(over="ignore", invalid="ignore"):  # z * z overflows to inf: exp(-inf) = 0
        tail = 0.5 * t * np.exp(g - z * z)
    return np.where(a < 0, tail, 1.0 - tail)


@functools.lru_cache(maxsize=None)
def _polynomial(dtype, device: str):
    """(exponents 0..DEGREE, monomial coefficients as a column) of g, in `dtype`, on
    `device` (uploaded once)."""
    from numpy.polynomial import chebyshev
    from scipy.special import erfcx
    nodes = np.cos(np.pi * (np.arange(DEGREE + 1) + 0.5) / (DEGREE + 1))
    t = (nodes + 1) / 2
    values = np.log(erfcx(2 / t - 2) / t)
    monomials = chebyshev.cheb2poly(chebyshev.chebfit(nodes, values, DEGREE))
    exponents = np.arange(DEGREE + 1, dtype=dtype)
    coefficients = monomials.astype(dtype).reshape(-1, 1)
    return backend.transfer(exponents, device), backend.transfer(coefficients, device)
