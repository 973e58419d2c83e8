"""Op cases of ops/indexing (see op_cases.py for what a Case is): gather, scatter (a tensor,
a value), scatter_add, index_select, take_along_dim and masked_select on drawn shapes and
valid indices (scatter's targets distinct along each line, where torch's result is defined;
scatter_add's repeating), and the products: dot, vdot, outer, mm, bmm, mv, addmm, baddbmm,
tensordot and einsum (matrix products, traces, diagonals, ellipses, broadcasting, three
operands). Index arrays travel as keyword arguments and become int64 tensors on the input's
device."""
from __future__ import annotations

import re

import numpy as np
from hypothesis import strategies as st

import minitorch_pairs as mt
from op_cases import Case, _normal, broadcast_pair, dims


def _rng(data, label="index seed"):
    return np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label=label))


def _index(array, like):
    """An index array as an int64 tensor on the device of `like`."""
    return mt.tensor(np.asarray(array, dtype=np.int64)).to(like.device)


def _block(index):
    """The leading block of a src that an index of this shape reads."""
    return tuple(slice(0, n) for n in np.shape(index))


# ----- gather, scatter, scatter_add -------------------------------------------------------

def _index_layout(data, shape, up_to_size_along_dim=False):
    """(dim, index shape) for gather/scatter on an input of `shape`: the index has as many
    dims (a 0-d input counts as 1-d), no larger outside dim; along dim up to 4 (or, for
    distinct targets, up to the input's size)."""
    full = shape if shape else (1,)
    dim = data.draw(st.integers(-len(full), len(full) - 1), label="dim")
    axis = dim % len(full)
    along = full[axis] if up_to_size_along_dim else 4
    index_shape = tuple(data.draw(st.integers(1, along if d == axis else full[d]),
                                  label=f"index size {d}") for d in range(len(full)))
    if len(full) == 1 and data.draw(st.booleans(), label="0-d index"):
        index_shape = ()  # torch: a 0-d index of a 0-d or 1-d input
    return dim, axis, index_shape


def draw_gather(data):
    shape = data.draw(dims(0, 3), label="shape")
    dim, axis, index_shape = _index_layout(data, shape)
    full = shape if shape else (1,)
    index = _rng(data).integers(0, full[axis], index_shape)
    return [_normal(data, shape)], {"dim": dim, "index": index}


def _distinct_targets(data, shape, axis, index_shape):
    """Indices whose targets along `axis` are distinct on every line (a prefix of a random
    permutation per line)."""
    full = shape if shape else (1,)
    lines = tuple(full[axis] if d == axis else n for d, n in enumerate(index_shape or (1,)))
    order = np.argsort(_rng(data).random(lines), axis=axis)
    taken = np.take(order, np.arange(index_shape[axis] if index_shape else 1), axis=axis)
    return taken.reshape(index_shape)


def draw_scatter(with_src=True, distinct=True):
    def draw(data):
        shape = data.draw(dims(0, 3), label="shape")
        dim, axis, index_shape = _index_layout(data, shape, up_to_size_along_dim=distinct)
        full = shape if shape else (1,)
        if distinct:
            index = _distinct_targets(data, shape, axis, index_shape)
        else:
            index = _rng(data).integers(0, full[axis], index_shape)
        arrays = [_normal(data, shape)]
        if with_src:  # src may be larger than the index: only its leading block is read
            src_shape = tuple(n + data.draw(st.integers(0, 1), label=f"src extra {d}")
                              for d, n in enumerate(index_shape))
            arrays.append(_normal(data, src_shape))
        return arrays, {"dim": dim, "index": index}
    return draw


# ----- index_select, take_along_dim, masked_select ---------------------------------------

def draw_index_select(data):
    shape = data.draw(dims(0, 3), label="shape")
    rank = max(len(shape), 1)
    dim = data.draw(st.integers(-rank, rank - 1), label="dim")
    size = shape[dim % rank] if shape else 1
    count = 1 if not shape else data.draw(st.integers(1, 5), label="count")
    index = _rng(data).integers(0, size, count)  # repeats add up in the gradient
    if count == 1 and data.draw(st.booleans(), label="0-d index"):
        index = index.reshape(())
    return [_normal(data, shape)], {"dim": dim, "index": index}


