"""Reductions, statistics, scans and sorting against torch itself where finite differences
cannot look: result dtypes, ties (which index, how the gradient is shared), NaN and
infinities, zeros in products, subgradients at kinks, empty inputs, named results, warnings
and errors. The differentiable cases on random data are in op_cases_statistics.py."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_pairs as mt
from torch_reference import torch

FEW = settings(max_examples=20)
INTEGER_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64"]


def ours_and_theirs(array, requires_grad=False):
    array = np.asarray(array)
    return (mt.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


def torch_dtype_name(t) -> str:
    return str(t.dtype).removeprefix("torch.")


def assert_same(ours, theirs, label="result"):
    """The same values (NaN equal to NaN), shape and dtype; named results field by field."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), label
        fields = getattr(theirs, "_fields", None) or range(len(theirs))
        for i, field in enumerate(fields):
            if isinstance(field, str):
                assert getattr(ours, field) is ours[i], f"{label}.{field}"
            assert_same(ours[i], theirs[i], f"{label}[{field}]")
        return
    assert ours.dtype.name == torch_dtype_name(theirs), \
        f"{label}: dtype {ours.dtype} != torch's {theirs.dtype}"
    assert ours.shape == tuple(theirs.shape), f"{label}: shape {ours.shape} != {theirs.shape}"
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6,
                               atol=1e-7, equal_nan=True, err_msg=label)


