"""torch.nn.functional.embedding: rows of a weight matrix picked by integer indices, with
padding_idx (its row gets no gradient), scale_grad_by_freq and max_norm (the picked rows
renormalised in place first, as torch's embedding_renorm_). Sparse gradients are refused.
Gathers and scatter-adds only, so device tensors run too.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd import Function, no_grad
from ..errors import ShapeError
from ..tensor import Tensor
from . import fusion


class Embedding(Function):
    """out[..., :] = weight[indices[...], :]; the weight's gradient adds each output row's
    gradient at its index (divided by how often the index occurs, with scale_grad_by_freq),
    the padding row's set to zero."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        flat = indices.reshape(-1)
        ctx.flat, ctx.weight_shape = flat, weight.shape
        ctx.padding_idx, ctx.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return weight[flat].reshape(indices.shape + weight.shape[1:])

    @staticmethod
    def backward(ctx, grad):
        rows = backend.contiguous(grad).reshape(-1, ctx.weight_shape[1])
        grad_weight = backend.zeros(ctx.weight_shape, rows.dtype, like=rows)
        np.add.at(grad_weight, ctx.flat, rows)
        if ctx.scale_grad_by_freq:
            counts = backend.zeros(ctx.weight_shape[0], rows.dtype, like=rows)
            np.add.at(counts, ctx.flat, backend.full(ctx.flat.shape, 1, rows.dtype, like=rows))
            grad_weight = grad_weight / np.maximum(counts, 1)[:, None]
        if ctx.padding_idx is not None:
            grad_weight[ctx.padding_idx] = 0
        return grad_weight


def padding_index(padding_idx, num_embeddings: int):
    """torch's padding_idx: None, or an index in [-num_embeddings, num_embeddings), negative
    ones counted from the end; AssertionError (torch's class) otherwise."""
    if padding_idx is None:
        return None
    if not isinstance(padding_idx, numbers.Integral) or isinstance(padding_idx, bool):
        raise TypeError(f"embedding: padding_idx must be an int or None, got "
                        f"{type(padding_idx).__name__}")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return int(padding_idx) % num_embeddings


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """torch.nn.functional.embedding(input, weight, ...): input's int32/int64 indices pick
    rows of the 2-D weight; the result has shape input.shape + (embedding_dim,)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"embedding(): argument 'indices' must be Tensor, not "
                        f"{type(input).__name__}")
    if not isinstance(weight, Tensor):
        raise TypeError(f"embedding(): argument 'weight' must be Tensor, not "
                        f"{type(weight).__name__}")
    padding_idx = padding_index(padding_idx, weight.shape[0] if weight.ndim else 0)
    if input.dtype not in (np.int32, np.int64):
        raise RuntimeError(f"embedding: Expected tensor for argument #1 'indices' to have one "
                           f"of the following scalar types: Long, Int; but got dtype "
                           f"{input.dtype} instead")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: 'weight' must be 2-D, got shape {weight.shape}")
    if input.device != weight.device:
        raise RuntimeError(f"embedding: expected indices and weight on one device, got "
                           f"{input.device} and {weight.device}")
    if sparse:
        raise NotImplementedError("embedding: sparse=True (sparse gradients) is not supported "
                                  "by minitorch_pairs; use sparse=False (a dense gradient)")
    host = np.asarray(backend.transfer(input._data, "cpu"), dtype=np.int64)
    if host.size and (host.min() < 0 or host.max() >= weight.shape[0]):
        raise IndexError(f"embedding: index out of range in self (indices must be in "
                         f"[0, {weight.shape[0]}), got {host.min()}..{host.max()})")
    if max_norm is not None:
        _renorm_rows(weight, np.unique(host), float(max_norm), float(norm_type))
    indices = input._data.astype(np.int64, copy=False)
    return Embedding.apply(weight, indices=indices, padding_idx=padding_idx,
                           scale_grad_by_freq=bool(scale_grad_by_freq))


@no_grad()
def _renorm_rows(weight: Tensor, rows: np.ndarray, max_norm: float, norm_type: float) -> None:
    """torch's embedding_renorm_: each picked row whose norm_type-norm exceeds max_norm is
    scaled by max_norm / (norm + 1e-7), in place (the weight's version goes up)."""
    if not rows.size:
        return
    values = np.asarray(backend.transfer(weight._data[rows], "cpu"), dtype=np.float64)
    magnitudes = np.abs(values)
    if norm_type == np.inf:
        norms = magnitudes.max(axis=1)
    elif norm_type == 0:
        norms = (magnitudes != 0).sum(axis=1).astype(np.float64)
    else:
        norms = (magnitudes ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    over = norms > max_norm
    if not over.any():
        return
    scaled = values[over] * (max_norm / (norms[over] + 1e-7))[:, None]
    fusion.before_write(weight._data)
    weight._data[rows[over]] = backend.transfer(scaled.astype(weight.dtype), weight.device)
    weight._version_counter[0] += 1