def draw_take_along_dim(data):
    shape = data.draw(dims(1, 3), label="shape")
    rng = _rng(data)
    if data.draw(st.booleans(), label="flattened"):
        count = data.draw(st.integers(1, 5), label="count")
        index_shape = data.draw(st.sampled_from([(count,), (1, count), ()]), label="shape")
        return [_normal(data, shape)], {
            "indices": rng.integers(0, int(np.prod(shape)), index_shape), "dim": None}
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    axis = dim % len(shape)
    # every other dim: equal, or 1 on either side (broadcast)
    x_shape, index_shape = list(shape), list(shape)
    for d in range(len(shape)):
        if d == axis:
            index_shape[d] = data.draw(st.integers(1, 4), label="along")
        elif data.draw(st.booleans(), label=f"broadcast {d}"):
            (x_shape if data.draw(st.booleans(), label="which") else index_shape)[d] = 1
    indices = rng.integers(0, x_shape[axis], tuple(index_shape))
    return [_normal(data, tuple(x_shape))], {"indices": indices, "dim": dim}


def draw_masked_select(data):
    x_shape, mask_shape = broadcast_pair(data)
    mask = _rng(data).random(mask_shape) < 0.6
    return [_normal(data, x_shape)], {"mask": mask}


# ----- products ---------------------------------------------------------------------------

def _sizes(data, count, low=1, high=4):
    return [data.draw(st.integers(low, high), label=f"size {k}") for k in range(count)]


def draw_shapes(*pattern):
    """Inputs whose shapes spell `pattern` ('nk', 'km': one drawn size per letter)."""
    def draw(data):
        letters = sorted(set("".join(pattern)))
        size = dict(zip(letters, _sizes(data, len(letters))))
        return [_normal(data, tuple(size[c] for c in p)) for p in pattern], {}
    return draw


def draw_add_product(batched):
    def draw(data):
        b, n, k, m = _sizes(data, 4)
        lead = (b,) if batched else ()
        full = lead + (n, m)
        input_shape = data.draw(st.sampled_from(
            [full, full[1:], full[-1:], (1,) * (len(full) - 1) + (m,), full[:-1] + (1,), ()]),
            label="input shape")
        return [_normal(data, input_shape), _normal(data, lead + (n, k)),
                _normal(data, lead + (k, m))], {
            "beta": data.draw(st.sampled_from([1, 0.5, 0, -1.5]), label="beta"),
            "alpha": data.draw(st.sampled_from([1, 2.0, -0.5, 0]), label="alpha")}
    return draw


def draw_tensordot(data):
    a_shape = data.draw(dims(0, 3), label="a shape")
    count = data.draw(st.integers(0, min(len(a_shape), 2)), label="contracted")
    if data.draw(st.booleans(), label="as int"):
        b_shape = a_shape[len(a_shape) - count:] + data.draw(dims(0, 2), label="b rest")
        return [_normal(data, a_shape), _normal(data, b_shape)], {"dims": count}
    a_dims = data.draw(st.permutations(range(len(a_shape))), label="a dims")[:count]
    b_rank = count + data.draw(st.integers(0, 2), label="b extra")
    b_dims = data.draw(st.permutations(range(b_rank)), label="b dims")[:count]
    b_shape = _sizes(data, b_rank)
    for i, j in zip(a_dims, b_dims):
        b_shape[j] = a_shape[i]
    negative = data.draw(st.booleans(), label="negative dims")
    a_dims = [d - len(a_shape) if negative else d for d in a_dims]
    return [_normal(data, a_shape), _normal(data, tuple(b_shape))], \
        {"dims": (list(a_dims), list(b_dims))}


EINSUM_EQUATIONS = [
    "ij,jk->ik", "ij,jk", "bij,bjk->bik", "ij,kj->ik", "ii->i", "ii", "iij->j", "iji->j",
    "i,j->ij", "i,i->", "i,i->i", "ij,ij->", "ij->ji", "ij->", "ba", "ij,j->i",
    "...ij,...jk->...ik", "i...,j...", "...i,...i->...", "ij,jk,kl->il", "ijk,ik->j",
    "iij,jk", "bn,anm,bm->ba", "Ab,bA->", "i,i",
]


