"""Indexing ops, products and factories against torch itself, where the op-case suites
(op_cases_indexing.py: gradients, float32 parity, device) do not reach: the shape rules and
errors of gather/scatter/index_select/take_along_dim/masked_select on drawn (often invalid)
shapes and indices, scatter's value and reduce forms and its gradients under repeated
targets, nonzero/argwhere/one_hot (int64 results), eye/linspace/logspace (bit for bit), the
products' checks, integer products and einsum's equation forms. Where torch raises, we must
raise the same class; otherwise dtype, shape and values must be torch's."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from torch_reference import torch

# ----- comparing an outcome (a result or an exception) with torch's ------------------------


def _outcome(call):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call(), None
    except Exception as error:  # noqa: BLE001 (any exception torch raises is the spec)
        return None, error


def _as_numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return value.detach().numpy() if value.requires_grad else value.numpy()


def _same_values(ours, theirs, exact: bool) -> None:
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), (ours, theirs)
        for o, t in zip(ours, theirs):
            _same_values(o, t, exact)
        return
    assert isinstance(ours, mt.Tensor), f"expected a Tensor, got {type(ours).__name__}"
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), (ours.dtype,
                                                                           theirs.dtype)
    assert ours.shape == tuple(theirs.shape), (ours.shape, tuple(theirs.shape))
    ours, theirs = _as_numpy(ours), _as_numpy(theirs)
    if exact:
        np.testing.assert_array_equal(ours, theirs)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def same_as_torch(expression, exact: bool = True) -> None:
    """expression(framework) run with mt and with torch: the same exception class where
    torch raises (ours may be a subclass), else the same dtype, shape and values."""
    ours, our_error = _outcome(lambda: expression(mt))
    theirs, their_error = _outcome(lambda: expression(torch))
    if their_error is not None:
        assert our_error is not None, f"torch raised {their_error!r}; we returned {ours!r}"
        assert isinstance(our_error, type(their_error)), \
            f"torch raised {their_error!r}; we raised {our_error!r}"
        return
    assert our_error is None, f"we raised {our_error!r}; torch returned {theirs!r}"
    _same_values(ours, theirs, exact)


# ----- gather, scatter, scatter_add, index_select, take_along_dim: drawn shapes -----------

SIDES = st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple)
INDEX_DTYPES = st.sampled_from(["int64", "int64", "int32", "int16", "float32"])


@st.composite
def index_problem(draw, values=st.integers(-1, 4)):
    """An input shape, a dim (sometimes out of range), an index of some shape, dtype and
    values (sometimes out of bounds) and a src shape: valid often, invalid often."""
    shape = draw(SIDES, label="shape")
    rank = max(len(shape), 1)
    dim = draw(st.integers(-rank - 1, rank), label="dim")
    if draw(st.booleans(), label="index like input"):  # mostly valid shapes
        index_shape = tuple(draw(st.integers(0, n)) for n in (shape or (1,)))
    else:
        index_shape = draw(SIDES, label="index shape")
    index = np.array(draw(st.lists(values, min_size=int(np.prod(index_shape)),
                                   max_size=int(np.prod(index_shape)))),
                     dtype=np.int64).reshape(index_shape)
    src_shape = tuple(n + draw(st.integers(-1, 1)) if n else n for n in index_shape)
    return shape, dim, index, draw(INDEX_DTYPES, label="index dtype"), src_shape


def _input(framework, shape):
    return framework.tensor(np.arange(np.prod(shape), dtype=np.float32).reshape(shape))


def _index(framework, index, dtype):
    return framework.tensor(index, dtype=getattr(framework, dtype))


@given(index_problem())
def test_gather_shapes_and_errors_are_torchs(problem):
    shape, dim, index, dtype, _ = problem
    same_as_torch(lambda L: L.gather(_input(L, shape), dim, _index(L, index, dtype)))


@given(index_problem(), st.booleans())
def test_scatter_shapes_and_errors_are_torchs(problem, as_value):
    """(src all one value, so that repeated targets leave a defined result)"""
    shape, dim, index, dtype, src_shape = problem
    if as_value:
        same_as_torch(lambda L: L.scatter(_input(L, shape), dim, _index(L, index, dtype),
                                          value=-2.0))
    else:
        same_as_torch(lambda L: L.scatter(_input(L, shape), dim, _index(L, index, dtype),
                                          L.full(src_shape, 7.0)))


@given(index_problem())
def test_scatter_add_shapes_and_errors_are_torchs(problem):
    shape, dim, index, dtype, src_shape = problem
    src = np.arange(np.prod(src_shape), dtype=np.float32).reshape(src_shape)
    same_as_torch(lambda L: L.scatter_add(_input(L, shape), dim, _index(L, index, dtype),
                                          L.tensor(src)))


@given(index_problem())
def test_index_select_shapes_and_errors_are_torchs(problem):
    shape, dim, index, dtype, _ = problem
    same_as_torch(lambda L: L.index_select(_input(L, shape), dim, _index(L, index, dtype)))


@given(index_problem(), st.booleans())
def test_take_along_dim_shapes_and_errors_are_torchs(problem, flattened):
    shape, dim, index, dtype, _ = problem
    call = lambda L: L.take_along_dim(_input(L, shape), _index(L, index, dtype),  # noqa: E731
                                      None if flattened else dim)
    theirs, their_error = _outcome(lambda: call(torch))
    ours, our_error = _outcome(lambda: call(mt))
    if their_error is None and isinstance(our_error, RuntimeError) and \
            "out of bounds" in str(our_error):
        # torch's path with a dim does not check bounds: out of range, it reads past the
        # input's end (its result is whatever memory holds); we refuse, as gather does
        assert not flattened and (index.min() < 0 or index.max() >= shape[dim])
        return
    same_as_torch(call)


@given(SIDES, SIDES, st.integers(0, 2 ** 32 - 1), st.sampled_from(["bool", "bool", "uint8"]))
def test_masked_select_shapes_and_errors_are_torchs(shape, mask_shape, seed, mask_dtype):
    mask = np.random.default_rng(seed).random(mask_shape) < 0.5
    same_as_torch(lambda L: L.masked_select(_input(L, shape), L.tensor(mask.astype(mask_dtype))))


BAD_CALLS = {
    "gather index a list": lambda L: L.gather(L.ones(2, 2), 1, [[0]]),
    "gather dim a float": lambda L: L.gather(L.ones(2, 2), 1.0, L.tensor([[0]])),
    "gather 0-d": lambda L: L.gather(L.tensor(5.0), 0, L.tensor(0)),
    "gather 1-d with 0-d index": lambda L: L.gather(L.tensor([1.0, 2.0]), 0, L.tensor(1)),
    "scatter src of another dtype": lambda L: L.scatter(
        L.ones(2, 2), 1, L.tensor([[0]]), L.ones(1, 1, dtype=L.float64)),
    "scatter_add src a number": lambda L: L.scatter_add(L.ones(2, 2), 1, L.tensor([[0]]), 2.0),
    "scatter reduce mean": lambda L: L.scatter(L.ones(2, 2), 1, L.tensor([[0]]), 2.0,
                                               reduce="mean"),
    "scatter int value overflow": lambda L: L.scatter(
        L.zeros(3, dtype=L.int32), 0, L.tensor([1]), 2 ** 40),
    "scatter float value into int": lambda L: L.scatter(
        L.zeros(3, dtype=L.int64), 0, L.tensor([1]), 2.7),
    "scatter bool value": lambda L: L.scatter(L.zeros(3, dtype=L.bool), 0, L.tensor([1]), True),
    "scatter 0-d": lambda L: L.scatter(L.tensor(1.0), 0, L.tensor(0), L.tensor(3.0)),
    "index_select 0-d two values": lambda L: L.index_select(L.tensor(3.0), 0, L.tensor([0, 0])),
    "index_select 0-d": lambda L: L.index_select(L.tensor(3.0), 0, L.tensor(0)),
    "take_along_dim 0-d with dim": lambda L: L.take_along_dim(L.tensor(2.0), L.tensor(0), 0),
    "take_along_dim 0-d": lambda L: L.take_along_dim(L.tensor(2.0), L.tensor(0)),
    "masked_select mask a list": lambda L: L.masked_select(L.ones(2), [True, False]),
    "masked_select 0-d": lambda L: L.masked_select(L.tensor(3.0), L.tensor(True)),
}


@pytest.mark.parametrize("name", BAD_CALLS)
def test_edge_calls_are_torchs(name):
    same_as_torch(BAD_CALLS[name])


# ----- scatter: repeated targets, values, reduce=, in place ---------------------------------

@pytest.mark.parametrize("dtype, value", [
    ("uint8", 255.5), ("uint8", 256.0), ("uint8", -0.5), ("uint8", -1), ("uint8", -255),
    ("uint8", -256), ("uint8", True), ("int8", 127.9), ("int8", -128.5), ("int8", -129),
    ("int64", 2.0 ** 63), ("int32", float("nan")), ("int32", float("inf")),
    ("float16", 65504.0), ("float16", 65519.0), ("float16", 70000), ("float16", float("inf")),
    ("float32", 1e39), ("float32", float("nan")), ("bool", 2.5), ("bool", 0.0)])
def test_scatter_converts_its_value_as_torch(dtype, value):
    same_as_torch(lambda L: L.scatter(L.zeros(3, dtype=getattr(L, dtype)), 0, L.tensor([1]),
                                      value))


def test_scatter_gradients_with_repeated_targets_are_torchs():
    """Which write wins is unspecified, but the gradients are defined: src's is the gradient
    at its target (every duplicate gets it), input's is zero at every written target."""
    rng = np.random.default_rng(0)
    x, src, upstream = (rng.standard_normal(s) for s in ((3, 4), (3, 3), (3, 4)))
    index = np.array([[0, 0, 2], [1, 3, 1], [2, 2, 2]])
    grads = []
    for L in (mt, torch):
        xs, ss = (L.tensor(a, requires_grad=True) for a in (x, src))
        L.scatter(xs, 1, L.tensor(index), ss).backward(L.tensor(upstream))
        grads.append([_as_numpy(xs.grad), _as_numpy(ss.grad)])
    for ours, theirs in zip(*grads):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("reduce", ["add", "multiply"])