def assert_same_outcome(ours, theirs):
    """Call both: torch's exception class (ours may be a subclass) or the same result."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = theirs()
    except Exception as error:  # noqa: BLE001 (whatever torch raises, we must too)
        with pytest.raises(type(error)):
            ours()
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(ours(), expected)


def gradients(fn, array, upstream_seed=0):
    """fn's forward and input gradient in both frameworks (float64), under a random
    upstream gradient."""
    ours_in, theirs_in = ours_and_theirs(np.asarray(array, np.float64), requires_grad=True)
    ours, theirs = fn(ours_in), fn(theirs_in)
    upstream = np.random.default_rng(upstream_seed).standard_normal(tuple(theirs.shape))
    ours.backward(mt.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    expected = theirs_in.grad if theirs_in.grad is not None else torch.zeros_like(theirs_in)
    return ours, theirs, ours_in.grad, expected


def assert_same_gradient(fn, array):
    ours, theirs, grad, expected = gradients(fn, array)
    assert_same(ours, theirs, "forward")
    assert_same(grad, expected, "gradient")


def small_integers(data, max_dims=3, max_side=6, low=0, high=3):
    """A float array of few distinct values: plenty of ties."""
    shape = data.draw(st.lists(st.integers(1, max_side), min_size=1, max_size=max_dims))
    seed = data.draw(st.integers(0, 2 ** 32 - 1))
    return np.random.default_rng(seed).integers(low, high + 1, shape).astype(np.float64)


def a_dim(data, array):
    return data.draw(st.integers(-array.ndim, array.ndim - 1))


# ----- dtypes ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
@pytest.mark.parametrize("op", ["sum", "prod", "nansum", "cumsum", "cumprod", "max", "amin",
                                "median", "sort", "logsumexp", "count_nonzero", "mode",
                                "mean", "var", "std", "nanmean", "norm", "argmin", "topk",
                                "kthvalue"])
def test_integer_and_bool_inputs_give_torch_dtypes_or_errors(op, dtype):
    array = np.array([[3, 1, 2], [0, 2, 2]]).astype(dtype)
    ours, theirs = ours_and_theirs(array)
    args = {"cumsum": (1,), "cumprod": (1,), "logsumexp": (1,), "topk": (2,),
            "kthvalue": (2,)}.get(op, ())
    assert_same_outcome(lambda: getattr(ours, op)(*args), lambda: getattr(theirs, op)(*args))


@pytest.mark.parametrize("op,kwargs", [
    ("sum", {"dtype": torch.float64}), ("prod", {"dtype": torch.float32}),
    ("prod", {"dim": 1, "dtype": torch.float64}), ("cumsum", {"dim": 1, "dtype": torch.float16}),
    ("cumprod", {"dim": 0, "dtype": torch.int32}), ("nansum", {"dtype": torch.float32}),
    ("mean", {"dtype": torch.float64}), ("mean", {"dtype": torch.int64}),
    ("prod", {"dtype": torch.int32}), ("cumsum", {"dim": 0, "dtype": torch.int8})])
def test_dtype_argument_casts_the_input_first_as_torch(op, kwargs):
    array = np.array([[1.5, 2.0, -1.0], [0.5, 3.0, 2.0]], np.float32)
    ours, theirs = ours_and_theirs(array)
    ours_kwargs = {k: getattr(mt, str(v).removeprefix("torch.")) if k == "dtype" else v
                   for k, v in kwargs.items()}
    assert_same_outcome(lambda: getattr(ours, op)(**ours_kwargs),
                        lambda: getattr(theirs, op)(**kwargs))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("op", ["prod", "var", "norm", "median", "logsumexp", "amax",
                                "cumsum", "nanmean"])
def test_floating_inputs_keep_their_dtype(op, dtype):
    ours, theirs = ours_and_theirs(np.array([[1.0, 2.0], [4.0, 3.0]], dtype))
    args = (1,) if op in ("logsumexp", "cumsum") else ()
    assert_same(getattr(ours, op)(*args), getattr(theirs, op)(*args))


# ----- ties: which index, how the gradient is shared -------------------------------------

@FEW
@given(data=st.data())
def test_max_min_argmax_argmin_along_a_dim_pick_the_first_of_ties(data):
    array = small_integers(data)
    dim, keepdim = a_dim(data, array), data.draw(st.booleans())
    ours, theirs = ours_and_theirs(array)
    for op in ("max", "min"):
        assert_same(getattr(ours, op)(dim, keepdim), getattr(theirs, op)(dim, keepdim), op)
    for op in ("argmax", "argmin"):
        assert_same(getattr(ours, op)(dim, keepdim), getattr(theirs, op)(dim, keepdim), op)
        assert_same(getattr(ours, op)(), getattr(theirs, op)(), op)


@FEW
@given(data=st.data())
def test_full_reductions_share_the_gradient_among_ties_as_torch(data):
    array = small_integers(data)
    dims = data.draw(st.sampled_from([None, 0, (0,), tuple(range(array.ndim))]))
    for fn in (lambda a: a.max(), lambda a: a.min(), lambda a: a.median(),
               lambda a: a.amax(dims if dims is not None else ()),
               lambda a: a.amin(dims if dims is not None else (), keepdim=True),
               lambda a: a.aminmax().min * 3 + a.aminmax().max,
               lambda a: a.norm(math.inf, dims), lambda a: a.norm(-math.inf, dims)):
        assert_same_gradient(fn, array - 1.0)


@FEW
@given(data=st.data())
def test_the_gradient_of_a_selection_along_a_dim_goes_to_the_returned_index(data):
    array = small_integers(data)
    dim = a_dim(data, array)
    for fn in (lambda a: a.max(dim).values, lambda a: a.min(dim, keepdim=True).values,
               lambda a: a.median(dim).values):
        assert_same_gradient(fn, array)


def test_max_and_min_of_two_tensors_halve_the_gradient_at_ties():
    a = np.array([1.0, 2.0, 3.0, np.nan, 2.0])
    b = np.array([1.0, 3.0, 2.0, 1.0, np.nan])
    for op in ("max", "min"):
        ours_a, theirs_a = ours_and_theirs(a, requires_grad=True)
        ours_b, theirs_b = ours_and_theirs(b, requires_grad=True)
        ours, theirs = getattr(mt, op)(ours_a, ours_b), getattr(torch, op)(theirs_a, theirs_b)
        assert_same(ours, theirs)
        ours.backward(mt.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
        theirs.backward(torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64))
        assert_same(ours_a.grad, theirs_a.grad, f"{op}: gradient of a")
        assert_same(ours_b.grad, theirs_b.grad, f"{op}: gradient of b")


def test_max_of_two_tensors_promotes_and_broadcasts_as_torch():
    ours_a, theirs_a = ours_and_theirs(np.array([[1, 2]]))
    ours_b, theirs_b = ours_and_theirs(np.array([[1.5], [0.5]], np.float32))
    assert_same(mt.max(ours_a, ours_b), torch.max(theirs_a, theirs_b))
    assert_same(ours_a.min(ours_b), theirs_a.min(theirs_b))
    assert_same_outcome(lambda: mt.max(mt.ones(2, 3), mt.ones(2)),
                        lambda: torch.max(torch.ones(2, 3), torch.ones(2)))


@FEW
@given(data=st.data())
def test_stable_sort_orders_ties_as_torch(data):
    array = small_integers(data, max_side=40)
    dim, descending = a_dim(data, array), data.draw(st.booleans())
    ours, theirs = ours_and_theirs(array)
    assert_same(ours.sort(dim, descending, stable=True),
                torch.sort(theirs, dim=dim, descending=descending, stable=True))
    assert_same(ours.argsort(dim, descending, stable=True),
                torch.argsort(theirs, dim=dim, descending=descending, stable=True))
    # unstable: torch may order ties either way; the values and a permutation must hold
    result = mt.sort(ours, dim, descending)
    assert_same(result.values, torch.sort(theirs, dim, descending).values)
    _points_at(array, result, dim, True)


@FEW
@given(data=st.data())
def test_median_along_a_dim_picks_the_index_torch_picks(data):
    array = small_integers(data, max_side=40)
    dim, keepdim = a_dim(data, array), data.draw(st.booleans())
    ours, theirs = ours_and_theirs(array)
    assert_same(ours.median(dim, keepdim), theirs.median(dim, keepdim))
    assert_same(ours.median(), theirs.median())


def _points_at(array, result, dim, keepdim):
    """The indices of a (values, indices) result select its values from the input."""
    index = result.indices.numpy()
    if not keepdim:
        index = np.expand_dims(index, dim)
    picked = np.take_along_axis(array, index, dim)
    np.testing.assert_array_equal(picked if keepdim else np.squeeze(picked, dim),
                                  result.values.numpy())


@FEW
@given(data=st.data())
def test_topk_kthvalue_and_mode_values_match_torch_and_indices_point_at_them(data):
    """torch does not define which of equal elements these ops return (its index depends on
    its algorithm and the size); ours is the first by position for topk and kthvalue (a
    stable sort), and the last for mode (torch's choice for up to 16 elements)."""
    array = small_integers(data, max_side=40)
    dim = a_dim(data, array)
    size = array.shape[dim]
    ours, theirs = ours_and_theirs(array)
    k, largest = data.draw(st.integers(0, size)), data.draw(st.booleans())
    result = ours.topk(k, dim, largest)
    assert_same(result.values, theirs.topk(k, dim, largest).values)
    _points_at(array, result, dim, True)
    rows = np.moveaxis(result.indices.numpy(), dim, -1).reshape(-1, k) if k else []
    assert all(len(set(row)) == k for row in rows), "topk: an index repeated"
    k, keepdim = data.draw(st.integers(1, size)), data.draw(st.booleans())
    result = ours.kthvalue(k, dim, keepdim)
    assert_same(result.values, theirs.kthvalue(k, dim, keepdim).values)
    _points_at(array, result, dim, keepdim)
    result, expected = ours.mode(dim, keepdim), theirs.mode(dim, keepdim)
    assert_same(result.values, expected.values)
    _points_at(array, result, dim, keepdim)
    if size <= 16:
        assert_same(result.indices, expected.indices)


def test_topk_indices_are_distinct_and_sorted_by_value():
    array = np.array([[3.0, 1, 2, 1, 3, 3, 0, 3]])
    result = mt.topk(mt.tensor(array), 5)
    assert result.indices.tolist() == [[0, 4, 5, 7, 2]]
    result = mt.topk(mt.tensor(array), 3, largest=False, sorted=False)
    assert result.indices.tolist() == [[6, 1, 3]]


# ----- NaN and infinities ----------------------------------------------------------------

NAN_ROWS = np.array([[1.0, np.nan, 2.0, np.nan], [3.0, 1.0, -1.0, 0.0],
                     [np.nan, np.nan, np.nan, np.nan]])


@pytest.mark.parametrize("name,fn", [
    ("max", lambda a: a.max()), ("max dim", lambda a: a.max(1)), ("min dim", lambda a: a.min(1)),
    ("argmax", lambda a: a.argmax(1)), ("argmin", lambda a: a.argmin()),
    ("amax", lambda a: a.amax(1)), ("median", lambda a: a.median()),
    ("median dim", lambda a: a.median(1)), ("sort", lambda a: a.sort(dim=1, stable=True)),
    ("sort descending", lambda a: a.sort(dim=1, descending=True, stable=True)),
    ("topk values", lambda a: a.topk(2, 1).values),
    ("topk smallest values", lambda a: a.topk(2, 1, largest=False).values),
    ("nansum", lambda a: a.nansum(1)), ("nanmean", lambda a: a.nanmean(1)),
    ("logsumexp", lambda a: a.logsumexp(1)), ("var", lambda a: a.var(1)),
    ("norm", lambda a: a.norm(dim=1)), ("prod", lambda a: a.prod(1)),
    ("cumsum", lambda a: a.cumsum(1)), ("count_nonzero", lambda a: a.count_nonzero(1)),
    ("mode values", lambda a: a.mode(1).values)])
def test_nan_as_torch(name, fn):
    ours, theirs = ours_and_theirs(NAN_ROWS)
    assert_same(fn(ours), fn(theirs), name)


@pytest.mark.parametrize("fn", [lambda a: a.max(), lambda a: a.min(), lambda a: a.amax(),
                                lambda a: a.median(), lambda a: a.nansum(),
                                lambda a: a.nanmean()])
def test_gradients_with_nan_as_torch(fn):
    """max()/min()/median() share the gradient among the NaNs; amax gives NaN gradients."""
    assert_same_gradient(fn, [1.0, np.nan, 2.0, np.nan])


INF = math.inf


@pytest.mark.parametrize("row", [[-INF, -INF], [INF, 1.0], [-INF, 1.0], [1000.0, 1000.0],
                                 [-1000.0, -1001.0], [INF, -INF], [np.nan, 1.0]])
def test_logsumexp_is_stable_and_handles_infinite_rows_as_torch(row):
    assert_same_gradient(lambda a: a.logsumexp(0), row)


def test_logsumexp_of_no_elements_is_minus_infinity():
    ours, theirs = ours_and_theirs(np.zeros((0, 3)))
    assert_same(ours.logsumexp(0), theirs.logsumexp(0))
    assert_same(ours.logsumexp(1), theirs.logsumexp(1))


# ----- zeros in products, subgradients at kinks -------------------------------------------

@pytest.mark.parametrize("array", [[2.0, 3.0, 4.0], [2.0, 0.0, 4.0], [0.0, 3.0, 0.0],
                                   [0.0, 0.0, 0.0], [[2.0, 0.0, 4.0], [0.0, 0.0, 1.0],
                                                     [1.0, 2.0, 3.0]]])
def test_prod_and_cumprod_gradients_with_zeros_as_torch(array):
    dim = np.ndim(array) - 1
    assert_same_gradient(lambda a: a.prod(), array)
    assert_same_gradient(lambda a: a.prod(dim), array)
    assert_same_gradient(lambda a: a.prod(0, keepdim=True), array)
    assert_same_gradient(lambda a: a.cumprod(dim), array)
    assert_same_gradient(lambda a: a.cumprod(0), array)


@FEW
@given(data=st.data())
def test_cumprod_gradient_with_many_zeros_as_torch(data):
    array = small_integers(data, low=-1, high=2)
    dim = a_dim(data, array)
    assert_same_gradient(lambda a: a.cumprod(dim), array)
    assert_same_gradient(lambda a: a.prod(dim), array)


@pytest.mark.parametrize("p", [2, 1, INF, -INF, 0, 3, 1.5, 0.5, -1.0, -2.0, "fro"])
@pytest.mark.parametrize("array", [[0.0, 0.0], [0.0, 2.0, -2.0], [1.0, 0.0, 3.0],
                                   [[0.0, 0.0], [3.0, -4.0]]])
def test_norm_forward_and_subgradients_at_zero_as_torch(p, array):
    dims = [None] + ([1, (0, 1)] if np.ndim(array) == 2 else [])
    for dim in dims:
        assert_same_gradient(lambda a: torch_or_mt(a).norm(a, p, dim), array)


def torch_or_mt(a):
    return mt if isinstance(a, mt.Tensor) else torch


def test_std_of_a_constant_has_gradient_zero():
    assert_same_gradient(lambda a: a.std(), [2.0, 2.0, 2.0])
    assert_same_gradient(lambda a: a.std(1), [[2.0, 2.0], [1.0, 3.0]])


# ----- var/std arguments, warnings --------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda m, a: m.var(a), lambda m, a: m.var(a, 1), lambda m, a: m.var(a, 1, True),
    lambda m, a: m.var(a, 1, False, True), lambda m, a: m.var(a, False),
    lambda m, a: m.std(a, dim=(0, 1), correction=0), lambda m, a: m.std(a, [1], keepdim=True),
    lambda m, a: m.var(a, correction=2.5), lambda m, a: m.std(a, unbiased=False),
    lambda m, a: m.var_mean(a, 1, correction=0), lambda m, a: m.std_mean(a, keepdim=True),
    lambda m, a: m.var(a, correction=-1), lambda m, a: m.var(a, dim=()),
    lambda m, a: m.var(a, unbiased=True, correction=1), lambda m, a: m.var(a, (1, -1))])
