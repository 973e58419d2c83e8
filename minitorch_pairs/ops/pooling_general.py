"""Pooling beyond the fast kernels' geometry, with torch's options and rules: max pooling with
dilation, ceil_mode and indices; average pooling with ceil_mode, count_include_pad and
divisor_override; adaptive average and max pooling; max unpooling. 3-D (C, H, W) inputs too.

Every op reads its windows through a table of flat positions h * W + w into each image plane
(built once per geometry, on the host), in which W * H stands for "no element": a tap in the
padding, beyond the input under ceil_mode, or past the end of a shorter adaptive window. The
forward gathers the windows and reduces them; the backward scatter-adds through the same
positions. Only gathers, scatter-adds, sums, max/argmax and elementwise ops are used, which
the CUDA array implements too, so device tensors run as well.

Calls with the default options (and ceil_mode where it changes nothing) go to the numba
kernels of conv_pool.py instead.
"""
from __future__ import annotations

import functools
import numbers

import numpy as np

from .. import backend
from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor
from . import conv_pool


# ----- argument checks, as torch's ---------------------------------------------------------

def _ints(op: str, name: str, value, allow_empty: bool = False) -> tuple:
    """An int, or a sequence of one or two ints, as (h, w); () for an empty sequence where
    allowed (torch's stride=[] means the kernel size)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value), int(value)
    if not isinstance(value, (tuple, list)) or \
            not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, got {value!r}")
    if len(value) in (1, 2):
        return int(value[0]), int(value[-1])
    if allow_empty and not value:
        return ()
    raise ShapeError(f"{op}: {name} must either be a single int, or a tuple of two ints, "
                     f"got {value!r}")


def _check_input(op: str, x, dims=(3, 4)) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if x.ndim not in dims:
        raise ShapeError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D one (C, H, W), "
                         f"got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {x.dtype} "
                        "(minitorch_pairs pools floating-point tensors only)")


def _pooled_length(size: int, kernel: int, stride: int, pad: int, dilation: int,
                   ceil_mode: bool) -> int:
    """torch's pooling_output_shape: with ceil_mode the last window may run past the input,
    but must start inside it or its left padding."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    length = span // stride + 1
    if ceil_mode and (length - 1) * stride >= size + pad:
        length -= 1
    return length


class _Geometry:
    """A sliding pooling's checked options and output size."""

    def __init__(self, op, x, kernel_size, stride, padding, dilation, ceil_mode):
        self.kernel = _ints(op, "kernel_size", kernel_size)
        stride = () if stride is None else _ints(op, "stride", stride, allow_empty=True)
        self.stride = stride or self.kernel
        self.padding = _ints(op, "padding", padding)
        self.dilation = _ints(op, "dilation", dilation)
        if min(self.stride) == 0:
            raise ShapeError(f"{op}: stride should not be zero, got {self.stride}")
        if min(self.kernel) <= 0 or min(self.stride) < 0:
            raise ShapeError(f"{op}: kernel size and stride should be greater than zero, got "
                             f"kernel_size={self.kernel}, stride={self.stride}")
        if min(self.dilation) <= 0:
            raise ShapeError(f"{op}: dilation should be greater than zero, got "
                             f"{self.dilation}")
        if min(self.padding) < 0:
            raise ShapeError(f"{op}: pad must be non-negative, but got pad: {self.padding}")
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel)):
            raise ShapeError(f"{op}: padding {self.padding} must be at most half the kernel "
                             f"{self.kernel} (torch: pad should be at most half of effective "
                             "kernel size)")
        self.size = tuple(x.shape[-2:])
        self.ceil_mode = bool(ceil_mode)
        self.out = self._lengths(self.ceil_mode)
        if self.ceil_mode and self.out == self._lengths(False):
            self.ceil_mode = False  # the same windows: the fast kernels may take it
        if min(self.out) < 1:
            raise ShapeError(f"{op}: Given input size: {tuple(x.shape[-3:])}. Calculated "
                             f"output size: {(x.shape[-3],) + self.out}. Output size is too "
                             f"small (kernel {self.kernel}, stride {self.stride}, padding "
                             f"{self.padding}, dilation {self.dilation})")

    def _lengths(self, ceil_mode: bool) -> tuple:
        return tuple(_pooled_length(*axis, ceil_mode) for axis in
                     zip(self.size, self.kernel, self.stride, self.padding, self.dilation))

    @property
    def plain(self) -> bool:
        """Whether the fast kernels compute this pooling (no dilation, no overhang)."""
        return self.dilation == (1, 1) and not self.ceil_mode

    def windows(self) -> "Windows":
        return sliding_windows(self.size, self.out, self.kernel, self.stride, self.padding,
                               self.dilation)


