"""Pooling with torch's every option, adaptive pooling, max unpooling and interpolate, against
torch itself: values, indices and gradients on ties, NaNs and infinities; which path a call
takes (the fast kernels and the conv+ReLU+pool fusion keep the default calls); errors of
torch's classes; the pooling and resampling modules' outputs, gradients and reprs. (Finite
differences, float32 parity and the device run are tests/op_cases_layers.py's.)"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import minitorch_pairs as mt
import minitorch_pairs.nn as nn
import minitorch_pairs.nn.functional as F
from minitorch_pairs.ops import conv_pool, pooling_general
from torch_reference import torch

TF = torch.nn.functional
SPECIAL = [-0.0, 0.0, 1.0, -1.0, 2.0, np.nan, np.inf, -np.inf]


def both(ours, theirs, *arrays, upstream_seed=0):
    """(our outputs, torch's outputs, our input grads, torch's input grads) of ours(*tensors)
    and theirs(*tensors) (each may return a tuple; the first entry is differentiated)."""
    mine = [mt.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    reference = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out, expected = ours(*mine), theirs(*reference)
    out = out if isinstance(out, tuple) else (out,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    upstream = np.random.default_rng(upstream_seed).standard_normal(expected[0].shape)
    upstream = upstream.astype(arrays[0].dtype)
    if expected[0].requires_grad:
        out[0].backward(mt.tensor(upstream))
        expected[0].backward(torch.tensor(upstream))
    return ([o.detach().numpy() for o in out], [e.detach().numpy() for e in expected],
            [t.grad.numpy() if t.grad is not None else None for t in mine],
            [t.grad.numpy() if t.grad is not None else None for t in reference])


def assert_same(results, exact=True, rtol=1e-12):
    outs, expected, grads, expected_grads = results
    for o, e in zip(outs, expected):
        assert o.shape == e.shape and o.dtype == e.dtype, (o.shape, e.shape, o.dtype, e.dtype)
        if exact:
            np.testing.assert_array_equal(o, e)
            np.testing.assert_array_equal(np.signbit(o), np.signbit(e))
        else:
            np.testing.assert_allclose(o, e, rtol=rtol, atol=rtol)
    for g, e in zip(grads, expected_grads):
        assert (g is None) == (e is None)
        if e is not None:
            np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol)


@st.composite
def pool_geometry(draw, dilation=True):
    """Sliding-window options torch accepts whose every window holds an input element."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    ceil_mode = draw(st.booleans())
    size = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    for n, k, s, p, d in zip(size, kernel, stride, padding, dil):
        out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= n + p:
            out -= 1
        assume(out >= 1)
        taps = (np.arange(out) * s - p)[:, None] + np.arange(k) * d
        assume(np.all(((taps >= 0) & (taps < n)).any(axis=1)))
    return dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dil,
                ceil_mode=ceil_mode), size


# ----- max pooling: every option, against torch ----------------------------------------------

@settings(max_examples=60)
@given(pool_geometry(), st.sampled_from([np.float32, np.float64]), st.booleans(),
       st.integers(0, 2 ** 16))
def test_max_pool2d_values_indices_and_gradients_match_torch_on_ties_nans_and_infinities(
        geometry, dtype, unbatched, seed):
    options, size = geometry
    shape = ((3,) if unbatched else (2, 3)) + size
    x = np.random.default_rng(seed).choice(np.array(SPECIAL, dtype), size=shape)
    assert_same(both(lambda t: F.max_pool2d(t, **options, return_indices=True),
                     lambda t: TF.max_pool2d(t, **options, return_indices=True), x))


@settings(max_examples=40)
@given(pool_geometry(dilation=False), st.booleans(), st.sampled_from([None, 1, 2, 5]),
       st.booleans(), st.integers(0, 2 ** 16))
def test_avg_pool2d_with_every_option_matches_torch(geometry, count_include_pad, divisor,
                                                    unbatched, seed):
    options, size = geometry
    del options["dilation"]
    shape = ((2,) if unbatched else (2, 2)) + size
    x = np.random.default_rng(seed).standard_normal(shape)
    assert_same(both(lambda t: F.avg_pool2d(t, **options, count_include_pad=count_include_pad,
                                            divisor_override=divisor),
                     lambda t: TF.avg_pool2d(t, **options, count_include_pad=count_include_pad,
                                             divisor_override=divisor), x), exact=False)


