"""Type promotion against torch: every elementwise op on every pair of supported dtypes, with
each operand a dimensioned tensor, a zero-dim tensor or a Python number. Our result's dtype,
shape and values must be torch's; where torch raises, we raise the same class."""
from __future__ import annotations

import itertools
import operator

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minitorch_pairs as mt
from torch_reference import torch

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
KINDS = ["tensor", "zero-dim", "scalar"]
BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
          "truediv": operator.truediv, "pow": operator.pow, "eq": operator.eq,
          "lt": operator.lt, "ge": operator.ge}
UNARY = {"exp": lambda t: t.exp(), "log": lambda t: t.log(), "sqrt": lambda t: t.sqrt(),
         "tanh": lambda t: t.tanh(), "sigmoid": lambda t: t.sigmoid(), "abs": lambda t: t.abs(),
         "neg": operator.neg, "relu": lambda t: t.relu()}
# float16 results are compared at float16's precision; everything else at float32's.
TOLERANCE = {"float16": 2e-3}


def _values(dtype: str, shape) -> np.ndarray:
    """Small positive values (so integer powers and divisions stay in range)."""
    count = int(np.prod(shape))
    values = (np.arange(count) % 3 + 1).reshape(shape)
    return values.astype(bool) if dtype == "bool" else values.astype(dtype)


def _operand(framework, dtype: str, kind: str):
    if kind == "scalar":
        return {"bool": True}.get(dtype, 2.5 if dtype.startswith("float") else 2)
    shape = (2, 3) if kind == "tensor" else ()
    return framework.tensor(_values(dtype, shape), dtype=getattr(framework, dtype))


def _outcome(fn, *operands):
    """The result as (dtype name, values), or the exception class torch-side code met."""
    try:
        result = fn(*operands)
    except Exception as error:  # noqa: BLE001 - the class is what we compare
        return type(error)
    return str(result.dtype).removeprefix("torch."), np.asarray(result.tolist())


def _same(ours, theirs, label):
    if isinstance(theirs, type):
        assert isinstance(ours, type) and issubclass(ours, theirs), \
            f"{label}: torch raises {theirs.__name__}, ours gave {ours}"
        return
    assert not isinstance(ours, type), f"{label}: ours raised {ours.__name__}, torch gave {theirs}"
    assert ours[0] == theirs[0], f"{label}: dtype {ours[0]}, torch {theirs[0]}"
    assert ours[1].shape == theirs[1].shape, f"{label}: shape {ours[1].shape}, torch {theirs[1].shape}"
    rtol = TOLERANCE.get(theirs[0], 1e-6)
    np.testing.assert_allclose(ours[1].astype(float), theirs[1].astype(float), rtol=rtol,
                               err_msg=label)


# A Python number counts by category only: True, 2 and 2.5 stand for all of them.
SCALAR_DTYPES = ("bool", "int64", "float32")
OPERANDS = [(dtype, kind) for dtype in DTYPES for kind in KINDS
            if kind != "scalar" or dtype in SCALAR_DTYPES]
BINARY_CASES = [(op, da, ka, db, kb) for op in BINARY
                for (da, ka), (db, kb) in itertools.product(OPERANDS, repeat=2)
                if not ka == kb == "scalar"]


@pytest.mark.parametrize("op,da,ka,db,kb", BINARY_CASES)
def test_binary_promotion_matches_torch(op, da, ka, db, kb):
    fn = BINARY[op]
    ours = _outcome(fn, _operand(mt, da, ka), _operand(mt, db, kb))
    theirs = _outcome(fn, _operand(torch, da, ka), _operand(torch, db, kb))
    _same(ours, theirs, f"{op}({da} {ka}, {db} {kb})")


@pytest.mark.parametrize("op,dtype,kind", list(itertools.product(UNARY, DTYPES,
                                                                     ["tensor", "zero-dim"])))
def test_unary_dtype_matches_torch(op, dtype, kind):
    ours = _outcome(UNARY[op], _operand(mt, dtype, kind))
    theirs = _outcome(UNARY[op], _operand(torch, dtype, kind))
    _same(ours, theirs, f"{op}({dtype} {kind})")


@pytest.mark.parametrize("default", ["float32", "float64"])
def test_default_dtype_governs_floats_from_python_and_integers(default):
    previous = mt.get_default_dtype()
    torch_previous = torch.get_default_dtype()
    mt.set_default_dtype(getattr(mt, default))
    torch.set_default_dtype(getattr(torch, default))
    try:
        builds = [lambda f: f.tensor(1.5), lambda f: f.tensor([1, 2]) / 2,
                  lambda f: f.tensor([1, 2]) * 0.5, lambda f: f.zeros(2), lambda f: f.arange(0.0, 2),
                  lambda f: f.full((2,), 1.5), lambda f: f.tensor(3).exp(), lambda f: f.rand(2),
                  lambda f: f.ones(2, dtype=f.float32) * 0.5]
        for i, build in enumerate(builds):
            assert str(build(mt).dtype) == str(build(torch).dtype).removeprefix("torch."), i
    finally:
        mt.set_default_dtype(previous)
        torch.set_default_dtype(torch_previous)


