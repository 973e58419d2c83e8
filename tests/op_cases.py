"""Every differentiable op as one case: how to draw its inputs and arguments, and the same
computation written for minitorch_pairs and for torch (the API mirrors torch's, so one
lambda often serves both). Used by the float64 finite-difference suite and the float32
torch-parity suite, tinygrad test_ops style: adding an op is one entry here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F


@dataclass
class Case:
    name: str
    draw: Callable  # draw(data) -> (list of input arrays, dict of keyword arguments)
    ours: Callable  # ours(*tensors, **kwargs) -> mt.Tensor
    theirs: Callable  # theirs(torch, *tensors, **kwargs) -> torch.Tensor
    # float32 parity tolerance relative to the output's scale; reductions over many
    # terms round differently in the two frameworks' summation orders.
    rtol32: float = 1e-5
    tags: tuple = field(default_factory=tuple)


def dims(min_dims=1, max_dims=3, min_side=1, max_side=4):
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims) \
        .map(tuple)


def _normal(data, shape):
    seed = data.draw(st.integers(0, 2 ** 32 - 1), label="seed")
    return np.random.default_rng(seed).standard_normal(shape)


def away_from(values: np.ndarray, kinks=(0.0,), margin=0.05) -> np.ndarray:
    """Push values at least `margin` from each kink, so central differences never straddle one."""
    values = values.copy()
    for kink in kinks:
        close = np.abs(values - kink) < margin
        values[close] = kink + np.where(values[close] >= kink, margin, -margin)
    return values


def distinct(shape, data) -> np.ndarray:
    """Values with no ties, spaced well beyond the finite-difference step (for max)."""
    count = int(np.prod(shape))
    perm = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="perm"))\
        .permutation(count)
    return (perm.reshape(shape) * 0.1 - count * 0.05).astype(np.float64)


def broadcast_pair(data):
    shape = data.draw(dims(1, 3), label="shape")
    other = list(shape)
    for i in range(len(other)):
        if data.draw(st.booleans(), label=f"broadcast dim {i}"):
            other[i] = 1
    other = tuple(other[data.draw(st.integers(0, len(other) - 1), label="drop leading"):])
    if data.draw(st.booleans(), label="swap"):
        shape, other = other, tuple(shape)
    return shape, other


def unary(fn_name, kinks=None, positive=False):
    def draw(data):
        shape = data.draw(dims(0, 3), label="shape")
        x = _normal(data, shape)
        if positive:
            x = np.abs(x) + 0.5
        if kinks is not None:
            x = away_from(x, kinks)
        return [x], {}
    return draw


def binary(positive_second=False):
    def draw(data):
        a_shape, b_shape = broadcast_pair(data)
        a, b = _normal(data, a_shape), _normal(data, b_shape)
        if positive_second:
            b = np.sign(b) * (np.abs(b) + 0.5)
        return [a, b], {}
    return draw


def reduction(distinct_values=False, with_dim=True):
    def draw(data):
        shape = data.draw(dims(1, 3), label="shape")
        x = distinct(shape, data) if distinct_values else _normal(data, shape)
        kwargs = {}
        if with_dim and data.draw(st.booleans(), label="has dim"):
            kwargs["dim"] = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
            kwargs["keepdim"] = data.draw(st.booleans(), label="keepdim")
        return [x], kwargs
    return draw


def draw_mixed_index(data):
    """A (2, d, 3) tensor for an index that mixes an integer with a list (repeats included)."""
    return [_normal(data, (2, data.draw(st.integers(1, 3), label="d"), 3))], {}


def _setitem(a):
    """The same code for both frameworks: a value computed from the tensor, written into a
    copy of it at a mixed index."""
    b = a * 1.0
    b[0, :, [2, 0]] = a[1, :, :2] * 3
    return b


def draw_matmul(data):
    kind = data.draw(st.sampled_from(["vec-vec", "mat-vec", "vec-mat", "mat-mat", "batched"]))
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    shapes = {"vec-vec": ((k,), (k,)), "mat-vec": ((n, k), (k,)), "vec-mat": ((k,), (k, m)),
              "mat-mat": ((n, k), (k, m)), "batched": ((2, 1, n, k), (3, k, m))}[kind]
    return [_normal(data, s) for s in shapes], {}


def draw_conv(data):
    n, c, o = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    kh, kw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    stride = data.draw(st.sampled_from([1, 2, (1, 2), (2, 1)]))
    padding = data.draw(st.sampled_from([0, 1, 2, (0, 1), (2, 0)]))
    h, w = data.draw(st.integers(kh, 6)), data.draw(st.integers(kw, 6))
    arrays = [_normal(data, (n, c, h, w)), _normal(data, (o, c, kh, kw))]
    if data.draw(st.booleans(), label="bias"):
        arrays.append(_normal(data, (o,)))
    return arrays, {"stride": stride, "padding": padding}


def draw_conv_3x3(data):
    """3x3 stride 1, 2-3 channels: small enough for finite differences over every element."""
    n, c, o = (data.draw(st.integers(*bounds)) for bounds in ((1, 2), (2, 3), (1, 3)))
    padding = data.draw(st.sampled_from([0, 1, 2, (0, 1), (2, 0)]))
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    h, w = (data.draw(st.integers(max(1, 3 - 2 * p), 9)) for p in (ph, pw))
    arrays = [_normal(data, (n, c, h, w)), _normal(data, (o, c, 3, 3))]
    if data.draw(st.booleans(), label="bias"):
        arrays.append(_normal(data, (o,)))
    return arrays, {"padding": padding}


def winograd_for_any_channels():
    """The CPU backend's Winograd path for 2+ channels (it starts at 16 otherwise)."""
    return mt.backends.flags(winograd_channels=1)


