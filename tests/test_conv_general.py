"""The general convolutions (ops/conv_general.py, nn/conv.py) against torch itself: Conv1d,
Conv2d, ConvTranspose1d and ConvTranspose2d layers with their torch twins (same weights:
forward, input and parameter gradients) over hypothesis-drawn geometry, padding modes and
output_size; reprs, parameter shapes and default initialisation; errors (torch's exception
class, our message naming the op); that the numba kernels' path still runs the default
arguments; and edge cases (empty batch, float16, in-place change before backward). The
gradients themselves are checked by finite differences in tests/op_cases_conv.py."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from minitorch_pairs import nn
from minitorch_pairs.ops import conv_general, conv_pool, fusion
from torch_reference import torch
from twins import assert_close, assert_grads_match, copy_torch_into_ours, make_twins

RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}
DTYPES = [np.float32, np.float64]
MODES = ["zeros", "reflect", "replicate", "circular"]


def run_twins(spec, shape, dtype=np.float64, seed=0, forward=lambda layer, x: layer(x)):
    """One forward and backward (random upstream gradient) through `spec` built from both
    frameworks with the same weights: output, input gradient, parameter gradients."""
    ours, theirs = make_twins(spec, dtype, seed)
    rtol, rng = RTOL[np.dtype(dtype)], np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    xo, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = forward(ours, xo), forward(theirs, xt)
    assert_close(yo.detach(), yt, rtol, "forward")
    upstream = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yo.backward(mt.tensor(upstream))
    yt.backward(torch.from_numpy(upstream))
    assert_close(xo.grad, xt.grad, rtol, "grad of input")
    assert_grads_match(ours, theirs, rtol)


# ----- layers against their torch twins ----------------------------------------------------

@st.composite
def layer_configs(draw):
    """(layer name, keyword arguments, input shape) for any of the four layers."""
    name = draw(st.sampled_from(["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]))
    rank, transposed = int(name[-2]), name.startswith("ConvTranspose")
    groups = draw(st.integers(1, 3))
    options = dict(in_channels=groups * draw(st.integers(1, 2)),
                   out_channels=groups * draw(st.integers(1, 2)),
                   kernel_size=tuple(draw(st.integers(1, 3)) for _ in range(rank)),
                   stride=tuple(draw(st.integers(1, 2)) for _ in range(rank)),
                   dilation=tuple(draw(st.integers(1, 2)) for _ in range(rank)),
                   groups=groups, bias=draw(st.booleans()))
    span = [d * (k - 1) + 1 for k, d in zip(options["kernel_size"], options["dilation"])]
    if transposed:
        options["output_padding"] = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in
                                          zip(options["stride"], options["dilation"]))
        sizes = tuple(draw(st.integers(1, 4)) for _ in range(rank))
        options["padding"] = tuple(
            draw(st.integers(0, min(1, ((n - 1) * s + k - 1 + o) // 2))) for n, s, k, o in
            zip(sizes, options["stride"], span, options["output_padding"]))
    else:
        options["padding_mode"] = draw(st.sampled_from(MODES))
        kinds = ["ints", "valid"] + (["same"] if set(options["stride"]) == {1} else [])
        kind = draw(st.sampled_from(kinds))
        options["padding"] = tuple(draw(st.integers(0, 2)) for _ in range(rank)) \
            if kind == "ints" else kind
        # larger than the padding (reflect) and the dilated kernel
        sizes = tuple(draw(st.integers(k + 2, 7)) for k in span)
    batch = () if name != "Conv2d" and draw(st.booleans()) else (draw(st.integers(1, 2)),)
    return name, options, batch + (options["in_channels"],) + sizes


@given(layer_configs(), st.sampled_from(DTYPES))
def test_each_layer_matches_torch_for_any_geometry(config, dtype):
    name, options, shape = config
    run_twins(lambda f: getattr(f, name)(**options), shape, dtype)


def test_a_depthwise_separable_block_in_sequential_matches_torch():
    """Depthwise (groups = channels, a channel multiplier of 2), pointwise, ReLU and a 2x2
    pool: the grouped convolution then the kernels' fused one."""
    spec = lambda f: f.Sequential(  # noqa: E731
        f.Conv2d(4, 8, 3, padding="same", groups=4, bias=False, padding_mode="reflect"),
        f.Conv2d(8, 6, 1), f.ReLU(), f.MaxPool2d(2), f.Conv2d(6, 6, 3, dilation=2, groups=3))
    run_twins(spec, (2, 4, 10, 10), np.float32)
    run_twins(spec, (2, 4, 10, 10), np.float64)


