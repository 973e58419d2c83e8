"""ops/pointwise and ops/logic against torch itself, for what the gradient suites do not
cover: result dtypes over every input dtype and operand kind (tensors of each dtype, 0-d
tensors, Python numbers either side), integer division by zero, NaN, infinities and signed
zeros, the gradient conventions at ties, origins and jumps, errors, the where/comparison/logic
functions, and the device (under numba's simulator where there is no GPU)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minitorch_pairs as mt
from torch_reference import torch

NAN, INF = float("nan"), float("inf")
DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]
FLOAT_VALUES = [-2.5, -1.0, -0.5, -0.0, 0.0, 0.3, 0.5, 1.0, 1.5, 2.5, 1e-10, 7.0, INF, -INF,
                NAN]
INT_VALUES = [-3, -1, 0, 1, 2, 5]


def array_of(dtype: str, values=None) -> np.ndarray:
    if dtype == "bool":
        return np.array([True, False, True, True, False, True][:len(values or INT_VALUES)])
    if dtype.startswith("float"):
        return np.array(FLOAT_VALUES if values is None else values, dtype=dtype)
    return np.array(INT_VALUES if values is None else values).astype(dtype)  # uint8 wraps


def both(value):
    """(ours, torch's) of an array (a tensor of its dtype) or a Python number (itself)."""
    if isinstance(value, np.ndarray):
        return mt.tensor(value), torch.tensor(value)
    return value, value


def outcome(call):
    """The call's result, or the class of the exception it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error)


def numpy_dtype(torch_dtype) -> np.dtype:
    return torch.empty(0, dtype=torch_dtype).numpy().dtype


def assert_same(ours, theirs, rtol: float = 0.0, label: str = "") -> None:
    """The same exception class (ours may be a subclass: ShapeError is a RuntimeError), or
    the same dtype, shape and values (NaN where torch has NaN; signed zeros where exact)."""
    if isinstance(theirs, type):
        assert isinstance(ours, type) and issubclass(ours, theirs), \
            f"{label}: torch raises {theirs.__name__}, we gave {ours}"
        return
    assert not isinstance(ours, type), f"{label}: we raise {ours.__name__}, torch gives {theirs}"
    if not isinstance(theirs, torch.Tensor):
        assert type(ours) is type(theirs) and ours == theirs, f"{label}: {ours} != {theirs}"
        return
    assert isinstance(ours, mt.Tensor), f"{label}: got {type(ours).__name__}"
    assert ours.dtype == numpy_dtype(theirs.dtype), \
        f"{label}: dtype {ours.dtype} != {theirs.dtype}"
    assert ours.shape == tuple(theirs.shape), f"{label}: shape {ours.shape} != {theirs.shape}"
    o, t = ours.detach().numpy(), theirs.detach().numpy()
    if rtol and o.dtype.kind == "f":
        np.testing.assert_allclose(o, t, rtol=rtol, atol=0, equal_nan=True, err_msg=label)
    else:
        np.testing.assert_array_equal(o, t, err_msg=label)
        if o.dtype.kind == "f":  # (a NaN's sign bit is not specified)
            numbers = ~np.isnan(t)
            assert np.array_equal(np.signbit(o)[numbers], np.signbit(t)[numbers]), \
                f"{label}: signed zeros differ: {o} vs {t}"


def inexact_rtol(result) -> float:
    """Transcendental results: NumPy's and torch's libm may differ by an ulp or two."""
    if not isinstance(result, mt.Tensor) or result.dtype.kind != "f":
        return 0.0
    return {"float16": 2e-3, "float32": 1e-6, "float64": 1e-14}[result.dtype.name]


# ----- unary functions: every dtype in, torch's dtype and values out ----------------------

EXACT_UNARY = ["neg", "negative", "sign", "square", "floor", "ceil", "round", "trunc", "fix",
               "frac", "reciprocal", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
               "logical_not"]
INEXACT_UNARY = ["expm1", "log1p", "log2", "log10", "rsqrt", "sin", "cos", "tan", "asin",
                 "acos", "atan", "arcsin", "arccos", "arctan"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", EXACT_UNARY + INEXACT_UNARY)
def test_unary_function_dtype_and_values_match_torch(name, dtype):
    ours_in, theirs_in = both(array_of(dtype))
    ours = outcome(lambda: getattr(mt, name)(ours_in))
    theirs = outcome(lambda: getattr(torch, name)(theirs_in))
    assert_same(ours, theirs, inexact_rtol(ours) if name in INEXACT_UNARY else 0.0,
                f"{name}({dtype})")


@pytest.mark.parametrize("name", ["sign", "reciprocal", "expm1", "log1p", "log2", "log10",
                                  "rsqrt", "square", "sin", "cos", "tan", "asin", "acos",
                                  "atan", "floor", "ceil", "round", "trunc", "frac", "neg",
                                  "negative", "isnan", "isinf", "isfinite", "isposinf",
                                  "isneginf", "logical_not"])
def test_unary_methods_match_the_functions(name):
    x = mt.tensor([-1.5, 0.25, 0.75, 2.0])
    assert_same(getattr(x, name)(), getattr(torch.tensor(x.numpy()), name)(),
                inexact_rtol(x), f"Tensor.{name}")


def test_the_functions_refuse_python_numbers_as_torch():
    for name in ["sin", "floor", "sign", "reciprocal", "isnan", "logical_not", "square"]:
        assert_same(outcome(lambda: getattr(mt, name)(1.5)),
                    outcome(lambda: getattr(torch, name)(1.5)), label=name)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log1p_and_expm1_keep_the_digits_of_tiny_arguments(dtype):
    x = mt.tensor([1e-10, -1e-12, 3e-8], dtype=dtype)
    for ours in (mt.log1p(x), mt.expm1(x)):
        np.testing.assert_allclose(ours.numpy(), x.numpy(), rtol=1e-7)


@pytest.mark.parametrize("decimals", [-2, -1, 0, 1, 2, 3])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_round_with_decimals_matches_torch_at_halves(decimals, dtype):
    values = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 1.25, 2.35, 0.125, 155.0, 250.0, 1e4 + 5,
                       -0.04, NAN, INF, -INF], dtype=dtype)
    ours_in, theirs_in = both(values)
    assert_same(mt.round(ours_in, decimals=decimals),
                torch.round(theirs_in, decimals=decimals), label=f"round {decimals}")
    assert_same(ours_in.round(decimals=decimals), theirs_in.round(decimals=decimals))


def test_round_of_an_integer_tensor_as_torch():
    ours_in, theirs_in = both(np.array([15, 25, -15]))
    assert_same(mt.round(ours_in), torch.round(theirs_in))  # a copy
    for decimals in (0, 1, -1):  # torch's round.decimals refuses integers, even for 0
        assert_same(outcome(lambda: mt.round(ours_in, decimals=decimals)),
                    outcome(lambda: torch.round(theirs_in, decimals=decimals)))
    with pytest.raises(TypeError, match="decimals"):
        mt.round(mt.tensor([1.5]), decimals=1.5)


@settings(max_examples=30)
@given(st.lists(st.floats(-1e6, 1e6, width=32), min_size=1, max_size=20),
       st.integers(-3, 4))
def test_round_with_decimals_on_drawn_values(values, decimals):
    ours_in, theirs_in = both(np.array(values, dtype=np.float32))
    assert_same(mt.round(ours_in, decimals=decimals), torch.round(theirs_in, decimals=decimals))


# ----- binary functions: operand kinds and dtypes -----------------------------------------

BINARY = {
    "pow": lambda lib, a, b: lib.pow(a, b),
    "atan2": lambda lib, a, b: lib.atan2(a, b),
    "minimum": lambda lib, a, b: lib.minimum(a, b),
    "maximum": lambda lib, a, b: lib.maximum(a, b),
    "fmin": lambda lib, a, b: lib.fmin(a, b),
    "fmax": lambda lib, a, b: lib.fmax(a, b),
    "remainder": lambda lib, a, b: lib.remainder(a, b),
    "fmod": lambda lib, a, b: lib.fmod(a, b),
    "div": lambda lib, a, b: lib.div(a, b),
    "div trunc": lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
    "div floor": lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
    "divide": lambda lib, a, b: lib.divide(a, b),
    "true_divide": lambda lib, a, b: lib.true_divide(a, b),
    "floor_divide": lambda lib, a, b: lib.floor_divide(a, b),
    "%": lambda lib, a, b: a % b,
    "//": lambda lib, a, b: a // b,
    "eq": lambda lib, a, b: lib.eq(a, b),
    "ne": lambda lib, a, b: lib.ne(a, b),
    "lt": lambda lib, a, b: lib.lt(a, b),
    "le": lambda lib, a, b: lib.le(a, b),
    "gt": lambda lib, a, b: lib.gt(a, b),
    "ge": lambda lib, a, b: lib.ge(a, b),
    "greater": lambda lib, a, b: lib.greater(a, b),
    "greater_equal": lambda lib, a, b: lib.greater_equal(a, b),
    "less": lambda lib, a, b: lib.less(a, b),
    "less_equal": lambda lib, a, b: lib.less_equal(a, b),
    "not_equal": lambda lib, a, b: lib.not_equal(a, b),
    "logical_and": lambda lib, a, b: lib.logical_and(a, b),
    "logical_or": lambda lib, a, b: lib.logical_or(a, b),
    "logical_xor": lambda lib, a, b: lib.logical_xor(a, b),
}
INEXACT_BINARY = ("pow", "atan2")
DIVIDENDS = [-7, -3, 0, 2, 5, 7]
DIVISORS = [2, -3, 1, -2, 3, 4]
WITH_ZEROS = [2, 0, 1, -2, 0, 4]


def operand(kind):
    """An operand kind: (dtype, values) is a 1-d tensor, ("0-d", dtype, value) a 0-d tensor,
    anything else a Python number."""
    if isinstance(kind, tuple) and kind[0] == "0-d":
        return np.array(kind[2], dtype=kind[1])
    if isinstance(kind, tuple):
        return array_of(kind[0], kind[1])
    return kind


PAIRS = [
    (("int64", DIVIDENDS), ("int64", DIVISORS)),
    (("int64", DIVIDENDS), ("int64", WITH_ZEROS)),
    (("int32", DIVIDENDS), ("int64", DIVISORS)),
    (("uint8", DIVIDENDS), ("int8", DIVISORS)),
    (("uint8", DIVIDENDS), ("uint8", [2, 3, 1, 4, 3, 5])),
    (("bool", DIVIDENDS), ("bool", DIVISORS)),
    (("bool", DIVIDENDS), ("int64", DIVISORS)),
    (("int64", DIVIDENDS), ("float32", DIVISORS)),
    (("float32", DIVIDENDS), ("float64", WITH_ZEROS)),
    (("float16", [-7.5, -3, 0, 2.25, 5, 7]), ("float32", DIVISORS)),
    (("float32", [-7.5, -0.0, 0.0, 2.25, INF, NAN]), ("float32", [2, -3, 0, -0.0, 3, 4])),
    (("int64", DIVIDENDS), 2), (("int64", DIVIDENDS), -2), (("int64", DIVIDENDS), 2.5),
    (("int64", DIVIDENDS), 0), (("float32", DIVIDENDS), 0), (("float32", DIVIDENDS), -0.0),
    (("bool", DIVIDENDS), True), (("bool", DIVIDENDS), 2), (("uint8", DIVIDENDS), 3),
    (("float16", DIVIDENDS), 2.5), (("int8", DIVIDENDS), 1000),
    (3, ("int64", DIVISORS)), (2.5, ("int64", DIVISORS)), (-1, ("int64", DIVISORS)),
    (3, ("float32", WITH_ZEROS)), (0, ("int64", DIVISORS)),
    (("0-d", "float64", 2.5), ("int64", DIVIDENDS)), (("int64", DIVIDENDS), ("0-d", "int64", -2)),
    (("0-d", "int64", 7), ("float16", DIVISORS)), (("0-d", "int64", 7), ("0-d", "int64", -2)),
    (2, 3), (7.5, 2),
]


@pytest.mark.parametrize("pair", PAIRS, ids=repr)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_function_dtype_values_and_errors_match_torch(name, pair):
    (a_ours, a_theirs), (b_ours, b_theirs) = both(operand(pair[0])), both(operand(pair[1]))
    if name in ("%", "//") and not isinstance(a_ours, mt.Tensor) and \
            not isinstance(b_ours, mt.Tensor):
        return  # Python's own operators
    ours = outcome(lambda: BINARY[name](mt, a_ours, b_ours))
    theirs = outcome(lambda: BINARY[name](torch, a_theirs, b_theirs))
    assert_same(ours, theirs, inexact_rtol(ours) if name in INEXACT_BINARY else 0.0,
                f"{name}{pair}")


@pytest.mark.parametrize("name", ["remainder", "fmod", "div trunc", "div floor",
                                  "floor_divide", "%", "//"])
def test_integer_division_by_zero_is_torchs_runtime_error(name):
    a, b = mt.tensor([5, 6]), mt.tensor([1, 0])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        BINARY[name](mt, a, b)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        BINARY[name](torch, torch.tensor([5, 6]), torch.tensor([1, 0]))


def test_div_rejects_an_unknown_rounding_mode_as_torch():
    with pytest.raises(RuntimeError, match="rounding_mode"):
        mt.div(mt.tensor([1.0]), 2, rounding_mode="round")
    with pytest.raises(RuntimeError, match="rounding_mode"):
        torch.div(torch.tensor([1.0]), 2, rounding_mode="round")


def test_integer_extremes_wrap_as_torch():
    for dtype in ("int8", "int64"):
        low = np.array([np.iinfo(dtype).min], dtype=dtype)
        minus_one = np.array([-1], dtype=dtype)
        for name in ("div floor", "remainder", "fmod"):
            (a, ta), (b, tb) = both(low), both(minus_one)
            assert_same(BINARY[name](mt, a, b), BINARY[name](torch, ta, tb), label=name)


FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=32, min_value=-2.0 ** 100,
                   max_value=2.0 ** 100)


@settings(max_examples=40)
@given(st.lists(st.tuples(FLOATS, FLOATS | st.sampled_from([0.0, -0.0, INF, -INF])),
                min_size=1, max_size=30))
def test_float_divisions_and_moduli_match_torch_bit_for_bit(pairs):
    a = np.array([p[0] for p in pairs], dtype=np.float32)
    b = np.array([p[1] for p in pairs], dtype=np.float32)
    # a quotient beyond float32's range: torch's vectorized fmod gives NaN or the exact 0
    # depending on the tensor's length (16 lanes or not); we give the exact one
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        keep = ~(np.abs(a.astype(np.float64) / b) > 1e37) | ~np.isfinite(b)
    a, b = a[keep], b[keep]
    (ours_a, theirs_a), (ours_b, theirs_b) = both(a), both(b)
    for name in ("remainder", "fmod", "div trunc", "div floor", "floor_divide", "div"):
        assert_same(BINARY[name](mt, ours_a, ours_b), BINARY[name](torch, theirs_a, theirs_b),
                    label=name)


@settings(max_examples=40)
@given(st.sampled_from(["int8", "int16", "int32", "int64", "uint8"]), st.data())
def test_integer_divisions_and_moduli_match_torch(dtype, data):
    info = np.iinfo(dtype)
    values = st.integers(int(info.min), int(info.max))
    a = np.array(data.draw(st.lists(values, min_size=1, max_size=20)), dtype=dtype)
    b = np.array(data.draw(st.lists(values.filter(bool), min_size=len(a), max_size=len(a))),
                 dtype=dtype)
    keep = ~((a == info.min) & (b == -1))  # torch's trunc division crashes on this one
    a, b = a[keep], b[keep]
    (ours_a, theirs_a), (ours_b, theirs_b) = both(a), both(b)
    for name in ("remainder", "fmod", "div trunc", "div floor", "floor_divide", "%", "//"):
        assert_same(BINARY[name](mt, ours_a, ours_b), BINARY[name](torch, theirs_a, theirs_b),
                    label=name)


@settings(max_examples=30)
@given(st.sampled_from(["int8", "int32", "int64", "uint8"]), st.data())
def test_integer_powers_with_tensor_exponents_match_torch(dtype, data):
    """torch's integer rules: negative tensor exponents give 1, +-1 or 0; powers wrap."""
    info = np.iinfo(dtype)
    base = data.draw(st.lists(st.integers(max(int(info.min), -5), 5), min_size=1, max_size=12))
    exponent = data.draw(st.lists(st.integers(max(int(info.min), -4), 40), min_size=len(base),
                                  max_size=len(base)))
    (a, ta), (b, tb) = both(np.array(base, dtype=dtype)), both(np.array(exponent, dtype=dtype))
    assert_same(mt.pow(a, b), torch.pow(ta, tb))
    assert_same(a.pow(b), ta.pow(tb))


def test_binary_methods_and_reflected_operators_match_torch():
    a, b = np.array([-7.5, 2.0, 3.5]), np.array([2.0, -3.0, 1.5])
    (x, tx), (y, ty) = both(a), both(b)
    for name in ("pow", "atan2", "minimum", "maximum", "fmin", "fmax", "remainder", "fmod",
                 "div", "true_divide", "floor_divide", "eq", "ne", "lt", "le", "gt", "ge",
                 "logical_and", "logical_or", "logical_xor"):
        assert_same(getattr(x, name)(y), getattr(tx, name)(ty), 1e-12, f"Tensor.{name}")
    assert_same(x.div(y, rounding_mode="floor"), tx.div(ty, rounding_mode="floor"))
    assert_same(x.div(y, rounding_mode="trunc"), tx.div(ty, rounding_mode="trunc"))
    assert_same(7 % y, 7 % ty)
    assert_same(7 // y, 7 // ty)
    assert_same(x % 2, tx % 2)
    assert_same(x // 2, tx // 2)


def test_binary_functions_refuse_what_torch_refuses():
    x, tx = both(np.array([1.0, 2.0]))
    for name in ("minimum", "maximum", "fmin", "fmax", "atan2", "logical_and", "equal",
                 "isclose"):
        assert_same(outcome(lambda: getattr(mt, name)(x, 2.0)),
                    outcome(lambda: getattr(torch, name)(tx, 2.0)), label=f"{name}(t, 2.0)")
        assert_same(outcome(lambda: getattr(mt, name)(2.0, x)),
                    outcome(lambda: getattr(torch, name)(2.0, tx)), label=f"{name}(2.0, t)")
    for name in ("eq", "lt", "fmod"):
        assert_same(outcome(lambda: getattr(mt, name)(2.0, x)),
                    outcome(lambda: getattr(torch, name)(2.0, tx)), label=f"{name}(2.0, t)")
    for name in ("pow", "remainder", "minimum", "fmod"):
        assert_same(outcome(lambda: getattr(mt, name)(2, 3)),
                    outcome(lambda: getattr(torch, name)(2, 3)), label=f"{name}(2, 3)")
    for name in ("maximum", "remainder", "logical_or", "eq"):
        assert_same(outcome(lambda: getattr(mt, name)(mt.ones(3), mt.ones(2))),
                    outcome(lambda: getattr(torch, name)(torch.ones(3), torch.ones(2))),
                    label=f"{name} shapes")


# ----- NaN in minimum/maximum/fmin/fmax ----------------------------------------------------

def test_nan_propagates_through_maximum_and_is_ignored_by_fmax():
    a = np.array([NAN, 1.0, NAN, 2.0, -0.0])
    b = np.array([1.0, NAN, NAN, 2.0, 0.0])
    (x, tx), (y, ty) = both(a), both(b)
    for name in ("maximum", "minimum", "fmax", "fmin"):
        np.testing.assert_array_equal(getattr(mt, name)(x, y).numpy(),
                                      getattr(torch, name)(tx, ty).numpy(), err_msg=name)


# ----- gradient conventions at the edges ---------------------------------------------------

def grads(lib, fn, *arrays, upstream=None):
    inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(lib, *inputs)
    weights = np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)) \
        if upstream is None else upstream
    out.backward(lib.tensor(weights))
    return [None if t.grad is None else np.asarray(t.grad.numpy() if lib is mt
                                                   else t.grad.detach().numpy())
            for t in inputs]


def assert_same_grads(fn, *arrays):
    for ours, theirs in zip(grads(mt, fn, *arrays), grads(torch, fn, *arrays)):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_ties_and_nans_share_the_gradient_as_torch(name):
    a = np.array([1.0, 2.0, NAN, 3.0, NAN, 5.0, -1.0])
    b = np.array([1.0, 1.0, 1.0, NAN, NAN, 7.0, -1.0])
    assert_same_grads(lambda lib, x, y: getattr(lib, name)(x, y), a, b)
    # broadcast: a tie of one element with many
    assert_same_grads(lambda lib, x, y: getattr(lib, name)(x, y),
                      np.array([[1.0], [2.0]]), np.array([1.0, 2.0, 3.0]))


def test_atan2_gradient_at_the_origin_is_zero_as_torch():
    assert_same_grads(lambda lib, y, x: lib.atan2(y, x), np.array([0.0, 1.0, -0.0]),
                      np.array([0.0, 1.0, -2.0]))


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "round", "trunc"])
def test_step_functions_have_zero_gradient_even_at_their_jumps(name):
    assert_same_grads(lambda lib, x: getattr(lib, name)(x), np.array([0.0, -1.0, 2.5, 0.5]))


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_rounding_divisions_have_zero_gradient(mode):
    assert_same_grads(lambda lib, x, y: lib.div(x, y, rounding_mode=mode),
                      np.array([7.0, -7.0, 0.0]), np.array([2.0, 2.0, 0.0]))


