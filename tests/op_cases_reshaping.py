"""Op cases of ops/reshaping (see op_cases.py for what a Case is): padding in its four modes,
flips and rolls, expand / repeat / tile / repeat_interleave, dim moves, the views that cut a
tensor (narrow, split, chunk, unbind: their pieces joined again with a different weight each,
so that a piece's gradient landing in another's place shows), triangles and stacking."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from op_cases import Case, _normal, dims


def _tensor_input(data, min_dims=0, max_dims=3, min_side=1, max_side=4):
    return _normal(data, data.draw(dims(min_dims, max_dims, min_side, max_side), label="shape"))


def _one_input(min_dims=0, max_dims=3, **options):
    """A draw of one tensor and the keyword arguments `options` draws from it:
    {name: fn(data, shape) -> value}."""
    def draw(data):
        x = _tensor_input(data, min_dims, max_dims)
        return [x], {name: make(data, x.shape) for name, make in options.items()}
    return draw


def _a_dim(data, shape, label="dim"):
    rank = max(len(shape), 1)
    return data.draw(st.integers(-rank, rank - 1), label=label)


def _distinct_dims(data, shape):
    order = data.draw(st.permutations(range(len(shape))), label="order")
    count = data.draw(st.integers(0, len(shape)), label="count")
    return tuple(d - len(shape) if data.draw(st.booleans(), label=f"negative {d}") else d
                 for d in order[:count])


# ----- padding ----------------------------------------------------------------------------

def _pad_shape(data, padded: int):
    """(batch, channels, padded dims...) or (channels, padded dims...): the non-constant
    modes' shapes; 3 padded dims are kept small (finite differences visit every element)."""
    channels = (data.draw(st.integers(1, 2), label="channels"),)
    high = 4 if padded < 3 else 3
    sides = tuple(data.draw(st.integers(1, high), label=f"side {k}") for k in range(padded))
    if data.draw(st.booleans(), label="batched"):
        return (data.draw(st.integers(1, 2), label="batch"),) + channels + sides
    return channels + sides


def draw_pad(mode):
    def draw(data):
        if mode == "constant":
            x = _tensor_input(data, 1, 3)
            widths = []
            for size in reversed(x.shape[len(x.shape) - data.draw(
                    st.integers(1, x.ndim), label="padded dims"):]):
                left = data.draw(st.integers(-size, 2), label="left")
                # (torch crops first: the negative paddings together at most the size)
                widths += [left, data.draw(st.integers(-(size + min(left, 0)), 2),
                                           label="right")]
            return [x], {"pad": tuple(widths), "mode": mode,
                         "value": data.draw(st.sampled_from([None, 0.0, 1.5, -2.0]))}
        padded = data.draw(st.integers(1, 3), label="padded dims")
        shape = _pad_shape(data, padded)
        widths = []
        for size in reversed(shape[-padded:]):
            if mode == "reflect":  # |padding| < size, the output at least 1 long
                left = data.draw(st.integers(-(size - 1), size - 1), label="left")
                right = data.draw(st.integers(max(-(size - 1), 1 - size - left), size - 1))
            elif mode == "replicate":
                left = data.draw(st.integers(-(size - 1), 3), label="left")
                right = data.draw(st.integers(1 - size - left, 3), label="right")
            else:  # circular: wraps at most over what cropping leaves
                crop_left = data.draw(st.integers(0, size - 1), label="crop left")
                crop_right = data.draw(st.integers(0, size - 1 - crop_left), label="crop right")
                kept = size - crop_left - crop_right
                left = -crop_left if crop_left else data.draw(st.integers(0, kept))
                right = -crop_right if crop_right else data.draw(st.integers(0, kept))
            widths += [left, right]
        return [_normal(data, shape)], {"pad": tuple(widths), "mode": mode}
    return draw


def _pad_theirs(t, x, **k):
    return t.nn.functional.pad(x, **k)


# ----- expand, repeat, tile, repeat_interleave ---------------------------------------------

def draw_expand(data):
    shape = data.draw(dims(0, 3, 1, 3), label="shape")
    shape = tuple(1 if data.draw(st.booleans(), label=f"size 1 at {i}") else n
                  for i, n in enumerate(shape))
    lead = data.draw(dims(0, 2, 1, 3), label="new leading dims")
    sizes = [data.draw(st.sampled_from([-1, 1, 2, 3] if n == 1 else [-1, n]))
             for n in shape]
    return [_normal(data, shape)], {"sizes": lead + tuple(sizes)}