def _conv_winograd(*tensors, **kwargs):
    with winograd_for_any_channels():
        return F.conv2d(*tensors, **kwargs)


def _clear_windows(arrays, options, margin=1e-3):
    """Reject inputs whose convolution output, in some 2x2 window, has two largest values
    or its largest and 0 within `margin`: a finite difference or float32 rounding could
    flip the winner or the ReLU there. The output comes from F.conv2d (checked on its own)."""
    out = F.conv2d(*(mt.tensor(a) for a in arrays), **options).numpy()
    n, o, h, w = out.shape
    assume(h >= 2 and w >= 2)
    windows = out[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, o, h // 2, 2, w // 2, 2)
    ranked = np.sort(windows.transpose(0, 1, 2, 4, 3, 5).reshape(-1, 4), axis=1)
    assume(np.all(ranked[:, 3] - ranked[:, 2] > margin) and
           np.all(np.abs(ranked[:, 3]) > margin))


def draw_conv_relu_pool(data):
    arrays, options = draw_conv(data)
    _clear_windows(arrays, options)
    return arrays, options


def draw_conv_3x3_relu_pool(data):
    arrays, options = draw_conv_3x3(data)
    _clear_windows(arrays, options)
    return arrays, options


def pooled_tile(side):
    """The fused Winograd op's tile side forced to 4 or 6 (it takes the cheaper otherwise)."""
    return mt.backends.flags(winograd_pooled_tile=side)


def _conv_relu_pool_winograd(*tensors, tile=None, **kwargs):
    with winograd_for_any_channels(), pooled_tile(tile):
        return F.conv2d_relu_max_pool2d(*tensors, **kwargs)


def draw_pool(data, distinct_values=False):
    kernel = data.draw(st.sampled_from([1, 2, 3, (2, 3)]))
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    stride = data.draw(st.sampled_from([None, 1, 2, (1, 2)]))
    padding = data.draw(st.integers(0, min(kh, kw) // 2))
    shape = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)),
             data.draw(st.integers(kh, 6)), data.draw(st.integers(kw, 6)))
    x = distinct(shape, data) if distinct_values else _normal(data, shape)
    return [x], {"kernel_size": kernel, "stride": stride, "padding": padding}


def draw_relu_pool(data):
    """Distinct values (0.1 apart), none within 0.05 of the ReLU's kink."""
    (x,), options = draw_pool(data, distinct_values=True)
    return [away_from(x)], options


def draw_batch_norm(data):
    shape = data.draw(st.sampled_from([(4, 3), (3, 2, 4), (2, 3, 3, 2), (5, 1, 2, 2)]))
    c = shape[1]
    x = _normal(data, shape) * 2 + 1
    return [x, _normal(data, (c,)), _normal(data, (c,))], {}


def draw_softmax(data):
    shape = data.draw(dims(1, 3, min_side=1))
    return [_normal(data, shape) * 3], {"dim": data.draw(st.integers(-len(shape), len(shape) - 1))}