@settings(max_examples=40)
@given(st.integers(1, 7), st.integers(1, 7), st.sampled_from([1, 2, 3, 5, 8, None]),
       st.sampled_from([1, 2, 4, 7, None]), st.booleans(), st.integers(0, 2 ** 16))
def test_adaptive_pooling_matches_torch_windows_indices_and_gradients(h, w, out_h, out_w,
                                                                      unbatched, seed):
    output_size = (out_h, out_w) if out_h != out_w or out_h is None else out_h
    shape = ((2,) if unbatched else (2, 2)) + (h, w)
    rng = np.random.default_rng(seed)
    assert_same(both(lambda t: F.adaptive_avg_pool2d(t, output_size),
                     lambda t: TF.adaptive_avg_pool2d(t, output_size),
                     rng.standard_normal(shape)), exact=False)
    special = rng.choice(np.array(SPECIAL), size=shape)
    for indices in (True, False):  # (without indices, tiling windows take the fast kernels)
        assert_same(both(lambda t: F.adaptive_max_pool2d(t, output_size, indices),
                         lambda t: TF.adaptive_max_pool2d(t, output_size, indices), special))


def test_adaptive_output_size_may_keep_an_input_size_with_none_or_be_zero():
    x = np.arange(2 * 5 * 7, dtype=np.float64).reshape(1, 2, 5, 7)
    for size in [(None, 3), (2, None), (0, 3)]:
        ours = F.adaptive_avg_pool2d(mt.tensor(x), size).numpy()
        np.testing.assert_allclose(ours, TF.adaptive_avg_pool2d(torch.tensor(x), size).numpy())


# ----- which path a call takes ---------------------------------------------------------------

def _node(t):
    return t.grad_fn.function


def test_default_options_keep_the_fast_kernels_and_the_fusion():
    x = mt.randn(2, 3, 6, 6, requires_grad=True)
    assert _node(F.max_pool2d(x, 2)) is conv_pool.MaxPool2d
    assert _node(F.max_pool2d(x, 2, 2, 0, 1, False, False)) is conv_pool.MaxPool2d
    assert _node(F.max_pool2d(x, 2, dilation=(1, 1))) is conv_pool.MaxPool2d
    assert _node(F.max_pool2d(x, 2, ceil_mode=True)) is conv_pool.MaxPool2d  # nothing changes
    assert _node(F.avg_pool2d(x, 3, 1, 1, False, True, None)) is conv_pool.AvgPool2d
    assert _node(F.max_pool2d(x[0], 2)) is not pooling_general.TakeFromPlanes  # 3-D: fast too
    assert _node(F.max_pool2d(x, 4, ceil_mode=True)) is pooling_general.TakeFromPlanes
    assert _node(F.avg_pool2d(x, 2, count_include_pad=False)) is \
        pooling_general.AverageOverWindows
    w = mt.randn(4, 3, 3, 3, requires_grad=True)
    fused = F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2, None, 0, 1, False, False)
    assert _node(fused) is conv_pool.Conv2dReluPool
    unfused = F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2, return_indices=True)
    assert isinstance(unfused, tuple) and _node(unfused[0]) is pooling_general.TakeFromPlanes


def test_windows_of_padding_only_are_refused_by_name():
    """Dilation and padding can make a window hold only padding; torch returns -inf with an
    index outside the window there, which we do not reproduce."""
    with pytest.raises(NotImplementedError, match="max_pool2d: .*hold only padding"):
        F.max_pool2d(mt.randn(1, 1, 5, 1), 2, (1, 2), 1, 2)
    TF.max_pool2d(torch.randn(1, 1, 5, 1), 2, (1, 2), 1, 2)  # (torch accepts it)


# ----- errors, as torch raises them ----------------------------------------------------------

