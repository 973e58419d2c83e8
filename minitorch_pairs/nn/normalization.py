"""Per-sample normalisation layers, as torch.nn: LayerNorm and GroupNorm (arguments,
parameters initialised to ones and zeros, reprs as torch's; the ops are in
ops/layer_norms.py)."""
from __future__ import annotations

import numbers

import numpy as np

from ..dtypes import get_default_dtype
from ..tensor import Tensor, as_dtype
from . import functional as F
from . import init
from .layers import _place
from .module import Module, Parameter


class _AffineNorm(Module):
    """A per-sample norm's optional weight (ones) and bias (zeros), as torch's."""

    def _affine(self, shape, weight: bool, bias: bool, dtype, device) -> None:
        dtype = as_dtype(dtype) or get_default_dtype()
        self.register_parameter("weight", Parameter(np.ones(shape, dtype)) if weight else None)
        self.register_parameter("bias", Parameter(np.zeros(shape, dtype))
                                if weight and bias else None)
        _place(self, device)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)


class LayerNorm(_AffineNorm):
    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self._affine(self.normalized_shape, elementwise_affine, bias, dtype, device)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, " \
               f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"


class GroupNorm(_AffineNorm):
    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = \
            num_groups, num_channels, eps, affine
        self._affine((num_channels,), affine, bias, dtype, device)

    def forward(self, x: Tensor) -> Tensor:
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, " \
               f"affine={self.affine}, bias={self.bias is not None}"