def draw_classes(data):
    n, c = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    seed = data.draw(st.integers(0, 2 ** 32 - 1))
    target = np.random.default_rng(seed).integers(0, c, n)
    return [_normal(data, (n, c)) * 2], {
        "target": target, "reduction": data.draw(st.sampled_from(["mean", "sum", "none"]))}


def draw_same_shape(data):
    shape = data.draw(dims(1, 3))
    return [_normal(data, shape), _normal(data, shape)], {
        "reduction": data.draw(st.sampled_from(["mean", "sum", "none"]))}


def draw_getitem(data):
    shape = data.draw(dims(2, 3, min_side=2))
    kind = data.draw(st.sampled_from(["slice", "int array", "bool mask", "mixed"]))
    seed = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    if kind == "slice":
        index = (slice(1, None), slice(None, None, 2))
    elif kind == "int array":
        index = seed.integers(0, shape[0], 5)  # repeats must add up in backward
    elif kind == "bool mask":
        index = seed.random(shape[:2]) > 0.4
    else:
        index = (seed.integers(0, shape[0], 3), slice(0, 1))
    return [_normal(data, shape)], {"index": index}


def draw_shape_op(data):
    shape = data.draw(dims(1, 4))
    return [_normal(data, shape)], {}


def draw_cat(data):
    shape = list(data.draw(dims(1, 3)))
    dim = data.draw(st.integers(0, len(shape) - 1))
    count = data.draw(st.integers(1, 3))
    arrays = []
    for _ in range(count):
        shape[dim] = data.draw(st.integers(1, 3))
        arrays.append(_normal(data, tuple(shape)))
    return arrays, {"dim": dim}


def draw_stack(data):
    shape = data.draw(dims(0, 3))
    count = data.draw(st.integers(1, 3))
    return [_normal(data, shape) for _ in range(count)], \
        {"dim": data.draw(st.integers(0, len(shape)))}


def draw_linear(data):
    lead = data.draw(st.sampled_from([(3,), (2, 3), ()]))
    i, o = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    arrays = [_normal(data, lead + (i,)), _normal(data, (o, i))]
    if data.draw(st.booleans(), label="bias"):
        arrays.append(_normal(data, (o,)))
    return arrays, {}


def draw_dropout(data):
    shape = data.draw(dims(1, 3))
    return [_normal(data, shape)], {"p": data.draw(st.sampled_from([0.0, 0.3, 0.5, 0.9])),
                                    "seed": data.draw(st.integers(0, 1000))}


def _dropout_ours(x, p, seed):
    mt.manual_seed(seed)  # the same mask in every finite-difference evaluation
    return F.dropout(x, p, training=True)


def _dropout_theirs(torch, x, p, seed):
    mt.manual_seed(seed)  # draw our mask (dropout of ones), then apply it the torch way
    mask = F.dropout(mt.ones(*x.shape, dtype=mt.float64), p, training=True).numpy()
    return x * torch.tensor(mask, dtype=x.dtype)


def _permute_dims(shape_len):
    return tuple(reversed(range(shape_len)))


