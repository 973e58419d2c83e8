"""Op cases of ops/statistics and the extremum family of ops/reduction (see op_cases.py for
what a Case is). Ops whose gradient follows a selected element (max, sort, median, ...)
draw distinct values, spaced beyond the finite-difference step; products and scans are
polynomials, smooth at zero, so they draw exact zeros to check the gradient there."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

import minitorch_pairs as mt
from op_cases import Case, _normal, binary, dims, distinct

CPU_ONLY = ("cpu_only",)


def _values(data, shape, distinct_values):
    return distinct(shape, data) if distinct_values else _normal(data, shape)


def reduce_over(distinct_values=False, min_side=1, tuple_dims=True, required=False):
    """Inputs and {dim, keepdim}: dim an int, a tuple of distinct dims, or left out."""
    def draw(data):
        shape = data.draw(dims(1, 3, min_side=min_side), label="shape")
        kinds = ["int"] + (["tuple"] if tuple_dims else []) + ([] if required else ["none"])
        kind = data.draw(st.sampled_from(kinds), label="dim kind")
        kwargs = {}
        if kind == "int":
            kwargs["dim"] = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
        elif kind == "tuple":
            chosen = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1,
                                        max_size=len(shape), unique=True), label="dims")
            kwargs["dim"] = tuple(d - len(shape) if data.draw(st.booleans()) else d
                                  for d in chosen)
        if kind != "none":
            kwargs["keepdim"] = data.draw(st.booleans(), label="keepdim")
        return [_values(data, shape, distinct_values)], kwargs
    return draw


def along_a_dim(distinct_values=True, min_dims=1, keepdim=True):
    """Inputs and {dim[, keepdim]} for an op along one dim."""
    def draw(data):
        shape = data.draw(dims(min_dims, 3), label="shape")
        kwargs = {"dim": data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")}
        if keepdim:
            kwargs["keepdim"] = data.draw(st.booleans(), label="keepdim")
        return [_values(data, shape, distinct_values)], kwargs
    return draw


def draw_variance(data):
    """Every reduced dim has 3+ elements, so N - correction > 0 for the corrections drawn."""
    (x,), kwargs = reduce_over(min_side=3)(data)
    form = data.draw(st.sampled_from(["default", "correction", "unbiased"]), label="form")
    if form == "correction":
        kwargs["correction"] = data.draw(st.sampled_from([0, 1, 2, 0.5]), label="correction")
    elif form == "unbiased":
        kwargs["unbiased"] = data.draw(st.booleans(), label="unbiased")
    return [x], kwargs


def draw_optional_dim(data):
    """distinct values and an optional single dim (median, aminmax without/with dim)."""
    (x,), kwargs = reduce_over(distinct_values=True, tuple_dims=False)(data)
    return [x], kwargs


def draw_kthvalue(data):
    (x,), kwargs = along_a_dim()(data)
    kwargs["k"] = data.draw(st.integers(1, x.shape[kwargs["dim"]]), label="k")
    return [x], kwargs


def draw_sort(data):
    (x,), kwargs = along_a_dim(keepdim=False)(data)
    kwargs["descending"] = data.draw(st.booleans(), label="descending")
    return [x], kwargs


def draw_topk(data):
    (x,), kwargs = along_a_dim(keepdim=False)(data)
    kwargs["k"] = data.draw(st.integers(0, x.shape[kwargs["dim"]]), label="k")
    kwargs["largest"] = data.draw(st.booleans(), label="largest")
    return [x], kwargs


def _with_zeros(data, x):
    """Up to three elements set to exactly 0 (one zero and several zeros in a row)."""
    x = np.array(x)
    seed = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="zeros seed"))
    count = data.draw(st.integers(0, min(3, x.size)), label="zeros")
    x.reshape(-1)[seed.choice(x.size, count, replace=False)] = 0.0
    return x


def draw_prod(data):
    shape = data.draw(dims(1, 3), label="shape")
    kwargs = {}
    if data.draw(st.booleans(), label="has dim"):
        kwargs["dim"] = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
        kwargs["keepdim"] = data.draw(st.booleans(), label="keepdim")
    return [_with_zeros(data, _normal(data, shape) + 0.5)], kwargs


def draw_scan(zeros):
    def draw(data):
        (x,), kwargs = along_a_dim(distinct_values=False, keepdim=False)(data)
        return [_with_zeros(data, x) if zeros else x], kwargs
    return draw


def draw_logsumexp(data):
    (x,), kwargs = reduce_over(required=True)(data)
    offset = data.draw(st.sampled_from([0.0, 50.0, -50.0]), label="offset")
    return [x * 3 + offset], kwargs


NORM_ORDERS = [2, 1, math.inf, -math.inf, 0, 3, 1.5, 0.5, -1.0, "fro"]


def draw_norm(data):
    """Magnitudes distinct (inf norms pick one) and at least 0.3 (|a|^p for p < 1 is not
    smooth at 0), signs random."""
    p = data.draw(st.sampled_from(NORM_ORDERS), label="p")
    shape = data.draw(dims(1, 3), label="shape")
    magnitudes = distinct(shape, data)
    magnitudes = magnitudes - magnitudes.min() + 0.3
    signs = np.where(_normal(data, shape) < 0, -1.0, 1.0)
    kwargs = {"p": p}
    kind = data.draw(st.sampled_from(["none", "int", "pair" if len(shape) > 1 else "int"]),
                     label="dim kind")
    if kind == "int":
        kwargs["dim"] = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    elif kind == "pair":
        kwargs["dim"] = tuple(data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=2,
                                                 max_size=2, unique=True), label="dims"))
    if kind != "none" or data.draw(st.booleans(), label="keepdim without dim"):
        kwargs["keepdim"] = data.draw(st.booleans(), label="keepdim")
    return [magnitudes * signs], kwargs


def draw_with_nans(data):
    """About a third NaN, but no reduced row all NaN (its nanmean is NaN)."""
    (x,), kwargs = reduce_over()(data)
    seed = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="nan seed"))
    with_nans = np.where(seed.random(x.shape) < 0.3, np.nan, x)
    dim = kwargs.get("dim")
    axes = tuple(range(x.ndim)) if dim is None else dim
    all_nan = np.isnan(with_nans).all(axis=axes, keepdims=True)
    return [np.where(all_nan, x, with_nans)], kwargs


def _aminmax(r):
    return r.min * 2 + r.max  # each output weighted differently: both gradients checked


def _var_mean(pair):
    return pair[0] + pair[1] * 3


CASES = [
    Case("min", lambda d: reduce_over(distinct_values=True, tuple_dims=False)(d),
         lambda a, **k: a.min(**k)[0] if "dim" in k else a.min(),
         lambda t, a, **k: a.min(**k)[0] if "dim" in k else a.min()),
    Case("max binary", binary(), lambda a, b: mt.max(a, b), lambda t, a, b: t.max(a, b)),
    Case("min binary", binary(), lambda a, b: mt.min(a, b), lambda t, a, b: t.min(a, b)),
    Case("amax", reduce_over(distinct_values=True), lambda a, **k: a.amax(**k),
         lambda t, a, **k: a.amax(**k)),
    Case("amin", reduce_over(distinct_values=True), lambda a, **k: mt.amin(a, **k),
         lambda t, a, **k: t.amin(a, **k)),
    Case("aminmax", draw_optional_dim, lambda a, **k: _aminmax(a.aminmax(**k)),
         lambda t, a, **k: _aminmax(a.aminmax(**k))),
    Case("var", draw_variance, lambda a, **k: a.var(**k), lambda t, a, **k: a.var(**k)),
    Case("std", draw_variance, lambda a, **k: mt.std(a, **k), lambda t, a, **k: t.std(a, **k)),
    Case("var_mean", draw_variance, lambda a, **k: _var_mean(mt.var_mean(a, **k)),
         lambda t, a, **k: _var_mean(t.var_mean(a, **k))),
    Case("std_mean", draw_variance, lambda a, **k: _var_mean(mt.std_mean(a, **k)),
         lambda t, a, **k: _var_mean(t.std_mean(a, **k))),
    Case("median", draw_optional_dim,
         lambda a, **k: a.median(**k)[0] if "dim" in k else a.median(),
         lambda t, a, **k: a.median(**k)[0] if "dim" in k else a.median(), tags=CPU_ONLY),
    Case("kthvalue", draw_kthvalue, lambda a, **k: a.kthvalue(**k).values,
         lambda t, a, **k: a.kthvalue(**k).values, tags=CPU_ONLY),
    Case("mode", along_a_dim(), lambda a, **k: mt.mode(a, **k).values,
         lambda t, a, **k: t.mode(a, **k).values, tags=CPU_ONLY),
    Case("sort", draw_sort, lambda a, **k: a.sort(**k).values,
         lambda t, a, **k: a.sort(**k).values, tags=CPU_ONLY),
    Case("topk", draw_topk, lambda a, **k: mt.topk(a, **k).values,
         lambda t, a, **k: t.topk(a, **k).values, tags=CPU_ONLY),
    Case("prod", draw_prod, lambda a, **k: a.prod(**k), lambda t, a, **k: a.prod(**k),
         tags=CPU_ONLY),
    Case("cumsum", draw_scan(zeros=False), lambda a, **k: a.cumsum(**k),
         lambda t, a, **k: a.cumsum(**k), tags=CPU_ONLY),
    Case("cumprod", draw_scan(zeros=True), lambda a, **k: mt.cumprod(a, **k),
         lambda t, a, **k: t.cumprod(a, **k), tags=CPU_ONLY),
    Case("logsumexp", draw_logsumexp, lambda a, **k: a.logsumexp(**k),
         lambda t, a, **k: a.logsumexp(**k)),
    Case("norm", draw_norm, lambda a, **k: mt.norm(a, **k), lambda t, a, **k: t.norm(a, **k)),
    Case("nansum", draw_with_nans, lambda a, **k: a.nansum(**k),
         lambda t, a, **k: a.nansum(**k)),
    Case("nanmean", draw_with_nans, lambda a, **k: mt.nanmean(a, **k),
         lambda t, a, **k: t.nanmean(a, **k)),
]