def draw_einsum(data):
    """An equation of EINSUM_EQUATIONS, a size per subscript (1 sometimes on one operand's
    non-repeated subscript, which broadcasts), ellipsis dims broadcast between operands."""
    equation = data.draw(st.sampled_from(EINSUM_EQUATIONS), label="equation")
    terms = equation.split("->")[0].split(",")
    letters = sorted(set(re.sub(r"[^A-Za-z]", "", equation)))
    size = dict(zip(letters, _sizes(data, len(letters))))
    broadcast = tuple(_sizes(data, data.draw(st.integers(0, 2), label="ellipsis dims"), 2, 3))
    shapes = []
    for term in terms:
        shape = []
        for part in re.findall(r"\.\.\.|[A-Za-z]", term):
            if part == "...":  # a suffix of the broadcast dims, some of them 1
                kept = broadcast[data.draw(st.integers(0, len(broadcast)), label="drop"):]
                shape += [1 if data.draw(st.booleans(), label="ellipsis 1") else n
                          for n in kept]
            elif term.count(part) == 1 and data.draw(st.integers(0, 4), label="1") == 0:
                shape.append(1)
            else:
                shape.append(size[part])
        shapes.append(tuple(shape))
    return [_normal(data, s) for s in shapes], {"equation": equation}


CASES = [
    Case("gather", draw_gather,
         lambda x, dim, index: mt.gather(x, dim, _index(index, x)),
         lambda t, x, dim, index: t.gather(x, dim, t.tensor(index))),
    # (theirs scatters src's block explicitly: torch's backward refuses a src larger than
    # the index, though its forward reads the block; the gradient of the block is the same)
    Case("scatter", draw_scatter(),
         lambda x, src, dim, index: mt.scatter(x, dim, _index(index, x), src),
         lambda t, x, src, dim, index: t.scatter(x, dim, t.tensor(index), src[_block(index)])),
    Case("scatter value", draw_scatter(with_src=False, distinct=False),
         lambda x, dim, index: mt.scatter(x, dim, _index(index, x), value=1.5),
         lambda t, x, dim, index: t.scatter(x, dim, t.tensor(index), value=1.5)),
    Case("scatter_add", draw_scatter(distinct=False),
         lambda x, src, dim, index: mt.scatter_add(x, dim, _index(index, x), src),
         lambda t, x, src, dim, index: t.scatter_add(x, dim, t.tensor(index),
                                                     src[_block(index)])),
    Case("index_select", draw_index_select,
         lambda x, dim, index: mt.index_select(x, dim, _index(index, x)),
         lambda t, x, dim, index: t.index_select(x, dim, t.tensor(index))),
    Case("take_along_dim", draw_take_along_dim,
         lambda x, indices, dim: mt.take_along_dim(x, _index(indices, x), dim),
         lambda t, x, indices, dim: t.take_along_dim(x, t.tensor(indices), dim)),
    Case("masked_select", draw_masked_select,
         lambda x, mask: mt.masked_select(x, mt.tensor(mask).to(x.device)),
         lambda t, x, mask: t.masked_select(x, t.tensor(mask))),
    Case("dot", draw_shapes("n", "n"), mt.dot, lambda t, a, b: t.dot(a, b)),
    Case("vdot", draw_shapes("n", "n"), mt.vdot, lambda t, a, b: t.vdot(a, b)),
    Case("outer", draw_shapes("n", "m"), mt.outer, lambda t, a, b: t.outer(a, b)),
    Case("mm", draw_shapes("nk", "km"), mt.mm, lambda t, a, b: t.mm(a, b)),
    Case("bmm", draw_shapes("bnk", "bkm"), mt.bmm, lambda t, a, b: t.bmm(a, b)),
    Case("mv", draw_shapes("nk", "k"), mt.mv, lambda t, a, b: t.mv(a, b)),
    Case("addmm", draw_add_product(batched=False), mt.addmm,
         lambda t, c, a, b, **k: t.addmm(c, a, b, **k)),
    Case("baddbmm", draw_add_product(batched=True), mt.baddbmm,
         lambda t, c, a, b, **k: t.baddbmm(c, a, b, **k)),
    Case("tensordot", draw_tensordot, mt.tensordot,
         lambda t, a, b, dims: t.tensordot(a, b, dims=dims)),
    Case("einsum", draw_einsum, lambda *ops, equation: mt.einsum(equation, *ops),
         lambda t, *ops, equation: t.einsum(equation, *ops)),
]
