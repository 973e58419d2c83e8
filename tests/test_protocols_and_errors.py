"""Tensors as Python numbers and sequences, and the exception classes of bad calls, against
torch: each case runs in both frameworks and must give the same value, or raise the same
class (ours may be a subclass, as ShapeError is of RuntimeError)."""
from __future__ import annotations

import operator

import numpy as np
import pytest

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from torch_reference import torch

PROTOCOLS = {
    "int of 1 element": lambda f: int(f.tensor([[2.7]])),
    "int of 2 elements": lambda f: int(f.ones(2)),
    "float of 0-d": lambda f: float(f.tensor(2.5)),
    "float of 2 elements": lambda f: float(f.ones(2)),
    "index of int": lambda f: [10, 20, 30][f.tensor(1)],
    "index of int (1,)": lambda f: [10, 20, 30][f.tensor([2])],
    "index of float": lambda f: [10, 20, 30][f.tensor(1.0)],
    "operator.index": lambda f: operator.index(f.tensor(2, dtype=f.int32)),
    "bool of one": lambda f: bool(f.tensor([0.0])),
    "bool of two": lambda f: bool(f.ones(2)),
    "bool of none": lambda f: bool(f.ones(0)),
    "format 0-d": lambda f: f"{f.tensor(2.5):.3f}",
    "format 0-d int": lambda f: f"{f.tensor(7):04d}",
    "format 1-d with spec": lambda f: f"{f.ones(2):.2f}",
    "len": lambda f: len(f.zeros(3, 2)),
    "len of 0-d": lambda f: len(f.tensor(1.0)),
    "iterate": lambda f: [t.tolist() for t in f.tensor([[1, 2], [3, 4]])],
    "iterate 0-d": lambda f: list(f.tensor(1.0)),
    "contains": lambda f: (2 in f.tensor([1, 2]), 5 in f.tensor([1, 2])),
    "tolist": lambda f: f.tensor([[1.5, 2]]).tolist(),
    "item": lambda f: f.tensor([[3]]).item(),
    "item of many": lambda f: f.ones(2).item(),
    "np.asarray": lambda f: np.asarray(f.tensor([1, 2], dtype=f.int32)).tolist(),
    "np.asarray dtype": lambda f: str(np.asarray(f.tensor([1.5]), dtype=np.float64).dtype),
    "np.asarray requires grad": lambda f: np.asarray(f.ones(2, requires_grad=True)),
    "numpy requires grad": lambda f: f.ones(2, requires_grad=True).numpy(),
    "invert float": lambda f: ~f.ones(2),
    "and of floats": lambda f: f.ones(2) & f.ones(2),
    "and of bools": lambda f: (f.tensor([True, False]) & f.tensor([True, True])).tolist(),
    "xor of ints": lambda f: (f.tensor([5, 3]) ^ 1).tolist(),
    "invert bools": lambda f: (~f.tensor([True, False])).tolist(),
    "any along a dim": lambda f: f.tensor([[0.0, 1.0], [0.0, 0.0]]).any(dim=1).tolist(),
    "all keepdim": lambda f: f.tensor([[1, 1], [0, 1]]).all(1, keepdim=True).tolist(),
    "any of all": lambda f: (f.tensor([0, 2]).any().tolist(), f.zeros(0).all().tolist()),
}

