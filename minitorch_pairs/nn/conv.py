"""Convolution layers, as torch.nn's: Conv1d, Conv2d, ConvTranspose1d and ConvTranspose2d
(arguments, defaults and their checks, parameter shapes, initialisation, registered names,
reprs). The arithmetic is in ops/conv_general.py and, for the numba kernels' case, in
ops/conv_pool.py and ops/fusion.py."""
from __future__ import annotations

import numbers

import numpy as np

from ..dtypes import get_default_dtype
from ..errors import ShapeError
from ..ops import conv_general
from ..tensor import Tensor, as_dtype
from . import functional as F
from . import init
from .layers import _place, _positive_int
from .module import Module, Parameter

_PADDING_STRINGS = ("valid", "same")


class _ConvNd(Module):
    """What the convolution layers share: torch's _ConvNd. Subclasses set `rank` (spatial
    dims) and `transposed`; a transposed layer's weight is (in, out / groups, *kernel),
    a plain one's (out, in / groups, *kernel)."""

    rank = 2
    transposed = False
    _op_name = "conv2d"  # its function in nn.functional

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride, padding,
                 dilation, groups: int, bias: bool, padding_mode: str, output_padding=0,
                 device=None, dtype=None):
        super().__init__()
        layer = type(self).__name__
        self.in_channels = _positive_int(layer, "in_channels", in_channels)
        self.out_channels = _positive_int(layer, "out_channels", out_channels)
        self.kernel_size = self._sizes("kernel_size", kernel_size, 1)
        self.stride = self._sizes("stride", stride, 1)
        self.transposed = type(self).transposed  # an attribute of the layer, as torch's
        self.padding = self._padding(padding)
        self.dilation = self._sizes("dilation", dilation, 1)
        self.output_padding = self._sizes("output_padding", output_padding, 0)
        self.groups = self._groups(groups)
        self.padding_mode = self._padding_mode(padding_mode)
        dtype = as_dtype(dtype) or get_default_dtype()
        shape = (in_channels, out_channels // groups) if self.transposed else \
            (out_channels, in_channels // groups)
        self.weight = Parameter(np.empty(shape + self.kernel_size, dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        _place(self, device)

    def _sizes(self, name: str, value, minimum: int) -> tuple:
        return conv_general.spatial(type(self).__name__, name, value, self.rank, minimum)

    def _padding(self, padding):
        layer = type(self).__name__
        if not isinstance(padding, str):
            return self._sizes("padding", padding, 0)
        if self.transposed:
            raise ValueError(f"{layer}: padding={padding!r} is not supported: a transposed "
                             f"convolution's padding is an int or a tuple of ints")
        if padding not in _PADDING_STRINGS:
            raise ValueError(f"{layer}: invalid padding string {padding!r}, should be one of "
                             f"{_PADDING_STRINGS}")
        if padding == "same" and set(self.stride) != {1}:
            raise ValueError(f"{layer}: padding='same' is not supported for strided "
                             f"convolutions (got stride {self.stride})")
        return padding

    def _groups(self, groups) -> int:
        layer = type(self).__name__
        if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
            raise TypeError(f"{layer}: expected groups to be an int, got {groups!r}")
        if groups < 1:
            raise ValueError(f"{layer}: groups must be a positive integer, got {groups}")
        for name in ("in_channels", "out_channels"):
            if getattr(self, name) % groups:
                raise ValueError(f"{layer}: {name} must be divisible by groups, got "
                                 f"{name}={getattr(self, name)}, groups={groups}")
        return int(groups)

    def _padding_mode(self, mode: str) -> str:
        layer = type(self).__name__
        if mode not in conv_general.PADDING_MODES:
            raise ValueError(f"{layer}: padding_mode must be one of "
                             f"{conv_general.PADDING_MODES}, but got padding_mode={mode!r}")
        if self.transposed and mode != "zeros":
            raise ValueError(f'{layer}: only "zeros" padding mode is supported, got '
                             f'padding_mode={mode!r}')
        return mode

    def reset_parameters(self) -> None:
        # kaiming_uniform_(a=sqrt(5)), bias from the fan-in: dim 1 (in / groups, or out /
        # groups transposed) times the kernel, as torch's
        init.default_layer_init_(self.weight, self.bias)

    def extra_repr(self) -> str:
        zeros, ones = (0,) * self.rank, (1,) * self.rank
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, " \
               f"stride={self.stride}"
        if self.padding != zeros:
            text += f", padding={self.padding}"
        if self.dilation != ones:
            text += f", dilation={self.dilation}"
        if self.output_padding != zeros:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 0, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return self._conv_forward(x, self.weight, self.bias)

    def _conv_forward(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        if self.padding_mode == "zeros":  # F's entry: the kernels' path where it applies
            return getattr(F, self._op_name)(x, weight, bias, self.stride, self.padding,
                                               self.dilation, self.groups)
        return conv_general.convolution(self.rank, x, weight, bias, self.stride, self.padding,
                                        self.dilation, self.groups, self.padding_mode)


class Conv1d(_Conv):
    rank, _op_name = 1, "conv1d"


class Conv2d(_Conv):
    rank, _op_name = 2, "conv2d"


class _ConvTranspose(_ConvNd):
    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)

    def forward(self, x: Tensor, output_size=None) -> Tensor:
        return getattr(F, self._op_name)(x, self.weight, self.bias, self.stride,
                                           self.padding, self._output_padding(x, output_size),
                                           self.groups, self.dilation)

    def _output_padding(self, x: Tensor, output_size) -> tuple:
        """output_padding, or what gives `output_size` (its spatial sizes, or with the batch
        and channel dims too): torch's rule, each between the smallest output size and that
        plus stride - 1."""
        if output_size is None:
            return self.output_padding
        layer, rank = type(self).__name__, self.rank
        if not isinstance(x, Tensor):
            raise TypeError(f"{layer}: expected a Tensor input, got {type(x).__name__}")
        sizes = [int(n) for n in output_size]
        leading = 2 if x.ndim == rank + 2 else 1  # batch and channels, or channels
        if len(sizes) == leading + rank:
            sizes = sizes[leading:]
        if len(sizes) != rank:
            raise ValueError(f"{layer}: for a {x.ndim}-D input, output_size must have {rank} "
                             f"or {rank + leading} elements, got {output_size!r}")
        smallest = conv_general.transposed_output_size(
            x.shape[-rank:], self.kernel_size, self.stride, self.padding, self.dilation,
            (0,) * rank)
        largest = tuple(n + s - 1 for n, s in zip(smallest, self.stride))
        if not all(low <= n <= high for n, low, high in zip(sizes, smallest, largest)):
            raise ShapeError(f"{layer}: requested an output size of {sizes}, but valid sizes "
                             f"range from {list(smallest)} to {list(largest)} (for an input of "
                             f"spatial size {x.shape[-rank:]})")
        return tuple(n - low for n, low in zip(sizes, smallest))


class ConvTranspose1d(_ConvTranspose):
    rank, _op_name = 1, "conv_transpose1d"


class ConvTranspose2d(_ConvTranspose):
    rank, _op_name = 2, "conv_transpose2d"
