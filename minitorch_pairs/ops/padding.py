"""F.pad with torch's modes (constant, which crops where padding is negative; reflect;
replicate; circular), its order of checks and its errors. The non-constant modes pick input
positions along each padded axis (reshaping.Gather), so their gradient adds up what each
position was picked for; like the rest of reshaping's ops they run on device arrays too."""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd import Function
from ..tensor import Tensor
from .reshaping import Gather, _check_tensor, _int_tuple

__all__ = ["pad"]


class ConstantPad(Function):
    """`value` around the input; negative padding crops (the source region is smaller)."""

    @staticmethod
    def forward(ctx, a, shape, source, target, value):
        ctx.shape, ctx.source, ctx.target = a.shape, source, target
        out = backend.full(shape, value, a.dtype, like=a)
        out[target] = a[source]
        return out

    @staticmethod
    def backward(ctx, grad):
        full = backend.zeros(ctx.shape, grad.dtype, like=grad)
        full[ctx.source] = grad[ctx.target]
        return full


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """torch.nn.functional.pad. `pad` is (left, right) for the last dim, then (left, right)
    for the one before, and so on. "constant" fills with `value` (0 by default, cast to the
    input's dtype) and crops where a padding is negative; "reflect" mirrors without repeating
    the edge, "replicate" repeats the edge, "circular" wraps around. The non-constant modes
    take torch's shapes: 2 paddings for a 2-d or 3-d input, 4 for 3-d or 4-d, 6 for 4-d or
    5-d."""
    _check_tensor("pad", input)
    widths = _int_tuple("pad", "pad", pad)
    if not isinstance(mode, str):
        raise TypeError(f"pad(): argument 'mode' must be str, not {type(mode).__name__}")
    if len(widths) % 2:
        raise RuntimeError("pad: Padding length must be divisible by 2")
    if len(widths) // 2 > input.ndim:
        raise RuntimeError(f"pad: Padding length should be less than or equal to two times "
                           f"the input dimension but got padding length {len(widths)} and "
                           f"input of dimension {input.ndim}")
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: Unrecognised padding mode {mode}")
    # (axis, left, right) per padded dim, the last dim first
    sides = [(input.ndim - 1 - k, widths[2 * k], widths[2 * k + 1])
             for k in range(len(widths) // 2)]
    if mode == "constant":
        return _constant_pad(input, sides, _fill_value(0 if value is None else value,
                                                       input.dtype))
    if value is not None and value != 0:
        raise RuntimeError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
    if len(widths) not in (2, 4, 6) or input.ndim not in (len(widths) // 2 + 1,
                                                           len(widths) // 2 + 2):
        raise NotImplementedError(f"pad: Padding size {len(widths)} is not supported for "
                                  f"{input.ndim}D input tensor.")
    if mode == "circular":
        picks = _circular_picks(input.shape, sides)
    else:
        if input.dtype.kind == "b":
            raise NotImplementedError(f'pad: "{mode}" padding is not implemented for \'Bool\' '
                                      "(as in torch)")
        picks = _edge_picks(input.shape, sides, mode, len(widths) // 2)
    return Gather.apply(input, picks=picks)


def _fill_value(value, dtype):
    """The padding value as torch converts it to the input's dtype: integers truncate, and a
    value the dtype cannot hold is an error (any value is a bool)."""
    if isinstance(value, Tensor):
        value = value.item()
    if not isinstance(value, (numbers.Real, np.bool_)):
        raise TypeError(f"pad(): argument 'value' must be a number, not {type(value).__name__}")
    if dtype.kind == "b":
        return bool(value)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if not np.isfinite(float(value)) or not info.min <= int(value) <= info.max:
            raise RuntimeError(f"pad: value {value} cannot be converted to type {dtype} "
                               "without overflow")
        return int(value)
    if np.isfinite(float(value)) and abs(float(value)) > np.finfo(dtype).max:
        raise RuntimeError(f"pad: value {value} cannot be converted to type {dtype} without "
                           "overflow")
    return float(value)


def _constant_pad(input: Tensor, sides, value) -> Tensor:
    shape = list(input.shape)
    source = [slice(None)] * input.ndim
    target = [slice(None)] * input.ndim
    for axis, left, right in sides:
        size = input.shape[axis]
        kept = size + min(left, 0) + min(right, 0)  # torch crops first, then pads
        if kept < 0:
            raise RuntimeError(f"pad: narrow(): length must be non-negative (the negative "
                               f"paddings of ({left}, {right}) crop more than the {size} "
                               f"elements of dim {axis})")
        shape[axis] = size + left + right
        source[axis] = slice(max(-left, 0), max(-left, 0) + kept)
        target[axis] = slice(max(left, 0), max(left, 0) + kept)
    return ConstantPad.apply(input, shape=tuple(shape), source=tuple(source),
                             target=tuple(target), value=value)


def _edge_picks(shape: tuple, sides, mode: str, padded_dims: int) -> tuple:
    """Reflect: position p of the input (p = output position - left) mirrored about its first
    and last elements; replicate: p clamped to them. Checks and wording as torch's."""
    batch_mode = len(shape) == padded_dims + 2
    if any(n == 0 for n in shape[1 if batch_mode else 0:]):
        raise RuntimeError(f"pad: Expected {padded_dims + 1}D or {padded_dims + 2}D (batch "
                           f"mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {list(shape)}")
    if mode == "reflect":
        for k, (axis, left, right) in enumerate(sides):
            if not (left < shape[axis] and right < shape[axis]):
                raise RuntimeError(f"pad: Argument #{4 + 2 * k}: Padding size should be less "
                                   f"than the corresponding input dimension, but got: padding "
                                   f"({left}, {right}) at dimension {axis} of input "
                                   f"{list(shape)}")
    if any(shape[axis] + left + right < 1 for axis, left, right in sides):
        names = "DHW"[3 - len(sides):]
        given = ", ".join(f"{name}: {shape[axis]}" for name, (axis, _, _)
                          in zip(names, reversed(sides)))
        result = " ".join(f"{name}: {shape[axis] + left + right}" for name, (axis, left, right)
                          in zip(names, reversed(sides)))
        raise RuntimeError(f"pad: input ({given}) is too small. Calculated output {result}")
    picks = []
    for axis, left, right in sides:
        last = shape[axis] - 1
        p = np.arange(shape[axis] + left + right) - left
        if mode == "reflect":
            p = np.where(p < 0, -p, np.where(p > last, 2 * last - p, p))
        else:
            p = np.clip(p, 0, last)
        picks.append((axis, p))
    return tuple(picks)


def _circular_picks(shape: tuple, sides) -> tuple:
    """Circular: the input cropped by the negative paddings, then wrapped around by the
    positive ones (torch's order)."""
    picks = []
    for axis, left, right in sides:
        size = shape[axis]
        if left > size or right > size:
            raise RuntimeError("pad: Padding value causes wrapping around more than once.")
        if size + left + right < 0:
            raise RuntimeError("pad: Negative padding value is resulting in an empty dimension")
        start = max(-left, 0)
        kept = size - start - max(-right, 0)
        out = size + left + right
        if out and (max(left, 0) > kept or max(right, 0) > kept):
            # torch copies from memory not written yet here: no answer to match
            raise RuntimeError(f"pad: circular padding ({left}, {right}) of dim {axis} (size "
                               f"{size}) wraps around more than the {max(kept, 0)} elements "
                               "left after cropping (torch's result is undefined there)")
        picks.append((axis, start + (np.arange(out) - max(left, 0)) % max(kept, 1)))
    return tuple(picks)