X4 = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
BAD_CALLS = [
    ("kernel 0", lambda f, x: f.max_pool2d(x, 0, dilation=2)),
    ("stride 0", lambda f, x: f.max_pool2d(x, 2, 0, ceil_mode=True)),
    ("negative padding", lambda f, x: f.max_pool2d(x, 2, 1, -1, ceil_mode=True)),
    ("padding over half", lambda f, x: f.max_pool2d(x, 3, 1, 2, dilation=2)),
    ("output too small", lambda f, x: f.max_pool2d(x, 6, return_indices=True)),
    ("three kernel sizes", lambda f, x: f.max_pool2d(x, (2, 2, 2), return_indices=True)),
    ("float kernel", lambda f, x: f.max_pool2d(x, 2.0, dilation=2)),
    ("dilation 0", lambda f, x: f.max_pool2d(x, 2, dilation=0)),
    ("2-D input", lambda f, x: f.max_pool2d(x[0, 0], 2, ceil_mode=True)),
    ("divisor 0", lambda f, x: f.avg_pool2d(x, 2, divisor_override=0)),
    ("avg output too small", lambda f, x: f.avg_pool2d(x, 6, count_include_pad=False)),
    ("adaptive size of 3", lambda f, x: f.adaptive_avg_pool2d(x, (3, 3, 3))),
    ("adaptive negative size", lambda f, x: f.adaptive_max_pool2d(x, -1)),
    ("adaptive 2-D input", lambda f, x: f.adaptive_avg_pool2d(x[0, 0], 2)),
    ("adaptive empty channels", lambda f, x: f.adaptive_max_pool2d(x[:, :0], 2)),
]


@pytest.mark.parametrize("name, call", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_pooling_calls_raise_torchs_error_class(name, call):
    with pytest.raises(Exception) as theirs:
        call(TF, torch.tensor(X4))
    with pytest.raises(theirs.type):
        call(F, mt.tensor(X4))


def test_max_unpool2d_inverts_max_pool2d_as_torch_and_checks_its_arguments():
    rng = np.random.default_rng(3)
    for shape, sizes in [((2, 2, 4, 6), [None, (5, 7)]), ((2, 2, 5, 7), [(5, 7), (1, 1, 5, 7)])]:
        x = rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)
        pooled, indices = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
        values = rng.standard_normal(pooled.shape)
        for size in sizes:
            assert_same(both(lambda v, i: F.max_unpool2d(v, i, 2, output_size=size),
                             lambda v, i: TF.max_unpool2d(v, i, 2, output_size=size),
                             values, indices.numpy()))
    assert_same(both(lambda v, i: F.max_unpool2d(v, i, 2, output_size=(5, 7)),
                     lambda v, i: TF.max_unpool2d(v, i, 2, output_size=(5, 7)),
                     values[0], indices.numpy()[0]))  # unbatched
    bad = [lambda f, v, i: f.max_unpool2d(v, i * 10, 2),
           lambda f, v, i: f.max_unpool2d(v, i.int(), 2),
           lambda f, v, i: f.max_unpool2d(v, i[..., :1], 2),
           lambda f, v, i: f.max_unpool2d(v, i, 2, output_size=(9, 9))]
    for call in bad:
        with pytest.raises(Exception) as theirs:
            call(TF, torch.tensor(values), indices)
        with pytest.raises(theirs.type):
            call(F, mt.tensor(values), mt.tensor(indices.numpy()))


# ----- interpolate ---------------------------------------------------------------------------

MODES = {3: ["nearest", "nearest-exact", "linear", "area"],
         4: ["nearest", "nearest-exact", "bilinear", "area"],
         5: ["nearest", "nearest-exact", "trilinear"]}