def test_an_encoder_decoder_with_transposed_convolutions_matches_torch():
    spec = lambda f: f.Sequential(  # noqa: E731
        f.Conv1d(3, 4, 3, stride=2, padding=1), f.Tanh(),
        f.ConvTranspose1d(4, 3, 3, stride=2, padding=1, output_padding=1))
    run_twins(spec, (2, 3, 8))


@pytest.mark.parametrize("rank", [1, 2])
@given(data=st.data())
def test_conv_transpose_output_size_picks_torchs_output_padding(rank, data):
    stride, kernel = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    sizes = tuple(data.draw(st.integers(2, 4)) for _ in range(rank))
    padding = data.draw(st.integers(0, min(1, ((min(sizes) - 1) * stride + kernel - 1) // 2)))
    smallest = [(n - 1) * stride - 2 * padding + kernel for n in sizes]
    wanted = [n + data.draw(st.integers(0, stride - 1)) for n in smallest]
    batched = data.draw(st.booleans())
    shape = ((2,) if batched else ()) + (3,) + sizes
    output_size = data.draw(st.sampled_from([wanted, list(shape[:-rank]) + wanted]))
    spec = lambda f: getattr(f, f"ConvTranspose{rank}d")(3, 2, kernel, stride, padding)  # noqa
    run_twins(spec, shape, forward=lambda layer, x: layer(x, output_size=output_size))


# ----- reprs, parameters, initialisation ------------------------------------------------

SPECS = {
    "Conv2d dilated grouped": lambda f: f.Conv2d(4, 8, 3, dilation=2, groups=2),
    "Conv2d same reflect": lambda f: f.Conv2d(4, 8, 3, padding="same", bias=False,
                                              padding_mode="reflect"),
    "Conv2d valid": lambda f: f.Conv2d(4, 8, (3, 2), padding="valid", stride=(1, 1)),
    "Conv2d default": lambda f: f.Conv2d(3, 5, 3, stride=2, padding=1),
    "Conv2d depthwise": lambda f: f.Conv2d(6, 12, 5, groups=6, padding=(2, 1)),
    "Conv1d circular": lambda f: f.Conv1d(4, 8, 3, padding=1, dilation=2, groups=4,
                                          padding_mode="circular"),
    "Conv1d default": lambda f: f.Conv1d(2, 3, 4),
    "ConvTranspose2d": lambda f: f.ConvTranspose2d(4, 8, 3, stride=2, padding=1,
                                                   output_padding=1, groups=2, dilation=2),
    "ConvTranspose2d rect": lambda f: f.ConvTranspose2d(3, 4, (2, 3), bias=False),
    "ConvTranspose1d": lambda f: f.ConvTranspose1d(4, 6, 3, groups=2),
}


@pytest.mark.parametrize("name", SPECS)
def test_repr_parameters_and_attributes_are_torchs(name):
    ours, theirs = SPECS[name](nn), SPECS[name](torch.nn)
    assert repr(ours) == repr(theirs)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    for attribute in ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                      "dilation", "transposed", "output_padding", "groups", "padding_mode"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    copy_torch_into_ours(theirs, ours)  # state_dict names and shapes agree


@pytest.mark.parametrize("name", SPECS)
def test_default_initialisation_is_kaiming_uniform_with_torchs_fan_in(name):
    """kaiming_uniform_(a=sqrt(5)) and the bias both draw from U(-1/sqrt(fan_in), ...), the
    fan-in from dim 1 of the weight (in / groups; out / groups when transposed)."""
    mt.manual_seed(0)
    ours, theirs = SPECS[name](nn), SPECS[name](torch.nn)
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(theirs.weight)
    bound = 1 / math.sqrt(fan_in)
    for parameter in (ours.weight, ours.bias):
        if parameter is not None:
            values = np.abs(parameter.data)
            assert values.max() <= bound
            if values.size >= 20:
                assert values.max() > 0.7 * bound and values.mean() > 0.3 * bound


# ----- the kernels' path for the default arguments --------------------------------------

KERNEL_ARGUMENTS = [  # (arguments, the same as the kernels' path has always taken them)
    ({}, {}), ({"padding": 1, "stride": 2}, {"padding": 1, "stride": 2}),
    ({"dilation": 1, "groups": 1}, {}), ({"dilation": (1, 1)}, {}),
    ({"padding": "valid"}, {}), ({"padding": "same"}, {"padding": 1}),
    ({"stride": (2,), "padding": [1]}, {"stride": 2, "padding": 1})]


@pytest.mark.parametrize("kwargs, plain", KERNEL_ARGUMENTS, ids=str)
def test_default_arguments_still_run_the_kernels_conv2d(kwargs, plain):
    x = mt.randn(2, 3, 8, 8, requires_grad=True)
    w = mt.randn(4, 3, 3, 3, requires_grad=True)
    with mt.backends.flags(fuse_conv_relu_pool=False):
        assert F.conv2d(x, w, **kwargs).grad_fn.function is conv_pool.Conv2d
        assert nn.Conv2d(3, 4, 3, **kwargs)(x).grad_fn.function is conv_pool.Conv2d
    # deferred (to fuse with a ReLU and pool) where the plain call is; reading a deferred
    # output unfused stops deferring for that weight, so each call has its own
    out = F.conv2d(x, w * 1, **kwargs)
    assert type(out) is type(F.conv2d(x, w * 1, **plain))
    assert out.grad_fn.function is conv_pool.Conv2d
    assert type(F.conv2d(x, w * 1, padding="same")) is fusion._Deferred


def test_a_layer_with_same_padding_still_fuses_with_relu_and_pool():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2))
    out = model(mt.randn(2, 3, 8, 8, requires_grad=True))
    assert out.grad_fn.function is conv_pool.Conv2dReluPool


@pytest.mark.parametrize("kwargs", [{"groups": 3}, {"dilation": 2}, {"padding": "same"},
                                    {"dilation": (1, 2)}], ids=str)
def test_other_arguments_run_the_numpy_convolution(kwargs):
    x, w = mt.randn(1, 3, 8, 8, requires_grad=True), mt.randn(3, 1 if "groups" in kwargs
                                                              else 3, 2, 3)
    assert F.conv2d(x, w, **kwargs).grad_fn.function is conv_general.Convolution


def test_conv1d_with_the_kernels_arguments_runs_them_at_height_1():
    x, w = mt.randn(2, 3, 9, requires_grad=True), mt.randn(4, 3, 3)
    out = F.conv1d(x, w, stride=2, padding=1)
    assert out.grad_fn.parents[0].function is conv_pool.Conv2d
    assert F.conv1d(x, w, dilation=2).grad_fn.function is conv_general.Convolution


# ----- errors ------------------------------------------------------------------------------

def _functional(f):
    return F if f is mt else torch.nn.functional


BAD_CALLS = {  # name -> call(framework); torch raises too, and ours names the op
    "groups 0": lambda f: _functional(f).conv2d(f.ones(1, 4, 5, 5), f.ones(8, 2, 3, 3),
                                                groups=0),
    "groups float": lambda f: _functional(f).conv2d(f.ones(1, 4, 5, 5), f.ones(8, 2, 3, 3),
                                                    groups=2.0),
    "out channels not a multiple of groups": lambda f: _functional(f).conv2d(
        f.ones(1, 6, 5, 5), f.ones(4, 2, 3, 3), groups=3),
    "input channels vs groups": lambda f: _functional(f).conv2d(
        f.ones(1, 3, 5, 5), f.ones(4, 2, 3, 3), groups=2),
    "bias size with groups": lambda f: _functional(f).conv2d(
        f.ones(1, 4, 5, 5), f.ones(8, 2, 3, 3), f.ones(4), groups=2),
    "dilation 0": lambda f: _functional(f).conv2d(f.ones(1, 4, 5, 5), f.ones(8, 4, 3, 3),
                                                  dilation=0),
    "dilation of 3 dims": lambda f: _functional(f).conv2d(
        f.ones(1, 4, 5, 5), f.ones(8, 4, 3, 3), dilation=(1, 2, 3)),
    "dilation float": lambda f: _functional(f).conv2d(f.ones(1, 4, 5, 5), f.ones(8, 4, 3, 3),
                                                      dilation=1.5),
    "dilated kernel larger than input": lambda f: _functional(f).conv2d(
        f.ones(1, 4, 5, 5), f.ones(8, 4, 3, 3), dilation=3),
    "padding string": lambda f: _functional(f).conv2d(f.ones(1, 4, 5, 5), f.ones(8, 4, 3, 3),
                                                      padding="full"),
    "same and strided": lambda f: _functional(f).conv2d(
        f.ones(1, 4, 5, 5), f.ones(8, 4, 3, 3), stride=2, padding="same"),
    "conv1d 4-D input": lambda f: _functional(f).conv1d(f.ones(1, 4, 5, 5), f.ones(8, 4, 3)),
    "conv1d 4-D weight": lambda f: _functional(f).conv1d(f.ones(1, 4, 5), f.ones(8, 4, 3, 1)),
    "conv1d padding pair": lambda f: _functional(f).conv1d(f.ones(1, 4, 5), f.ones(8, 4, 3),
                                                           padding=(1, 2)),
    "conv1d dtypes": lambda f: _functional(f).conv1d(f.ones(1, 4, 5), f.ones(8, 4, 3),
                                                     f.ones(8, dtype=f.float64)),
    "conv1d groups": lambda f: _functional(f).conv1d(f.ones(1, 4, 5), f.ones(8, 4, 3),
                                                     groups=2),
    "transposed output_padding": lambda f: _functional(f).conv_transpose2d(
        f.ones(1, 4, 5, 5), f.ones(4, 3, 3, 3), output_padding=1),
    "transposed output_padding vs stride and dilation": lambda f: _functional(
        f).conv_transpose2d(f.ones(1, 4, 5, 5), f.ones(4, 3, 3, 3), stride=2, dilation=2,
                            output_padding=(1, 2)),
    "transposed groups": lambda f: _functional(f).conv_transpose2d(
        f.ones(1, 4, 5, 5), f.ones(4, 3, 3, 3), groups=3),
    "transposed channels": lambda f: _functional(f).conv_transpose2d(
        f.ones(1, 5, 5, 5), f.ones(4, 3, 3, 3)),
    "transposed bias": lambda f: _functional(f).conv_transpose2d(
        f.ones(1, 4, 2, 2), f.ones(4, 3, 3, 3), f.ones(4)),
    "transposed same": lambda f: _functional(f).conv_transpose2d(
        f.ones(1, 4, 5, 5), f.ones(4, 3, 3, 3), padding="same"),
    "transposed output too small": lambda f: _functional(f).conv_transpose2d(
        f.ones(1, 4, 2, 2), f.ones(4, 3, 3, 3), padding=2),
    "transposed dtypes": lambda f: _functional(f).conv_transpose1d(
        f.ones(1, 4, 5), f.ones(4, 3, 3, dtype=f.float64)),
    "transposed 1d of 2-d weight": lambda f: _functional(f).conv_transpose1d(
        f.ones(1, 4, 5), f.ones(4, 3, 3, 3)),
}
MODULE_ERRORS = {
    "groups 0": lambda n: n.Conv2d(4, 8, 3, groups=0),
    "in_channels % groups": lambda n: n.Conv2d(4, 8, 3, groups=3),
    "out_channels % groups": lambda n: n.Conv1d(4, 6, 3, groups=4),
    "padding string": lambda n: n.Conv2d(4, 8, 3, padding="full"),
    "same and strided": lambda n: n.Conv1d(4, 8, 3, padding="same", stride=2),
    "padding_mode": lambda n: n.Conv2d(4, 8, 3, padding_mode="mirror"),
    "transposed padding_mode": lambda n: n.ConvTranspose2d(4, 8, 3, padding_mode="reflect"),
    "transposed groups": lambda n: n.ConvTranspose1d(4, 6, 3, groups=4),
}
FORWARD_ERRORS = {  # raised by the layer's forward
    "reflect padding not below the size": lambda f: f.nn.Conv2d(
        1, 1, 7, padding=3, padding_mode="reflect")(f.ones(1, 1, 3, 3)),
    "circular padding wraps twice": lambda f: f.nn.Conv2d(
        1, 1, 9, padding=4, padding_mode="circular")(f.ones(1, 1, 3, 3)),
    "output_size out of range": lambda f: f.nn.ConvTranspose2d(4, 8, 3, stride=2)(
        f.ones(1, 4, 5, 5), output_size=[13, 12]),
    "output_size length": lambda f: f.nn.ConvTranspose2d(4, 8, 3, stride=2)(
        f.ones(1, 4, 5, 5), output_size=[12]),
    "weight channels": lambda f: f.nn.Conv1d(4, 8, 3, groups=2)(f.ones(1, 8, 5)),
}


def _raised(call, framework) -> Exception:
    try:
        call(framework)
    except Exception as error:  # noqa: BLE001 - the class is what we compare
        return error
    raise AssertionError(f"{framework.__name__} accepted the call")


@pytest.mark.parametrize("name", BAD_CALLS)
def test_bad_calls_raise_torchs_exception_class_naming_the_op(name):
    theirs, ours = _raised(BAD_CALLS[name], torch), _raised(BAD_CALLS[name], mt)
    assert isinstance(ours, type(theirs)), f"torch raises {theirs!r}; ours {ours!r}"
    assert str(ours).startswith(("conv1d:", "conv2d:", "conv_transpose1d:",
                                 "conv_transpose2d:")), str(ours)


@pytest.mark.parametrize("name", MODULE_ERRORS)
def test_bad_layer_arguments_raise_torchs_exception_class(name):
    theirs, ours = _raised(MODULE_ERRORS[name], torch.nn), _raised(MODULE_ERRORS[name], nn)
    assert isinstance(ours, type(theirs)), f"torch raises {theirs!r}; ours {ours!r}"
    assert str(ours).startswith("Conv"), str(ours)


@pytest.mark.parametrize("name", FORWARD_ERRORS)
def test_bad_layer_inputs_raise_torchs_exception_class(name):
    theirs, ours = _raised(FORWARD_ERRORS[name], torch), _raised(FORWARD_ERRORS[name], mt)
    assert isinstance(ours, type(theirs)), f"torch raises {theirs!r}; ours {ours!r}"


@pytest.mark.parametrize("call, error, pattern", [
    # torch accepts these; we refuse them by name rather than answer differently
    (lambda: F.conv2d(mt.ones(4, 5, 5), mt.ones(8, 2, 3, 3), groups=2), ValueError,
     r"conv2d: expected a 4-D input \(N, C, H, W\), got shape \(4, 5, 5\)"),
    (lambda: F.conv1d(mt.ones(1, 4, 5, dtype=mt.int64), mt.ones(8, 4, 3, dtype=mt.int64)),
     TypeError, r"conv1d: expected a floating-point input, got dtype int64"),
    (lambda: nn.ConvTranspose2d(4, 8, 3, padding="same"), ValueError,
     r"ConvTranspose2d: padding='same' is not supported"),
], ids=["conv2d unbatched", "integer conv1d", "transposed same"])
def test_what_torch_takes_and_we_do_not_is_refused_clearly(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


# ----- edge cases ------------------------------------------------------------------------

@pytest.mark.parametrize("op, weight_shape, kwargs", [
    ("conv2d", (8, 2, 3, 3), {"groups": 2, "dilation": 2}),
    ("conv1d", (8, 2, 3), {"groups": 2}),
    ("conv_transpose2d", (4, 3, 3, 3), {"stride": 2, "groups": 2}),
])
def test_an_empty_batch_gives_torchs_shapes_and_zero_gradients(op, weight_shape, kwargs):
    shape = (0, 4) + (7,) * (len(weight_shape) - 2)
    outputs = []
    for f, functional in ((mt, F), (torch, torch.nn.functional)):
        x = f.ones(*shape, requires_grad=True)
        w = f.ones(*weight_shape, requires_grad=True)
        out = getattr(functional, op)(x, w, **kwargs)
        out.sum().backward()
        outputs.append((tuple(out.shape), tuple(x.grad.shape), w.grad.numpy().copy()))
    (shape, x_grad, w_grad), (their_shape, their_x_grad, their_w_grad) = outputs
    assert (shape, x_grad) == (their_shape, their_x_grad)
    np.testing.assert_array_equal(w_grad, their_w_grad)


def test_float16_runs_in_float32_and_returns_float16_as_torch():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 4, 6, 6)), rng.standard_normal((4, 2, 3, 3))
    ours = F.conv2d(mt.tensor(x, dtype=mt.float16), mt.tensor(w, dtype=mt.float16), groups=2,
                    padding="same")
    theirs = torch.nn.functional.conv2d(torch.tensor(x, dtype=torch.float16),
                                        torch.tensor(w, dtype=torch.float16), groups=2,
                                        padding="same")
    assert ours.dtype == mt.float16
    np.testing.assert_allclose(ours.numpy().astype(np.float32),
                               theirs.numpy().astype(np.float32), rtol=1e-2, atol=1e-2)


def test_changing_the_input_in_place_before_backward_is_refused_as_torch():
    for f, functional in ((mt, F), (torch, torch.nn.functional)):
        x = f.ones(1, 4, 5, 5, requires_grad=True)
        w = f.ones(4, 2, 3, 3, requires_grad=True)
        h = x * 1
        out = functional.conv2d(h, w, groups=2)
        h.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_non_contiguous_input_and_weight_give_the_contiguous_result():
    rng = np.random.default_rng(0)
    x = mt.tensor(rng.standard_normal((4, 2, 7, 6))).permute(1, 0, 2, 3)  # (2, 4, 7, 6)
    weights = {"conv2d": mt.tensor(rng.standard_normal((2, 4, 2, 3))).transpose(0, 1),
               "conv_transpose2d": mt.tensor(rng.standard_normal((3, 4, 2, 2))).transpose(0, 1)}
    for op, w in weights.items():
        assert not x._data.flags.c_contiguous and not w._data.flags.c_contiguous
        dense = [mt.tensor(np.ascontiguousarray(t.numpy())) for t in (x, w)]
        np.testing.assert_array_equal(getattr(F, op)(x, w, groups=2, dilation=2).numpy(),
                                      getattr(F, op)(*dense, groups=2, dilation=2).numpy())
