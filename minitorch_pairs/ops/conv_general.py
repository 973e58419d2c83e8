"""The convolutions beyond the numba kernels' case, as torch's: dilation, groups (depthwise
included), padding="same"/"valid" (asymmetric where torch pads so), the modules' padding
modes, 1-d convolutions and transposed convolutions.

One NumPy implementation serves both spatial ranks: the padded input's windows as a strided
view (sliding_window_view), copied into columns, and one batched matrix product for all
groups. A transposed convolution is a convolution's input gradient, and its gradients are a
convolution and a weight gradient, so three helpers (_correlate, _input_gradient,
_weight_gradient) make both Functions' forward and backward.

What the kernels run (dilation 1, groups 1, the same zero padding on both sides of a dim)
still goes to them: F.conv2d sends here only arguments they do not take, and what resolves
to their case here (padding="same" of an odd kernel, "valid") goes back; a 1-d convolution
of their case runs as a 2-d one of height 1. The NumPy path runs on the CPU only.
"""
from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import backend
from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor, expect_tensors
from . import conv_pool

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_NUMPY_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@dataclass(frozen=True)
class Geometry:
    """How a convolution walks its input, per spatial dim: stride, padding as (before,
    after), dilation; the groups; how the padding is filled ("zeros" or a padding mode)."""
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int
    mode: str = "zeros"

    def span(self, kernel) -> tuple:
        """The dilated kernel's extent per dim."""
        return tuple(d * (k - 1) + 1 for k, d in zip(kernel, self.dilation))

    def padded(self, size) -> tuple:
        return tuple(n + before + after for n, (before, after) in zip(size, self.padding))

    def output_size(self, size, kernel) -> tuple:
        return tuple((p - k) // s + 1 for p, k, s in
                     zip(self.padded(size), self.span(kernel), self.stride))

    def on_kernels(self) -> bool:
        """Whether the numba kernels (ops/conv_pool.py) run this geometry."""
        return (self.groups == 1 and self.mode == "zeros" and set(self.dilation) == {1}
                and all(before == after for before, after in self.padding))


# ----- the arrays ----------------------------------------------------------------------

def _pad(x, g: Geometry):
    """x (N, C, *size) with g's padding, filled as g.mode says."""
    if not any(before or after for before, after in g.padding):
        return x
    widths = ((0, 0), (0, 0)) + tuple(g.padding)
    if g.mode == "zeros":
        return np.pad(x, widths)
    return np.pad(x, widths, mode=_NUMPY_MODES[g.mode])


def _unpad_gradient(grad, g: Geometry, size):
    """The gradient of _pad's input from its output's: each padded position copies one
    input position (zero padding: none), so its gradient is added to that one."""
    for axis, ((before, after), n) in enumerate(zip(g.padding, size), start=2):
        if not before and not after:
            continue
        inner = (slice(None),) * axis + (slice(before, before + n),)
        if g.mode == "zeros":
            grad = grad[inner]
            continue
        source = np.pad(np.arange(n), (before, after), mode=_NUMPY_MODES[g.mode])
        moved = np.moveaxis(grad, axis, 0)
        folded = moved[before:before + n].copy()
        edges = np.r_[0:before, before + n:len(source)]
        np.add.at(folded, source[edges], moved[edges])  # repeats add up (replicate)
        grad = np.moveaxis(folded, 0, axis)
    return grad


def _windows(xp, kernel, g: Geometry, out_size):
    """A view (N, C, *out_size, *kernel) of the padded input xp: element [n, c, o.., k..]
    is xp[n, c, o * stride + k * dilation ..]."""
    axes = tuple(range(2, xp.ndim))
    view = sliding_window_view(xp, g.span(kernel), axis=axes)
    outputs = tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out_size, g.stride))
    taps = tuple(slice(None, None, d) for d in g.dilation)
    return view[(slice(None), slice(None)) + outputs + taps]