CASES = [
    Case("add", binary(), lambda a, b: a + b, lambda t, a, b: a + b),
    Case("sub", binary(), lambda a, b: a - b, lambda t, a, b: a - b),
    Case("mul", binary(), lambda a, b: a * b, lambda t, a, b: a * b),
    Case("div", binary(positive_second=True), lambda a, b: a / b, lambda t, a, b: a / b),
    Case("scalar ops", unary("x"), lambda a: (2.0 - a) * 3 / (a * a + 1) + 1,
         lambda t, a: (2.0 - a) * 3 / (a * a + 1) + 1),
    Case("neg", unary("neg"), lambda a: -a, lambda t, a: -a),
    Case("pow scalar", unary("pow", positive=True), lambda a: a ** 2.5, lambda t, a: a ** 2.5),
    # base kept >= 0.5: |a| ** b near a = 0 is astronomically large and ill-conditioned
    Case("pow tensor", binary(), lambda a, b: (a.abs() + 0.5) ** b,
         lambda t, a, b: (a.abs() + 0.5) ** b),
    Case("exp", unary("exp"), lambda a: a.exp(), lambda t, a: a.exp()),
    Case("log", unary("log", positive=True), lambda a: a.log(), lambda t, a: a.log()),
    Case("sqrt", unary("sqrt", positive=True), lambda a: a.sqrt(), lambda t, a: a.sqrt()),
    Case("abs", unary("abs", kinks=(0.0,)), lambda a: a.abs(), lambda t, a: a.abs()),
    Case("relu", unary("relu", kinks=(0.0,)), F.relu, lambda t, a: t.relu(a)),
    Case("clamp", unary("clamp", kinks=(-0.5, 0.8)), lambda a: a.clamp(-0.5, 0.8),
         lambda t, a: a.clamp(-0.5, 0.8)),
    Case("masked_fill", unary("masked_fill", kinks=(0.3,)), lambda a: a.masked_fill(a > 0.3, 2.0),
         lambda t, a: a.masked_fill(a > 0.3, 2.0)),
    Case("getitem mixed", draw_mixed_index, lambda a: a[1, :, [2, 0, 2]],
         lambda t, a: a[1, :, [2, 0, 2]]),
    Case("setitem", draw_mixed_index, _setitem, lambda t, a: _setitem(a)),
    Case("tanh", unary("tanh"), F.tanh, lambda t, a: t.tanh(a)),
    Case("sigmoid", unary("sigmoid"), F.sigmoid, lambda t, a: t.sigmoid(a)),
    Case("selu", unary("selu", kinks=(0.0,)), F.selu, lambda t, a: t.selu(a)),
    Case("matmul", draw_matmul, lambda a, b: a @ b, lambda t, a, b: a @ b),
    Case("sum", reduction(), lambda a, **k: a.sum(**k), lambda t, a, **k: a.sum(**k)),
    Case("mean", reduction(), lambda a, **k: a.mean(**k), lambda t, a, **k: a.mean(**k)),
    Case("max", reduction(distinct_values=True),
         lambda a, **k: a.max(**k)[0] if "dim" in k else a.max(),
         lambda t, a, **k: a.max(**k)[0] if "dim" in k else a.max()),
    Case("reshape", draw_shape_op, lambda a: a.reshape(-1), lambda t, a: a.reshape(-1)),
    Case("flatten", draw_shape_op, lambda a: a.flatten(1 if a.ndim > 1 else 0),
         lambda t, a: a.flatten(1 if a.ndim > 1 else 0)),
    Case("transpose", draw_shape_op, lambda a: a.transpose(0, -1),
         lambda t, a: a.transpose(0, -1)),
    Case("permute", draw_shape_op, lambda a: a.permute(*_permute_dims(a.ndim)),
         lambda t, a: a.permute(*_permute_dims(a.ndim))),
    Case("unsqueeze squeeze", draw_shape_op, lambda a: a.unsqueeze(1).squeeze(),
         lambda t, a: a.unsqueeze(1).squeeze()),
    Case("getitem", draw_getitem, lambda a, index: a[index],
         lambda t, a, index: a[tuple(t.as_tensor(i) if isinstance(i, np.ndarray) else i
                                     for i in (index if isinstance(index, tuple) else (index,)))]),
    Case("cat", draw_cat, lambda *a, dim: mt.cat(a, dim), lambda t, *a, dim: t.cat(a, dim)),
    Case("stack", draw_stack, lambda *a, dim: mt.stack(a, dim), lambda t, *a, dim: t.stack(a, dim)),
    Case("linear", draw_linear, F.linear, lambda t, *a: t.nn.functional.linear(*a)),
    Case("conv2d", draw_conv, F.conv2d, lambda t, *a, **k: t.nn.functional.conv2d(*a, **k)),
    # (the backward runs outside the context: it follows the path the forward took)
    Case("conv2d winograd", draw_conv_3x3, _conv_winograd,
         lambda t, *a, **k: t.nn.functional.conv2d(*a, **k)),
    Case("conv2d_relu_max_pool2d", draw_conv_relu_pool, F.conv2d_relu_max_pool2d,
         lambda t, *a, **k: t.nn.functional.max_pool2d(t.relu(
             t.nn.functional.conv2d(*a, **k)), 2)),
    # the fused Winograd kernels (pooling each output tile, and each tile's gradient built
    # from the pooled one), for 2-3 channels, with either tile side
    Case("conv2d_relu_max_pool2d winograd", draw_conv_3x3_relu_pool,
         lambda *a, **k: _conv_relu_pool_winograd(*a, tile=4, **k),
         lambda t, *a, **k: t.nn.functional.max_pool2d(t.relu(
             t.nn.functional.conv2d(*a, **k)), 2)),
    # F(6x6, 3x3)'s float32 error reaches 1.5e-5 of the largest value on these inputs (worst
    # of 300 examples; F(4x4): 4e-6; its float64 finite-difference check is unchanged)
    Case("conv2d_relu_max_pool2d winograd F(6x6)", draw_conv_3x3_relu_pool,
         lambda *a, **k: _conv_relu_pool_winograd(*a, tile=6, **k),
         lambda t, *a, **k: t.nn.functional.max_pool2d(t.relu(
             t.nn.functional.conv2d(*a, **k)), 2), rtol32=3e-5),
    Case("max_pool2d", lambda d: draw_pool(d, distinct_values=True), F.max_pool2d,
         lambda t, a, **k: t.nn.functional.max_pool2d(a, **k)),
    Case("relu_max_pool2d", draw_relu_pool, F.relu_max_pool2d,
         lambda t, a, **k: t.nn.functional.max_pool2d(t.relu(a), **k)),
    Case("avg_pool2d", draw_pool, F.avg_pool2d,
         lambda t, a, **k: t.nn.functional.avg_pool2d(a, **k)),
    Case("batch_norm train", draw_batch_norm,
         lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         lambda t, x, w, b: t.nn.functional.batch_norm(x, None, None, w, b, training=True)),
    Case("batch_norm eval", draw_batch_norm,
         lambda x, w, b: F.batch_norm(
             x, mt.tensor(np.linspace(-1, 1, w.shape[0]), dtype=x.dtype).to(x.device),
             mt.tensor(np.linspace(0.5, 2, w.shape[0]), dtype=x.dtype).to(x.device),
             w, b, training=False),
         lambda t, x, w, b: t.nn.functional.batch_norm(
             x, t.tensor(np.linspace(-1, 1, w.shape[0]), dtype=x.dtype),
             t.tensor(np.linspace(0.5, 2, w.shape[0]), dtype=x.dtype), w, b, training=False)),
    Case("dropout", draw_dropout, _dropout_ours, _dropout_theirs),
    Case("log_softmax", draw_softmax, F.log_softmax,
         lambda t, a, dim: t.nn.functional.log_softmax(a, dim)),
    Case("softmax", draw_softmax, F.softmax, lambda t, a, dim: t.nn.functional.softmax(a, dim)),
    Case("cross_entropy", draw_classes,
         lambda x, target, reduction: F.cross_entropy(x, mt.tensor(target), reduction=reduction),
         lambda t, x, target, reduction: t.nn.functional.cross_entropy(
             x, t.tensor(target), reduction=reduction)),
    Case("nll_loss", draw_classes,
         lambda x, target, reduction: F.nll_loss(F.log_softmax(x, 1), mt.tensor(target),
                                                 reduction=reduction),
         lambda t, x, target, reduction: t.nn.functional.nll_loss(
             t.log_softmax(x, 1), t.tensor(target), reduction=reduction)),
    Case("binary_cross_entropy_with_logits", draw_same_shape,
         lambda x, y, reduction: F.binary_cross_entropy_with_logits(x, y.sigmoid(),
                                                                    reduction=reduction),
         lambda t, x, y, reduction: t.nn.functional.binary_cross_entropy_with_logits(
             x, y.sigmoid(), reduction=reduction)),
    Case("mse_loss", draw_same_shape,
         lambda x, y, reduction: F.mse_loss(x, y, reduction=reduction),
         lambda t, x, y, reduction: t.nn.functional.mse_loss(x, y, reduction=reduction)),
]


