"""Layers with parameters or modes: Linear, Conv2d, BatchNorm1d/2d, Dropout, pooling,
Flatten and Identity (as in torch.nn: arguments, defaults, registered names and reprs).
Activations are in activation.py, containers in containers.py."""
from __future__ import annotations

import numbers
import numpy as np

from ..dtypes import get_default_dtype
from ..errors import ShapeError
from ..ops.conv_pool import pair
from ..tensor import Tensor, as_dtype
from . import functional as F
from . import init
from .module import Module, Parameter


def _positive_int(layer: str, name: str, value) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: expected {name} to be a positive integer, got {value!r}")
    return int(value)


def _unsupported(layer: str, name: str, value, default) -> None:
    """torch's argument, accepted at its default only (our kernels have no other)."""
    if value != default:
        raise NotImplementedError(f"{layer}: {name}={value!r} is not supported by "
                                  f"minitorch_pairs (only {name}={default!r})")


def _place(module: Module, device) -> None:
    """A layer built with device=: moved there after initialisation on the host."""
    if device is not None:
        module.to(device)


class Linear(Module):
    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        self.in_features = _positive_int("Linear", "in_features", in_features)
        self.out_features = _positive_int("Linear", "out_features", out_features)
        dtype = as_dtype(dtype) or get_default_dtype()
        self.weight = Parameter(np.empty((out_features, in_features), dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        _place(self, device)

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"bias={self.bias is not None}"


class Conv2d(Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__()
        self.in_channels = _positive_int("Conv2d", "in_channels", in_channels)
        self.out_channels = _positive_int("Conv2d", "out_channels", out_channels)
        self.kernel_size = pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = pair("Conv2d", "stride", stride, 1)
        self.padding = pair("Conv2d", "padding", padding, 0)
        self.dilation = pair("Conv2d", "dilation", dilation, 1)
        _unsupported("Conv2d", "dilation", self.dilation, (1, 1))
        self.groups, self.padding_mode = groups, padding_mode
        _unsupported("Conv2d", "groups", groups, 1)
        _unsupported("Conv2d", "padding_mode", padding_mode, "zeros")
        self.output_padding = (0, 0)
        dtype = as_dtype(dtype) or get_default_dtype()
        self.weight = Parameter(np.empty((out_channels, in_channels) + self.kernel_size, dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        _place(self, device)

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, " \
               f"stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        return text + (", bias=False" if self.bias is None else "")


class _BatchNorm(Module):
    """Batch statistics in training (updating the running ones), running statistics in eval."""

    input_dims: tuple = ()
    _version = 2  # torch's: state dicts of version 1 lack num_batches_tracked

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_features = _positive_int(type(self).__name__, "num_features", num_features)
        self.eps, self.momentum, self.affine = eps, momentum, affine
        self.track_running_stats = track_running_stats
        dtype = as_dtype(dtype) or get_default_dtype()
        self.register_parameter("weight", Parameter(np.ones(num_features, dtype))
                                if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(num_features, dtype))
                                if affine and bias else None)
        tracked = {"running_mean": np.zeros(num_features, dtype),
                   "running_var": np.ones(num_features, dtype),
                   "num_batches_tracked": np.zeros((), np.int64)}
        for name, value in tracked.items():
            self.register_buffer(name, Tensor(value) if track_running_stats else None)
        _place(self, device)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        """torch's: a state dict older than version 2 (or without metadata, as a plain dict)
        may lack num_batches_tracked; the current count is kept then."""
        version = local_metadata.get("version")
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats and \
                key not in state_dict:
            state_dict[key] = self.num_batches_tracked
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self.input_dims:
            raise ValueError(f"{type(self).__name__}: expected a {' or '.join(map(str, self.input_dims))}"
                             f"-D input, got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}: expected {self.num_features} channels in "
                             f"dim 1, got input shape {x.shape}")
        use_batch_stats = self.training or not self.track_running_stats
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            if momentum is None:  # torch's cumulative moving average of all batches so far
                momentum = 1.0 / float(self.num_batches_tracked.item())
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=use_batch_stats, momentum=momentum, eps=self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, " \
               f"affine={self.affine}, bias={self.bias is not None}, " \
               f"track_running_stats={self.track_running_stats}"


class BatchNorm1d(_BatchNorm):
    input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    input_dims = (4,)


class Dropout(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: expected a probability p in [0, 1], got {p!r}")
        self.p, self.inplace = p, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size  # torch's default
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode
        _unsupported("MaxPool2d", "dilation", pair("MaxPool2d", "dilation", dilation, 1),
                     (1, 1))
        _unsupported("MaxPool2d", "return_indices", return_indices, False)
        _unsupported("MaxPool2d", "ceil_mode", ceil_mode, False)

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, " \
               f"padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}"


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override
        _unsupported("AvgPool2d", "ceil_mode", ceil_mode, False)
        _unsupported("AvgPool2d", "count_include_pad", count_include_pad, True)
        _unsupported("AvgPool2d", "divisor_override", divisor_override, None)

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Identity(Module):
    """Its input, unchanged; arguments are accepted and ignored, as torch's."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
