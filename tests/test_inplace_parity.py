"""In-place ops against torch: values and gradients of the `_` methods on tensors inside a
graph, the version counter's error, leaves, `no_grad` parameter updates, `.data` and
`.detach()` aliasing, and torch's casting rule for in-place results."""
from __future__ import annotations

import numpy as np
import pytest

import minitorch_pairs as mt
from torch_reference import torch

BASE = np.array([[-1.5, 0.5, 2.0], [0.25, -0.75, 1.25]], np.float32)
OTHER = np.array([[0.5, 1.5, -2.0], [1.0, 2.0, 0.5]], np.float32)

# each takes (framework, x, other): an in-place call on x, a non-leaf of the graph
INPLACE = {
    "add_": lambda f, x, o: x.add_(o), "add_ alpha": lambda f, x, o: x.add_(o, alpha=2),
    "sub_": lambda f, x, o: x.sub_(o), "mul_": lambda f, x, o: x.mul_(o),
    "div_": lambda f, x, o: x.div_(o), "pow_": lambda f, x, o: x.abs_().pow_(o),
    "neg_": lambda f, x, o: x.neg_(), "exp_": lambda f, x, o: x.exp_(),
    "log_": lambda f, x, o: x.abs_().log_(), "sqrt_": lambda f, x, o: x.abs_().sqrt_(),
    "tanh_": lambda f, x, o: x.tanh_(), "sigmoid_": lambda f, x, o: x.sigmoid_(),
    "relu_": lambda f, x, o: x.relu_(), "clamp_": lambda f, x, o: x.clamp_(-0.5, 1.0),
    "clamp_ min": lambda f, x, o: x.clamp_(min=0.3),
    "masked_fill_": lambda f, x, o: x.masked_fill_(o > 0.7, -3.0),
    "fill_": lambda f, x, o: x.fill_(2.5), "zero_": lambda f, x, o: x.zero_(),
    "copy_": lambda f, x, o: x.copy_(o * 3), "copy_ broadcast": lambda f, x, o: x.copy_(o[0]),
    "+=": lambda f, x, o: x.__iadd__(o), "*= scalar": lambda f, x, o: x.__imul__(3),
    "setitem row": lambda f, x, o: x.__setitem__(0, o[1]),
    "setitem mask": lambda f, x, o: x.__setitem__(o > 0.7, 7.0),
    "setitem list": lambda f, x, o: x.__setitem__((slice(None), [2, 0]), o[:, :2]),
}


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_values_and_gradients_match_torch(name):
    results = []
    for f in (mt, torch):
        w, o = f.tensor(BASE, requires_grad=True), f.tensor(OTHER, requires_grad=True)
        x = w * 1.0
        same = INPLACE[name](f, x, o)
        assert same is x or name.startswith("setitem") or name[0] in "+*"
        upstream = f.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
        (x * upstream).sum().backward()
        results.append([x.detach().numpy(), _grad(w), _grad(o)])
    for label, ours, theirs in zip(["values", "grad of x", "grad of other"], *results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7, err_msg=f"{name}: {label}")


def _grad(t):
    return np.zeros(t.shape, np.float32) if t.grad is None else t.grad.numpy()


@pytest.mark.parametrize("framework", [mt, torch], ids=["ours", "torch"])
def test_backward_after_changing_a_saved_tensor_raises(framework):
    w = framework.tensor(BASE, requires_grad=True)
    y = w.exp()  # exp saves its output
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    z = w * 2  # mul by a number saves nothing of z: changing z is fine
    z.add_(1)
    z.sum().backward()


@pytest.mark.parametrize("framework", [mt, torch], ids=["ours", "torch"])
def test_detach_shares_the_version_counter_and_data_does_not(framework):
    w = framework.tensor(BASE, requires_grad=True)
    y = w.sigmoid()
    y.data.mul_(1)  # .data: outside autograd's view, no error later
    y.sum().backward(retain_graph=True)
    y.detach().zero_()  # detach(): the same counter, so backward refuses
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("framework", [mt, torch], ids=["ours", "torch"])
def test_inplace_on_a_leaf_that_requires_grad_raises_unless_no_grad(framework):
    w = framework.tensor(BASE, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[0] = 1.0
    w.sum().backward()
    with framework.no_grad():  # a hand-written SGD step and init code
        w -= 0.1 * w.grad
        w[0, 0] = 5.0
        w.grad.zero_()
    assert w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.detach().numpy()[1], BASE[1] - 0.1, rtol=1e-6)
    assert float(w[0, 0]) == 5.0 and not w.grad.numpy().any()


@pytest.mark.parametrize("call", [
    lambda f: f.tensor([1, 2]).add_(0.5), lambda f: f.tensor([1, 2]).div_(2),
    lambda f: f.tensor([True]).add_(1), lambda f: f.ones(2).add_(f.ones(3)),
    lambda f: f.ones(2).masked_fill_(f.tensor([1, 0]), 1.0)])
def test_bad_inplace_calls_raise_torchs_class(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)):
        call(mt)


def test_inplace_results_cast_into_the_target_as_torch():
    for f in (mt, torch):
        x = f.tensor([1.0, 2.0])
        x.add_(f.tensor([1.0, 1.0], dtype=f.float64))  # float64 into float32: allowed
        assert str(x.dtype).endswith("float32")
        n = f.tensor([1, 2])
        n.mul_(3)
        n.copy_(f.tensor([1.7, -1.7]))  # copy_ casts anything
        assert n.tolist() == [1, -1]


