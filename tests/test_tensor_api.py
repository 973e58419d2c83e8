"""Tensor creation, dtype rules, attributes and conversions, as a torch user expects them."""
from __future__ import annotations

import numpy as np
import pytest

import minitorch_pairs as mt
from torch_reference import torch


@pytest.mark.parametrize("data", [[1.0, 2.0], 3.5, [[1, 2], [3, 4]], [True, False],
                                  np.array([1.0, 2.0]), np.array([1.0], np.float32)])
def test_tensor_dtype_rules_follow_torch(data):
    ours, theirs = mt.tensor(data), torch.tensor(data)
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    assert ours.shape == tuple(theirs.shape)


def test_integer_arrays_keep_their_dtype_as_in_torch():
    assert mt.tensor(np.array([1, 2], np.int32)).dtype == mt.int32
    assert mt.tensor([1, 2]).dtype == mt.int64


def test_tensor_copies_its_data():
    array = np.ones(3)
    t = mt.tensor(array)
    array[0] = 5
    assert t.data[0] == 1


def test_factories_shapes_dtypes_and_values():
    assert mt.zeros(2, 3).shape == (2, 3) and mt.zeros((2, 3)).dtype == mt.float32
    assert mt.ones(4, dtype=mt.float64).dtype == mt.float64
    np.testing.assert_array_equal(mt.full((2,), 7.0).numpy(), [7.0, 7.0])
    np.testing.assert_array_equal(mt.arange(5).numpy(), np.arange(5))
    assert mt.arange(5).dtype == mt.int64 and mt.arange(0, 1, 0.25).dtype == mt.float32
    assert mt.zeros_like(mt.ones(2, dtype=mt.float64)).dtype == mt.float64
    assert mt.randn(3, 4).shape == (3, 4) and mt.rand(2).dtype == mt.float32
    assert mt.ones(2, requires_grad=True).requires_grad


def test_manual_seed_makes_random_tensors_reproducible():
    mt.manual_seed(42)
    a = mt.randn(5).numpy().copy(), mt.rand(3).numpy().copy()
    mt.manual_seed(42)
    b = mt.randn(5).numpy(), mt.rand(3).numpy()
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    r = mt.rand(10000).numpy()
    assert 0 <= r.min() and r.max() < 1


def test_attributes_and_conversions():
    t = mt.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.shape == (2, 2) and t.ndim == 2 and t.dim() == 2 and t.numel() == 4
    assert t.size() == (2, 2) and t.size(1) == 2 and len(t) == 2
    assert t.device == "cpu"
    assert t.sum().item() == 10.0 and isinstance(t.sum().item(), float)
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert t.double().dtype == mt.float64 and t.long().dtype == mt.int64
    assert t.to(dtype=mt.float32) is t
    c = t.clone()
    c.data[0, 0] = 9
    assert t.data[0, 0] == 1


def test_cast_is_differentiable():
    x = mt.ones(2, requires_grad=True)
    (x.double() * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


@pytest.mark.parametrize("index", [1, -1, slice(None, 2), (0, slice(1, None)), (Ellipsis, 0),
                                   (None, 1), np.array([2, 0, 0]), np.array([True, False, True]),
                                   (np.array([0, 2]), np.array([1, 0]))])
def test_indexing_matches_numpy_and_torch(index):
    array = np.arange(12.0).reshape(3, 4)
    ours = mt.tensor(array)[index].numpy()
    np.testing.assert_array_equal(ours, array[index])
    torch_index = tuple(torch.as_tensor(i) if isinstance(i, np.ndarray) else i
                        for i in (index if isinstance(index, tuple) else (index,)))
    np.testing.assert_array_equal(ours, torch.tensor(array)[torch_index].numpy())


def test_indexing_with_a_tensor():
    t = mt.arange(10) * 2
    np.testing.assert_array_equal(t[mt.tensor([1, 3])].numpy(), [2, 6])
    np.testing.assert_array_equal(t[t > 12].numpy(), [14, 16, 18])


def test_reflected_operators_with_numbers_and_arrays():
    t = mt.tensor([1.0, 2.0])
    np.testing.assert_array_equal((1 - t).numpy(), [0.0, -1.0])
    np.testing.assert_array_equal((2 / t).numpy(), [2.0, 1.0])
    np.testing.assert_array_equal((2 ** t).numpy(), [2.0, 4.0])
    assert (t * 2).dtype == mt.float32 and (t * 2.5).dtype == mt.float32
    assert isinstance(np.ones(2) + t, mt.Tensor)


def test_repr_shows_values_dtype_and_grad_fn_in_torchs_layout():
    x = mt.tensor([1.0], requires_grad=True)
    assert repr(x) == "tensor([1.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward>)"
    assert repr(mt.tensor([1.5, 2], dtype=mt.float64)) == \
        "tensor([1.5000, 2.0000], dtype=torch.float64)"
    assert repr(mt.tensor([1, 2], dtype=mt.int32)) == "tensor([1, 2], dtype=torch.int32)"
    assert repr(mt.tensor([True, False])) == "tensor([ True, False])"