@pytest.mark.parametrize("make", [
    lambda f: f.tensor(1), lambda f: f.tensor(True), lambda f: f.tensor([1.0, 2]),
    lambda f: f.tensor([True, 2]), lambda f: f.tensor(np.array([1, 2], dtype=np.int32)),
    lambda f: f.tensor(np.array([1, 2], dtype=np.uint8)), lambda f: f.tensor(np.float64(1)),
    lambda f: f.tensor(np.array([1.0], dtype=np.float16)), lambda f: f.full((2,), 4),
    lambda f: f.full((2,), True), lambda f: f.full((2,), 4.0), lambda f: f.arange(3),
    lambda f: f.arange(0, 3, 0.5), lambda f: f.zeros_like(f.tensor([1, 2])),
    lambda f: f.ones_like(f.tensor([1.0]), dtype=f.int16), lambda f: f.tensor([1, 2]).float(),
    lambda f: f.tensor([1.5]).half(), lambda f: f.tensor([1.5]).int(),
    lambda f: f.tensor([1.5]).long(), lambda f: f.tensor([0.0, 1.5]).bool(),
    lambda f: f.tensor([1.5]).double(), lambda f: f.tensor([1.5]).to(f.float64),
    lambda f: f.tensor([3]).to(f.tensor([1.0])), lambda f: f.tensor([300]).byte(),
    lambda f: f.tensor([1.7]).short(), lambda f: f.tensor([-1.7]).char()])
def test_creation_and_conversion_dtypes_match_torch(make):
    ours, theirs = make(mt), make(torch)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(np.asarray(ours.tolist()), np.asarray(theirs.tolist()))


def test_integer_tensors_cannot_require_grad_as_in_torch():
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        mt.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError):
        mt.zeros(2, dtype=mt.int64, requires_grad=True)


def test_gradient_flows_through_promotion_in_the_operand_dtype():
    weights = mt.ones(3, requires_grad=True)
    mask = mt.tensor([1, 0, 1])
    doubles = mt.tensor([1.0, 2.0, 3.0], dtype=mt.float64)
    (weights * mask * doubles).sum().backward()
    assert weights.grad.dtype == mt.float32
    np.testing.assert_array_equal(weights.grad.numpy(), [1.0, 0.0, 3.0])


def test_float16_runs_kernel_ops_through_float32():
    x = mt.randn(2, 3, dtype=mt.float16, requires_grad=True)
    y = x.relu() @ mt.ones(3, 2, dtype=mt.float16)
    assert y.dtype == mt.float16
    y.sum().backward()
    assert x.grad.dtype == mt.float16
    np.testing.assert_array_equal(x.grad.numpy(), (x.detach().numpy() > 0) * 2.0)


@pytest.mark.parametrize("source,target", list(itertools.product(DTYPES, repeat=2)))
def test_promote_types_and_can_cast_match_torch(source, target):
    ours = (mt.promote_types(getattr(mt, source), getattr(mt, target)).name,
            mt.can_cast(getattr(mt, source), getattr(mt, target)))
    theirs = (str(torch.promote_types(getattr(torch, source), getattr(torch, target)))
              .removeprefix("torch."),
              torch.can_cast(getattr(torch, source), getattr(torch, target)))
    assert ours == theirs


REDUCTIONS = {"sum": lambda t: t.sum(), "sum dim": lambda t: t.sum(dim=0),
              "mean": lambda t: t.mean(), "max": lambda t: t.max(),
              "max dim": lambda t: t.max(dim=1)[0], "argmax": lambda t: t.argmax()}


@pytest.mark.parametrize("op,dtype", list(itertools.product(REDUCTIONS, DTYPES)))
def test_reduction_dtypes_match_torch(op, dtype):
    ours = _outcome(REDUCTIONS[op], _operand(mt, dtype, "tensor"))
    theirs = _outcome(REDUCTIONS[op], _operand(torch, dtype, "tensor"))
    _same(ours, theirs, f"{op}({dtype})")