# ----- window tables -----------------------------------------------------------------------

class Windows:
    """Where each of the P output positions of a pooling over an H x W plane reads:
    `positions` (P, K) int64, flat h * W + w, with H * W for "no element". A window's
    elements come first, in row-major order (a first-maximum scan keeps torch's choice
    among ties), then its fillers. `counts` (P,) is how many elements each window has.
    Its device copies are made once, on first use."""

    def __init__(self, positions: np.ndarray, counts: np.ndarray, out: tuple, plane: int):
        self.positions, self.counts, self.out, self.plane = positions, counts, out, plane
        self._device = {}

    def on(self, like, name: str = "positions"):
        """The table, or what `name` says ("flat": it flattened; "offsets": where each
        window's row starts in that; "ramp": 1 .. K), on the device of array `like`."""
        if isinstance(like, np.ndarray):
            return self._host(name)
        if name not in self._device:  # (one device besides the host: cuda:0)
            self._device[name] = backend.transfer(self._host(name), "cuda")
        return self._device[name]

    def _host(self, name: str) -> np.ndarray:
        if name == "positions":
            return self.positions
        if name == "flat":
            return self.positions.reshape(-1)
        if name == "offsets":
            return np.arange(self.positions.shape[0], dtype=np.int64) * self.positions.shape[1]
        if name == "ramp":
            return np.arange(1, self.positions.shape[1] + 1, dtype=np.int64)
        raise KeyError(name)


def _sliding_taps(size, out, kernel, stride, pad, dilation) -> np.ndarray:
    """(out, kernel) input positions along one axis, -1 where outside the input."""
    taps = (np.arange(out) * stride - pad)[:, None] + np.arange(kernel) * dilation
    return np.where((taps >= 0) & (taps < size), taps, -1)


def adaptive_bounds(size: int, out: int) -> tuple:
    """torch's adaptive windows along one axis: [floor(i * size / out),
    ceil((i + 1) * size / out)) for output i."""
    index = np.arange(out)
    return (index * size) // out, ((index + 1) * size + out - 1) // out


def _adaptive_taps(size, out) -> np.ndarray:
    starts, ends = adaptive_bounds(size, out)
    longest = int((ends - starts).max()) if out else 1
    taps = starts[:, None] + np.arange(longest)
    return np.where(taps < ends[:, None], taps, -1)


def _table(rows: np.ndarray, cols: np.ndarray, size: tuple) -> Windows:
    """Windows from per-axis taps (out_h, kh) and (out_w, kw)."""
    height, width = size
    (out_h, kh), (out_w, kw) = rows.shape, cols.shape
    valid = (rows[:, None, :, None] >= 0) & (cols[None, :, None, :] >= 0)
    flat = np.where(valid, rows[:, None, :, None] * width + cols[None, :, None, :],
                    height * width).reshape(out_h * out_w, kh * kw).astype(np.int64)
    valid = valid.reshape(out_h * out_w, kh * kw)
    order = np.argsort(~valid, axis=1, kind="stable")  # elements first, in row-major order
    flat = np.take_along_axis(flat, order, axis=1)
    counts = valid.sum(axis=1)
    longest = max(int(counts.max(initial=0)), 1)  # columns past every window's end dropped
    return Windows(np.ascontiguousarray(flat[:, :longest]), counts, (out_h, out_w),
                   height * width)


@functools.lru_cache(maxsize=256)
def sliding_windows(size, out, kernel, stride, padding, dilation) -> Windows:
    rows, cols = (_sliding_taps(*axis) for axis in zip(size, out, kernel, stride, padding,
                                                        dilation))
    return _table(rows, cols, size)


@functools.lru_cache(maxsize=256)
def adaptive_windows(size, out) -> Windows:
    rows, cols = (_adaptive_taps(*axis) for axis in zip(size, out))
    return _table(rows, cols, size)


# ----- the differentiable primitives -------------------------------------------------------

def _planes(x):
    """x (..., H, W) as contiguous (planes, H * W)."""
    x = backend.contiguous(x)
    return x.reshape(-1, x.shape[-2] * x.shape[-1])


def _with_filler(planes, fill):
    """planes (R, H * W) with a column of `fill` appended: position H * W reads it."""
    filler = backend.full((planes.shape[0], 1), fill, planes.dtype, like=planes)
    return np.concatenate([planes, filler], axis=1)


def _alongside(host: np.ndarray, like):
    """A host array moved to the device of array `like`."""
    return host if isinstance(like, np.ndarray) else backend.transfer(host, "cuda")