def draw_expand_as(data):
    (x,), kwargs = draw_expand(data)
    target = kwargs["sizes"]
    extra = len(target) - x.ndim
    shape = tuple(n if n != -1 else x.shape[i - extra] for i, n in enumerate(target))
    return [x, _normal(data, shape)], {}


def draw_repeat(data):
    x = _tensor_input(data, 0, 3, max_side=3)
    extra = data.draw(st.integers(0, 2), label="new dims")
    return [x], {"repeats": tuple(data.draw(st.integers(1, 3), label="count")
                                  for _ in range(x.ndim + extra))}


def draw_tile(data):
    x = _tensor_input(data, 0, 3, max_side=3)
    count = data.draw(st.integers(0, x.ndim + 1), label="how many")
    return [x], {"dims": tuple(data.draw(st.integers(1, 3)) for _ in range(count))}


def draw_repeat_interleave(by_tensor):
    def draw(data):
        x = _tensor_input(data, 0, 3)
        dim = None if data.draw(st.booleans(), label="flattened") or x.ndim == 0 \
            else _a_dim(data, x.shape)
        size = x.size if dim is None else x.shape[dim]
        if by_tensor:
            rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
            repeats = rng.integers(0, 4, size)
        else:
            repeats = data.draw(st.integers(0, 3), label="repeats")
        return [x], {"repeats": repeats, "dim": dim}
    return draw


def _repeats(fw, repeats):
    return fw.tensor(repeats) if isinstance(repeats, np.ndarray) else repeats


# ----- views and dim moves ------------------------------------------------------------------