# ----- torch's full loss signatures: class weights, ignore_index, label smoothing, (N, C, d...)
# and unbatched inputs, class-probability targets, binary cross entropy with weights ---------

def draw_class_layout(data, min_batch=1):
    """(input shape, class dim): (C,), (N, C) or (N, C, d1[, d2])."""
    classes = data.draw(st.integers(1, 4), label="classes")
    if data.draw(st.booleans(), label="unbatched") and min_batch:
        return (classes,), 0
    extra = data.draw(dims(0, 2, max_side=3), label="extra dims")
    return (data.draw(st.integers(min_batch, 3), label="batch"), classes) + extra, 1


def draw_weighted_classes(data, smoothing=True):
    shape, class_dim = draw_class_layout(data)
    classes = shape[class_dim]
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    target_shape = shape[:class_dim] + shape[class_dim + 1:]
    target = rng.integers(0, classes, target_shape)
    # ignore_index: torch's default, or a real class (then some targets of it are ignored)
    ignore_index = data.draw(st.sampled_from([-100, 0] if classes > 1 else [-100]),
                             label="ignore_index")
    ignored = np.array(rng.random(target_shape) < 0.3)  # (an array also when 0-d)
    target = np.array(np.where(ignored, ignore_index, target))
    target.flat[0] = classes - 1  # one target counts, so the 'mean' is finite
    kwargs = {"target": target, "ignore_index": ignore_index,
              "weight": rng.random(classes) + 0.5 if data.draw(st.booleans()) else None,
              "reduction": data.draw(st.sampled_from(["mean", "sum", "none"]))}
    if smoothing:
        kwargs["label_smoothing"] = data.draw(st.sampled_from([0.0, 0.1, 0.7]))
    return [_normal(data, shape) * 2], kwargs


