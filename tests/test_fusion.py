"""Conv2d, ReLU and a 2x2 max-pool run as one fused op however a model writes them
(minitorch_pairs/ops/fusion.py): nn.Sequential, functions, methods, either order, a Module
subclass with hooks. Eager semantics are kept: values and gradients equal the plain ops'
(bit for bit, except where the fused op takes F(6x6, 3x3) tiles: float32 rounding), the
convolution sees its inputs as they were at its call, an intermediate kept and used later
gets its gradient exactly as in eager execution, and torch's errors stay torch's."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minitorch_pairs as mt
from minitorch_pairs import nn
from minitorch_pairs.nn import functional as F
from kernels.cpu import conv_winograd

FUSED = "Conv2dReluPool"


class Block(nn.Module):
    """A subclass whose forward calls its modules one at a time (a hook on each)."""

    def __init__(self, conv):
        super().__init__()
        self.conv, self.act, self.pool = conv, nn.ReLU(), nn.MaxPool2d(2)

    def forward(self, x):
        return self.pool(self.act(self.conv(x)))


def _hooked(conv):
    block = Block(conv)
    seen = []
    for module in block.children():  # hooks that look at shapes, not values
        module.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    return block


SPELLINGS = {
    "sequential": lambda conv: nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2)),
    "functional": lambda conv: lambda x: F.max_pool2d(F.relu(conv(x)), 2),
    "pool first": lambda conv: lambda x: F.relu(F.max_pool2d(conv(x), kernel_size=2, stride=2)),
    "methods": lambda conv: lambda x: F.max_pool2d(conv(x).relu(), (2, 2), 2, 0),
    "module with hooks": _hooked,
}

# (input channels, size): the per-image path pixel by pixel (9 taps) and plane by plane (18
# taps, above image_pixel_taps), Winograd F(4x4), Winograd F(6x6) when fused
PATHS = {"per image": (1, 14), "per image, planes": (2, 14), "F(4x4)": (16, 8),
         "F(6x6)": (16, 13)}


def _run(spelling, channels, size, fuse=True):
    """Output, gradients (input, weight, bias) and the output's op name."""
    rng = np.random.default_rng(0)
    conv = nn.Conv2d(channels, 16, 3, padding=1)
    with mt.no_grad():
        conv.weight.copy_(mt.tensor(rng.standard_normal(conv.weight.shape) / 6))
        conv.bias.copy_(mt.tensor(rng.standard_normal(16) / 6))
    if size == 13:  # random: no ties for F(6x6)'s rounding to break
        x = rng.standard_normal((2, channels, size, size))
    else:  # exact zeros, ties and a NaN, routed as the plain ops route them
        x = rng.integers(-2, 3, size=(2, channels, size, size)).astype(np.float64)
        x[1, 0, 4, 4] = np.nan
    x = mt.tensor(x, dtype=mt.float32, requires_grad=True)
    with mt.backends.flags(fuse_conv_relu_pool=fuse):
        out = SPELLINGS[spelling](conv)(x)
    name = out.grad_fn.name
    out.backward(mt.tensor(np.arange(out.numel()).reshape(out.shape) % 7, dtype=mt.float32))
    return [out.detach().numpy(), x.grad.numpy(), conv.weight.grad.numpy(),
            conv.bias.grad.numpy()], name


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_takes_the_fused_op_with_the_plain_ops_results(spelling, path):
    channels, size = PATHS[path]
    assert (conv_winograd.pooled_tile(size // 2, size // 2) == 6) == (path == "F(6x6)")
    fused, name = _run(spelling, channels, size)
    plain, plain_name = _run(spelling, channels, size, fuse=False)
    assert name == FUSED
    assert plain_name == ("Relu" if spelling == "pool first" else "MaxPool2d")
    for ours, theirs in zip(fused, plain):
        if path == "F(6x6)":
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-5 * np.abs(theirs).max())
        else:
            np.testing.assert_array_equal(ours, theirs)


def _layer(channels=16, seed=0):
    rng = np.random.default_rng(seed)
    mt.manual_seed(seed)
    conv = nn.Conv2d(channels, 16, 3, padding=1)
    x = mt.tensor(rng.integers(-2, 3, size=(2, channels, 8, 8)), dtype=mt.float32)
    return conv, x


def test_a_kept_intermediate_gets_its_gradient_as_in_eager_execution():
    """The convolution's output, kept and added to the loss after the chain was fused: the
    graph becomes the plain ops' (the fused node is replaced in place), so gradients are bit
    for bit the unfused ones; its values are the plain convolution's."""
    results = []
    for fuse in (True, False):
        conv, x = _layer()
        x.requires_grad_()
        with mt.backends.flags(fuse_conv_relu_pool=fuse):
            h = conv(x)
            out = F.max_pool2d(F.relu(h), 2)
            loss = (out * out).sum() + (h * 3).sum()
        loss.backward()
        results.append([h.detach().numpy(), out.detach().numpy(), x.grad.numpy(),
                        conv.weight.grad.numpy(), conv.bias.grad.numpy()])
    for fused, plain in zip(*results):
        np.testing.assert_array_equal(fused, plain)


def test_an_intermediate_read_after_backward_has_its_values_and_torchs_freed_graph():
    conv, x = _layer()
    h = conv(x)
    relu = F.relu(h)
    out = F.max_pool2d(relu, 2)
    assert out.grad_fn.name == FUSED
    out.sum().backward()
    with mt.backends.flags(fuse_conv_relu_pool=False):
        expected = conv(x)
    np.testing.assert_array_equal(h.detach().numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(relu.detach().numpy(), np.maximum(expected.detach().numpy(), 0))
    th = torch.nn.functional.conv2d(torch.tensor(x.numpy()),
                                    torch.tensor(conv.weight.detach().numpy(), requires_grad=True))
    torch.nn.functional.max_pool2d(torch.relu(th), 2).sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        th.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        h.sum().backward()


def test_the_convolution_sees_its_inputs_as_they_were_at_its_call():
    """In-place changes (counted or through .data and NumPy) between the convolution's call
    and the ops that finish the chain are not seen, as in eager execution."""
    conv, x = _layer()
    with mt.backends.flags(fuse_conv_relu_pool=False):
        expected = F.max_pool2d(F.relu(conv(x)), 2).detach().numpy()
    h = conv(x)
    x.add_(5)
    conv.weight.data.numpy()[...] = 0
    with mt.no_grad():
        conv.bias.fill_(7)
    out = F.max_pool2d(F.relu(h), 2)
    assert out.grad_fn.name == FUSED
    np.testing.assert_array_equal(out.detach().numpy(), expected)


def test_a_weight_changed_in_place_before_backward_is_refused_as_torch_does():
    conv, x = _layer()
    out = F.max_pool2d(F.relu(conv(x)), 2)
    with mt.no_grad():
        conv.weight.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def _torch_chain(x, conv, relu_first):
    t = torch.nn.functional.conv2d(torch.tensor(x.numpy()), torch.tensor(
        conv.weight.detach().numpy(), requires_grad=True), padding=1)
    pool = lambda h: torch.nn.functional.max_pool2d(h, 2)  # noqa: E731
    return pool(torch.relu(t)) if relu_first else torch.relu(pool(t))


@pytest.mark.parametrize("spelling", ["functional", "sequential", "pool first"])
def test_the_fused_output_changed_in_place_before_backward_as_torch(spelling):
    """The fused op's backward must not mask with its output's values, which the caller may
    change: after conv, relu, max_pool2d torch's backward uses the pool's input and indices
    (an in-place change of the output is harmless); after max_pool2d, relu it uses the
    ReLU's output, and refuses once it was changed."""
    relu_first = spelling != "pool first"
    results = []
    for fuse in (True, False):
        conv, x = _layer()
        with mt.backends.flags(fuse_conv_relu_pool=fuse):
            out = SPELLINGS[spelling](conv)(x)
        assert (out.grad_fn.name == FUSED) == fuse
        tout = _torch_chain(x, conv, relu_first)
        for result in (out, tout):
            result.add_(1)
        if not relu_first:
            for result in (out, tout):
                with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                    result.sum().backward()
            return
        out.sum().backward()
        tout.sum().backward()
        results.append(conv.weight.grad.numpy())
    np.testing.assert_array_equal(*results)
    assert np.abs(results[0]).sum() > 0


def test_a_hook_that_reads_values_and_other_consumers_get_the_plain_ops():
    """A convolution output read by anything but ReLU / max-pool is computed then by the
    plain ops; results as the unfused ones."""
    conv, x = _layer()
    seen = []
    conv.register_forward_hook(lambda m, args, out: seen.append(float(out.sum())))
    with mt.backends.flags(fuse_conv_relu_pool=False):
        expected = F.max_pool2d(F.relu(conv(x)), 2)
    out = F.max_pool2d(F.relu(conv(x)), 2)
    assert seen[0] == seen[1]
    assert out.grad_fn.name == "MaxPool2d"
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    bn = nn.BatchNorm2d(16)
    h = bn(conv(x))
    assert h.grad_fn.parents[0].name == "Conv2d"


def test_a_deferred_output_looks_like_a_tensor_without_being_computed():
    conv, x = _layer()
    h = conv(x)
    assert isinstance(h, mt.Tensor)
    assert (h.shape, h.dtype, h.ndim, h.requires_grad, h.device) == (
        (2, 16, 8, 8), mt.float32, 4, True, "cpu")
    assert h.size(1) == 16 and h.numel() == 2 * 16 * 64 and h.dim() == 4 and len(h) == 2
    assert h.grad_fn.name == "Conv2d"  # computed once something needs its graph or values
    with mt.no_grad():
        h = conv(x)
        assert not h.requires_grad
        out = F.max_pool2d(F.relu(h), 2)
    assert out.grad_fn is None and not out.requires_grad


def test_the_switch_is_a_backends_setting():
    assert mt.backends.get().fuse_conv_relu_pool is True
    with pytest.raises(ValueError, match="fuse_conv_relu_pool must be one of"):
        mt.backends.set_flags(fuse_conv_relu_pool=1)


def test_a_deferred_convolution_runs_with_the_settings_of_its_call():
    """Made inside a flags block and computed after it: the block's settings decide its
    path (Winograd here), as if it had run at its call."""
    conv, x = _layer(channels=2)
    with mt.backends.flags(winograd_channels=1):
        with mt.backends.flags(fuse_conv_relu_pool=False):
            expected = conv(x).detach().numpy()
        h, chained = conv(x), F.relu(conv(x))
    assert h.grad_fn.ctx.plan.algorithm == "winograd"
    np.testing.assert_array_equal(h.detach().numpy(), expected)
    out = F.max_pool2d(chained, 2)
    assert out.grad_fn.ctx.plan.algorithm == "winograd"


@pytest.mark.parametrize("change", ["in place", "through detach and NumPy", "through .data",
                                    "through a view", "data set onto a leaf"])
def test_an_input_kept_by_reference_is_copied_before_its_storage_changes(change):
    """An op's output (not a leaf, owning its memory) is kept by reference, not copied;
    every way its storage can change or be handed out copies it first."""
    from minitorch_pairs.ops import fusion
    conv, x = _layer()
    x = x.requires_grad_() * 1  # an op's output
    with mt.backends.flags(fuse_conv_relu_pool=False):
        expected = F.max_pool2d(F.relu(conv(x)), 2).detach().numpy()
    h = conv(x)
    snapshot = h._chain.inputs
    assert snapshot in fusion._sharing, "the input was copied, not kept"
    leaf = mt.zeros(x.shape)
    if change == "in place":
        x.add_(5)
    elif change == "through detach and NumPy":
        x.detach().numpy()[...] = 5
    elif change == "through .data":
        x.data.numpy()[...] = 5
    elif change == "through a view":
        x[1].fill_(5)
    else:
        leaf.data = x  # then an optimizer, say, writes the leaf's storage directly
        leaf._data[...] = 5
    out = F.max_pool2d(F.relu(h), 2)
    assert out.grad_fn.name == FUSED and snapshot not in fusion._sharing
    np.testing.assert_array_equal(out.detach().numpy(), expected)
