"""Explicit values at the kinks, ties and extremes that random data never hits, each
checked against torch (forward and gradient)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from torch_reference import torch


def both(fn_ours, fn_theirs, *arrays):
    """Run both frameworks on the same float32 arrays with a fixed, non-uniform upstream
    gradient; return (ours, theirs) as lists [forward, grad_0, grad_1, ...]."""
    ours_in = [mt.tensor(np.asarray(a, np.float32), requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(np.asarray(a, np.float32), requires_grad=True) for a in arrays]
    ours, theirs = fn_ours(*ours_in), fn_theirs(*theirs_in)
    upstream = np.arange(1, np.prod(theirs.shape) + 1, dtype=np.float32).reshape(theirs.shape)
    ours.backward(mt.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    return ([ours.detach().numpy()] + [t.grad.data for t in ours_in],
            [theirs.detach().numpy()] + [t.grad.numpy() for t in theirs_in])


def assert_same(pair, rtol=1e-6):
    for label, o, t in zip(["forward"] + [f"grad of input {i}" for i in range(9)], *pair):
        np.testing.assert_allclose(o, t, rtol=rtol, atol=1e-7, err_msg=label)


def test_relu_gradient_at_zero_is_zero():
    assert_same(both(F.relu, torch.relu, [-1.0, 0.0, 0.0, 2.0]))


def test_relu_passes_the_gradient_through_a_nan_like_torch():
    ours, theirs = both(F.relu, torch.relu, [np.nan, -1.0, 2.0])
    np.testing.assert_array_equal(ours[1], theirs[1])


def test_abs_gradient_at_zero_is_zero():
    ours, theirs = both(lambda x: x.abs(), torch.abs, [-1.0, 0.0, 3.0])
    assert ours[1][1] == 0.0
    assert_same((ours, theirs))


def test_selu_at_zero_takes_the_negative_branch_slope():
    assert_same(both(F.selu, torch.selu, [-1e-3, 0.0, 1e-3]))


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    x = np.ones((1, 1, 4, 4))
    x[0, 0, 2:, 2:] = [[5, 5], [5, 5]]
    assert_same(both(lambda t: F.max_pool2d(t, 2), lambda t: torch.nn.functional.max_pool2d(t, 2),
                     x))


def test_max_pool_overlapping_windows_accumulate():
    x = np.arange(25.0).reshape(1, 1, 5, 5) % 7
    assert_same(both(lambda t: F.max_pool2d(t, 3, 1, 1),
                     lambda t: torch.nn.functional.max_pool2d(t, 3, 1, 1), x))


def test_max_pool_propagates_nan_like_torch():
    x = np.array([[[[1.0, np.nan], [3.0, 2.0]]]])
    ours = F.max_pool2d(mt.tensor(x, dtype=mt.float32), 2)
    assert np.isnan(ours.item())


def test_fused_relu_max_pool_matches_torch_at_zeros_ties_and_nan():
    """Windows that are all negative, all zero, tied at a positive value, overlapping, and
    one holding a NaN: F.relu_max_pool2d against torch's max_pool2d(relu(x))."""
    x = np.array([[[[-3.0, -1.0, 0.0, 0.0, 2.0],
                    [-2.0, -5.0, 0.0, 0.0, 2.0],
                    [4.0, 4.0, -1.0, np.nan, 1.0],
                    [1.0, 4.0, 0.5, 3.0, -0.0],
                    [0.0, -0.0, 7.0, -7.0, 6.0]]]])
    for kernel, stride, pad in [(2, 2, 0), (3, 1, 1), (2, 1, 0)]:
        ours, theirs = both(lambda t: F.relu_max_pool2d(t, kernel, stride, pad),
                            lambda t: torch.nn.functional.max_pool2d(torch.relu(t), kernel,
                                                                     stride, pad), x)
        for label, o, t in zip(["forward", "grad"], ours, theirs):
            np.testing.assert_array_equal(o, t, err_msg=f"{label}, kernel {kernel} "
                                                        f"stride {stride} padding {pad}")


def test_max_along_dim_with_ties_returns_the_first_index():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    values, indices = mt.tensor(x).max(dim=1)
    t_values, t_indices = torch.tensor(x).max(dim=1)
    np.testing.assert_array_equal(indices.numpy(), t_indices.numpy())
    np.testing.assert_array_equal(mt.tensor(x).argmax(dim=1).numpy(), t_indices.numpy())
    assert_same(both(lambda t: t.max(dim=1)[0], lambda t: t.max(dim=1)[0], x))


def test_whole_max_with_ties_shares_the_gradient_evenly():
    assert_same(both(lambda t: t.max(), lambda t: t.max(), [[1.0, 4.0], [4.0, 4.0]]))