ERRORS = {
    "add shapes": lambda f: f.ones(2, 3) + f.ones(4),
    "reshape": lambda f: f.ones(2, 3).reshape(4, 2),
    "view": lambda f: f.ones(2, 3).view(5),
    "cat shapes": lambda f: f.cat([f.ones(2, 3), f.ones(2, 4)]),
    "cat of 0-d": lambda f: f.cat([f.tensor(1.0), f.tensor(2.0)]),
    "stack shapes": lambda f: f.stack([f.ones(2), f.ones(3)]),
    "matmul inner": lambda f: f.ones(2, 3) @ f.ones(4, 2),
    "matmul 0-d": lambda f: f.tensor(1.0) @ f.ones(2),
    "matmul batch": lambda f: f.ones(2, 2, 3) @ f.ones(3, 3, 2),
    "matmul dtypes": lambda f: f.ones(2, 3) @ f.ones(3, 2, dtype=f.float64),
    "matmul of ints and floats": lambda f: f.ones(2, 3) @ f.ones(3, 2, dtype=f.int64),
    "linear dtypes": lambda f: (F if f is mt else torch.nn.functional).linear(
        f.ones(2, 3), f.ones(4, 3, dtype=f.float64)),
    "conv dtypes": lambda f: (F if f is mt else torch.nn.functional).conv2d(
        f.ones(1, 2, 5, 5), f.ones(3, 2, 3, 3, dtype=f.float64)),
    "linear features": lambda f: (F if f is mt else torch.nn.functional).linear(
        f.ones(2, 3), f.ones(4, 5)),
    "conv channels": lambda f: (F if f is mt else torch.nn.functional).conv2d(
        f.ones(1, 2, 5, 5), f.ones(3, 4, 3, 3)),
    "conv 3-d weight": lambda f: (F if f is mt else torch.nn.functional).conv2d(
        f.ones(1, 2, 5, 5), f.ones(3, 2, 3)),
    "backward gradient shape": lambda f: (f.ones(2, requires_grad=True) * 2).backward(
        f.ones(3)),
    "backward non-scalar": lambda f: (f.ones(2, requires_grad=True) * 2).backward(),
    "setitem value shape": lambda f: f.zeros(3).__setitem__(slice(None), f.ones(2)),
    "permute repeats": lambda f: f.ones(2, 3).permute(0, 0),
    "flatten order": lambda f: f.ones(2, 3, 4).flatten(2, 1),
    "zeros negative": lambda f: f.zeros(-1),
    "sum dim range": lambda f: f.ones(2).sum(dim=3),
    "unsqueeze range": lambda f: f.ones(2).unsqueeze(3),
    "index range": lambda f: f.ones(2)[5],
    "index float": lambda f: f.ones(2)[0.5],
    "requires_grad int": lambda f: f.tensor([1]).requires_grad_(),
    "to unknown device": lambda f: f.ones(2).to("tpu"),
    "dtype unknown": lambda f: f.ones(2, dtype="complex32"),
    "mean of ints": lambda f: f.tensor([1, 2]).mean(),
    "max of empty": lambda f: f.ones(0).max(),
    "masked_fill float mask": lambda f: f.ones(2).masked_fill(f.ones(2), 0.0),
    "clamp without bounds": lambda f: f.ones(2).clamp(),
}


def _outcome(call, framework):
    try:
        return call(framework)
    except Exception as error:  # noqa: BLE001 - the class is what we compare
        return error


@pytest.mark.parametrize("name", PROTOCOLS)
def test_python_protocols_match_torch(name):
    ours, theirs = _outcome(PROTOCOLS[name], mt), _outcome(PROTOCOLS[name], torch)
    if isinstance(theirs, Exception):
        assert isinstance(ours, type(theirs)), f"torch raises {theirs!r}; ours gave {ours!r}"
    else:
        assert not isinstance(ours, Exception), f"ours raised {ours!r}; torch gave {theirs!r}"
        assert ours == theirs


@pytest.mark.parametrize("name", ERRORS)
def test_bad_calls_raise_torchs_exception_class(name):
    theirs = _outcome(ERRORS[name], torch)
    assert isinstance(theirs, Exception), f"torch accepts this: {theirs!r}"
    ours = _outcome(ERRORS[name], mt)
    assert isinstance(ours, type(theirs)), f"torch raises {theirs!r}; ours gave {ours!r}"


def test_shape_errors_are_also_value_errors_for_earlier_callers():
    with pytest.raises(ValueError):
        mt.ones(2, 3).reshape(4, 2)
    assert issubclass(mt.ShapeError, RuntimeError) and issubclass(mt.ShapeError, ValueError)
