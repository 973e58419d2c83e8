"""Op cases of the layer ops (see op_cases.py for what a Case is): general and adaptive
pooling, max unpooling, interpolate, layer_norm, group_norm, embedding and dropout2d. Pooling
inputs are distinct values 0.1 apart (no ties in a window, none flipped by a finite
difference); interpolation and unpooling are linear in their input; norms get rows of
several well-spread values."""
from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from op_cases import Case, _normal, distinct


def _image(data, min_side=1, max_side=6, allow_unbatched=True):
    """A 4-D (N, C, H, W) shape, or a 3-D (C, H, W) one."""
    shape = (data.draw(st.integers(1, 2), label="n"), data.draw(st.integers(1, 2), label="c"),
             data.draw(st.integers(min_side, max_side), label="h"),
             data.draw(st.integers(min_side, max_side), label="w"))
    if allow_unbatched and data.draw(st.booleans(), label="unbatched"):
        shape = shape[1:]
    return shape


def _output_length(size, kernel, stride, pad, dilation, ceil_mode):
    length = (size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)) \
        // stride + 1
    if ceil_mode and (length - 1) * stride >= size + pad:
        length -= 1
    return length


def _windows_hold_elements(size, kernel, stride, pad, dilation, ceil_mode) -> bool:
    """Whether every window has an input element (minitorch_pairs refuses the rest, as
    test_pooling_general checks)."""
    out = _output_length(size, kernel, stride, pad, dilation, ceil_mode)
    if out < 1:
        return False
    taps = (np.arange(out) * stride - pad)[:, None] + np.arange(kernel) * dilation
    return bool(np.all(((taps >= 0) & (taps < size)).any(axis=1)))


def draw_pool_options(data, dilation=True):
    """A sliding pooling's options (torch's every option but the indices) on distinct
    values."""
    kernel = data.draw(st.sampled_from([1, 2, 3, (2, 3), (3, 1)]), label="kernel")
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    options = {"kernel_size": kernel,
               "stride": data.draw(st.sampled_from([None, 1, 2, (1, 2), (3, 2)]), label="stride"),
               "padding": data.draw(st.sampled_from(
                   [0, (kh // 2, kw // 2), (0, kw // 2), (kh // 2, 0)]), label="padding"),
               "ceil_mode": data.draw(st.booleans(), label="ceil_mode")}
    if dilation:
        options["dilation"] = data.draw(st.sampled_from([1, 2, (1, 2), (2, 1)]),
                                        label="dilation")
    shape = _image(data)
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    stride = pair(options["stride"] or kernel)
    for axis in range(2):
        assume(_windows_hold_elements(shape[-2 + axis], (kh, kw)[axis], stride[axis],
                                      pair(options["padding"])[axis],
                                      pair(options.get("dilation", 1))[axis],
                                      options["ceil_mode"]))
    return [distinct(shape, data)], options


def draw_avg_pool_options(data):
    arrays, options = draw_pool_options(data, dilation=False)
    options["count_include_pad"] = data.draw(st.booleans(), label="count_include_pad")
    options["divisor_override"] = data.draw(st.sampled_from([None, 3]), label="divisor")
    return [_normal(data, arrays[0].shape)], options


def draw_adaptive(data, distinct_values=False):
    shape = _image(data)
    size = data.draw(st.sampled_from([1, 2, 3, (2, 4), (5, 1), (None, 2), (3, None)]),
                     label="output_size")
    x = distinct(shape, data) if distinct_values else _normal(data, shape)
    return [x], {"output_size": size}


def draw_unpool(data):
    """Values and the indices of a non-overlapping max_pool2d (unique positions)."""
    kernel = data.draw(st.sampled_from([1, 2, (2, 3)]), label="kernel")
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    shape = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)),
             data.draw(st.integers(kh, 5)), data.draw(st.integers(kw, 5)))
    source = mt.tensor(distinct(shape, data))
    pooled, indices = F.max_pool2d(source, kernel, return_indices=True)
    # the pooled input's own size (within one stride of the default, which is smaller where
    # the kernel does not divide it: the indices need it then)
    fits = shape[2] % kh == 0 and shape[3] % kw == 0
    output_size = shape[-2:] if not fits or data.draw(st.booleans(), label="size") else None
    return [_normal(data, pooled.shape)], {"indices": indices.numpy(), "kernel_size": kernel,
                                          "output_size": output_size}


def _unpool_ours(x, indices, **options):
    return F.max_unpool2d(x, mt.tensor(indices).to(x.device), **options)


def _unpool_theirs(torch, x, indices, **options):
    return torch.nn.functional.max_unpool2d(x, torch.tensor(indices), **options)


def draw_interpolate(modes, dims):
    """An input of 3, 4 or 5 dims (those `dims` allows), a mode and a size or scale_factor.
    Scales are passed only to 4-D inputs (torch's 3-D and 5-D nearest backwards round
    scale-given indices differently from their forwards: test_pooling_general)."""
    def draw(data):
        ndim = data.draw(st.sampled_from(dims), label="ndim")
        mode = data.draw(st.sampled_from(modes[ndim]), label="mode")
        spatial = tuple(data.draw(st.integers(1, 4 if ndim == 5 else 5), label=f"in {i}")
                        for i in range(ndim - 2))
        shape = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))) + spatial
        kwargs = {"mode": mode}
        if ndim == 4 and data.draw(st.booleans(), label="by scale"):
            kwargs["scale_factor"] = data.draw(st.sampled_from(
                [2.0, 0.5, 1.5, (1.7, 0.8), (2.0, 3.0), 0.75]), label="scale_factor")
            assume(all(int(n * s) >= 1 for n, s in zip(spatial, np.broadcast_to(
                kwargs["scale_factor"], 2))))
        else:
            kwargs["size"] = tuple(data.draw(st.integers(1, 7), label=f"out {i}")
                                   for i in range(ndim - 2))
        if mode in ("linear", "bilinear", "trilinear"):
            kwargs["align_corners"] = data.draw(st.sampled_from([None, False, True]),
                                                label="align_corners")
        return [_normal(data, shape)], kwargs
    return draw


