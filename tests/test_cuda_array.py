"""kernels/cuda/array.py: the GPU array against NumPy on the same data (on a GPU, or under
numba's CUDA simulator in CI; tests/conftest.py). Shapes stay small for the simulator."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import array_shapes, broadcastable_shapes

from kernels.cuda.array import CudaArray

SIMULATOR = settings(max_examples=6)
FLOAT_RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-6}


def device(array) -> CudaArray:
    return CudaArray.from_host(np.asarray(array))


def same(ours: CudaArray, expected) -> None:
    expected = np.asarray(expected)
    host = ours.get()
    assert host.shape == expected.shape and host.dtype == expected.dtype, \
        f"got {host.shape} {host.dtype}, expected {expected.shape} {expected.dtype}"
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(host, expected, rtol=FLOAT_RTOL[expected.dtype],
                                   atol=FLOAT_RTOL[expected.dtype])
    else:
        np.testing.assert_array_equal(host, expected)


@SIMULATOR
@given(st.data(), st.sampled_from(["add", "subtract", "multiply", "divide", "maximum",
                                   "minimum", "less", "greater_equal", "equal"]),
       st.sampled_from([np.float32, np.float64]))
def test_binary_ufuncs_broadcast_like_numpy(data, name, dtype):
    shape = data.draw(array_shapes(min_dims=0, max_dims=4, max_side=3), label="shape")
    a_shape, b_shape = data.draw(broadcastable_shapes(shape, min_dims=0, max_dims=4,
                                                      max_side=3), label="b_shape"), shape
    rng = np.random.default_rng(0)
    a = np.round(rng.standard_normal(a_shape), 1).astype(dtype)  # rounded: some ties
    b = np.round(rng.standard_normal(b_shape), 1).astype(dtype) + 0.05
    ufunc = getattr(np, name)
    same(ufunc(device(a), device(b)), ufunc(a, b))


@pytest.mark.parametrize("name", ["negative", "exp", "log", "sqrt", "tanh", "absolute", "sign"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary_ufuncs_match_numpy_including_edges(name, dtype):
    x = np.array([[-2.0, -0.5, 0.0], [0.25, 3.0, np.nan]], dtype=dtype)
    with np.errstate(all="ignore"):
        expected = getattr(np, name)(x)
    same(getattr(np, name)(device(x)), expected)


def test_scalars_promote_like_numpy_and_operators_work():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    d = device(x)
    same(d * 0.5 + 1, x * 0.5 + 1)          # a Python float keeps float32
    same(2.0 - d, 2.0 - x)
    same(d / np.float64(3.0), x / np.float64(3.0))  # a NumPy float64 scalar promotes
    same(-d, -x)
    same(d ** 2, x ** 2)
    same(d > 2, x > 2)
    same(np.maximum(d, 0), np.maximum(x, 0))


def test_views_cost_nothing_and_read_right():
    x = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)
    d = device(x)
    for view, expected in ((d.transpose(2, 0, 1), x.transpose(2, 0, 1)), (d.T, x.T),
                           (d[1], x[1]), (d[:, 1:3], x[:, 1:3]), (d[:, :, ::2], x[:, :, ::2]),
                           (d[0, 2, 1:], x[0, 2, 1:]),
                           (d[:, 0:1].broadcast_to((2, 3, 4)),
                            np.broadcast_to(x[:, 0:1], (2, 3, 4)))):
        assert view.buffer is d.buffer  # no copy
        same(view, expected)
    same(d.transpose(1, 0, 2).reshape(3, -1), x.transpose(1, 0, 2).reshape(3, -1))
    same(d[:, 1:].astype(np.float32), x[:, 1:].astype(np.float32))
    same(d.T + d.T, x.T + x.T)


@SIMULATOR
@given(array_shapes(min_dims=1, max_dims=4, max_side=3), st.data(), st.booleans())
def test_sum_over_any_axes(shape, data, keepdims):
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), unique=True, max_size=len(shape)),
                     label="axes")
    axis = None if not axes else tuple(axes)
    x = np.random.default_rng(1).standard_normal(shape)
    same(device(x).sum(axis=axis, keepdims=keepdims), x.sum(axis=axis, keepdims=keepdims))


def test_no_implicit_host_copies_and_clear_errors():
    d = device(np.ones(3))
    with pytest.raises(TypeError, match=r"\.get\(\)"):
        np.asarray(d)
    with pytest.raises(TypeError, match="cumsum|np.add"):
        np.add.accumulate(d)
    with pytest.raises(TypeError, match="arctan2 .* not implemented for CUDA arrays"):
        np.arctan2(d, d)
    with pytest.raises(ValueError, match="cannot view"):
        d.reshape(2, 2)
    with pytest.raises(IndexError, match="out of bounds"):
        d[3]
    with pytest.raises(ValueError):
        d + device(np.ones(4))


def test_matmul_2d_and_batched():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 4))
    same(device(a) @ device(b), a @ b)
    same(np.matmul(device(a).T.T, device(b)), a @ b)
    same(device(b).T @ device(a).T, b.T @ a.T)  # transposed views
    batch = rng.standard_normal((2, 5, 3))
    same(np.matmul(device(batch), device(b)), np.matmul(batch, b))


def test_the_array_functions_the_ops_use():
    rng = np.random.default_rng(3)
    x = np.round(rng.standard_normal((2, 3, 4)), 1)
    d = device(x)
    same(np.zeros((2, 3), np.float32, like=d), np.zeros((2, 3), np.float32))
    same(np.ones_like(d), np.ones_like(x))
    same(np.full((3,), 2.5, like=d), np.full((3,), 2.5))
    assert np.empty((4, 2), np.float64, like=d).shape == (4, 2)
    same(np.ascontiguousarray(d.T, like=d), np.ascontiguousarray(x.T))
    same(np.where(d > 0, d, 0.5), np.where(x > 0, x, 0.5))
    same(np.concatenate([d, d[:, :1]], axis=1), np.concatenate([x, x[:, :1]], axis=1))
    same(np.stack([d[0], d[1]], axis=1), np.stack([x[0], x[1]], axis=1))
    for ours, theirs in zip(np.split(d, [1, 3], axis=2), np.split(x, [1, 3], axis=2)):
        same(ours, theirs)
    same(np.expand_dims(d, 1), np.expand_dims(x, 1))
    same(np.squeeze(d[:, :1], axis=1), np.squeeze(x[:, :1], axis=1))
    same(np.moveaxis(d, 0, -1), np.moveaxis(x, 0, -1))
    same(np.swapaxes(d, -1, -2), np.swapaxes(x, -1, -2))
    same(np.broadcast_to(d[:1], (3, 3, 4)), np.broadcast_to(x[:1], (3, 3, 4)))
    for axis in (None, 0, 2):
        same(d.max(axis=axis, keepdims=axis is not None), x.max(axis=axis,
                                                                keepdims=axis is not None))
        same(np.argmax(d, axis=axis), np.argmax(x, axis=axis))
    index = np.expand_dims(np.argmax(x, axis=1), 1)
    same(np.take_along_axis(d, device(index), axis=1), np.take_along_axis(x, index, axis=1))
    target, expected = np.zeros(x.shape, like=d), np.zeros(x.shape)
    np.put_along_axis(target, device(index), device(x.max(axis=1, keepdims=True)), axis=1)
    np.put_along_axis(expected, index, x.max(axis=1, keepdims=True), axis=1)
    same(target, expected)
    with pytest.raises(TypeError, match="np.cumsum is not implemented for CUDA arrays"):
        np.cumsum(d)


def test_booleans_sum_as_integers():
    x = np.array([[True, False, True], [True, True, True]])
    same(device(x).sum(axis=1), x.sum(axis=1))


def test_max_and_argmax_follow_numpy_on_ties_and_nan():
    x = np.array([[1.0, 3.0, 3.0], [np.nan, 2.0, np.nan]])
    same(device(x).max(axis=1), x.max(axis=1))
    same(np.argmax(device(x), axis=1), np.argmax(x, axis=1))