def test_changes_through_views_reach_the_base_and_its_data():
    x = mt.zeros(2, 3)
    x[0].fill_(1.0)
    x.reshape(6)[5] = 4.0
    x.T[0, 1] = 2.0
    x.data[1, 1] = 3.0
    np.testing.assert_array_equal(x.numpy(), [[1, 1, 1], [2, 3, 4]])
    assert x._version == 3  # .data is not counted, as in torch


def test_inplace_on_a_view_of_a_view_recorded_by_autograd_is_refused_clearly():
    w = mt.ones(3, requires_grad=True)
    x = mt.zeros(2, 3)
    with pytest.raises(RuntimeError, match="view of a view"):
        x[0][1:].add_(w[0])  # torch rewrites x's history through both views; we refuse
    with pytest.raises(RuntimeError, match="reshape"):
        x.reshape(6).add_(w.sum())


@pytest.mark.parametrize("write", [
    lambda f, x, w: x[0].__setitem__(slice(1, None), w[:2]),  # x[0][1:] = w[:2]
    lambda f, x, w: x[1].copy_(w * 2),
    lambda f, x, w: x[:, 2].add_(w[:2]),
    lambda f, x, w: x[0, 1].fill_(w[2])])
def test_inplace_through_a_direct_view_reaches_the_base_as_torch(write):
    results = []
    for f in (mt, torch):
        w = f.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x = f.zeros(2, 3)
        write(f, x, w)
        (x * f.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))).sum().backward()
        results.append((x.detach().numpy(), _grad(w)))
    for label, ours, theirs in zip(["values", "grad"], *results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, err_msg=label)


def test_an_element_of_a_vector_is_a_view_as_in_torch():
    x = mt.zeros(3)
    x[1].fill_(5.0)
    x[2] += 1
    np.testing.assert_array_equal(x.numpy(), [0, 5, 1])


def test_random_fills_draw_from_the_seeded_generator():
    mt.manual_seed(3)
    a = mt.zeros(4).normal_(2.0, 0.5)
    mt.manual_seed(3)
    b = mt.zeros(4).normal_(2.0, 0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    u = mt.zeros(1000).uniform_(-1.0, 3.0).numpy()
    assert -1.0 <= u.min() and u.max() < 3.0 and u.std() > 0.5


# Each uses a tensor, then changes it in place, then uses it again: the earlier use must
# keep the gradient of the value it saw, or (where it saved that value) both refuse.
USED_BEFORE = {
    "mul_ after a use": lambda f, w: _then(w * 1.0, lambda x: (x * 2, x.mul_(3))),
    "exp_ after a use": lambda f, w: _then(w * 1.0, lambda x: (x + 1, x.exp_())),
    "exp_ after a use that saved it": lambda f, w: _then(w * 1.0,
                                                         lambda x: (x.sum() * x, x.exp_())),
    "view changed in place": lambda f, w: _then(w * 1.0, lambda x: (x * 2, x[0].mul_(4))),
    "view changed, saved": lambda f, w: _then(w * 1.0, lambda x: (x * x, x[0].mul_(4))),
    "x[:, 0] += 1": lambda f, w: _then(w * 1.0, lambda x: (x * 1.5, x[:, 0].__iadd__(x[:, 1]))),
    "setitem into a plain tensor": lambda f, w: _then(
        f.zeros(2, 3), lambda x: (x + w, x.__setitem__(1, w[0] * 2))),
}


def _then(x, uses):
    earlier, _ = uses(x)
    return earlier.sum() + (x * x).sum()


def _gradient_or_error(framework, name):
    w = framework.tensor(BASE, requires_grad=True)
    try:
        USED_BEFORE[name](framework, w).backward()
    except RuntimeError as error:
        return str(error)
    return w.grad.numpy()


@pytest.mark.parametrize("name", USED_BEFORE)
def test_an_earlier_use_keeps_its_gradient_after_an_inplace_change(name):
    ours, theirs = _gradient_or_error(mt, name), _gradient_or_error(torch, name)
    if isinstance(theirs, str):
        assert isinstance(ours, str) and "modified by an inplace operation" in ours, ours
    else:
        assert not isinstance(ours, str), ours
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, err_msg=name)


@pytest.mark.parametrize("framework", [mt, torch], ids=["ours", "torch"])
def test_a_view_of_a_leaf_that_requires_grad_refuses_inplace(framework):
    w = framework.tensor(BASE, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[0].add_(1)


@pytest.mark.parametrize("method", ["add_", "mul_", "sub_", "fill_"])
def test_in_place_on_a_zero_dim_result_of_arithmetic(method):
    """An op's 0-d result owns a 0-d array (NumPy's 0-d arithmetic gives scalars, which
    cannot be written in place)."""
    results = []
    for framework in (mt, torch):
        x = framework.tensor(1.5, requires_grad=True)
        y = x * 2
        getattr(y, method)(3.0)
        y.backward()
        results.append((float(y), float(x.grad)))
    assert results[0] == results[1]


@pytest.mark.parametrize("overwrite", ["fill_", "zero_", "copy_"])
def test_overwritten_history_gets_a_zero_gradient(overwrite):
    """torch keeps the overwritten values' history in the graph: their gradient is zeros,
    not absent (x.grad is a zero tensor, not None)."""
    grads = []
    for framework in (mt, torch):
        x = framework.ones(3, requires_grad=True)
        y = x * 2
        args = {"fill_": (4.0,), "zero_": (), "copy_": (framework.tensor([1.0, 2.0, 3.0]),)}
        getattr(y, overwrite)(*args[overwrite])
        y.sum().backward()
        grads.append(None if x.grad is None else x.grad.tolist())
    assert grads[0] == grads[1]