NEAREST = {3: ["nearest", "nearest-exact"], 4: ["nearest", "nearest-exact"],
           5: ["nearest", "nearest-exact"]}
LINEAR = {3: ["linear"], 4: ["bilinear"], 5: ["trilinear"]}
AREA = {3: ["area"], 4: ["area"]}


def draw_layer_norm(data):
    shape = tuple(data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3), label="lead"))
    normalized = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=2),
                                 label="normalized"))
    assume(int(np.prod(normalized)) >= 3)
    arrays = [_normal(data, shape + normalized) * 2 + 1]
    affine = data.draw(st.sampled_from(["none", "weight", "bias", "both"]), label="affine")
    if affine in ("weight", "both"):
        arrays.append(_normal(data, normalized))
    if affine in ("bias", "both"):
        arrays.append(_normal(data, normalized))
    return arrays, {"normalized_shape": normalized, "affine": affine,
                    "eps": data.draw(st.sampled_from([1e-5, 0.1]), label="eps")}


def _layer_norm(norm_fn):
    def call(x, *params, normalized_shape, affine, eps):
        weight = params[0] if affine in ("weight", "both") else None
        bias = params[-1] if affine in ("bias", "both") else None
        return norm_fn(x, list(normalized_shape), weight, bias, eps)
    return call


def draw_group_norm(data):
    groups = data.draw(st.integers(1, 3), label="groups")
    channels = groups * data.draw(st.integers(1, 2), label="per group")
    spatial = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2), label="spatial"))
    assume(channels // groups * int(np.prod(spatial)) >= 3)
    shape = (data.draw(st.integers(1, 2), label="n"), channels) + spatial
    arrays = [_normal(data, shape) * 2 + 1]
    affine = data.draw(st.sampled_from(["none", "weight", "bias", "both"]), label="affine")
    if affine in ("weight", "both"):
        arrays.append(_normal(data, (channels,)))
    if affine in ("bias", "both"):
        arrays.append(_normal(data, (channels,)))
    return arrays, {"num_groups": groups, "affine": affine}


def _group_norm(norm_fn):
    def call(x, *params, num_groups, affine):
        weight = params[0] if affine in ("weight", "both") else None
        bias = params[-1] if affine in ("bias", "both") else None
        return norm_fn(x, num_groups, weight, bias)
    return call


def draw_embedding(data):
    """Indices (repeats included) of rows other than padding_idx's: that row is used but
    gets no gradient by design, which finite differences cannot check; nor can they check
    scale_grad_by_freq's scaled gradient (test_norm_layers checks both against torch)."""
    rows, dim = data.draw(st.integers(2, 5), label="rows"), data.draw(st.integers(1, 3))
    index_shape = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2), label="indices"))
    seed = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="index seed"))
    padding_idx = data.draw(st.sampled_from([None, 0, -1]), label="padding_idx")
    low, high = (1, rows) if padding_idx == 0 else (0, rows - 1) if padding_idx == -1 else \
        (0, rows)
    return [_normal(data, (rows, dim))], {
        "indices": seed.integers(low, high, index_shape), "padding_idx": padding_idx}