def _ours_weight(weight, like):
    return None if weight is None else mt.tensor(weight, dtype=like.dtype)


def _theirs_weight(t, weight, like):
    return None if weight is None else t.tensor(weight, dtype=like.dtype)


def draw_probabilities(data):
    shape, class_dim = draw_class_layout(data)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    return [_normal(data, shape) * 2, rng.random(shape)], {
        "weight": rng.random(shape[class_dim]) + 0.5 if data.draw(st.booleans()) else None,
        "label_smoothing": data.draw(st.sampled_from([0.0, 0.2])),
        "reduction": data.draw(st.sampled_from(["mean", "sum", "none"]))}


def _weight_shape(data, shape):
    """A shape that broadcasts to `shape` without growing it (torch's rule for loss weights)."""
    kept = shape[data.draw(st.integers(0, len(shape)), label="drop leading"):]
    return tuple(1 if data.draw(st.booleans(), label=f"size 1 at {i}") else n
                 for i, n in enumerate(kept))


def draw_binary(data, probabilities):
    shape = data.draw(dims(1, 3), label="shape")
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    x = _normal(data, shape) * 2
    if probabilities:  # kept away from 0 and 1, where the loss's log is clamped
        x = 0.05 + 0.9 / (1 + np.exp(-x))
    kwargs = {"weight": rng.random(_weight_shape(data, shape)) + 0.5
              if data.draw(st.booleans()) else None,
              "reduction": data.draw(st.sampled_from(["mean", "sum", "none"]))}
    if not probabilities:
        kwargs["pos_weight"] = rng.random(_weight_shape(data, shape)) * 2 + 0.1
    return [x, rng.random(shape)], kwargs


CASES += [
    Case("cross_entropy weighted/ignored/smoothed", draw_weighted_classes,
         lambda x, target, weight, **k: F.cross_entropy(
             x, mt.tensor(target), weight=_ours_weight(weight, x), **k),
         lambda t, x, target, weight, **k: t.nn.functional.cross_entropy(
             x, t.tensor(target), weight=_theirs_weight(t, weight, x), **k)),
    Case("nll_loss weighted/ignored", lambda d: draw_weighted_classes(d, smoothing=False),
         lambda x, target, weight, **k: F.nll_loss(
             x, mt.tensor(target), weight=_ours_weight(weight, x), **k),
         lambda t, x, target, weight, **k: t.nn.functional.nll_loss(
             x, t.tensor(target), weight=_theirs_weight(t, weight, x), **k)),
    Case("cross_entropy probabilities", draw_probabilities,
         lambda x, p, weight, **k: F.cross_entropy(x, p, weight=_ours_weight(weight, x), **k),
         lambda t, x, p, weight, **k: t.nn.functional.cross_entropy(
             x, p, weight=_theirs_weight(t, weight, x), **k)),
    Case("binary_cross_entropy weighted", lambda d: draw_binary(d, probabilities=True),
         lambda x, y, weight, **k: F.binary_cross_entropy(
             x, y, weight=_ours_weight(weight, x), **k),
         lambda t, x, y, weight, **k: t.nn.functional.binary_cross_entropy(
             x, y, weight=_theirs_weight(t, weight, x), **k)),
    Case("binary_cross_entropy_with_logits pos_weight",
         lambda d: draw_binary(d, probabilities=False),
         lambda x, y, pos_weight, weight, **k: F.binary_cross_entropy_with_logits(
             x, y, weight=_ours_weight(weight, x), pos_weight=_ours_weight(pos_weight, x), **k),
         lambda t, x, y, pos_weight, weight, **k: t.nn.functional.binary_cross_entropy_with_logits(
             x, y, weight=_theirs_weight(t, weight, x),
             pos_weight=_theirs_weight(t, pos_weight, x), **k)),
]