def _columns(xp, kernel, g: Geometry, out_size):
    """The windows as (groups, N * outputs, C/groups * taps) rows: one product per group."""
    n, c, rank = xp.shape[0], xp.shape[1], len(kernel)
    per_group = c // g.groups
    windows = _windows(xp, kernel, g, out_size)
    windows = windows.reshape((n, g.groups, per_group) + tuple(out_size) + tuple(kernel))
    order = (1, 0) + tuple(range(3, 3 + rank)) + (2,) + tuple(range(3 + rank, 3 + 2 * rank))
    return windows.transpose(order).reshape(
        g.groups, n * math.prod(out_size), per_group * math.prod(kernel))


def _rows(y, groups: int):
    """(N, O, *size) as (groups, N * prod(size), O/groups): the layout of _columns' products."""
    n, o, size = y.shape[0], y.shape[1], y.shape[2:]
    split = y.reshape((n, groups, o // groups) + size)
    order = (1, 0) + tuple(range(3, 3 + len(size))) + (2,)
    return split.transpose(order).reshape(groups, n * math.prod(size), o // groups)


def _unrows(rows, n: int, size):
    """_rows' inverse: (groups, N * prod(size), O/groups) as (N, O, *size)."""
    groups, per_group, rank = rows.shape[0], rows.shape[2], len(size)
    split = rows.reshape((groups, n) + tuple(size) + (per_group,))
    order = (1, 0, 2 + rank) + tuple(range(2, 2 + rank))
    return np.ascontiguousarray(split.transpose(order)).reshape(
        (n, groups * per_group) + tuple(size))


def _grouped(weight, groups: int):
    """An (O, C/groups, *kernel) weight as (groups, O/groups, C/groups * taps)."""
    return weight.reshape(groups, weight.shape[0] // groups, math.prod(weight.shape[1:]))


def _correlate(xp, weight, g: Geometry, out_size):
    """The convolution (cross-correlation, as torch's) of the padded input xp by an
    (O, C/groups, *kernel) weight, at out_size output positions per dim."""
    columns = _columns(xp, weight.shape[2:], g, out_size)
    return _unrows(columns @ _grouped(weight, g.groups).transpose(0, 2, 1), xp.shape[0],
                   out_size)


def _weight_gradient(xp, grad, kernel, g: Geometry):
    """The weight's gradient, (O, C/groups, *kernel), of _correlate(xp, ...) from its output's."""
    columns = _columns(xp, kernel, g, grad.shape[2:])
    product = _rows(grad, g.groups).transpose(0, 2, 1) @ columns
    return product.reshape((grad.shape[1], xp.shape[1] // g.groups) + tuple(kernel))


def _input_gradient(grad, weight, g: Geometry, padded_shape):
    """The gradient of _correlate's padded input (of padded_shape) from its output's: each
    tap's share added back where that tap read."""
    n, out_size, kernel = grad.shape[0], grad.shape[2:], weight.shape[2:]
    rank, channels = len(kernel), padded_shape[1]
    columns = _rows(grad, g.groups) @ _grouped(weight, g.groups)
    columns = columns.reshape((g.groups, n) + out_size + (channels // g.groups,) + kernel)
    order = (1, 0, 2 + rank) + tuple(range(3 + rank, 3 + 2 * rank)) + tuple(range(2, 2 + rank))
    taps = columns.transpose(order).reshape((n, channels) + kernel + out_size)
    result = np.zeros(padded_shape, dtype=taps.dtype)
    every = (slice(None), slice(None))
    for tap in itertools.product(*map(range, kernel)):
        where = tuple(slice(i * d, i * d + (o - 1) * s + 1, s)
                      for i, d, o, s in zip(tap, g.dilation, out_size, g.stride))
        result[every + where] += taps[every + tap]
    return result


def _with_bias(out, bias):
    if bias is not None:
        out += bias.reshape((1, -1) + (1,) * (out.ndim - 2))
    return out


def _bias_gradient(grad, needs) -> tuple:
    if len(needs) < 3:
        return ()
    return (grad.sum(axis=(0,) + tuple(range(2, grad.ndim))) if needs[2] else None,)


class Convolution(Function):
    """A convolution by the NumPy path, of any spatial rank: stride, dilation, groups,
    padding per side, padding mode."""
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, weight, bias=None, geometry=None):
        out_size = geometry.output_size(x.shape[2:], weight.shape[2:])
        out = _with_bias(_correlate(_pad(x, geometry), weight, geometry, out_size), bias)
        ctx.save_for_backward(x, weight)
        ctx.geometry = geometry
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved
        g, needs = ctx.geometry, ctx.needs_input_grad
        grad_x = grad_weight = None
        if needs[0]:
            padded = x.shape[:2] + g.padded(x.shape[2:])
            grad_x = _unpad_gradient(_input_gradient(grad, weight, g, padded), g, x.shape[2:])
        if needs[1]:
            grad_weight = _weight_gradient(_pad(x, g), grad, weight.shape[2:], g)
        return (grad_x, grad_weight) + _bias_gradient(grad, needs)


class TransposedConvolution(Function):
    """conv_transpose: the input gradient of the convolution by the same weight (in, out /
    groups, *kernel) and geometry, taken as a function of its output gradient `x`; an output
    of output_size per dim (output_padding adds positions no window reaches)."""
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, weight, bias=None, geometry=None, output_size=None):
        g = geometry
        padded = (x.shape[0], weight.shape[1] * g.groups) + g.padded(output_size)
        out = _unpad_gradient(_input_gradient(x, weight, g, padded), g, output_size)
        ctx.save_for_backward(x, weight)
        ctx.geometry = g
        return _with_bias(np.ascontiguousarray(out), bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved
        g, needs = ctx.geometry, ctx.needs_input_grad
        padded_grad = _pad(grad, g)
        grad_x = _correlate(padded_grad, weight, g, x.shape[2:]) if needs[0] else None
        grad_weight = _weight_gradient(padded_grad, x, weight.shape[2:], g) if needs[1] \
            else None
        return (grad_x, grad_weight) + _bias_gradient(grad, needs)


# ----- the arguments ---------------------------------------------------------------------

def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def spatial(op: str, name: str, value, rank: int, minimum: int) -> tuple:
    """An int, or a tuple or list of 1 or `rank` ints (torch's rule), as `rank` ints, each at
    least `minimum`."""
    values = (value,) if _is_int(value) else \
        tuple(value) if isinstance(value, (tuple, list)) else None
    expected = f"{op}: expected {name} to be an int >= {minimum} or a tuple of {rank} of them"
    if values is None or not all(_is_int(v) for v in values):
        raise TypeError(f"{expected}, got {value!r}")
    if len(values) == 1:
        values *= rank
    if len(values) != rank or min(values) < minimum:
        raise ShapeError(f"{expected}, got {value!r}")
    return tuple(int(v) for v in values)


def groups_of(op: str, groups) -> int:
    if not _is_int(groups):
        raise TypeError(f"{op}: expected groups to be an int, got {groups!r}")
    if groups < 1:
        raise ShapeError(f"{op}: expected groups to be a positive int, got {groups}")
    return int(groups)


def same_padding(kernel, dilation) -> tuple:
    """torch's padding="same": d * (k - 1) in all per dim, the odd one after."""
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple((total // 2, total - total // 2) for total in totals)


def _padding(op: str, padding, rank: int, stride, dilation, kernel) -> tuple:
    """Padding as (before, after) per spatial dim, from ints or "valid" / "same"."""
    if not isinstance(padding, str):
        return tuple((p, p) for p in spatial(op, "padding", padding, rank, 0))
    if padding == "valid":
        return ((0, 0),) * rank
    if padding != "same":
        raise ShapeError(f"{op}: invalid padding string {padding!r}; expected 'same', "
                         f"'valid', an int or a tuple of ints")
    if set(stride) != {1}:
        raise ShapeError(f"{op}: padding='same' is not supported for strided convolutions "
                         f"(got stride {stride})")
    return same_padding(kernel, dilation)


_SIZES = {1: "L", 2: "H, W"}  # the spatial dims' names, for messages


def _operands(op: str, rank: int, x, weight, bias, unbatched: bool) -> bool:
    """The tensors' checks (types, dims, dtypes, kernel); whether x has a batch dim."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    expect_tensors(op, weight=weight, optional_bias=bias)
    dims = (rank + 1, rank + 2) if unbatched else (rank + 2,)
    if x.ndim not in dims:
        wanted = f"a {rank + 1}-D (unbatched) or {rank + 2}-D" if unbatched else \
            f"a {rank + 2}-D"
        raise ShapeError(f"{op}: expected {wanted} input (N, C, {_SIZES[rank]}), got shape "
                         f"{x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {x.dtype}")
    if weight.ndim != rank + 2 or 0 in weight.shape[2:]:
        raise ShapeError(f"{op}: expected a {rank + 2}-D weight with a kernel of at least "
                         f"1 per dim, got shape {weight.shape}")
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and tensor.dtype != x.dtype:
            raise ShapeError(f"{op}: input dtype {x.dtype} differs from {name} dtype "
                             f"{tensor.dtype}")
    return x.ndim == rank + 2



def _channels(op: str, x, weight, bias, groups: int, transposed: bool) -> None:
    """weight (out, in / groups, ...) for a convolution, (in, out / groups, ...) transposed."""
    channels = x.shape[x.ndim - weight.ndim + 1]  # dim 1, or 0 unbatched
    layout = "(in_channels, out_channels / groups, *kernel)" if transposed else \
        "(out_channels, in_channels / groups, *kernel)"
    if weight.shape[0] < groups or weight.shape[0] % groups:
        raise ShapeError(f"{op}: expected the weight's dim 0 to be a positive multiple of "
                         f"groups={groups}, got weight of shape {weight.shape} {layout}")
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if channels != expected:
        raise ShapeError(f"{op}: input has {channels} channels, expected {expected} for "
                         f"weight of shape {weight.shape} {layout} and groups={groups} "
                         f"(input {x.shape})")
    out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None and bias.shape != (out_channels,):
        raise ShapeError(f"{op}: expected bias of shape ({out_channels},), got {bias.shape}")


def _check_fits(op: str, g: Geometry, size, kernel) -> None:
    padded, span = g.padded(size), g.span(kernel)
    if any(p < k for p, k in zip(padded, span)):
        raise ShapeError(f"{op}: input of spatial size {tuple(size)} padded to {padded} is "
                         f"smaller than the dilated kernel {span}; the output would be empty")
    for n, (before, after) in zip(size, g.padding):
        if g.mode == "reflect" and max(before, after) >= n:
            raise ShapeError(f"{op}: padding_mode='reflect' needs padding smaller than the "
                             f"input's size, got padding {g.padding} for size {tuple(size)}")
        if g.mode == "circular" and max(before, after) > n:
            raise ShapeError(f"{op}: padding_mode='circular' needs padding at most the "
                             f"input's size (it would wrap around more than once), got "
                             f"padding {g.padding} for size {tuple(size)}")


def _tensors(x, weight, bias) -> tuple:
    return (x, weight) if bias is None else (x, weight, bias)


# ----- the public functions ----------------------------------------------------------------

def needs_numpy_path(stride, padding, dilation, groups) -> bool:
    """Whether F.conv2d's arguments are beyond what the kernels' path takes (stride and
    padding as ints or pairs, dilation 1, groups 1): such calls come here and are checked."""
    def ones(value) -> bool:
        return value == 1 if _is_int(value) else isinstance(value, (tuple, list)) and \
            len(value) in (1, 2) and all(_is_int(v) and v == 1 for v in value)

    def single(value) -> bool:  # torch's one-element sequence for every dim
        return isinstance(value, (tuple, list)) and len(value) == 1
    return (isinstance(padding, str) or single(stride) or single(padding) or not ones(dilation)
            or not (_is_int(groups) and groups == 1))


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups=1) -> Tensor:
    """F.conv2d's general path (F.conv2d sends here what needs_numpy_path says)."""
    return convolution(2, x, weight, bias, stride, padding, dilation, groups)


def conv1d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups=1) -> Tensor:
    return convolution(1, x, weight, bias, stride, padding, dilation, groups)


def convolution(rank: int, x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                padding=0, dilation=1, groups=1, padding_mode: str = "zeros") -> Tensor:
    """conv1d or conv2d (rank 1 or 2), with the modules' padding_mode ("zeros", "reflect",
    "replicate" or "circular": how the padding is filled)."""
    op = f"conv{rank}d"
    # conv2d takes batched input only: its kernels' path has always refused 3-D input
    # (tests/test_bad_input.py), and both paths keep one rule
    batched = _operands(op, rank, x, weight, bias, unbatched=rank != 2)
    stride = spatial(op, "stride", stride, rank, 1)
    dilation = spatial(op, "dilation", dilation, rank, 1)
    groups = groups_of(op, groups)
    _channels(op, x, weight, bias, groups, transposed=False)
    if padding_mode not in PADDING_MODES:
        raise ShapeError(f"{op}: expected padding_mode to be one of {PADDING_MODES}, got "
                         f"{padding_mode!r}")
    g = Geometry(stride, _padding(op, padding, rank, stride, dilation, weight.shape[2:]),
                 dilation, groups, padding_mode)
    _check_fits(op, g, x.shape[-rank:], weight.shape[2:])
    if not batched:
        x = x.unsqueeze(0)
    if g.on_kernels():
        out = _on_kernels(x, weight, bias, g, rank)
    else:
        backend.require_cpu(op, *_tensors(x, weight, bias))
        out = Convolution.apply(*_tensors(x, weight, bias), geometry=g)
    return out if batched else out.squeeze(0)


def _on_kernels(x, weight, bias, g: Geometry, rank: int) -> Tensor:
    """The numba kernels' convolution: F.conv2d's own path (fused with a ReLU and pool where
    they follow), a 1-d one as 2-d of height 1."""
    padding = tuple(before for before, _ in g.padding)
    if rank == 2:
        from .fusion import conv2d as kernels_conv2d  # (fusion imports this module)
        return kernels_conv2d(x, weight, bias, g.stride, padding)
    inputs = _tensors(x.unsqueeze(2), weight.unsqueeze(2), bias)
    out = conv_pool.Conv2d.apply(*inputs, stride=(1,) + g.stride, padding=(0,) + padding)
    return out.squeeze(2)


def conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups=1, dilation=1) -> Tensor:
    return _transposed(2, x, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose1d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups=1, dilation=1) -> Tensor:
    return _transposed(1, x, weight, bias, stride, padding, output_padding, groups, dilation)


def transposed_output_size(size, kernel, stride, padding, dilation, output_padding) -> tuple:
    """torch's rule: (n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1."""
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, k, s, p, d, o in
                 zip(size, kernel, stride, padding, dilation, output_padding))


def _transposed(rank: int, x, weight, bias, stride, padding, output_padding, groups,
                dilation) -> Tensor:
    op = f"conv_transpose{rank}d"
    batched = _operands(op, rank, x, weight, bias, unbatched=True)
    if isinstance(padding, str):
        raise TypeError(f"{op}: expected padding to be an int or a tuple of ints, got "
                        f"{padding!r} (a transposed convolution has no 'same' or 'valid')")
    stride = spatial(op, "stride", stride, rank, 1)
    padding = spatial(op, "padding", padding, rank, 0)
    output_padding = spatial(op, "output_padding", output_padding, rank, 0)
    dilation = spatial(op, "dilation", dilation, rank, 1)
    groups = groups_of(op, groups)
    _channels(op, x, weight, bias, groups, transposed=True)
    if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
        raise ShapeError(f"{op}: output_padding must be smaller than either stride or "
                         f"dilation in each dim, got output_padding {output_padding}, stride "
                         f"{stride}, dilation {dilation}")
    size = x.shape[-rank:]
    out_size = transposed_output_size(size, weight.shape[2:], stride, padding, dilation,
                                      output_padding)
    if min(out_size) < 1:
        raise ShapeError(f"{op}: input of spatial size {tuple(size)} gives an output of size "
                         f"{out_size}: too small (padding {padding})")
    backend.require_cpu(op, *_tensors(x, weight, bias))
    g = Geometry(stride, tuple((p, p) for p in padding), dilation, groups)
    if not batched:
        x = x.unsqueeze(0)
    out = TransposedConvolution.apply(*_tensors(x, weight, bias), geometry=g,
                                      output_size=out_size)
    return out if batched else out.squeeze(0)