def _row_offsets(rows: int, width: int, like):
    """(rows, 1) int64: where each row starts in a flattened (rows, width) array."""
    return _alongside((np.arange(rows, dtype=np.int64) * width)[:, None], like)


def _window_argmax(x, windows: Windows):
    """Per plane of x and window, the flat position of its maximum, as torch's CPU kernels
    choose it: the first largest value in row-major order, or the last NaN. Not
    differentiable (positions)."""
    planes = _planes(x)
    table = windows.on(planes)
    gathered = _with_filler(planes, -np.inf)[:, table]  # (planes, P, K)
    first = gathered.argmax(axis=2)  # the first maximum, or the first NaN
    best = np.take_along_axis(gathered, first[..., None], axis=2)[..., 0]
    if not isinstance(best, np.ndarray) or np.isnan(best).any():
        # torch's scan takes every NaN it meets (`value > best or isnan(value)`): the last
        last_nan = ((gathered != gathered) * windows.on(planes, "ramp")).argmax(axis=2)
        first = np.where(best != best, last_nan, first)
    return windows.on(planes, "flat")[first + windows.on(planes, "offsets")]


class TakeFromPlanes(Function):
    """out[r, p] = x's plane r at flat position positions[r, p] (H * W reads `fill`).
    Backward adds each gradient back at its position (overlapping windows add up)."""
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, positions, out_shape, fill=0.0):
        planes = _planes(x)
        rows, width = planes.shape[0], planes.shape[1] + 1
        flat_index = positions + _row_offsets(rows, width, planes)
        out = _with_filler(planes, fill).reshape(-1)[flat_index]
        ctx.flat_index, ctx.shape, ctx.rows = flat_index, x.shape, (rows, width)
        return out.reshape(out_shape)

    @staticmethod
    def backward(ctx, grad):
        rows, width = ctx.rows
        grad = backend.contiguous(grad)
        grad_x = backend.zeros(rows * width, grad.dtype, like=grad)
        np.add.at(grad_x, ctx.flat_index.reshape(-1), grad.reshape(-1))
        return backend.contiguous(grad_x.reshape(rows, width)[:, :width - 1]).reshape(ctx.shape)


class PutIntoPlanes(Function):
    """max_unpool: an all-zero output of planes of `plane` elements, x's values written at
    positions (each plane's own); backward gathers the gradient at those positions."""
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, positions, out_shape):
        rows, plane = positions.shape[0], int(np.prod(out_shape[-2:]))
        flat_index = (positions + _row_offsets(rows, plane, positions)).reshape(-1)
        out = backend.zeros(rows * plane, x.dtype, like=x)
        out[flat_index] = backend.contiguous(x).reshape(-1)
        ctx.flat_index, ctx.shape = flat_index, x.shape
        return out.reshape(out_shape)

    @staticmethod
    def backward(ctx, grad):
        return backend.contiguous(grad).reshape(-1)[ctx.flat_index].reshape(ctx.shape)


class AverageOverWindows(Function):
    """The sum of each window's elements over its divisor (per output position)."""
    computes_half_in_float32 = True

    @staticmethod
    def forward(ctx, x, windows, divisor):
        planes = _planes(x)
        table = windows.on(planes)
        divisor = _alongside(divisor.astype(x.dtype), planes)
        sums = _with_filler(planes, 0.0)[:, table].sum(axis=2)
        ctx.windows, ctx.divisor, ctx.shape = windows, divisor, x.shape
        return (sums / divisor).reshape(x.shape[:-2] + windows.out)

    @staticmethod
    def backward(ctx, grad):
        windows = ctx.windows
        rows, width = int(np.prod(ctx.shape[:-2])), windows.plane + 1
        share = (backend.contiguous(grad).reshape(rows, windows.positions.shape[0])
                 / ctx.divisor)  # (planes, P): what each element of a window gets
        table = windows.on(share)
        flat_index = (table[None] + _row_offsets(rows, width, share)[:, :, None]).reshape(-1)
        values = np.broadcast_to(share[:, :, None], (rows,) + table.shape)
        grad_x = backend.zeros(rows * width, share.dtype, like=share)
        np.add.at(grad_x, flat_index, backend.contiguous(values).reshape(-1))
        return backend.contiguous(grad_x.reshape(rows, width)[:, :width - 1]).reshape(ctx.shape)


# ----- public ops --------------------------------------------------------------------------

def _batched(x: Tensor, run):
    """run(x) on a 4-D x; a 3-D (C, H, W) x as a batch of one, the results squeezed back."""
    if x.ndim == 4:
        return run(x)
    out = run(x.unsqueeze(0))
    return tuple(t.squeeze(0) for t in out) if isinstance(out, tuple) else out.squeeze(0)