@pytest.mark.parametrize("as_value", [False, True])
def test_scatter_reduce_matches_torch_and_has_no_gradient(reduce, as_value):
    x = np.arange(1.0, 13.0).reshape(3, 4)
    index = np.array([[0, 0, 3], [1, 2, 1]])
    src = 2.5 if as_value else np.arange(2.0, 8.0).reshape(2, 3)

    def call(L, requires_grad=False):
        given = L.tensor(x, requires_grad=requires_grad)
        value = src if as_value else L.tensor(src)
        return L.scatter(given * 1, 1, L.tensor(index), value, reduce=reduce)

    same_as_torch(call)
    for L in (mt, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = call(L, requires_grad=True)
        with pytest.raises(RuntimeError):
            out.sum().backward()


def test_scatter_with_a_tensor_and_reduce_warns_as_torch():
    with pytest.warns(UserWarning, match="deprecated"):
        mt.scatter(mt.ones(2, 2), 1, mt.tensor([[0]]), mt.ones(1, 1), reduce="add")


@pytest.mark.parametrize("method", ["scatter_", "scatter_add_"])
def test_in_place_scatter_methods_are_torchs(method):
    index = np.array([[0, 2], [3, 3]])

    def call(L):
        x = L.tensor(np.arange(8.0).reshape(2, 4), requires_grad=True)
        y = x * 2
        result = getattr(y, method)(1, L.tensor(index), L.tensor([[10.0, 20.0], [30.0, 30.0]]))
        assert result is y
        y.backward(L.tensor(np.arange(8.0).reshape(2, 4)))
        return y, x.grad

    same_as_torch(call)


@pytest.mark.parametrize("op", ["gather", "scatter", "scatter_add", "index_select",
                                "take_along_dim", "masked_select"])
def test_changing_the_index_in_place_before_backward_is_refused_as_torch(op):
    def call(L):
        x = L.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        index = L.tensor([[0, 2], [1, 1]]) if op != "index_select" else L.tensor([2, 0])
        out = {"gather": lambda: L.gather(x, 1, index),
               "scatter": lambda: L.scatter(x, 1, index, x),
               "scatter_add": lambda: L.scatter_add(x, 1, index, x),
               "index_select": lambda: L.index_select(x, 1, index),
               "take_along_dim": lambda: L.take_along_dim(x, index, 1),
               "masked_select": lambda: L.masked_select(x, index > 0)}[op]()
        if op == "masked_select":
            return None  # (the mask here is a fresh tensor: nothing to change)
        index[0, 0] = 1
        out.sum().backward()

    if op == "take_along_dim":
        # torch's take_along_dim (gather of broadcast views) misses the change and takes its
        # gradient at the changed index; we refuse, as torch's gather does
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            call(mt)
        return
    same_as_torch(call)


def test_tensor_methods_forward_to_the_functions():
    x = mt.tensor(np.arange(12.0).reshape(3, 4))
    index = mt.tensor([[0, 3], [1, 1], [2, 0]])
    np.testing.assert_array_equal(x.gather(1, index).numpy(), mt.gather(x, 1, index).numpy())
    np.testing.assert_array_equal(x.index_select(0, mt.tensor([2, 0])).numpy(),
                                  x.numpy()[[2, 0]])
    np.testing.assert_array_equal(x.take_along_dim(index, 1).numpy(),
                                  mt.gather(x, 1, index).numpy())
    np.testing.assert_array_equal(x.masked_select(x > 5).numpy(), np.arange(6.0, 12.0))
    np.testing.assert_array_equal(x.scatter(1, index, value=-1.0).numpy(),
                                  mt.scatter(x, 1, index, value=-1.0).numpy())
    np.testing.assert_array_equal(x.scatter_add(1, index, x).numpy(),
                                  mt.scatter_add(x, 1, index, x).numpy())
    np.testing.assert_array_equal(x.nonzero().numpy(), x.argwhere().numpy())
    assert len(x.nonzero(as_tuple=True)) == 2
    v = mt.tensor([1.0, 2.0, 3.0])
    assert x.T.mv(mt.ones(3, dtype=x.dtype)).shape == (4,) and v.dot(v).item() == 14.0
    assert v.vdot(v).item() == 14.0 and v.outer(v).shape == v.ger(v).shape == (3, 3)
    batch, batch_t = x.reshape(1, 3, 4), x.T.reshape(1, 4, 3)
    assert x.mm(x.T).shape == (3, 3) and batch.bmm(batch_t).shape == (1, 3, 3)
    assert mt.zeros(3, 3, dtype=x.dtype).addmm(x, x.T, beta=0.5).shape == (3, 3)
    assert mt.zeros(1, 3, 3, dtype=x.dtype).baddbmm(batch, batch_t).shape == (1, 3, 3)


# ----- nonzero, argwhere, one_hot --------------------------------------------------------

NONZERO_VALUES = {"bool": st.booleans(), "int64": st.integers(-2, 2),
                  "uint8": st.integers(0, 2),
                  "float32": st.sampled_from([0.0, -0.0, 1.5, -2.0, float("nan"),
                                              float("inf")])}


@given(st.sampled_from(sorted(NONZERO_VALUES)), SIDES, st.data())
def test_nonzero_and_argwhere_are_torchs(dtype, shape, data):
    values = data.draw(st.lists(NONZERO_VALUES[dtype], min_size=int(np.prod(shape)),
                                max_size=int(np.prod(shape))))
    array = np.array(values, dtype=dtype).reshape(shape)
    same_as_torch(lambda L: L.nonzero(L.tensor(array)))
    same_as_torch(lambda L: L.nonzero(L.tensor(array), as_tuple=True))
    same_as_torch(lambda L: L.argwhere(L.tensor(array)))


@given(SIDES, st.data(), st.integers(-2, 6), st.sampled_from(["int64", "int64", "int32"]))
def test_one_hot_is_torchs(shape, data, num_classes, dtype):
    values = data.draw(st.lists(st.integers(-1, 5), min_size=int(np.prod(shape)),
                                max_size=int(np.prod(shape))))
    array = np.array(values, dtype=np.int64).reshape(shape)
    same_as_torch(lambda L: L.nn.functional.one_hot(L.tensor(array, dtype=getattr(L, dtype)),
                                                    num_classes))
    same_as_torch(lambda L: L.nn.functional.one_hot(L.tensor(array, dtype=getattr(L, dtype))))


def test_one_hot_refuses_what_torch_refuses():
    same_as_torch(lambda L: L.nn.functional.one_hot([0, 1]))
    same_as_torch(lambda L: L.nn.functional.one_hot(L.tensor([0.0, 1.0])))
    same_as_torch(lambda L: L.nn.functional.one_hot(L.tensor([True, False])))
    assert F.one_hot is mt.nn.functional.one_hot


# ----- factories ------------------------------------------------------------------------

FACTORY_DTYPES = [None, "float32", "float64", "float16", "int64", "int32", "int16", "uint8",
                  "bool"]


def _dtype(framework, name):
    return None if name is None else getattr(framework, name)


@pytest.mark.parametrize("n, m", [(0, None), (1, None), (3, None), (2, 3), (3, 1), (0, 2)])
@pytest.mark.parametrize("dtype", FACTORY_DTYPES)
def test_eye_is_torchs(n, m, dtype):
    if m is None:
        same_as_torch(lambda L: L.eye(n, dtype=_dtype(L, dtype)))
    else:
        same_as_torch(lambda L: L.eye(n, m, dtype=_dtype(L, dtype)))


@pytest.mark.parametrize("call", [lambda L: L.eye(-1), lambda L: L.eye(2, -1),
                                  lambda L: L.eye(2.0), lambda L: L.eye(True),
                                  lambda L: L.eye(2, requires_grad=True),
                                  lambda L: L.eye(2, dtype=L.int64, requires_grad=True)])
def test_eye_edges_are_torchs(call):
    same_as_torch(call)


ENDPOINTS = st.one_of(st.floats(-1e4, 1e4, allow_nan=False, width=32), st.integers(-300, 300),
                      st.sampled_from([0.0, -0.0, 1e-30, 255.5, -128.7, 65504.0]))


@given(ENDPOINTS, ENDPOINTS, st.integers(0, 260), st.sampled_from(FACTORY_DTYPES))
def test_linspace_is_torchs_bit_for_bit(start, end, steps, dtype):
    """Element for element: torch computes each half from its own end, one rounding per
    element (a fused multiply-add) in the result's dtype."""
    same_as_torch(lambda L: L.linspace(start, end, steps, dtype=_dtype(L, dtype)))


@given(st.floats(-3, 3, width=32), st.floats(-3, 3, width=32), st.integers(0, 60),
       st.sampled_from([10.0, 2.0, 0.5, 2.5, -2.0]), st.sampled_from(FACTORY_DTYPES))
def test_logspace_is_torchs_bit_for_bit(start, end, steps, base, dtype):
    same_as_torch(lambda L: L.logspace(start, end, steps, base=base, dtype=_dtype(L, dtype)))


@pytest.mark.parametrize("call", [
    lambda L: L.linspace(0, 1, -1), lambda L: L.linspace(0, 1, 2.0),
    lambda L: L.linspace(0, 1, True), lambda L: L.linspace(0, 1e40, 3),
    lambda L: L.linspace(0, float("inf"), 3), lambda L: L.linspace(0, float("nan"), 3),
    lambda L: L.linspace(-1, 4, 3, dtype=L.uint8), lambda L: L.linspace(0, 300, 3, dtype=L.uint8),
    lambda L: L.linspace(2.7, 4.9, 3, dtype=L.int64), lambda L: L.linspace(True, False, 3),
    lambda L: L.linspace(L.tensor(0), L.tensor(4), 5),
    lambda L: L.linspace(L.tensor([0.0]), 1, 3),
    lambda L: L.linspace(0, 1, 5, requires_grad=True),
    lambda L: L.logspace(0.5, 1, 1, dtype=L.int64), lambda L: L.logspace(0, 2, -1),
    lambda L: L.logspace(0, 3, 4, base=2, dtype=L.int64),
    lambda L: L.logspace(0, 400, 3), lambda L: L.logspace(-400, 0, 3, base=10),
    # one step: torch fills with start (float16 overflowing to inf, others checked)
    lambda L: L.linspace(65519.0, 0, 1, dtype=L.float16), lambda L: L.linspace(1e39, 0, 1),
    lambda L: L.linspace(255.5, 0, 1, dtype=L.uint8), lambda L: L.linspace(0, 300, 1,
                                                                           dtype=L.uint8),
    lambda L: L.logspace(3, 0, 1, dtype=L.int8), lambda L: L.logspace(5, 0, 1,
                                                                      dtype=L.float16),
    lambda L: L.logspace(-0.5, 0, 1, dtype=L.uint8), lambda L: L.linspace(0, 1, 0,
                                                                          dtype=L.bool),
])
def test_spacing_edges_are_torchs(call):
    same_as_torch(call)


# ----- products: checks, integer dtypes, torch's beta = 0 ------------------------------------

def _t(L, shape, dtype="float32"):
    return L.tensor(np.arange(1, np.prod(shape) + 1).reshape(shape) % 5, dtype=getattr(L, dtype))


PRODUCT_CALLS = {
    "dot dtypes": lambda L: L.dot(_t(L, (3,)), _t(L, (3,), "float64")),
    "dot int": lambda L: L.dot(_t(L, (3,), "int64"), _t(L, (3,), "int64")),
    "dot lengths": lambda L: L.dot(_t(L, (3,)), _t(L, (4,))),
    "dot 2-D": lambda L: L.dot(_t(L, (2, 3)), _t(L, (3,))),
    "dot 0-D": lambda L: L.dot(L.tensor(1.0), L.tensor(1.0)),
    "dot a number": lambda L: L.dot(_t(L, (3,)), 2.0),
    "dot empty": lambda L: L.dot(L.zeros(0), L.zeros(0)),
    "dot bool": lambda L: L.dot(_t(L, (3,), "bool"), _t(L, (3,), "bool")),
    "vdot dtypes": lambda L: L.vdot(_t(L, (3,)), _t(L, (3,), "float64")),
    "vdot int": lambda L: L.vdot(_t(L, (3,), "int32"), _t(L, (3,), "int32")),
    "outer promotes": lambda L: L.outer(_t(L, (3,), "int64"), _t(L, (2,), "float64")),
    "outer bool": lambda L: L.outer(_t(L, (3,), "bool"), _t(L, (2,), "bool")),
    "outer 2-D": lambda L: L.outer(_t(L, (3,)), _t(L, (2, 2))),
    "outer 0-D": lambda L: L.outer(L.tensor(1.0), _t(L, (2,))),
    "ger": lambda L: L.ger(_t(L, (3,)), _t(L, (2,))),
    "mm int": lambda L: L.mm(_t(L, (2, 3), "int64"), _t(L, (3, 4), "int64")),
    "mm dtypes": lambda L: L.mm(_t(L, (2, 3)), _t(L, (3, 4), "float64")),
    "mm shapes": lambda L: L.mm(_t(L, (2, 3)), _t(L, (4, 4))),
    "mm vector": lambda L: L.mm(_t(L, (2, 3)), _t(L, (3,))),
    "mm 3-D": lambda L: L.mm(_t(L, (1, 2, 3)), _t(L, (3, 4))),
    "mm bool": lambda L: L.mm(_t(L, (2, 3), "bool"), _t(L, (3, 4), "bool")),
    "mm half": lambda L: L.mm(_t(L, (2, 3), "float16"), _t(L, (3, 4), "float16")),
    "bmm": lambda L: L.bmm(_t(L, (2, 2, 3)), _t(L, (2, 3, 4))),
    "bmm batch": lambda L: L.bmm(_t(L, (2, 2, 3)), _t(L, (1, 3, 4))),
    "bmm inner": lambda L: L.bmm(_t(L, (2, 2, 3)), _t(L, (2, 4, 4))),
    "bmm 2-D": lambda L: L.bmm(_t(L, (2, 3)), _t(L, (3, 4))),
    "bmm dtypes": lambda L: L.bmm(_t(L, (2, 2, 3)), _t(L, (2, 3, 4), "float64")),
    "mv": lambda L: L.mv(_t(L, (2, 3), "int64"), _t(L, (3,), "int64")),
    "mv size": lambda L: L.mv(_t(L, (2, 3)), _t(L, (2,))),
    "mv matrix": lambda L: L.mv(_t(L, (2, 3)), _t(L, (3, 4))),
    "mv vector": lambda L: L.mv(_t(L, (3,)), _t(L, (3,))),
    "mv dtypes": lambda L: L.mv(_t(L, (2, 3)), _t(L, (3,), "float64")),
    "addmm 1-D input": lambda L: L.addmm(_t(L, (4,)), _t(L, (2, 3)), _t(L, (3, 4))),
    "addmm 0-D input": lambda L: L.addmm(L.tensor(1.0), _t(L, (2, 3)), _t(L, (3, 4))),
    "addmm input too long": lambda L: L.addmm(_t(L, (3,)), _t(L, (2, 3)), _t(L, (3, 4))),
    "addmm input 3-D": lambda L: L.addmm(_t(L, (2, 1, 4)), _t(L, (2, 3)), _t(L, (3, 4))),
    "addmm dtypes": lambda L: L.addmm(_t(L, (2, 4), "float64"), _t(L, (2, 3)), _t(L, (3, 4))),
    "addmm int factors": lambda L: L.addmm(_t(L, (2, 4), "int64"), _t(L, (2, 3), "int64"),
                                           _t(L, (3, 4), "int64"), beta=0.5, alpha=2.7),
    "addmm tensor alpha": lambda L: L.addmm(_t(L, (2, 4)), _t(L, (2, 3)), _t(L, (3, 4)),
                                            alpha=L.tensor(2.0)),
    "addmm beta 0 ignores NaN": lambda L: L.addmm(L.full((2, 4), float("nan")), _t(L, (2, 3)),
                                                  _t(L, (3, 4)), beta=0),
    "addmm beta 0.5": lambda L: L.addmm(L.full((2, 4), float("inf")), _t(L, (2, 3)),
                                        _t(L, (3, 4)), beta=0.5),
    "baddbmm": lambda L: L.baddbmm(_t(L, (4,)), _t(L, (2, 2, 3)), _t(L, (2, 3, 4)),
                                   beta=0, alpha=2),
    "baddbmm input batch": lambda L: L.baddbmm(_t(L, (3, 2, 4)), _t(L, (2, 2, 3)),
                                               _t(L, (2, 3, 4))),
    "baddbmm batch": lambda L: L.baddbmm(_t(L, (2, 2, 4)), _t(L, (2, 2, 3)), _t(L, (3, 3, 4))),
}


@pytest.mark.parametrize("name", PRODUCT_CALLS)
def test_products_are_torchs(name):
    same_as_torch(PRODUCT_CALLS[name], exact=False)


def test_addmm_gradients_at_beta_0_and_alpha_0_are_torchs():
    """beta = 0: input gets a zero gradient (not none) and its NaNs stay out."""
    def call(L, beta, alpha):
        c = L.full((4,), float("nan")).requires_grad_() if beta == 0 else \
            L.ones(4, requires_grad=True)
        a = L.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        L.addmm(c, a, L.ones(3, 4), beta=beta, alpha=alpha).backward(L.ones(2, 4))
        return c.grad, a.grad

    same_as_torch(lambda L: call(L, 0, 1))
    same_as_torch(lambda L: call(L, 0.5, 0))


TENSORDOT_CALLS = {
    "default": lambda L: L.tensordot(_t(L, (3, 4, 2)), _t(L, (4, 2, 5))),
    "0": lambda L: L.tensordot(_t(L, (3, 2)), _t(L, (2, 5)), dims=0),
    "pairs": lambda L: L.tensordot(_t(L, (3, 4, 2)), _t(L, (2, 4, 5)), dims=([1, 2], [1, 0])),
    "lists": lambda L: L.tensordot(_t(L, (3, 4, 2)), _t(L, (2, 4, 5)), dims=[[2], [0]]),
    "negative": lambda L: L.tensordot(_t(L, (3, 4, 2)), _t(L, (2, 4, 5)), dims=([-1], [0])),
    "tensor": lambda L: L.tensordot(_t(L, (3, 4, 2)), _t(L, (4, 2, 5)), dims=L.tensor(2)),
    "tensor pairs": lambda L: L.tensordot(_t(L, (3, 4)), _t(L, (4, 5)),
                                          dims=L.tensor([[1], [0]])),
    "broadcast 1": lambda L: L.tensordot(_t(L, (3, 4, 2)), _t(L, (1, 2, 5))),
    "int": lambda L: L.tensordot(_t(L, (3, 4), "int64"), _t(L, (4, 5), "int64"), dims=1),
    "mismatch": lambda L: L.tensordot(_t(L, (3, 4, 2)), _t(L, (4, 5, 6)), dims=([1], [1])),
    "too many": lambda L: L.tensordot(_t(L, (3, 4)), _t(L, (3, 4)), dims=3),
    "negative count": lambda L: L.tensordot(_t(L, (3, 4)), _t(L, (3, 4)), dims=-1),
    "dtypes": lambda L: L.tensordot(_t(L, (3, 4)), _t(L, (4, 5), "float64"), dims=1),
    "float dims": lambda L: L.tensordot(_t(L, (3, 4)), _t(L, (4, 5)), dims=1.0),
    "int pair": lambda L: L.tensordot(_t(L, (3, 4)), _t(L, (4, 5)), dims=(1, 0)),
    "lengths": lambda L: L.tensordot(_t(L, (3, 4)), _t(L, (4, 3)), dims=([1, 0], [0])),
    "repeated": lambda L: L.tensordot(_t(L, (3, 4)), _t(L, (4, 4)), dims=([1, 1], [0, 1])),
}


@pytest.mark.parametrize("name", TENSORDOT_CALLS)
def test_tensordot_is_torchs(name):
    same_as_torch(TENSORDOT_CALLS[name], exact=False)


EINSUM_CALLS = [
    ("ij,jk->ik", (2, 3), (3, 4)), ("ij,jk", (2, 3), (3, 4)), ("ij", (2, 3)), ("ji", (2, 3)),
    ("ii", (3, 3)), ("ii->", (3, 3)), ("ii->i", (3, 3)), ("iii->i", (2, 2, 2)),
    ("i j -> j i", (2, 3)), ("IJ->JI", (2, 3)), ("Ab,bA", (2, 3), (3, 2)), ("ba", (2, 3)),
    ("...ii->...i", (2, 3, 3)), ("i...i->i", (3, 2, 3)), ("...->...", (2, 3)),
    ("...ij->...", (5, 2)), ("ij->...", (5, 2)), ("i...,j...", (2, 3), (4, 3)),
    ("...i,...j", (5, 2), (4, 1, 3)), ("...,...->...", (2, 1), (3,)), ("bi,j", (5, 2), (3,)),
    ("i,i", (3,), (1,)), ("i,i->", (1,), (1,)), ("ij,...->ij", (2, 3), (2,)), ("", ()),
    ("->", ()), ("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)), ("ii,i->i", (3, 3), (3,)),
    # errors
    ("ijk", (2, 3)), ("ij", (2, 3, 4)), ("i,i", (3,), (4,)), ("ij,jk->ikk", (2, 3), (3, 4)),
    ("ij,jk->iz", (2, 3), (3, 4)), ("ij,jk", (2, 3)), ("ij,jk->ik", (2, 3), (3, 4), (4,)),
    ("a1->a", (2, 3)), ("ij,jk->ik->", (2, 3), (3, 4)), ("ij->jj", (2, 3)),
    ("ij->j,i", (2, 3)), ("ii->i", (2, 3)), ("i.j", (5, 2)), ("......", (5, 2)),
    ("ijk...", (2, 3)),
]


@pytest.mark.parametrize("equation_and_shapes", EINSUM_CALLS, ids=lambda c: repr(c[0]))
def test_einsum_equations_are_torchs(equation_and_shapes):
    equation, *shapes = equation_and_shapes
    same_as_torch(lambda L: L.einsum(equation, *(_t(L, s) for s in shapes)), exact=False)


@pytest.mark.parametrize("call", [
    lambda L: L.einsum("ij,jk->ik", [_t(L, (2, 3)), _t(L, (3, 4))]),
    lambda L: L.einsum(_t(L, (2, 3)), [0, 1], _t(L, (3, 4)), [1, 2], [0, 2]),
    lambda L: L.einsum(_t(L, (2, 3)), [0, 1], _t(L, (3, 4)), [1, 2]),
    lambda L: L.einsum(_t(L, (2, 3, 3)), [Ellipsis, 30, 30], [Ellipsis, 30]),
    lambda L: L.einsum("ij,jk->ik", _t(L, (2, 3), "int64"), _t(L, (3, 4), "int64")),
    lambda L: L.einsum("ij,jk->ik", _t(L, (2, 3)), _t(L, (3, 4), "float64")),
    lambda L: L.einsum("ij,jk->ik", _t(L, (2, 3), "bool"), _t(L, (3, 4), "bool")),
    lambda L: L.einsum("ij->ji", _t(L, (2, 3), "bool")),
    lambda L: L.einsum("i,i", _t(L, (3,)), 2.0),
    lambda L: L.einsum("ij"),
])
def test_einsum_forms_and_refusals_are_torchs(call):
    same_as_torch(call, exact=False)


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("int64", "float32"),
                                    ("int32", "int64"), ("bool", "bool"), ("bool", "int64"),
                                    ("float16", "float32"), ("int32", "int32"),
                                    ("uint8", "uint8")])