def test_moduli_gradients_at_exact_multiples_as_torch():
    for name in ("remainder", "fmod"):
        assert_same_grads(lambda lib, x, y: getattr(lib, name)(x, y),
                          np.array([4.0, -4.0, 7.5, -7.5]), np.array([2.0, 2.0, -2.0, 2.0]))


def test_floor_divide_is_recorded_but_has_no_derivative_as_torch():
    x = mt.tensor([3.0, -3.0], requires_grad=True)
    out = x // 2
    assert out.requires_grad
    with pytest.raises(RuntimeError, match="floor_divide"):
        out.sum().backward()
    t = torch.tensor([3.0, -3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="floor_divide"):
        (t // 2).sum().backward()


def test_reciprocal_rsqrt_log1p_asin_at_their_poles_as_torch():
    for name, values in (("reciprocal", [0.0, 2.0]), ("rsqrt", [0.0, 4.0]),
                         ("log1p", [-1.0, 0.0]), ("asin", [1.0, 0.5]), ("acos", [-1.0, 0.0]),
                         ("log2", [0.0, 1.0]), ("frac", [1.0, -2.5])):
        ours, theirs = (grads(lib, lambda lib, x: getattr(lib, name)(x), np.array(values))[0]
                        for lib in (mt, torch))
        np.testing.assert_array_equal(ours, theirs, err_msg=name)


def test_integer_results_do_not_record_a_graph():
    x = mt.tensor([1.5, 2.5], requires_grad=True)
    assert not mt.isnan(x).requires_grad and not (x > 1).requires_grad
    assert not mt.logical_and(x, x).requires_grad
    assert mt.sign(x).requires_grad and mt.floor(x).requires_grad  # zero gradient, as torch


# ----- where ------------------------------------------------------------------------------

WHERE_OPERANDS = [np.array([1.5, -2.0, 3.0]), np.array([1, 2, 3]),
                  np.array([1, 2, 3], dtype=np.int32), np.array([True, False, True]),
                  np.array(2.5), np.array(4), 2.5, 7, True, np.array([1.0], dtype=np.float16),
                  np.array([1.0, 2.0, 3.0])]


@pytest.mark.parametrize("x", WHERE_OPERANDS, ids=repr)
@pytest.mark.parametrize("y", WHERE_OPERANDS, ids=repr)
def test_where_promotes_tensors_and_numbers_as_torch(x, y):
    condition = np.array([True, False, True])
    (c, tc), (xo, xt), (yo, yt) = both(condition), both(x), both(y)
    assert_same(outcome(lambda: mt.where(c, xo, yo)), outcome(lambda: torch.where(tc, xt, yt)),
                label="where")


def test_where_condition_must_be_bool_as_torch():
    x, tx = both(np.array([1.0, 2.0]))
    for condition in (np.array([1, 0]), np.array([1.0, 0.0])):
        c, tc = both(condition)
        assert_same(outcome(lambda: mt.where(c, x, 0.0)),
                    outcome(lambda: torch.where(tc, tx, 0.0)))
    c, tc = both(np.array([1, 0], dtype=np.uint8))  # deprecated, still accepted, as torch
    with pytest.warns(UserWarning, match="uint8"):
        ours = mt.where(c, x, 0.0)
    with pytest.warns(UserWarning, match="uint8"):
        assert_same(ours, torch.where(tc, tx, 0.0))
    with pytest.raises(TypeError):
        mt.where(mt.tensor([True, False]), x)
    with pytest.raises(TypeError, match="other"):
        mt.where(mt.tensor([True, False]), x, "zero")
    with pytest.raises(RuntimeError):
        mt.where(mt.tensor([True, False, True]), x, 0.0)


@pytest.mark.parametrize("condition", [np.array([[True, False], [True, True]]),
                                       np.array([[1, 0, 3], [0, 0, 2]]), np.array(True),
                                       np.array(0.0), np.zeros((2, 0), dtype=bool)], ids=repr)
def test_where_of_a_condition_alone_is_nonzero_as_torch(condition):
    ours, theirs = mt.where(mt.tensor(condition)), torch.where(torch.tensor(condition))
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert_same(o, t)


def test_tensor_where_matches_torch():
    (x, tx), (c, tc) = both(np.array([1.0, -2.0, 3.0])), both(np.array([True, False, True]))
    assert_same(x.where(c, 0.5), tx.where(tc, 0.5))
    assert_same(x.where(c, mt.tensor([9.0])), tx.where(tc, torch.tensor([9.0])))
    assert_same_grads(lambda lib, a, b: a.where(lib.tensor([True, False, True]), b),
                      np.array([1.0, 2.0, 3.0]), np.array([[4.0], [5.0]]))


# ----- equal, isclose, allclose -----------------------------------------------------------

EQUAL_PAIRS = [
    (np.array([1, 2]), np.array([1, 2])), (np.array([1, 2]), np.array([1.0, 2.0])),
    (np.array([1, 2]), np.array([1, 2], dtype=np.int32)),
    (np.array([True, False]), np.array([1, 0])), (np.array([NAN]), np.array([NAN])),
    (np.array([1, 2]), np.array([1, 2, 3])), (np.ones(3), np.ones(1)),
    (np.array(1.0), np.array([1.0])), (np.zeros(0), np.zeros((0, 3))),
    (np.array([-0.0]), np.array([0.0])), (np.array([[1, 2]]), np.array([[1, 3]])),
]


@pytest.mark.parametrize("pair", EQUAL_PAIRS, ids=repr)
def test_equal_is_a_python_bool_as_torch(pair):
    (a, ta), (b, tb) = both(pair[0]), both(pair[1])
    assert_same(mt.equal(a, b), torch.equal(ta, tb))
    assert_same(a.equal(b), ta.equal(tb))


ISCLOSE_PAIRS = [
    (np.array([1.0, 1.0001, NAN, INF, -INF, INF, 0.0]),
     np.array([1.00000001, 1.0, NAN, INF, -INF, -INF, 1e-9])),
    (np.array([1, 5, 100]), np.array([1, 6, 101])),
    (np.array([2 ** 30]), np.array([2 ** 30 + 3])),
    (np.array([5, 200], dtype=np.uint8), np.array([200, 5], dtype=np.uint8)),
    (np.array([-100, 100], dtype=np.int8), np.array([100, -100], dtype=np.int8)),
    (np.array([True, False, True]), np.array([False, False, True])),
    (np.array([1000.0], dtype=np.float16), np.array([1001.0], dtype=np.float16)),
    (np.ones((3, 1)), np.ones(2)), (np.ones(3), np.ones(2)),
    (np.array([1.0], dtype=np.float32), np.array([1.0])),
    (np.array([1]), np.array([1.0], dtype=np.float32)),
]
TOLERANCES = [{}, {"rtol": 0.0, "atol": 0.0}, {"rtol": 0.01, "atol": 0.0},
              {"rtol": 0.0, "atol": 1.0}, {"rtol": 0.0, "atol": 100.0}, {"atol": 2.5},
              {"equal_nan": True}, {"rtol": 2.0, "atol": 2.0}, {"rtol": -1.0}, {"atol": -1e-3}]


@pytest.mark.parametrize("tolerances", TOLERANCES, ids=repr)
@pytest.mark.parametrize("pair", ISCLOSE_PAIRS, ids=repr)
def test_isclose_and_allclose_match_torch(pair, tolerances):
    (a, ta), (b, tb) = both(pair[0]), both(pair[1])
    assert_same(outcome(lambda: mt.isclose(a, b, **tolerances)),
                outcome(lambda: torch.isclose(ta, tb, **tolerances)), label="isclose")
    assert_same(outcome(lambda: mt.allclose(a, b, **tolerances)),
                outcome(lambda: torch.allclose(ta, tb, **tolerances)), label="allclose")
    assert_same(outcome(lambda: a.isclose(b, **tolerances)),
                outcome(lambda: ta.isclose(tb, **tolerances)), label="Tensor.isclose")
    assert_same(outcome(lambda: a.allclose(b, **tolerances)),
                outcome(lambda: ta.allclose(tb, **tolerances)), label="Tensor.allclose")


@settings(max_examples=30)
@given(st.lists(st.tuples(st.floats(width=32), st.floats(width=32)), min_size=1, max_size=20),
       st.sampled_from([1e-5, 0.0, 0.1]), st.sampled_from([1e-8, 0.0, 1.0]), st.booleans())
def test_isclose_on_drawn_floats(pairs, rtol, atol, equal_nan):
    (a, ta), (b, tb) = (both(np.array(column, dtype=np.float32)) for column in zip(*pairs))
    assert_same(mt.isclose(a, b, rtol, atol, equal_nan), torch.isclose(ta, tb, rtol, atol,
                                                                       equal_nan))


# ----- logic -----------------------------------------------------------------------------

@pytest.mark.parametrize("b_dtype", ["bool", "uint8", "int64", "float32"])
@pytest.mark.parametrize("a_dtype", ["bool", "int8", "float16", "float64"])
def test_logical_ops_take_any_dtype_and_give_bool_as_torch(a_dtype, b_dtype):
    a = array_of(a_dtype, [0, 1, 2, 0, -0.0, NAN] if a_dtype.startswith("float") else None)
    b = array_of(b_dtype, [1, 0, 3, 0, 0, 5])
    (x, tx), (y, ty) = both(a), both(b)
    for name in ("logical_and", "logical_or", "logical_xor"):
        assert_same(getattr(mt, name)(x, y), getattr(torch, name)(tx, ty), label=name)
    assert_same(mt.logical_not(x), torch.logical_not(tx))


def test_comparison_functions_take_a_number_second_as_torch():
    x, tx = both(np.array([-7, 0, 7, 5]))
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        for other in (7, 7.0, 2.5, True, -1):
            assert_same(getattr(mt, name)(x, other), getattr(torch, name)(tx, other),
                        label=f"{name}({other})")
            assert_same(getattr(x, name)(other), getattr(tx, name)(other))
    u, tu = both(np.array([0, 1, 255], dtype=np.uint8))
    assert_same(mt.lt(u, -1), torch.lt(tu, -1))
    assert_same(outcome(lambda: mt.eq(x, None)), outcome(lambda: torch.eq(tx, None)))


# ----- the device -------------------------------------------------------------------------

on_device = pytest.mark.skipif(not mt.cuda.is_available(), reason="no CUDA device or simulator")

DEVICE_OPS = {
    "isnan": lambda x, y, c, k: mt.isnan(x), "isinf": lambda x, y, c, k: x.isinf(),
    "isfinite": lambda x, y, c, k: mt.isfinite(x),
    "isposinf": lambda x, y, c, k: mt.isposinf(x),
    "isneginf": lambda x, y, c, k: mt.isneginf(x),
    "isnan int": lambda x, y, c, k: mt.isnan(k),
    "logical_and": lambda x, y, c, k: mt.logical_and(x, y),
    "logical_or": lambda x, y, c, k: mt.logical_or(k, c),
    "logical_xor": lambda x, y, c, k: mt.logical_xor(c, y),
    "logical_not": lambda x, y, c, k: mt.logical_not(x),
    "eq": lambda x, y, c, k: mt.eq(x, y), "ge": lambda x, y, c, k: x.ge(1.0),
    "lt int float": lambda x, y, c, k: mt.lt(k, y),
    "isclose": lambda x, y, c, k: mt.isclose(x, y, rtol=0.1, equal_nan=True),
    "isclose int": lambda x, y, c, k: mt.isclose(k, k + 1, atol=1.0),
    "allclose": lambda x, y, c, k: mt.allclose(y, y + 1e-9),
    "equal": lambda x, y, c, k: mt.equal(k, k.double()),
    "sign": lambda x, y, c, k: mt.sign(x), "sign int": lambda x, y, c, k: mt.sign(k),
    "where int": lambda x, y, c, k: mt.where(c, k, 3),
    "maximum nan": lambda x, y, c, k: mt.maximum(x, y),
    "fmin nan": lambda x, y, c, k: mt.fmin(x, y),
    "pow int": lambda x, y, c, k: mt.pow(k, k - 3),
    "square bool": lambda x, y, c, k: mt.square(c),
    "reciprocal": lambda x, y, c, k: mt.reciprocal(x),
    "log2 of int": lambda x, y, c, k: mt.log2(k.abs()),
    "log10": lambda x, y, c, k: mt.log10(y),
}


@on_device
@pytest.mark.parametrize("name", list(DEVICE_OPS))
def test_device_runs_the_non_differentiable_ops_as_the_cpu(name):
    x = np.array([NAN, INF, -INF, 0.0, -1.5, 2.0])
    y = np.array([NAN, INF, 1.0, 0.0, -1.5, 2.5])
    c = np.array([True, False, True, True, False, False])
    k = np.array([-3, 0, 2, 5, -1, 8])

    def run(device):
        tensors = [mt.tensor(a).to(device) for a in (x, y, c, k)]
        result = DEVICE_OPS[name](*tensors)
        return result.cpu().numpy() if isinstance(result, mt.Tensor) else result

    on_gpu, on_cpu = run("cuda"), run("cpu")
    if isinstance(on_cpu, np.ndarray):
        assert on_gpu.dtype == on_cpu.dtype
        np.testing.assert_allclose(on_gpu, on_cpu, rtol=1e-15, equal_nan=True)
    else:
        assert on_gpu == on_cpu


@on_device
@pytest.mark.parametrize("call", [
    lambda x: x // 2, lambda x: x.long() % 2, lambda x: mt.floor(x.long()),
    lambda x: mt.where(x > 0), lambda x: mt.fmod(x, 2), lambda x: mt.round(x, decimals=1),
    lambda x: mt.div(x.long(), 2, rounding_mode="trunc"), lambda x: mt.frac(x),
], ids=["//", "% int", "floor int", "where(condition)", "fmod", "round decimals",
        "div trunc int", "frac"])
def test_cpu_only_ops_refuse_device_tensors_by_name(call):
    with pytest.raises(NotImplementedError, match="not implemented for CUDA tensors"):
        call(mt.tensor([1.5, -2.0]).to("cuda"))