def _embedding_ours(weight, indices, **options):
    return F.embedding(mt.tensor(indices).to(weight.device), weight, **options)


def _embedding_theirs(torch, weight, indices, **options):
    return torch.nn.functional.embedding(torch.tensor(indices), weight, **options)


def draw_dropout2d(data):
    shape = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)),
             data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    return [_normal(data, shape)], {"p": data.draw(st.sampled_from([0.0, 0.3, 0.5, 1.0])),
                                    "seed": data.draw(st.integers(0, 1000))}


def _dropout2d_ours(x, p, seed):
    mt.manual_seed(seed)  # the same mask in every finite-difference evaluation
    return F.dropout2d(x, p)


def _dropout2d_theirs(torch, x, p, seed):
    mt.manual_seed(seed)  # our mask (dropout2d of ones), applied the torch way
    mask = F.dropout2d(mt.ones(*x.shape, dtype=mt.float64), p).numpy()
    return x * torch.tensor(mask, dtype=x.dtype)


def _functional(name):
    """torch's F.<name>(x, **kwargs), for the `theirs` side."""
    return lambda torch, x, **k: getattr(torch.nn.functional, name)(x, **k)


CASES = [
    Case("max_pool2d options", draw_pool_options, F.max_pool2d, _functional("max_pool2d")),
    Case("max_pool2d return_indices", draw_pool_options,
         lambda x, **k: F.max_pool2d(x, return_indices=True, **k)[0],
         lambda torch, x, **k: torch.nn.functional.max_pool2d(x, return_indices=True, **k)[0]),
    Case("avg_pool2d options", draw_avg_pool_options, F.avg_pool2d, _functional("avg_pool2d")),
    Case("adaptive_avg_pool2d", draw_adaptive, F.adaptive_avg_pool2d,
         _functional("adaptive_avg_pool2d")),
    Case("adaptive_max_pool2d", lambda d: draw_adaptive(d, distinct_values=True),
         lambda x, **k: F.adaptive_max_pool2d(x, return_indices=True, **k)[0],
         lambda torch, x, **k: torch.nn.functional.adaptive_max_pool2d(
             x, return_indices=True, **k)[0]),
    Case("max_unpool2d", draw_unpool, _unpool_ours, _unpool_theirs),
    Case("interpolate nearest", draw_interpolate(NEAREST, (3, 4, 5)), F.interpolate,
         _functional("interpolate")),
    Case("interpolate linear", draw_interpolate(LINEAR, (3, 4, 5)), F.interpolate,
         _functional("interpolate")),
    Case("interpolate area", draw_interpolate(AREA, (3, 4)), F.interpolate,
         _functional("interpolate")),
    Case("layer_norm", draw_layer_norm, _layer_norm(F.layer_norm),
         lambda torch, *a, **k: _layer_norm(torch.nn.functional.layer_norm)(*a, **k),
         rtol32=1e-4),
    Case("group_norm", draw_group_norm, _group_norm(F.group_norm),
         lambda torch, *a, **k: _group_norm(torch.nn.functional.group_norm)(*a, **k),
         rtol32=1e-4),
    Case("embedding", draw_embedding, _embedding_ours, _embedding_theirs),
    Case("dropout2d", draw_dropout2d, _dropout2d_ours, _dropout2d_theirs),
]