@pytest.mark.parametrize("equation, shapes", [
    ("i,j->ij", [(2,), (3,)]), ("ij,jk->ik", [(2, 3), (3, 4)]), ("i,i->i", [(3,), (3,)]),
    ("ij,k->k", [(2, 3), (4,)]), ("i,i", [(3,), (3,)]), ("ij->", [(2, 3)]),
    ("ij,j->", [(2, 3), (3,)]), ("ii->i", [(3, 3)])])
def test_einsum_dtypes_are_torchs(dtypes, equation, shapes):
    """torch promotes where a step is a multiply, and refuses mixed dtypes (and bools)
    where a step is a batched matmul; a sum of integers is int64."""
    arrays = [np.arange(np.prod(s)).reshape(s) % 3 for s in shapes]
    same_as_torch(lambda L: L.einsum(equation, *(L.tensor(a).to(getattr(L, d))
                                                 for a, d in zip(arrays, dtypes))))


def test_einsum_without_computation_is_a_new_tensor():
    x = mt.ones(2, 3)
    assert mt.einsum("ij->ij", x) is not x


# ----- on the device: integer results come back there, bounds are checked --------------------

@pytest.mark.skipif(not mt.cuda.is_available(), reason="no CUDA device and no simulator")
def test_integer_results_stay_on_the_device_and_bounds_are_checked():
    x = mt.tensor([[0.0, 1.5], [2.0, 0.0]]).to("cuda")
    for result in (mt.nonzero(x), mt.argwhere(x), *mt.nonzero(x, as_tuple=True),
                   F.one_hot(mt.tensor([0, 2]).to("cuda"))):
        assert result.device == "cuda" and result.dtype == mt.int64
    np.testing.assert_array_equal(mt.nonzero(x).numpy(), [[0, 1], [1, 0]])
    np.testing.assert_array_equal(F.one_hot(mt.tensor([0, 2]).to("cuda")).numpy(),
                                  [[1, 0, 0], [0, 0, 1]])
    with pytest.raises(RuntimeError, match="out of bounds"):
        mt.gather(x, 1, mt.tensor([[0, 2]]).to("cuda"))
    with pytest.raises(RuntimeError, match="one device"):
        mt.gather(x, 1, mt.tensor([[0, 1]]))
    with pytest.raises(NotImplementedError, match="not implemented for CUDA tensors"):
        mt.scatter(x, 1, mt.tensor([[0]]).to("cuda"), 2.0, reduce="multiply")
