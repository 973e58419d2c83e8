"""torch.nn.functional.interpolate: nearest, nearest-exact, (bi/tri)linear and area resampling
of (N, C, d1[, d2[, d3]]) inputs, with torch's argument rules, errors and index formulas.

Nearest and linear resampling are separable: each spatial axis is resampled on its own,
the last one first (torch's bilinear kernel also blends along the width first, then along the
height), each output position reading one or two input positions with weights computed in
torch's precision (float32 for nearest; the input's for linear, float32 for float16). Area
mode is adaptive average pooling (pooling_general.py). Other modes are refused by name.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor
from . import pooling_general
from .pooling_general import _alongside

_LINEAR_DIMS = {"linear": 3, "bilinear": 4, "trilinear": 5}
_TORCH_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


class ResampleAxis(Function):
    """out[..., o, ...] = sum over taps t of weight_t[o] * x[..., index_t[o], ...] along
    `axis` (a tap without weights is a plain gather). Backward adds each output's gradient,
    weighted, back at the positions it read."""
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, axis, taps):
        before, after = int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis + 1:]))
        rows = backend.contiguous(x).reshape(before, x.shape[axis], after)
        taps = [(_alongside(index, x), None if weight is None else
                 _alongside(weight.astype(x.dtype)[:, None], x)) for index, weight in taps]
        out = None
        for index, weight in taps:
            picked = np.take(rows, index, axis=1) if isinstance(rows, np.ndarray) else \
                rows[:, index]
            term = picked if weight is None else picked * weight
            out = term if out is None else out + term
        ctx.taps, ctx.rows_shape, ctx.shape = taps, rows.shape, x.shape
        return out.reshape(x.shape[:axis] + (len(taps[0][0]),) + x.shape[axis + 1:])

    @staticmethod
    def backward(ctx, grad):
        before, _, after = ctx.rows_shape
        grad = backend.contiguous(grad).reshape(before, len(ctx.taps[0][0]), after)
        grad_x = backend.zeros(ctx.rows_shape, grad.dtype, like=grad)
        for index, weight in ctx.taps:
            _add_along(grad_x, index, grad if weight is None else grad * weight)
        return grad_x.reshape(ctx.shape)


def _add_along(target, index, values) -> None:
    """target[:, index[o], :] += values[:, o, :], repeated indices adding up. The taps'
    indices never decrease: on the host, the outputs that are the k-th of their run of equal
    indices have distinct indices, so each such set is added by one fancy-indexed add
    (much faster than np.add.at; as many sets as an index repeats at most)."""
    if not isinstance(target, np.ndarray):
        np.add.at(target, (slice(None), index), values)
        return
    new_run = np.concatenate([[True], index[1:] != index[:-1]])
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(len(index)), 0))
    rank = np.arange(len(index)) - run_start  # k: the k-th output of its run
    for k in range(int(rank.max(initial=-1)) + 1):
        outputs = np.flatnonzero(rank == k)
        target[:, index[outputs]] += np.take(values, outputs, axis=1)


# ----- source positions, as torch's CPU kernels compute them --------------------------------

def _inverse_scale(scale, in_size: int, out_size: int, dtype):
    """torch's compute_scales_value: 1 / scale_factor where one was given (> 0), else
    in_size / out_size, in `dtype`."""
    if scale is not None and scale > 0:
        return dtype(1.0 / scale)
    return dtype(in_size) / dtype(out_size)


def nearest_taps(in_size: int, out_size: int, scale, exact: bool, ndim: int, dtype) -> list:
    """One tap per output, clipped to the input: floor(o * s) ("nearest") or
    floor((o + 0.5) * s) ("nearest-exact"), s = 1 / scale_factor or in / out, rounded as
    torch's CPU kernels round it (measured against them): float32 throughout, except that
    nearest on 4-D inputs copies at equal sizes and repeats at doubled ones, and
    nearest-exact on float64 3-D and 5-D inputs takes s and the product in float64 before
    rounding to float32."""
    out = np.arange(out_size)
    if not exact and ndim == 4 and out_size == in_size:
        return [(out.astype(np.int64), None)]
    if not exact and ndim == 4 and out_size == 2 * in_size:
        return [((out >> 1).astype(np.int64), None)]
    if exact and dtype == np.float64 and ndim in (3, 5):
        s = _inverse_scale(scale, in_size, out_size, np.float64)
        source = np.floor(((out + 0.5) * s).astype(np.float32))
    else:
        s = _inverse_scale(scale, in_size, out_size, np.float32)
        source = np.floor((out.astype(np.float32) + np.float32(0.5 if exact else 0)) * s)
    return [(np.minimum(source.astype(np.int64), in_size - 1), None)]


def linear_taps(in_size: int, out_size: int, scale, align_corners: bool, dtype) -> list:
    """Two taps per output, as torch's linear kernels: the source position (o + 0.5) * s - 0.5
    (clamped at 0), or o * (in - 1) / (out - 1) with align_corners, its floor and the next
    position (the same at the last), weighted 1 - lambda and lambda. Equal sizes copy."""
    out = np.arange(out_size)
    if out_size == in_size:
        return [(out.astype(np.int64), None)]
    if align_corners:
        s = dtype(in_size - 1) / dtype(out_size - 1) if out_size > 1 else dtype(0)
        source = s * out.astype(dtype)
    else:
        s = _inverse_scale(scale, in_size, out_size, dtype)
        source = np.maximum(s * (out.astype(dtype) + dtype(0.5)) - dtype(0.5), dtype(0))
    first = np.minimum(np.floor(source).astype(np.int64), in_size - 1)
    lam = np.clip(source - first.astype(dtype), dtype(0), dtype(1)).astype(dtype)
    second = first + (first < in_size - 1)
    return [(first, (dtype(1) - lam).astype(dtype)), (second, lam)]


# ----- the public op ------------------------------------------------------------------------

def _spatial_sizes(x: Tensor, dim: int, size, scale_factor, recompute_scale_factor) -> tuple:
    """(output sizes or None, scale factors or None), validated by torch's rules."""
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    f"Input and output must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(x.shape[2:])} and output "
                    f"size of {size}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                    f"format and output size in (o1, o2, ...,oK) format.")
            if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                       for v in size):
                raise TypeError(f"expected size to be one of int or Tuple[int] or "
                                f"Tuple[int, int] or Tuple[int, int, int], but got size with "
                                f"types {[type(v) for v in size]}")
            output = [int(v) for v in size]
        else:
            output = [size for _ in range(dim)]
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        return output, None
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != dim:
            raise ValueError(
                f"Input and scale_factor must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {list(x.shape[2:])} and scale_factor "
                f"of shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, "
                f"...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
        scales = [float(v) for v in scale_factor]
    else:
        scales = [float(scale_factor) for _ in range(dim)]
    output = [math.floor(n * s) for n, s in zip(x.shape[2:], scales)]
    return output, (None if recompute_scale_factor else scales)


def _check_sizes(x: Tensor, output: list) -> None:
    names = "DHW"[3 - len(output):]
    inputs = ", ".join(f"{a}: {n}" for a, n in zip(names, x.shape[2:]))
    outputs = ", ".join(f"{a}: {n}" for a, n in zip(names, output))
    if min(x.shape[2:]) <= 0 or min(output) <= 0:
        raise ShapeError(f"interpolate: Input and output sizes should be greater than 0, but "
                         f"got input ({inputs}) output ({outputs})")
    if x.shape[1] == 0:
        raise ShapeError(f"interpolate: Non-empty {x.ndim}D data tensor expected but got a "
                         f"tensor with sizes {list(x.shape)}")


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """torch.nn.functional.interpolate for modes nearest, nearest-exact, linear (3-D input),
    bilinear (4-D), trilinear (5-D) and area (3-D and 4-D)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: expected a Tensor input, got {type(input).__name__}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    else:
        align_corners = bool(align_corners)
    dim = input.ndim - 2
    output, scales = _spatial_sizes(input, dim, size, scale_factor, recompute_scale_factor)
    if mode == "area" and scales is not None:  # torch: area takes the size only
        scales = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    if input.ndim in (3, 4, 5) and mode in ("bicubic", "lanczos") or antialias:
        raise NotImplementedError(
            f"interpolate: mode={mode!r}{' with antialias=True' if antialias else ''} is not "
            "implemented in minitorch_pairs (nearest, nearest-exact, linear, bilinear, "
            "trilinear and area are)")
    if input.ndim in (3, 4, 5) and mode in ("nearest", "nearest-exact"):
        return _separable(input, output, scales, lambda n, o, s: nearest_taps(
            n, o, s, mode == "nearest-exact", input.ndim, input.dtype), integers_allowed=True)
    if input.ndim in (3, 4, 5) and mode in _LINEAR_DIMS:
        if _LINEAR_DIMS[mode] != input.ndim:
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                      f"{_LINEAR_DIMS[mode]}D input")
        opmath = np.float64 if input.dtype == np.float64 else np.float32
        return _separable(input, output, scales, lambda n, o, s: linear_taps(
            n, o, s, align_corners, opmath))
    if input.ndim in (3, 4) and mode == "area":  # (torch: adaptive_avg_pool's checks only)
        if input.ndim == 4:
            return pooling_general.adaptive_avg_pool2d(input, tuple(output))
        return pooling_general.adaptive_avg_pool2d(input.unsqueeze(2), (1, output[0])) \
            .squeeze(2)
    if input.ndim == 5 and mode == "area":
        raise NotImplementedError("interpolate: mode='area' on a 5-D input (adaptive average "
                                  "pooling in 3-D) is not implemented in minitorch_pairs")
    raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                              f"{input.ndim}D) for the modes: {_TORCH_MODES} (got {mode})")


def _separable(x: Tensor, output: list, scales, taps_of, integers_allowed: bool = False):
    """x resampled along each spatial axis by taps_of(in_size, out_size, scale), the last
    axis first; a new tensor even where no axis changes (as torch's)."""
    _check_sizes(x, output)
    if x.dtype.kind != "f" and not (integers_allowed and x.dtype == np.uint8):
        raise NotImplementedError(f"interpolate: not implemented for dtype {x.dtype} (as in "
                                  "torch: floating point, and uint8 for the nearest modes)")
    result = x
    for axis in reversed(range(2, x.ndim)):
        in_size, out_size = x.shape[axis], output[axis - 2]
        taps = taps_of(in_size, out_size, None if scales is None else scales[axis - 2])
        if len(taps) == 1 and out_size == in_size and \
                np.array_equal(taps[0][0], np.arange(in_size)):
            continue  # this axis is copied
        result = ResampleAxis.apply(result, axis=axis, taps=taps)
    return x.clone() if result is x else result
