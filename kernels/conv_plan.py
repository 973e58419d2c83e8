"""A convolution's plan: its geometry and the algorithm a device's kernels run it by, chosen
once per forward call (each device module's conv2d_plan) and kept for the backward, which
follows it whatever the settings are by then.

    algorithm  "winograd" (3x3 stride 1, kernels/cpu/conv_winograd.py), "images" (a product
               per image, kernels/cpu/conv_images.py) or "im2col" (one product for the batch)
    tile       Winograd's output tile side, 4 or 6; 0 on the other algorithms
    pixels     "images" only: each image's product laid out pixel by pixel, (L, O), rather
               than plane by plane, (O, L) (kernels/cpu/conv_images.py)
    pooled     the convolution is followed by a ReLU and a 2x2 max-pool (the fused op)
    fused      the fused op has a forward kernel of its own on this algorithm (the pooled
               convolution's output is never written); else it composes conv2d and max_pool2d
"""
from __future__ import annotations

from typing import NamedTuple


class Geometry(NamedTuple):
    """A convolution's kernel, stride, padding and output size; as a plain tuple, the
    geometry argument of the CPU's im2col and per-image kernels."""
    kernel_h: int
    kernel_w: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    out_h: int
    out_w: int

    @classmethod
    def of(cls, x_shape, weight_shape, stride, padding) -> "Geometry":
        """The geometry of a convolution of an (N, C, H, W) input by an (O, C, KH, KW)
        weight."""
        kernel = tuple(int(k) for k in weight_shape[2:])
        out = tuple((size + 2 * p - k) // s + 1
                    for size, k, s, p in zip(x_shape[2:], kernel, stride, padding))
        return cls(*kernel, *map(int, stride), *map(int, padding), *out)


class ConvPlan(NamedTuple):
    """One convolution's plan (the fields as in the module's docstring)."""
    algorithm: str
    geometry: Geometry
    pooled: bool
    fused: bool
    tile: int = 0
    pixels: bool = False