def test_var_std_signatures_as_torch(call):
    ours, theirs = ours_and_theirs(np.array([[1.0, 2.0, 4.0, 7.0], [0.5, 0.5, 3.0, -1.0]]))
    assert_same_outcome(lambda: call(mt, ours), lambda: call(torch, theirs))


@pytest.mark.parametrize("op", ["var", "std", "var_mean", "std_mean"])
@pytest.mark.parametrize("shape,kwargs", [((1,), {}), ((0,), {}), ((3, 1), {"dim": 1}),
                                          ((2,), {"correction": 2}), ((2,), {"correction": 3}),
                                          ((0, 3), {"dim": 0})])
def test_too_few_elements_give_nan_or_inf_with_torchs_warning(op, shape, kwargs):
    array = np.arange(float(np.prod(shape))).reshape(shape)
    ours, theirs = ours_and_theirs(array)
    with pytest.warns(UserWarning, match=rf"{op}\(\): degrees of freedom is <= 0"):
        result = getattr(mt, op)(ours, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(result, getattr(torch, op)(theirs, **kwargs))


# ----- empty inputs and errors ------------------------------------------------------------

EMPTY_AND_BAD = [
    ("max", lambda m, a: a.max(), (0,)), ("min", lambda m, a: a.min(), (0,)),
    ("amax", lambda m, a: a.amax(), (0,)), ("amax dim 0", lambda m, a: a.amax(0), (0, 3)),
    ("amax dim 1", lambda m, a: a.amax(1), (0, 3)), ("argmin", lambda m, a: a.argmin(), (0,)),
    ("argmax dim", lambda m, a: a.argmax(1), (0, 3)), ("max dim", lambda m, a: a.max(1), (0, 3)),
    ("min dim 0", lambda m, a: a.min(0), (0, 3)), ("aminmax", lambda m, a: a.aminmax(), (0,)),
    ("aminmax dim 0", lambda m, a: a.aminmax(dim=0), (0, 3)),
    ("aminmax dim 1", lambda m, a: a.aminmax(dim=1), (0, 3)),
    ("median", lambda m, a: a.median(), (0,)), ("median dim", lambda m, a: a.median(1), (0, 3)),
    ("median dim 0", lambda m, a: a.median(0), (0, 3)),
    ("kthvalue", lambda m, a: a.kthvalue(1, 0), (0, 3)),
    ("kthvalue k", lambda m, a: a.kthvalue(4, 1), (2, 3)),
    ("kthvalue 0", lambda m, a: a.kthvalue(0), (2, 3)),
    ("topk k", lambda m, a: a.topk(4), (2, 3)), ("topk -1", lambda m, a: a.topk(-1), (2, 3)),
    ("topk 0", lambda m, a: a.topk(0), (2, 3)), ("topk empty", lambda m, a: a.topk(0, 0), (0, 3)),
    ("mode", lambda m, a: a.mode(0), (0, 3)), ("mode dim 1", lambda m, a: a.mode(1), (0, 3)),
    ("sort", lambda m, a: a.sort(1), (0, 3)), ("prod", lambda m, a: a.prod(), (0,)),
    ("prod dim", lambda m, a: a.prod(0), (0, 3)), ("cumsum", lambda m, a: a.cumsum(0), (0, 3)),
    ("norm", lambda m, a: a.norm(), (0,)), ("norm inf", lambda m, a: a.norm(INF), (0,)),
    ("norm inf dim 0", lambda m, a: a.norm(INF, 0), (0, 3)),
    ("norm -inf dim 1", lambda m, a: a.norm(-INF, 1), (0, 3)),
    ("norm -inf", lambda m, a: a.norm(-INF, 1), (3, 0)),
    ("count_nonzero", lambda m, a: a.count_nonzero(), (0,)),
    ("nanmean", lambda m, a: a.nanmean(), (0,)), ("nansum", lambda m, a: a.nansum(0), (0, 3)),
    ("dim out of range", lambda m, a: a.amax(2), (2, 3)),
    ("sum dim out of range", lambda m, a: a.sum(-3), (2, 3)),
    ("cumsum dim out of range", lambda m, a: a.cumsum(2), (2, 3)),
    ("sort dim out of range", lambda m, a: a.sort(2), (2, 3)),
    ("repeated dims", lambda m, a: a.var((0, 0)), (2, 3)),
    ("repeated dims sum", lambda m, a: a.sum((1, -1)), (2, 3)),
    ("repeated dims logsumexp", lambda m, a: a.logsumexp((1, 1)), (2, 3)),
    ("repeated dims norm", lambda m, a: a.norm(3, (1, 1)), (2, 3)),
    ("repeated dims count_nonzero", lambda m, a: a.count_nonzero((0, 0)), (2, 3)),
    ("dim () means all", lambda m, a: a.sum(()), (2, 3)),
    ("amax ()", lambda m, a: a.amax(()), (2, 3)), ("mean []", lambda m, a: a.mean([]), (2, 3)),
    ("max tuple dim", lambda m, a: a.max(dim=(0, 1)), (2, 3)),
    ("max keepdim without dim", lambda m, a: a.max(keepdim=True), (2, 3)),
    ("prod tuple dim", lambda m, a: a.prod((0, 1)), (2, 3)),
    ("cumsum float dim", lambda m, a: a.cumsum(1.0), (2, 3)),
    ("topk float k", lambda m, a: a.topk(1.0), (2, 3)),
    ("norm nuc 1-d", lambda m, a: a.norm("nuc"), (3,)),
    ("norm bad order", lambda m, a: a.norm("abc"), (2, 3)),
    ("norm fro 3 dims", lambda m, a: m.norm(a, "fro", (0, 1, 2)), (2, 3, 4)),
    ("norm fro 1 dim", lambda m, a: m.norm(a, "fro", 1), (2, 3)),
    ("norm fro pair", lambda m, a: m.norm(a, "fro", (-1, 0), True), (2, 3)),
    ("norm p None", lambda m, a: m.norm(a, None), (2, 3)),
    ("norm keepdim", lambda m, a: m.norm(a, 1, keepdim=True), (2, 3)),
    ("argmax keepdim", lambda m, a: a.argmax(keepdim=True), (2, 3)),
    ("aminmax keepdim", lambda m, a: a.aminmax(keepdim=True), (2, 3)),
]


@pytest.mark.parametrize("name,call,shape", EMPTY_AND_BAD, ids=[c[0] for c in EMPTY_AND_BAD])
def test_empty_inputs_and_bad_arguments_as_torch(name, call, shape):
    ours, theirs = ours_and_theirs(np.arange(float(np.prod(shape))).reshape(shape) - 2.0)
    assert_same_outcome(lambda: call(mt, ours), lambda: call(torch, theirs))


@pytest.mark.parametrize("op,args", [("sort", ()), ("argsort", ()), ("topk", (1,)),
                                     ("topk", (0,)), ("kthvalue", (1,)), ("cumsum", (0,)),
                                     ("cumprod", (-1,)), ("median", ()), ("median", (0,)),
                                     ("mode", ()), ("prod", (0,)), ("var", (0,)),
                                     ("logsumexp", (0,)), ("norm", (2, 0)), ("amax", (0,)),
                                     ("argmin", (0,)), ("max", (0,)), ("count_nonzero", (0,)),
                                     ("topk", (2,)), ("kthvalue", (2,))])
def test_zero_dimensional_inputs_as_torch(op, args):
    ours, theirs = ours_and_theirs(np.array(3.0))
    assert_same_outcome(lambda: getattr(ours, op)(*args), lambda: getattr(theirs, op)(*args))


def test_what_torch_leaves_undefined_or_we_do_not_support_is_refused_by_name():
    with pytest.raises(RuntimeError, match="empty integer tensor has no median"):
        mt.zeros(0, dtype=mt.int64).median()
    with pytest.raises(NotImplementedError, match="nuclear norm"):
        mt.ones(2, 3).norm("nuc")
    with pytest.raises(NotImplementedError, match="out= is not supported"):
        mt.norm(mt.ones(2), out=mt.ones(()))
    with pytest.raises(TypeError, match="not both"):
        mt.var(mt.ones(3), unbiased=True, correction=1)


def test_named_results_unpack_and_name_their_fields_as_torch():
    x = mt.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
    values, indices = x.max(1)
    assert values.tolist() == [5.0, 4.0] and indices.tolist() == [1, 0]
    result = x.min(dim=1, keepdim=True)
    assert result.values.shape == (2, 1) and result.indices.dtype == mt.int64
    assert type(result).__name__ == "min" and "values=" in repr(result)
    low, high = mt.aminmax(x)
    assert (low.item(), high.item()) == (0.0, 5.0) and mt.aminmax(x, dim=0).max.tolist() == \
        [4.0, 5.0, 3.0]
    for op in ("sort", "topk", "kthvalue", "median", "mode"):
        args = (1,) if op in ("topk", "kthvalue", "median") else ()
        result = getattr(x, op)(*args)
        assert result._fields == ("values", "indices") and type(result).__name__ == op


def test_module_functions_and_methods_agree():
    x = mt.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
    assert mt.max(x, 1).values.tolist() == x.max(1).values.tolist()
    assert mt.argmin(x).item() == x.argmin().item() == 4
    assert mt.cumsum(x, 1).tolist() == x.cumsum(1).tolist()
    assert mt.count_nonzero(x).item() == 5


# ----- device tensors (numba's CUDA simulator where there is no GPU) ------------------------

needs_cuda = pytest.mark.skipif(not mt.cuda.is_available(), reason="no CUDA device or simulator")


@needs_cuda
def test_device_min_argmin_and_counts_match_the_cpu_for_integers_and_floats():
    for array in (np.array([[3, 0, 2], [1, 1, 7]], np.int64),
                  np.array([[3.0, np.nan, 2.0], [1.0, 1.0, -7.0]])):
        cpu = mt.tensor(array)
        gpu = cpu.to("cuda")
        for fn in (lambda a: a.min(), lambda a: a.min(1).indices, lambda a: a.argmin(1),
                   lambda a: a.amin(0), lambda a: a.count_nonzero(1)):
            out = fn(gpu)
            assert out.device == "cuda"
            np.testing.assert_array_equal(out.numpy(), fn(cpu).numpy())


@needs_cuda
@pytest.mark.parametrize("call", [lambda a: a.argsort(), lambda a: a.sort(),
                                  lambda a: a.topk(1), lambda a: a.cumsum(0),
                                  lambda a: a.median()])
def test_cpu_only_ops_refuse_device_tensors_by_name(call):
    with pytest.raises(NotImplementedError, match="not implemented for CUDA tensors"):
        call(mt.ones(3).to("cuda"))
