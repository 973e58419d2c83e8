"""The autograd engine: graph walk, accumulation, broadcasting, modes, freeing, custom Functions."""
from __future__ import annotations

import numpy as np
import pytest

import minitorch_pairs as mt


def test_diamond_graph_sums_both_paths():
    # y = c * p * p reuses p along two paths: dy/dp = 2 c p
    p = mt.tensor([1.0, 2.0], dtype=mt.float64, requires_grad=True)
    c = mt.tensor([3.0, 4.0], dtype=mt.float64)
    (c * p * p).sum().backward()
    np.testing.assert_array_equal(p.grad.data, [6.0, 16.0])


def test_shared_subexpression_used_twice():
    x = mt.tensor([0.5, -1.0], dtype=mt.float64, requires_grad=True)
    h = x.exp()
    y = (h * h + h.tanh() * h).sum()  # h feeds four uses
    y.backward()
    e = np.exp(x.data)
    expected = 2 * e * e + (1 - np.tanh(e) ** 2) * e * e + np.tanh(e) * e
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-14)


def test_gradients_accumulate_across_backward_calls():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3 + 2, 3 + 4])


def test_backward_with_explicit_gradient():
    x = mt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * x
    y.backward(mt.tensor([[1.0, 0.0], [0.5, 2.0]]))
    np.testing.assert_allclose(x.grad.data, [[2.0, 0.0], [3.0, 16.0]])


def test_broadcast_gradients_are_summed_to_the_operand_shape():
    a = mt.ones(2, 3, 4, requires_grad=True)
    b = mt.ones(3, 1, requires_grad=True)
    c = mt.ones(1, requires_grad=True)
    (a * b + c).sum().backward()
    assert b.grad.shape == (3, 1) and c.grad.shape == (1,)
    np.testing.assert_array_equal(b.grad.data, np.full((3, 1), 8.0))
    np.testing.assert_array_equal(c.grad.data, [24.0])


def test_deep_graph_does_not_hit_the_recursion_limit():
    x = mt.tensor([1.0], dtype=mt.float64, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0])


def test_graph_is_freed_after_backward_unless_retained():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, [4.0, 8.0])
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_no_grad_records_nothing_as_context_and_decorator():
    x = mt.tensor([1.0], requires_grad=True)
    with mt.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @mt.no_grad()
    def double(t):
        return t * 2

    assert double(x).grad_fn is None
    assert mt.is_grad_enabled()
    assert (x * 2).grad_fn is not None


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with mt.no_grad():
            raise ZeroDivisionError
    assert mt.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_memory():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = (x * d).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])
    e = x.detach()
    e.data[0] = 10.0
    assert x.data[0] == 10.0


def test_only_leaves_get_grad():
    x = mt.tensor([1.0], requires_grad=True)
    h = x * 2
    (h * 3).sum().backward()
    assert h.grad is None and x.grad is not None
    assert x.is_leaf and not h.is_leaf


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        mt.tensor([1, 2], requires_grad=True)


def test_a_user_defined_function_plugs_into_the_engine():
    class Cube(mt.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a ** 3

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved
            return 3 * a * a * grad

    x = mt.tensor([1.0, -2.0], dtype=mt.float64, requires_grad=True)
    Cube.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 12.0])
    assert mt.gradcheck(lambda t: Cube.apply(t), (mt.tensor([0.3, -1.2], dtype=mt.float64,
                                                             requires_grad=True),))


def test_backward_is_deterministic_bit_for_bit():
    mt.manual_seed(3)
    w = mt.randn(5, 4, requires_grad=True)
    x = mt.randn(8, 4)

    def grad():
        w.grad = None
        ((x @ w.T).tanh() * (x @ w.T)).sum().backward()
        return w.grad.numpy().copy()

    assert np.array_equal(grad(), grad())


def test_backward_without_gradient_needs_a_scalar():
    x = mt.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar output.*shape \\(3,\\)"):
        (x * 2).backward()
    with pytest.raises(ValueError, match="expected gradient of shape \\(3,\\), got \\(2,\\)"):
        (x * 2).backward(mt.ones(2))
    with pytest.raises(RuntimeError, match="does not require grad"):
        mt.ones(3).sum().backward()