def _max_over(x: Tensor, windows: Windows, return_indices: bool):
    """The max of each window, and its flat position when asked (torch's indices)."""
    out_shape = x.shape[:-2] + windows.out
    if x.numel() and windows.positions.shape[0]:
        positions = _window_argmax(x._data, windows)
    else:  # no window, or no plane: nothing to compare
        positions = backend.zeros((int(np.prod(x.shape[:-2])), windows.positions.shape[0]),
                                  np.int64, like=x._data)
    out = TakeFromPlanes.apply(x, positions=positions, out_shape=out_shape, fill=-np.inf)
    if not return_indices:
        return out
    return out, Tensor._from_array(positions.reshape(out_shape), x.device)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """torch.nn.functional.max_pool2d with every option; (out, indices) with
    return_indices, indices being flat positions h * W + w in each input plane."""
    _check_input("max_pool2d", input)
    geometry = _Geometry("max_pool2d", input, kernel_size, stride, padding, dilation,
                         ceil_mode)
    if geometry.plain and not return_indices:
        return _batched(input, lambda x: conv_pool.MaxPool2d.apply(
            x, kernel_size=geometry.kernel, stride=geometry.stride, padding=geometry.padding))
    windows = geometry.windows()
    if windows.counts.min() == 0:
        raise NotImplementedError(
            f"max_pool2d: with dilation {geometry.dilation} and padding {geometry.padding} some "
            f"windows over the input of size {geometry.size} hold only padding; torch returns "
            "-inf there with an index outside the window, which minitorch_pairs does not "
            "reproduce (use less padding or dilation)")
    return _batched(input, lambda x: _max_over(x, windows, return_indices))


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    """torch.nn.functional.avg_pool2d with every option."""
    _check_input("avg_pool2d", input)
    geometry = _Geometry("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if not isinstance(divisor_override, numbers.Integral) or isinstance(divisor_override,
                                                                            bool):
            raise TypeError(f"avg_pool2d(): argument 'divisor_override' must be int, not "
                            f"{type(divisor_override).__name__}")
        if divisor_override == 0:
            raise ShapeError("avg_pool2d: divisor must be not zero")
    if geometry.plain and count_include_pad and divisor_override is None:
        return _batched(input, lambda x: conv_pool.AvgPool2d.apply(
            x, kernel_size=geometry.kernel, stride=geometry.stride, padding=geometry.padding))
    divisor = _avg_divisor(geometry, count_include_pad, divisor_override)
    return _batched(input, lambda x: AverageOverWindows.apply(x, windows=geometry.windows(),
                                                              divisor=divisor))


def _avg_divisor(geometry: _Geometry, count_include_pad: bool, divisor_override) -> np.ndarray:
    """torch's divisor per output position: the override; or the window's size clipped to
    the padded input (count_include_pad); or its number of input elements. A window with no
    element sums to 0 and is divided by 1."""
    windows = geometry.windows()
    if divisor_override is not None:
        return np.full(windows.counts.shape, divisor_override, np.float64)
    if not count_include_pad:
        divisor = windows.counts
    else:
        spans = []
        for size, out, kernel, stride, pad in zip(geometry.size, geometry.out, geometry.kernel,
                                                  geometry.stride, geometry.padding):
            starts = np.arange(out) * stride - pad
            spans.append(np.minimum(starts + kernel, size + pad) - starts)
        divisor = (spans[0][:, None] * spans[1][None, :]).reshape(-1)
    return np.where(windows.counts > 0, divisor, 1).astype(np.float64)


def _output_size(op: str, x: Tensor, output_size) -> tuple:
    """An adaptive pooling's (out_h, out_w): an int, or two ints or Nones (None: the input's
    size there), checked as torch checks it."""
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ShapeError(f"{op}: output_size must be 2, got {output_size!r}")
        sizes = tuple(x.shape[-2 + i] if v is None else v for i, v in enumerate(output_size))
    else:
        sizes = (output_size, output_size)
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in sizes):
        raise TypeError(f"{op}(): argument 'output_size' must be tuple of ints, got "
                        f"{output_size!r}")
    if min(sizes) < 0:
        raise ShapeError(f"{op}: elements of output_size must be greater than or equal to 0 "
                         f"but received {output_size!r}")
    for dim in range(x.ndim - 3, x.ndim):
        if x.shape[dim] == 0:
            raise ShapeError(f"{op}(): Expected input to have non-zero size for non-batch "
                             f"dimensions, but input has sizes {list(x.shape)} with dimension "
                             f"{dim} being empty")
    return int(sizes[0]), int(sizes[1])