@given(st.data())
def test_broadcast_shapes_and_dtypes_drawn_by_hypothesis_match_torch(data):
    """Random broadcastable shapes (0-d included), dtypes and values through every binary
    op: dtype, shape and values equal torch's."""
    shape = data.draw(st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple), label="a")
    other = tuple(1 if data.draw(st.booleans(), label=f"broadcast {i}") else n
                  for i, n in enumerate(shape))[data.draw(st.integers(0, len(shape)), label="drop"):]
    dtypes = [data.draw(st.sampled_from(DTYPES), label=f"dtype {i}") for i in range(2)]
    op = data.draw(st.sampled_from(sorted(BINARY)), label="op")
    seed = data.draw(st.integers(0, 2 ** 16), label="seed")
    rng = np.random.default_rng(seed)
    arrays = [rng.integers(1, 4, size=s).astype(d) for s, d in zip((shape, other), dtypes)]
    ours = _outcome(BINARY[op], *(mt.tensor(a) for a in arrays))
    theirs = _outcome(BINARY[op], *(torch.tensor(a) for a in arrays))
    _same(ours, theirs, f"{op}({dtypes[0]} {shape}, {dtypes[1]} {other})")


HALF_OPS = {"log_softmax": lambda f, F, t: F.log_softmax(t, 1),
            "softmax": lambda f, F, t: F.softmax(t, 1),
            "cross_entropy": lambda f, F, t: F.cross_entropy(t, f.tensor([0, 1, 2, 0])),
            "max_pool2d": lambda f, F, t: F.max_pool2d(t, 2),
            "linear": lambda f, F, t: F.linear(t, f.ones(2, 3, dtype=f.float16))}


@pytest.mark.parametrize("op", HALF_OPS)
def test_float16_through_the_kernel_ops_matches_torch(op):
    """Ops whose numba kernels compile for float32/float64 only take float16 as torch does:
    a float16 result, values and gradient to float16's precision."""
    shape = (4, 1, 4, 4) if op == "max_pool2d" else (4, 3)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float16)
    results = []
    for f, functional in ((mt, mt.nn.functional), (torch, torch.nn.functional)):
        t = f.tensor(x, requires_grad=True)
        out = HALF_OPS[op](f, functional, t)
        out.sum().backward()
        results.append((str(out.dtype).removeprefix("torch."), out.detach().numpy(),
                        t.grad.numpy()))
    assert results[0][0] == results[1][0] == "float16"
    for ours, theirs in zip(results[0][1:], results[1][1:]):
        np.testing.assert_allclose(ours.astype(float), theirs.astype(float), rtol=2e-3,
                                   atol=2e-3)  # float16 keeps ~3 decimal digits


@pytest.mark.parametrize("op", ["cat", "stack"])
@pytest.mark.parametrize("first,second", itertools.product(DTYPES, repeat=2))
def test_cat_and_stack_promote_as_torch(op, first, second):
    """cat and stack take torch's result dtype of their tensors (int64 with float32 is
    float32), with the values converted as torch converts them."""
    results = []
    for framework in (mt, torch):
        parts = [framework.tensor(_values(d, (2, 3)), dtype=getattr(framework, d))
                 for d in (first, second)]
        results.append(getattr(framework, op)(parts))
    ours, theirs = results
    assert str(ours.dtype).replace("torch.", "") == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_cat_of_mixed_dtypes_gives_each_input_its_own_gradient_dtype():
    ours = mt.tensor([1.0, 2.0], dtype=mt.float32, requires_grad=True)
    theirs = torch.tensor([1.0, 2.0], dtype=torch.float32, requires_grad=True)
    mt.cat([ours, mt.tensor([3, 4])]).sum().backward()
    torch.cat([theirs, torch.tensor([3, 4])]).sum().backward()
    assert ours.grad.dtype == mt.float32 and theirs.grad.dtype == torch.float32
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("data,dtype", [
    ([2**63], None), (2**63, None), ([2**64], None), ([-2**63 - 1], None), ([1, 2**63], None),
    ([2**63], "int64"), ([2**63 - 1], None), ([-2**63], None), ([1.5, 2**63], None),
    ([2**63], "float32"), ([2**64], "float64")])
def test_python_integers_beyond_int64_as_torch(data, dtype):
    """torch.tensor raises on a Python int beyond int64 unless it becomes a float (a float
    beside it, or a floating dtype=); NumPy would wrap it or widen to float silently."""
    outcomes = []
    for framework in (mt, torch):
        try:
            kwargs = {} if dtype is None else {"dtype": getattr(framework, dtype)}
            made = framework.tensor(data, **kwargs)
            outcomes.append((str(made.dtype).replace("torch.", ""), made.tolist()))
        except Exception as error:  # noqa: BLE001  (the class is what is compared)
            outcomes.append(type(error))
    assert outcomes[0] == outcomes[1]