@pytest.mark.parametrize("value", [-1e4, -100.0, 0.0, 100.0, 1e4])
def test_sigmoid_and_bce_stay_finite_at_large_logits(value):
    x = [value, -value]
    pair = both(F.sigmoid, torch.sigmoid, x)
    assert all(np.all(np.isfinite(a)) for a in pair[0])
    assert_same(pair)
    target = [1.0, 0.0]
    pair = both(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
                lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
                    a, b, reduction="none"), x, target)
    assert all(np.all(np.isfinite(a)) for a in pair[0])
    assert_same(pair)


def test_log_softmax_and_cross_entropy_with_huge_logits():
    logits = [[1e4, 0.0, -1e4], [-3e4, -3e4, -3e4 + 1]]
    pair = both(lambda t: F.log_softmax(t, 1), lambda t: torch.log_softmax(t, 1), logits)
    assert all(np.all(np.isfinite(a)) for a in pair[0])
    assert_same(pair)
    target = [1, 2]
    pair = both(lambda t: F.cross_entropy(t, mt.tensor(target), reduction="none"),
                lambda t: torch.nn.functional.cross_entropy(t, torch.tensor(target),
                                                            reduction="none"), logits)
    assert all(np.all(np.isfinite(a)) for a in pair[0])
    assert_same(pair)


def test_sqrt_and_log_at_zero_match_torch_infinities():
    ours = mt.tensor([0.0]).log().item(), mt.tensor([0.0]).sqrt().item()
    assert ours == (-np.inf, 0.0)


def test_comparisons_and_argmax_match_torch():
    a = np.array([[1.0, 2.0, 2.0], [0.0, -1.0, 5.0]], np.float32)
    b = np.array([2.0, 2.0, 0.0], np.float32)
    for op in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        ours = getattr(mt.tensor(a), op)(mt.tensor(b)).numpy()
        theirs = getattr(torch.tensor(a), op)(torch.tensor(b)).numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=op)
        assert ours.dtype == np.bool_
    for dim in (0, 1, -1):
        np.testing.assert_array_equal(mt.tensor(a).argmax(dim).numpy(),
                                      torch.tensor(a).argmax(dim).numpy())
    assert mt.tensor(a).argmax().item() == torch.tensor(a).argmax().item()


@settings(max_examples=60)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(0, 4),
       st.integers(0, 4), st.sampled_from([np.float32, np.float64]), st.integers(0, 2 ** 16))
def test_max_pool_on_zeros_of_both_signs_nans_infs_and_ties_matches_torch(
        kernel, stride, pad, extra_h, extra_w, dtype, seed):
    """Values from a small set, so that windows tie, hold NaNs, infinities and both zeros:
    the same maxima (sign of zero included) at the same input positions as torch."""
    pad = min(pad, kernel // 2)
    values = np.array([-0.0, 0.0, 1.0, -1.0, 2.0, np.nan, np.inf, -np.inf], dtype)
    x = np.random.default_rng(seed).choice(values, size=(2, 3, kernel + extra_h,
                                                         kernel + extra_w))
    theirs, indices = torch.nn.functional.max_pool2d(torch.tensor(x), kernel, stride, pad,
                                                     return_indices=True)
    ours = F.max_pool2d(mt.tensor(x), kernel, stride, pad).numpy()
    np.testing.assert_array_equal(ours, theirs.numpy())
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs.numpy()))
    x_grad = mt.tensor(x, requires_grad=True)
    pooled = F.max_pool2d(x_grad, kernel, stride, pad)
    pooled.backward(mt.tensor(np.ones(pooled.shape, dtype)))
    expected = np.zeros(x.shape, dtype).reshape(2, 3, -1)
    for n, c, position in np.ndindex(indices.shape[:2] + (int(np.prod(indices.shape[2:])),)):
        expected[n, c, indices.reshape(2, 3, -1)[n, c, position]] += 1
    np.testing.assert_array_equal(x_grad.grad.numpy().reshape(2, 3, -1), expected)


@pytest.mark.parametrize("x_shape, w_shape, padding", [
    ((0, 1, 14, 14), (32, 1, 3, 3), 1),    # per image
    ((0, 2, 14, 14), (64, 2, 4, 4), 0),    # per image, 4x4
    ((0, 64, 4, 4), (64, 64, 4, 4), 1),    # im2col
    ((0, 32, 7, 7), (64, 32, 3, 3), 1),    # Winograd
])
@pytest.mark.parametrize("fused", [False, True])
def test_convolutions_of_an_empty_batch_match_torch(x_shape, w_shape, padding, fused):
    """A batch of no images through each convolution path, plain and fused with ReLU and
    max-pool: empty outputs and input gradients, zero weight and bias gradients."""
    rng = np.random.default_rng(2)
    w, b = rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])

    def ours(x, w, b):
        if fused:
            return F.conv2d_relu_max_pool2d(x, w, b, padding=padding)
        return F.conv2d(x, w, b, padding=padding)

    def theirs(x, w, b):
        y = torch.nn.functional.conv2d(x, w, b, padding=padding)
        return torch.nn.functional.max_pool2d(torch.relu(y), 2) if fused else y
    assert_same(both(ours, theirs, np.zeros(x_shape), w, b))