def _tiling(x: Tensor, out: tuple):
    """The window size where the adaptive windows tile the input (each output size divides
    the input's): the fast kernels' pooling with kernel = stride = that. Else None."""
    size = x.shape[-2:]
    if min(out) > 0 and all(n % o == 0 for n, o in zip(size, out)):
        return tuple(n // o for n, o in zip(size, out))
    return None


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """torch.nn.functional.adaptive_avg_pool2d: window i along an axis of n covers
    [floor(i * n / out), ceil((i + 1) * n / out))."""
    _check_input("adaptive_avg_pool2d", input)
    out = _output_size("adaptive_avg_pool2d", input, output_size)
    tile = _tiling(input, out)
    if tile is not None:
        return _batched(input, lambda x: conv_pool.AvgPool2d.apply(
            x, kernel_size=tile, stride=tile, padding=(0, 0)))
    windows = adaptive_windows(tuple(input.shape[-2:]), out)
    divisor = np.maximum(windows.counts, 1).astype(np.float64)
    return _batched(input, lambda x: AverageOverWindows.apply(x, windows=windows,
                                                              divisor=divisor))


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """torch.nn.functional.adaptive_max_pool2d (with return_indices: (out, indices))."""
    _check_input("adaptive_max_pool2d", input)
    out = _output_size("adaptive_max_pool2d", input, output_size)
    tile = _tiling(input, out)
    if tile is not None and not return_indices:
        return _batched(input, lambda x: conv_pool.MaxPool2d.apply(
            x, kernel_size=tile, stride=tile, padding=(0, 0)))
    windows = adaptive_windows(tuple(input.shape[-2:]), out)
    return _batched(input, lambda x: _max_over(x, windows, return_indices))


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """torch.nn.functional.max_unpool2d: zeros, with each value of `input` put at its flat
    position from `indices` (max_pool2d's return_indices) in its output plane."""
    _check_input("max_unpool2d", input)
    if not isinstance(indices, Tensor):
        raise TypeError(f"max_unpool2d(): argument 'indices' must be Tensor, not "
                        f"{type(indices).__name__}")
    if indices.dtype != np.int64:
        raise RuntimeError(f"max_unpool2d: elements in indices should be type int64 but got: "
                           f"{indices.dtype}")
    if indices.shape != input.shape:
        raise ShapeError(f"max_unpool2d: Expected shape of indices to be same as that of the "
                         f"input tensor ({input.shape}) but got indices tensor with shape: "
                         f"{indices.shape}")
    if indices.device != input.device:
        raise RuntimeError(f"max_unpool2d: expected input and indices on one device, got "
                           f"{input.device} and {indices.device}")
    kernel = _ints("max_unpool2d", "kernel_size", kernel_size)
    stride = kernel if stride is None else _ints("max_unpool2d", "stride", stride)
    padding = _ints("max_unpool2d", "padding", padding)
    size = _unpool_size(input, kernel, stride, padding, output_size)
    host = backend.transfer(indices._data, "cpu")
    plane = size[0] * size[1]
    if host.size and (host.min() < 0 or host.max() >= plane):
        bad = host[(host < 0) | (host >= plane)].reshape(-1)[0]
        raise RuntimeError(f"max_unpool2d: Found an invalid max index: {bad} (output volumes "
                           f"are of size {size[0]}x{size[1]})")
    out_shape = input.shape[:-2] + size
    positions = backend.contiguous(indices._data).reshape(-1, input.shape[-2] * input.shape[-1])
    return PutIntoPlanes.apply(input, positions=positions, out_shape=out_shape)


def _unpool_size(x: Tensor, kernel, stride, padding, output_size) -> tuple:
    """torch's _unpool_output_size: (in - 1) * stride + kernel - 2 * padding, or
    output_size (its last two entries) within one stride of that."""
    default = tuple((n - 1) * s + k - 2 * p
                    for n, k, s, p in zip(x.shape[-2:], kernel, stride, padding))
    if output_size is None:
        size = default
    else:
        size = tuple(output_size)
        if len(size) == 4:
            size = size[2:]
        if len(size) != 2:
            raise ValueError(f"output_size should be a sequence containing 2 or 4 elements, "
                             f"but it has a length of '{len(size)}'")
        for d in range(2):
            low, high = default[d] - stride[d], default[d] + stride[d]
            if not low < size[d] < high:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be '
                                 f'between {low} and {high})')
    if min(size) < 0:
        raise ValueError(f"max_unpooling: output_size must contain non-negative spatial "
                         f"dimensions, but got output_size {size}")
    return tuple(int(n) for n in size)