def test_gradient_dtype_follows_the_input():
    x = mt.ones(3, dtype=mt.float32, requires_grad=True)
    (x.double() * 2).sum().backward()
    assert x.grad.dtype == mt.float32


def _no_two_share_memory(*arrays) -> bool:
    return not any(np.shares_memory(a, b) for i, a in enumerate(arrays) for b in arrays[i + 1:])


def test_leaf_gradients_never_alias_the_callers_gradient_or_each_other():
    """Leaves keep a backward's fresh array instead of copying it; everything reachable from
    elsewhere (the caller's gradient, views of it, one array handed to two leaves) is copied."""
    g = np.arange(6, dtype=np.float32).reshape(2, 3)
    a = mt.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    b = mt.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    (a + b).backward(mt.tensor(g))  # Add hands the caller's array to both leaves
    c = mt.tensor(np.ones(6, np.float32), requires_grad=True)
    c.reshape(2, 3).backward(mt.tensor(g))  # a view of the caller's array
    d = mt.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    d.backward(mt.tensor(g))  # the root is the leaf itself
    e = mt.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    f = e * 2.0
    (f + f).backward(mt.tensor(g))  # one fresh array reaches e twice: summed, then kept
    arrays = [g, a.grad._data, b.grad._data, c.grad._data, d.grad._data, e.grad._data]
    assert _no_two_share_memory(*arrays)
    a.grad.data += 100  # nothing else moves
    np.testing.assert_array_equal(b.grad.data, g)
    np.testing.assert_array_equal(c.grad.data, g.reshape(-1))
    np.testing.assert_array_equal(d.grad.data, g)
    np.testing.assert_array_equal(e.grad.data, 4 * g)
    np.testing.assert_array_equal(g, np.arange(6, dtype=np.float32).reshape(2, 3))


def test_a_leaf_keeps_a_fresh_gradient_without_copying_it():
    kept = {}

    class Double(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, grad):
            kept["array"] = 2 * grad
            return kept["array"]

    x = mt.tensor(np.ones(4, np.float32), requires_grad=True)
    Double.apply(x).backward(mt.tensor(np.ones(4, np.float32)))
    assert x.grad._data is kept["array"]
    Double.apply(x).backward(mt.tensor(np.ones(4, np.float32)))  # the second one accumulates
    np.testing.assert_array_equal(x.grad.data, 4.0)


@pytest.mark.parametrize("op", ["batch_norm", "conv2d", "conv2d_relu_max_pool2d",
                                "max_pool2d", "linear", "relu"])
def test_the_models_ops_hand_a_leaf_their_own_gradient_array(op, monkeypatch):
    """A backward that returns a view of a fresh array (a reshape) makes the leaf copy it:
    the study's ops return arrays that own their memory, kept as they are."""
    import minitorch_pairs.nn.functional as F
    from minitorch_pairs.tensor import Tensor
    copied, accumulate = [], Tensor._accumulate_grad

    def spy(self, grad, unshared=False):
        if self.grad is None and not unshared:
            copied.append(grad.shape)
        return accumulate(self, grad, unshared)
    monkeypatch.setattr(Tensor, "_accumulate_grad", spy)
    rng = np.random.default_rng(0)
    leaf = lambda *shape: mt.tensor(rng.standard_normal(shape).astype(np.float32),  # noqa
                                    requires_grad=True)
    x, w = leaf(4, 3, 6, 6), leaf(5, 3, 3, 3)
    out = {"batch_norm": lambda: F.batch_norm(x, None, None, leaf(3), leaf(3), training=True),
           "conv2d": lambda: F.conv2d(x, w, leaf(5), padding=1),
           "conv2d_relu_max_pool2d": lambda: F.conv2d_relu_max_pool2d(x, w, leaf(5), padding=1),
           "max_pool2d": lambda: F.max_pool2d(x, 2),
           "linear": lambda: F.linear(leaf(4, 7), leaf(2, 7), leaf(2)),
           "relu": lambda: F.relu(x)}[op]()
    out.backward(mt.tensor(rng.standard_normal(out.shape).astype(np.float32)))
    assert copied == []