@st.composite
def interpolation(draw):
    ndim = draw(st.sampled_from([3, 4, 5]))
    mode = draw(st.sampled_from(MODES[ndim]))
    spatial = tuple(draw(st.integers(1, 6)) for _ in range(ndim - 2))
    kwargs = {"mode": mode}
    if draw(st.booleans()):
        kwargs["size"] = tuple(draw(st.integers(1, 13)) for _ in spatial) \
            if draw(st.booleans()) else draw(st.integers(1, 13))
    else:
        scale = st.sampled_from([0.5, 2.0, 1.5, 3.0, 0.37, 1 / 3, 2.7]) | \
            st.floats(0.3, 3.5)
        kwargs["scale_factor"] = tuple(draw(scale) for _ in spatial) \
            if draw(st.booleans()) else draw(scale)
        kwargs["recompute_scale_factor"] = draw(st.sampled_from([None, False, True]))
        factors = np.broadcast_to(kwargs["scale_factor"], len(spatial))
        assume(all(int(n * s) >= 1 for n, s in zip(spatial, factors)))
    if mode in ("linear", "bilinear", "trilinear"):
        kwargs["align_corners"] = draw(st.sampled_from([None, False, True]))
    return (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + spatial, kwargs


def _torch_backward_is_its_forwards(shape, kwargs) -> bool:
    """Whether torch's nearest backward routes gradients where its forward read: not for 3-D
    and 5-D inputs given a scale_factor whose output size equals or doubles an input size
    (the backward then copies or repeats as the 4-D forward does, the forward does not), nor
    for 5-D inputs given per-axis scales (its backward mixes the axes' scales up)."""
    if kwargs["mode"] != "nearest" or len(shape) == 4 or "scale_factor" not in kwargs or \
            kwargs.get("recompute_scale_factor"):
        return True
    factors = np.broadcast_to(kwargs["scale_factor"], len(shape) - 2)
    if len(shape) == 5 and len(set(factors.tolist())) > 1:
        return False
    return not any(int(n * s) in (n, 2 * n) for n, s in zip(shape[2:], factors))


@settings(max_examples=150)
@given(interpolation(), st.sampled_from([np.float32, np.float64]), st.integers(0, 2 ** 16))
def test_interpolate_matches_torch(case, dtype, seed):
    shape, kwargs = case
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    results = both(lambda t: F.interpolate(t, **kwargs), lambda t: TF.interpolate(t, **kwargs), x)
    if kwargs["mode"].startswith("nearest"):
        np.testing.assert_array_equal(results[0][0], results[1][0])  # the same picks
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    if not _torch_backward_is_its_forwards(shape, kwargs):
        results = results[:3] + ([_gradient_of_picks(x, kwargs, seed=0)],)
    assert_same(results, exact=False, rtol=rtol)


def _gradient_of_picks(x, kwargs, seed):
    """The input gradient of torch's nearest forward (as a gather of the positions it picks)
    under the upstream gradient both() uses."""
    positions = torch.arange(x.size, dtype=torch.float64).reshape(x.shape)
    picked = TF.interpolate(positions, **kwargs).long().reshape(-1)
    upstream = np.random.default_rng(seed).standard_normal(tuple(picked.shape)).astype(x.dtype)
    grad = np.zeros(x.size, x.dtype)
    np.add.at(grad, picked.numpy(), upstream)
    return grad.reshape(x.shape)


def test_torchs_nearest_backward_differs_from_its_forward_where_we_follow_the_forward():
    """The cases _torch_backward_is_its_forwards names: torch's gradient is not that of its
    own output there; ours is (test_interpolate_matches_torch checks it against the picks)."""
    x = torch.randn(1, 1, 4, dtype=torch.float64, requires_grad=True)
    y = TF.interpolate(x, scale_factor=1.1, mode="nearest")  # 4 -> 4, but shifted
    y.backward(torch.ones_like(y))
    np.testing.assert_array_equal(x.grad.numpy().reshape(-1), [1, 1, 1, 1])  # a copy's
    assert y.detach().numpy()[0, 0, 1] == x.detach().numpy()[0, 0, 0]  # but it shifted
    ours = mt.tensor(x.detach().numpy(), requires_grad=True)
    out = F.interpolate(ours, scale_factor=1.1, mode="nearest")
    np.testing.assert_array_equal(out.detach().numpy(), y.detach().numpy())
    out.backward(mt.ones(*out.shape, dtype=mt.float64))
    np.testing.assert_array_equal(ours.grad.numpy().reshape(-1), [2, 1, 1, 0])


def test_interpolate_of_uint8_images_and_the_same_size():
    x = np.random.default_rng(0).integers(0, 256, (1, 3, 4, 5)).astype(np.uint8)
    for mode in ("nearest", "nearest-exact"):
        ours = F.interpolate(mt.tensor(x), scale_factor=1.5, mode=mode)
        assert ours.dtype == np.uint8
        np.testing.assert_array_equal(
            ours.numpy(), TF.interpolate(torch.tensor(x), scale_factor=1.5, mode=mode).numpy())
    same = mt.randn(1, 2, 3, 3)
    copy = F.interpolate(same, size=(3, 3))
    copy.add_(1)  # a new tensor, as torch's
    assert not np.array_equal(copy.numpy(), same.numpy())


INTERPOLATE_ERRORS = [
    ("size and scale", dict(size=3, scale_factor=2.0)),
    ("neither", dict()),
    ("size of wrong length", dict(size=(3,))),
    ("float size", dict(size=(3.0, 2))),
    ("zero size", dict(size=0)),
    ("tiny scale", dict(scale_factor=0.1)),
    ("scales of wrong length", dict(scale_factor=(2.0, 3.0, 4.0))),
    ("recompute with a size", dict(size=3, recompute_scale_factor=True)),
    ("align_corners with nearest", dict(size=3, align_corners=True)),
    ("antialias with nearest", dict(size=3, antialias=True)),
    ("unknown mode", dict(size=3, mode="foo")),
    ("linear on 4-D", dict(size=3, mode="linear")),
    ("trilinear on 4-D", dict(size=3, mode="trilinear")),
]


@pytest.mark.parametrize("name, kwargs", INTERPOLATE_ERRORS, ids=[c[0] for c in INTERPOLATE_ERRORS])
def test_interpolate_errors_have_torchs_class(name, kwargs):
    with pytest.raises(Exception) as theirs:
        TF.interpolate(torch.tensor(X4), **kwargs)
    with pytest.raises(theirs.type):
        F.interpolate(mt.tensor(X4), **kwargs)


def test_interpolate_refuses_the_modes_it_lacks_by_name():
    for kwargs in [dict(mode="bicubic"), dict(mode="bilinear", antialias=True)]:
        with pytest.raises(NotImplementedError, match="not implemented in minitorch_pairs"):
            F.interpolate(mt.tensor(X4), scale_factor=2, **kwargs)
    with pytest.raises(NotImplementedError, match="bilinear mode needs 4D input"):
        F.interpolate(mt.tensor(X4[0]), scale_factor=2, mode="bilinear")
    with pytest.raises(NotImplementedError, match="not implemented for dtype int64"):
        F.interpolate(mt.tensor(X4.astype(np.int64)), scale_factor=2)


# ----- modules -------------------------------------------------------------------------------

MODULES = [
    ("MaxPool2d", lambda f: f.MaxPool2d(3, 2, 1, dilation=(1, 2), ceil_mode=True)),
    ("MaxPool2d indices", lambda f: f.MaxPool2d(2, return_indices=True)),
    ("AvgPool2d", lambda f: f.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)),
    ("AvgPool2d divisor", lambda f: f.AvgPool2d((2, 3), divisor_override=4)),
    ("AdaptiveAvgPool2d", lambda f: f.AdaptiveAvgPool2d((None, 3))),
    ("AdaptiveMaxPool2d", lambda f: f.AdaptiveMaxPool2d(3, return_indices=True)),
    ("Upsample", lambda f: f.Upsample(scale_factor=2)),
    ("Upsample bilinear", lambda f: f.Upsample(size=(4, 9), mode="bilinear",
                                               align_corners=True)),
    ("Upsample scales", lambda f: f.Upsample(scale_factor=(1.5, 0.5), mode="nearest-exact")),
]


@pytest.mark.parametrize("name, build", MODULES, ids=[m[0] for m in MODULES])
def test_pooling_modules_match_torch_outputs_gradients_and_reprs(name, build):
    ours, theirs = build(nn), build(torch.nn)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(1).permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) * 0.1
    assert_same(both(ours, theirs, x), exact=False)
    if not name.startswith("Upsample"):  # (3-D is (N, C, L) to Upsample)
        assert_same(both(ours, theirs, x[0]), exact=False)  # unbatched


def test_max_unpool2d_module_repr_and_round_trip():
    ours, theirs = nn.MaxUnpool2d((2, 3), padding=0), torch.nn.MaxUnpool2d((2, 3), padding=0)
    assert repr(ours) == repr(theirs)
    x = torch.randn(1, 2, 4, 7, dtype=torch.float64)
    pooled, indices = torch.nn.MaxPool2d((2, 3), return_indices=True)(x)
    expected = theirs(pooled, indices, output_size=x.shape)
    out = ours(mt.tensor(pooled.numpy()), mt.tensor(indices.numpy()), output_size=x.shape)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