def draw_view(data):
    """A tensor and a shape of its size: a -1 inferred, a size-1 dim added, or 0-d."""
    x = _tensor_input(data, 0, 3)
    flat = x.size
    divisor = data.draw(st.sampled_from([d for d in range(1, flat + 1) if flat % d == 0]))
    shapes = [(-1,), (divisor, -1), (flat // divisor, 1, divisor)] + ([()] if flat == 1 else [])
    return [x], {"shape": data.draw(st.sampled_from(shapes), label="target")}


def draw_unflatten(data):
    x = _tensor_input(data, 1, 3)
    dim = _a_dim(data, x.shape)
    size = x.shape[dim]
    first = data.draw(st.sampled_from([d for d in range(1, size + 1) if size % d == 0]))
    sizes = data.draw(st.sampled_from([(first, size // first), (first, -1), (-1, first),
                                       (size,), (1, size, 1)]))
    return [x], {"dim": dim, "sizes": sizes}


def draw_movedim(sequences):
    def draw(data):
        x = _tensor_input(data, 1, 4, max_side=3)
        if not sequences:
            return [x], {"source": _a_dim(data, x.shape, "source"),
                         "destination": _a_dim(data, x.shape, "destination")}
        count = data.draw(st.integers(0, x.ndim), label="count")
        source = data.draw(st.permutations(range(x.ndim)), label="source")[:count]
        destination = data.draw(st.permutations(range(x.ndim)), label="destination")[:count]
        return [x], {"source": tuple(source), "destination": list(destination)}
    return draw


def draw_two_dims(data):
    x = _tensor_input(data, 0, 3)
    return [x], {"dim0": _a_dim(data, x.shape, "dim0"), "dim1": _a_dim(data, x.shape, "dim1")}


def draw_narrow(data):
    x = _tensor_input(data, 1, 3)
    dim = _a_dim(data, x.shape)
    size = x.shape[dim]
    start = data.draw(st.integers(-size, size), label="start")
    length = data.draw(st.integers(0, size - start % size if start < 0 else size - start))
    return [x], {"dim": dim, "start": start, "length": length}


def draw_split(sections):
    def draw(data):
        x = _tensor_input(data, 1, 3, max_side=5)
        dim = _a_dim(data, x.shape)
        size = x.shape[dim]
        if not sections:
            return [x], {"split": data.draw(st.integers(1, size + 1)), "dim": dim}
        cuts = sorted(data.draw(st.lists(st.integers(0, size), max_size=3), label="cuts"))
        bounds = [0] + cuts + [size]
        return [x], {"split": [b - a for a, b in zip(bounds, bounds[1:])], "dim": dim}
    return draw


def draw_chunk(data):
    x = _tensor_input(data, 1, 3, max_side=5)
    return [x], {"chunks": data.draw(st.integers(1, 6)), "dim": _a_dim(data, x.shape)}


def _joined(fw, pieces, dim):
    """The pieces concatenated again, each times its own weight."""
    return fw.cat([piece * (i + 1.0) for i, piece in enumerate(pieces)], dim)


def _stacked(fw, pieces, dim):
    return fw.stack([piece * (i + 1.0) for i, piece in enumerate(pieces)], dim)


def draw_unbind(data):
    x = _tensor_input(data, 1, 3)
    return [x], {"dim": data.draw(st.integers(-x.ndim, x.ndim - 1))}


def draw_triangle(data):
    x = _tensor_input(data, 2, 4, max_side=4)
    return [x], {"diagonal": data.draw(st.integers(-4, 4), label="diagonal")}


def draw_squeeze(data):
    shape = tuple(1 if data.draw(st.booleans(), label=f"size 1 at {i}") else n
                  for i, n in enumerate(data.draw(dims(0, 4, 1, 3), label="shape")))
    return [_normal(data, shape)], {"dim": _distinct_dims(data, shape)}


def draw_unsqueeze(data):
    x = _tensor_input(data, 0, 3)
    return [x], {"dim": data.draw(st.integers(-x.ndim - 1, x.ndim), label="dim")}


# ----- stacking -----------------------------------------------------------------------------

def draw_stacking(kind):
    """1-3 tensors that `kind` (hstack, vstack, dstack) can join: one shape, but for the
    size of the joined dim where the tensors keep their dims."""
    def draw(data):
        ndim = data.draw(st.integers(0, 3), label="ndim")
        shape = list(data.draw(dims(ndim, ndim, 1, 3), label="shape"))
        varies = {"hstack": None if ndim == 0 else 0 if ndim == 1 else 1,
                  "vstack": 0 if ndim >= 2 else None,
                  "dstack": 2 if ndim == 3 else None}[kind]
        arrays = []
        for _ in range(data.draw(st.integers(1, 3), label="count")):
            if varies is not None:
                shape[varies] = data.draw(st.integers(1, 3), label="joined size")
            arrays.append(_normal(data, tuple(shape)))
        return arrays, {}
    return draw


CASES = [
    Case("pad constant", draw_pad("constant"), lambda x, **k: F.pad(x, **k), _pad_theirs),
    Case("pad reflect", draw_pad("reflect"), lambda x, **k: F.pad(x, **k), _pad_theirs),
    Case("pad replicate", draw_pad("replicate"), lambda x, **k: F.pad(x, **k), _pad_theirs),
    Case("pad circular", draw_pad("circular"), lambda x, **k: F.pad(x, **k), _pad_theirs),
    Case("flip", _one_input(dims=_distinct_dims), lambda x, dims: mt.flip(x, dims),
         lambda t, x, dims: t.flip(x, dims)),
    Case("flip method", _one_input(1, 3, dims=lambda d, s: tuple(range(len(s)))),
         lambda x, dims: x.flip(*dims), lambda t, x, dims: x.flip(*dims)),
    Case("fliplr", _one_input(2, 3), mt.fliplr, lambda t, x: t.fliplr(x)),
    Case("flipud", _one_input(1, 3), mt.flipud, lambda t, x: t.flipud(x)),
    Case("roll flattened", _one_input(0, 3, shifts=lambda d, s: d.draw(st.integers(-7, 7))),
         lambda x, shifts: mt.roll(x, shifts), lambda t, x, shifts: t.roll(x, shifts)),
    Case("roll dims", _one_input(
        1, 3, dims=lambda d, s: tuple(d.draw(st.lists(st.integers(-len(s), len(s) - 1),
                                                      min_size=1, max_size=3)))),
         lambda x, dims: x.roll(tuple(range(-2, len(dims) - 2)), dims),
         lambda t, x, dims: x.roll(tuple(range(-2, len(dims) - 2)), dims)),
    Case("expand", draw_expand, lambda x, sizes: x.expand(sizes),
         lambda t, x, sizes: x.expand(sizes)),
    Case("expand_as", draw_expand_as, lambda x, y: x.expand_as(y),
         lambda t, x, y: x.expand_as(y)),
    Case("repeat", draw_repeat, lambda x, repeats: x.repeat(repeats),
         lambda t, x, repeats: x.repeat(repeats)),
    Case("tile", draw_tile, lambda x, dims: mt.tile(x, dims),
         lambda t, x, dims: t.tile(x, dims)),
    Case("repeat_interleave int", draw_repeat_interleave(by_tensor=False),
         lambda x, repeats, dim: mt.repeat_interleave(x, repeats, dim),
         lambda t, x, repeats, dim: t.repeat_interleave(x, repeats, dim)),
    Case("repeat_interleave tensor", draw_repeat_interleave(by_tensor=True),
         lambda x, repeats, dim: x.repeat_interleave(_repeats(mt, repeats), dim),
         lambda t, x, repeats, dim: x.repeat_interleave(_repeats(t, repeats), dim)),
    Case("view", draw_view, lambda x, shape: x.view(shape), lambda t, x, shape: x.view(shape)),
    # a transposed tensor viewed where its strides allow it (a size-1 dim added)
    Case("view of transposed", _one_input(2, 2),
         lambda x: x.t().view(x.shape[1], 1, x.shape[0]),
         lambda t, x: x.t().view(x.shape[1], 1, x.shape[0])),
    Case("view_as", _one_input(0, 3),
         lambda x: x.view_as(mt.zeros(x.numel(), 1, dtype=x.dtype).to(x.device)),
         lambda t, x: x.view_as(t.zeros(x.numel(), 1, dtype=x.dtype))),
    Case("reshape_as", _one_input(2, 2), lambda x: x.t().reshape_as(x.reshape(-1)),
         lambda t, x: x.t().reshape_as(x.reshape(-1))),
    Case("contiguous", _one_input(2, 3), lambda x: x.transpose(0, 1).contiguous() * 2,
         lambda t, x: x.transpose(0, 1).contiguous() * 2),
    Case("unflatten", draw_unflatten, lambda x, **k: mt.unflatten(x, **k),
         lambda t, x, **k: t.unflatten(x, **k)),
    Case("movedim", draw_movedim(sequences=False), lambda x, **k: mt.movedim(x, **k),
         lambda t, x, **k: t.movedim(x, **k)),
    Case("moveaxis tuples", draw_movedim(sequences=True), lambda x, **k: x.moveaxis(**k),
         lambda t, x, **k: x.moveaxis(**k)),
    Case("t 0-2 dims", _one_input(0, 2), mt.t, lambda t, x: t.t(x)),
    Case("swapaxes", draw_two_dims, lambda x, dim0, dim1: mt.swapaxes(x, dim0, dim1),
         lambda t, x, dim0, dim1: t.swapaxes(x, dim0, dim1)),
    Case("swapdims", draw_two_dims, lambda x, dim0, dim1: x.swapdims(dim0, dim1),
         lambda t, x, dim0, dim1: x.swapdims(dim0, dim1)),
    Case("narrow", draw_narrow, lambda x, **k: mt.narrow(x, **k),
         lambda t, x, **k: t.narrow(x, **k)),
    Case("split size", draw_split(sections=False),
         lambda x, split, dim: _joined(mt, mt.split(x, split, dim), dim),
         lambda t, x, split, dim: _joined(t, t.split(x, split, dim), dim)),
    Case("split sections", draw_split(sections=True),
         lambda x, split, dim: _joined(mt, x.split(split, dim), dim),
         lambda t, x, split, dim: _joined(t, x.split(split, dim), dim)),
    Case("chunk", draw_chunk, lambda x, chunks, dim: _joined(mt, mt.chunk(x, chunks, dim), dim),
         lambda t, x, chunks, dim: _joined(t, t.chunk(x, chunks, dim), dim)),
    Case("unbind", draw_unbind, lambda x, dim: _stacked(mt, mt.unbind(x, dim), dim),
         lambda t, x, dim: _stacked(t, t.unbind(x, dim), dim)),
    Case("tril", draw_triangle, lambda x, diagonal: mt.tril(x, diagonal),
         lambda t, x, diagonal: t.tril(x, diagonal)),
    Case("triu", draw_triangle, lambda x, diagonal: x.triu(diagonal),
         lambda t, x, diagonal: x.triu(diagonal)),
    Case("triu_ inplace", draw_triangle, lambda x, diagonal: (x * 1).triu_(diagonal),
         lambda t, x, diagonal: (x * 1).triu_(diagonal)),
    Case("squeeze dims", draw_squeeze, lambda x, dim: mt.squeeze(x, dim),
         lambda t, x, dim: t.squeeze(x, dim)),
    Case("unsqueeze", draw_unsqueeze, lambda x, dim: mt.unsqueeze(x, dim),
         lambda t, x, dim: t.unsqueeze(x, dim)),
    Case("hstack", draw_stacking("hstack"), lambda *x: mt.hstack(x),
         lambda t, *x: t.hstack(x)),
    Case("vstack", draw_stacking("vstack"), lambda *x: mt.vstack(x),
         lambda t, *x: t.vstack(x)),
    Case("dstack", draw_stacking("dstack"), lambda *x: mt.dstack(x),
         lambda t, *x: t.dstack(x)),
    Case("atleast_3d", _one_input(0, 3), mt.atleast_3d, lambda t, x: t.atleast_3d(x)),
]
