"""Indexing against torch: hypothesis draws index expressions (integers, slices, None,
Ellipsis, integer lists and tensors, boolean masks, mixed), and our result's shape and
values, the gradient through it (repeated indices add up), and `t[index] = value` with its
gradients must be torch's."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import minitorch_pairs as mt
from torch_reference import torch

SHAPES = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)


@st.composite
def index_parts(draw, shape):
    """One index expression for a tensor of `shape`, as (kind, value) parts; arrays are
    NumPy so that each framework can turn them into its own tensors or lists."""
    parts, dim = [], 0
    used_ellipsis = False
    # after an Ellipsis the parts must reach the last dim, which is where they apply
    while dim < len(shape) and (used_ellipsis or draw(st.booleans())):
        size = shape[dim]
        kind = draw(st.sampled_from(["int", "slice", "list", "tensor", "mask", "none",
                                     "ellipsis"]))
        if kind == "int":
            parts.append(("int", draw(st.integers(-size, size - 1))))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-size, size))
            stop = draw(st.none() | st.integers(-size, size))
            parts.append(("slice", slice(start, stop, draw(st.none() | st.integers(1, 3)))))
        elif kind in ("list", "tensor"):
            count = draw(st.integers(1, 3))
            values = draw(st.lists(st.integers(-size, size - 1), min_size=count,
                                   max_size=count))
            parts.append((kind, np.array(values)))
        elif kind == "mask":
            parts.append(("mask", np.array(draw(st.lists(st.booleans(), min_size=size,
                                                           max_size=size)))))
        elif kind == "none":
            parts.append(("none", None))
            continue
        elif used_ellipsis:  # one Ellipsis at most
            continue
        else:
            used_ellipsis = True
            parts.append(("ellipsis", Ellipsis))
            dim = len(shape) - draw(st.integers(0, len(shape) - dim))
            continue
        dim += 1
    return parts


def _index(parts, framework):
    built = []
    for kind, value in parts:
        if kind == "list":
            value = value.tolist()
        elif kind in ("tensor", "mask"):
            value = framework.tensor(value)
        built.append(value)
    return tuple(built)


def _arrays_broadcast(parts) -> bool:
    """torch and NumPy both need the advanced indices' shapes to broadcast."""
    shapes = [(int(v.sum()),) if k == "mask" else v.shape
              for k, v in parts if k in ("list", "tensor", "mask")]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


@given(st.data())
def test_getitem_and_its_gradient_match_torch(data):
    shape = data.draw(SHAPES, label="shape")
    parts = data.draw(index_parts(shape), label="index")
    assume(_arrays_broadcast(parts))
    values = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ours_x, theirs_x = mt.tensor(values, requires_grad=True), torch.tensor(values,
                                                                           requires_grad=True)
    theirs = theirs_x[_index(parts, torch)]
    ours = ours_x[_index(parts, mt)]
    assert ours.shape == tuple(theirs.shape), f"index {parts}"
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    upstream = np.random.default_rng(1).standard_normal(tuple(theirs.shape)).astype(np.float32)
    ours.backward(mt.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-6)


@given(st.data())
def test_setitem_and_its_gradients_match_torch(data):
    shape = data.draw(SHAPES, label="shape")
    parts = data.draw(index_parts(shape), label="index")
    assume(_arrays_broadcast(parts))
    # repeated indices write in an unspecified order in torch: compare only unique ones
    assume(all(len(set((v % shape[0]).tolist())) == len(v) for k, v in parts
               if k in ("list", "tensor")))
    region = tuple(torch.zeros(shape)[_index(parts, torch)].shape)
    value_shape = region[data.draw(st.integers(0, len(region)), label="value dims"):]
    rng = np.random.default_rng(2)
    base = rng.standard_normal(shape).astype(np.float32)
    value = rng.standard_normal(value_shape).astype(np.float32)
    results = []
    for framework in (mt, torch):
        w = framework.tensor(base, requires_grad=True)
        v = framework.tensor(value, requires_grad=True)
        x = w * 1.0
        x[_index(parts, framework)] = v
        upstream = framework.tensor(np.arange(np.prod(shape), dtype=np.float32).reshape(shape))
        (x * upstream).sum().backward()
        results.append([x.detach().numpy(), w.grad.numpy(), v.grad.numpy()])
    for label, ours, theirs in zip(["values", "grad of base", "grad of value"], *results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, err_msg=f"{label}, index {parts}")


@pytest.mark.parametrize("index", [
    lambda f: (0, slice(None), [1, 2]), lambda f: (1, None, [0, 2], slice(None)),
    lambda f: ([0, 1], None, [1, 2]), lambda f: (f.tensor(1), slice(None), [0, 3]),
    lambda f: (Ellipsis, 0, [1, 2]), lambda f: (f.tensor([True, False]),),
    lambda f: (True,), lambda f: (False,), lambda f: (0, f.tensor([True, False, True])),
    lambda f: ([[0, 1]],), lambda f: (f.tensor([[0], [1]]), slice(None), f.tensor([1, 3])),
    lambda f: f.tensor([[True, False, True], [False, False, True]]), lambda f: ()])
def test_mixed_index_places_dims_as_torch(index):
    ours = mt.zeros(2, 3, 4)[index(mt)]
    theirs = torch.zeros(2, 3, 4)[index(torch)]
    assert ours.shape == tuple(theirs.shape)


@pytest.mark.parametrize("index", [
    lambda f: f.tensor([0.5]), lambda f: 3, lambda f: (0, 0, 0, 0), lambda f: slice(None, None, -1),
    lambda f: 0.5, lambda f: f.tensor([5])])
def test_bad_indices_raise_torchs_error_class(index):
    with pytest.raises(Exception) as theirs:
        torch.zeros(2, 3, 4)[index(torch)]
    with pytest.raises(type(theirs.value)):
        mt.zeros(2, 3, 4)[index(mt)]