# ----- activations (ops/activations.py), their in-place forms on a non-leaf (a * 1) --------

def activation(options=None, kinks=lambda **k: (), scale=1.0):
    """Inputs of any shape (0-d included) times `scale`, the keyword arguments drawn from
    `options` (name -> choices), values kept off the kinks `kinks(**kwargs)` names."""
    def draw(data):
        kwargs = {name: data.draw(st.sampled_from(choices), label=name)
                  for name, choices in (options or {}).items()}
        x = np.asarray(_normal(data, data.draw(dims(0, 3), label="shape")) * scale)
        return [away_from(x, kinks(**kwargs))], kwargs
    return draw


def _softplus_kink(beta, threshold):
    return (threshold / beta,)  # where torch switches from log1p(exp) to the identity


SLOPES = [0.01, 0.2, 1.5, -0.5]
ALPHAS = [1.0, 0.5, 2.0]
HARDTANH_BOUNDS = {"min_val": [-1.0, -0.5], "max_val": [1.0, 0.3]}

CASES += [
    Case("leaky_relu", activation({"negative_slope": SLOPES}, lambda **k: (0.0,)),
         F.leaky_relu, lambda t, a, **k: t.nn.functional.leaky_relu(a, **k)),
    # (in place with a negative slope both frameworks refuse backward: test_activations.py)
    Case("leaky_relu inplace", activation({"negative_slope": SLOPES[:3]}, lambda **k: (0.0,)),
         lambda a, **k: F.leaky_relu(a * 1, inplace=True, **k),
         lambda t, a, **k: t.nn.functional.leaky_relu(a * 1, inplace=True, **k)),
    Case("elu", activation({"alpha": ALPHAS}, lambda **k: (0.0,), scale=2.0), F.elu,
         lambda t, a, **k: t.nn.functional.elu(a, **k)),
    Case("elu inplace", activation({"alpha": ALPHAS}, lambda **k: (0.0,), scale=2.0),
         lambda a, **k: F.elu(a * 1, inplace=True, **k),
         lambda t, a, **k: t.nn.functional.elu(a * 1, inplace=True, **k)),
    Case("gelu", activation({"approximate": ["none", "tanh"]}, scale=2.0), F.gelu,
         lambda t, a, **k: t.nn.functional.gelu(a, **k)),
    Case("silu", activation(scale=2.0), F.silu, lambda t, a: t.nn.functional.silu(a)),
    Case("silu inplace", activation(scale=2.0), lambda a: F.silu(a * 1, inplace=True),
         lambda t, a: t.nn.functional.silu(a * 1, inplace=True)),
    Case("softplus", activation({"beta": [1.0, 2.0, 0.5], "threshold": [20.0, 1.0, 2.0]},
                                _softplus_kink, scale=2.0),
         F.softplus, lambda t, a, **k: t.nn.functional.softplus(a, **k)),
    Case("hardtanh", activation(HARDTANH_BOUNDS, lambda min_val, max_val: (min_val, max_val)),
         F.hardtanh, lambda t, a, **k: t.nn.functional.hardtanh(a, **k)),
    Case("hardtanh inplace",
         activation(HARDTANH_BOUNDS, lambda min_val, max_val: (min_val, max_val)),
         lambda a, **k: F.hardtanh(a * 1, inplace=True, **k),
         lambda t, a, **k: t.nn.functional.hardtanh(a * 1, inplace=True, **k)),
    Case("relu6", activation(kinks=lambda: (0.0, 6.0), scale=4.0), F.relu6,
         lambda t, a: t.nn.functional.relu6(a)),
    Case("relu inplace", activation(kinks=lambda: (0.0,)),
         lambda a: F.relu(a * 1, inplace=True),
         lambda t, a: t.nn.functional.relu(a * 1, inplace=True)),
    Case("selu inplace", activation(kinks=lambda: (0.0,)),
         lambda a: F.selu(a * 1, inplace=True),
         lambda t, a: t.nn.functional.selu(a * 1, inplace=True)),
]
