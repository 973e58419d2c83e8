"""torch.nn.functional.dropout2d: whole feature maps zeroed. The mask has one draw per
(dim 0, dim 1) pair, broadcast over the remaining dims, as torch's feature_dropout: for
(N, C, H, W) a channel of a sample; for a 3-D input torch still takes (N, C, L) (with its
warning that this will change), and for other ranks it warns that dropout2d is deprecated
there. The mask comes from the same kernels as dropout's (ops/normalization.py)."""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from .. import backend, dtypes, random
from ..tensor import Tensor
from .elementwise import mul
from .inplace import apply_inplace

_THREE_D = ("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
            "is the channel dim. This behavior will change in a future release to interpret "
            "the input as one without a batch dimension, i.e. shape (C, H, W). To maintain "
            "the 1D channel-wise dropout behavior, please switch to using dropout1d instead.")


def _other_rank(ndim: int) -> str:
    return (f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 3D or 4D inputs).")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout2d(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (3, 4):
        warnings.warn(_other_rank(input.ndim), stacklevel=2)
    if input.ndim == 3:
        warnings.warn(_THREE_D, stacklevel=2)
    if input.ndim < 2:
        raise RuntimeError("dropout2d: Feature dropout requires at least 2 dimensions in the "
                           f"input, got shape {input.shape}")
    if not training or p == 0:
        return input
    if input.dtype.kind != "f":
        raise RuntimeError(f"dropout2d: result type Float can't be cast to the desired output "
                           f"type {input.dtype} (floating-point inputs only, as torch)")
    mask = _feature_mask(input, float(p))
    if inplace:
        if isinstance(input._data, np.generic):
            input._data = np.asarray(input._data).copy()
        return apply_inplace("dropout2d_", input, lambda old: mul(old, mask))
    return mul(input, mask)


def _feature_mask(x: Tensor, p: float) -> Tensor:
    """0 or 1 / (1 - p) per (dim 0, dim 1) pair, shaped to broadcast over x."""
    seed = np.uint64(random.default_generator().integers(2 ** 63))  # one draw per call
    kernel_dtype = x.dtype if x.dtype in (dtypes.float32, dtypes.float64) else dtypes.float32
    mask = backend.empty(x.shape[0] * x.shape[1], kernel_dtype, like=x._data)
    backend.kernels(x.device).dropout_mask(seed, p, 0.0 if p == 1 else 1.0 / (1 - p), mask)
    mask = mask.astype(x.dtype, copy=False).reshape(x.shape[:2] + (1,) * (x.ndim - 2))
    return Tensor._from_array(mask, x.device)
