"""Op cases of ops/conv_general (see op_cases.py for what a Case is): dilated, grouped and
depthwise convolutions, padding="same"/"valid", the layers' padding modes, conv1d and the
transposed convolutions. A case tagged cpu_only always draws arguments of the NumPy path
(which refuses device tensors); the others stay on the kernels' path."""
from __future__ import annotations

from hypothesis import strategies as st

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from op_cases import Case, _normal

CPU_ONLY = ("cpu_only",)
SIDE = 6  # the largest spatial size drawn: small enough for finite differences everywhere


def _ints(data, rank, low, high, label):
    return tuple(data.draw(st.integers(low, high), label=f"{label} {i}") for i in range(rank))


def _sizes(data, rank, span, padding):
    """Spatial sizes the (dilated) kernel fits once padded, up to SIDE."""
    sizes = []
    for i in range(rank):
        before, after = padding[i]
        low = max(1, span[i] - before - after, before + 1, after + 1)  # (reflect: pad < size)
        sizes.append(data.draw(st.integers(low, max(low, SIDE)), label=f"size {i}"))
    return tuple(sizes)


def _same(kernel, dilation):
    """torch's documented "same" padding per dim: d * (k - 1) in all, the odd one after."""
    return [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation)]


def _padding(data, rank, stride, kernel, dilation, strings=("same", "valid")):
    """padding as the call gets it, and as (before, after) per dim."""
    choices = [s for s in strings if s != "same" or set(stride) == {1}] + ["ints"]
    kind = data.draw(st.sampled_from(choices), label="padding kind")
    if kind == "same":
        return "same", _same(kernel, dilation)
    if kind == "valid":
        return "valid", [(0, 0)] * rank
    pads = _ints(data, rank, 0, 2, "padding")
    return pads, [(p, p) for p in pads]


def _operands(data, shape, weight_shape, bias_size, unbatched_allowed):
    if unbatched_allowed and data.draw(st.booleans(), label="unbatched"):
        shape = shape[1:]
    arrays = [_normal(data, shape), _normal(data, weight_shape)]
    if data.draw(st.booleans(), label="bias"):
        arrays.append(_normal(data, (bias_size,)))
    return arrays


def draw_grouped(rank, general=True):
    """Groups (depthwise when each group has one input channel), dilation, stride, padding as
    ints, "same" or "valid". general: always groups > 1 or a dilation, the NumPy path."""
    def draw(data):
        groups = data.draw(st.integers(1, 3), label="groups")
        per_in, per_out = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
        kernel = _ints(data, rank, 1, 3, "kernel")
        dilation = _ints(data, rank, 1, 2, "dilation")
        if general and groups == 1 and set(dilation) == {1}:
            dilation = (2,) + dilation[1:]
        stride = _ints(data, rank, 1, 2, "stride")
        padding, pads = _padding(data, rank, stride, kernel, dilation)
        span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
        shape = (data.draw(st.integers(1, 2), label="batch"), groups * per_in) + \
            _sizes(data, rank, span, pads)
        arrays = _operands(data, shape, (groups * per_out, per_in) + kernel, groups * per_out,
                           unbatched_allowed=rank == 1)
        return arrays, {"stride": stride, "padding": padding, "dilation": dilation,
                        "groups": groups}
    return draw


def draw_same_2d(asymmetric):
    """padding="same" ("valid" too where symmetric) with nothing else beyond the kernels'
    path: an odd kernel pads both sides alike (the kernels run it), an even one pads one
    more after (the NumPy path)."""
    def draw(data):
        if asymmetric:
            kernel = (data.draw(st.sampled_from([2, 4]), label="even kernel"),
                      data.draw(st.integers(1, 4), label="kernel"))
            if data.draw(st.booleans(), label="swap"):
                kernel = kernel[::-1]
            padding = "same"
        else:
            kernel = tuple(data.draw(st.sampled_from([1, 3]), label=f"odd kernel {i}")
                           for i in range(2))
            padding = data.draw(st.sampled_from(["same", "valid"]), label="padding")
        pads = _same(kernel, (1, 1)) if padding == "same" else [(0, 0)] * 2
        c, o = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
        shape = (data.draw(st.integers(1, 2)), c) + _sizes(data, 2, kernel, pads)
        return _operands(data, shape, (o, c) + kernel, o, False), {"padding": padding}
    return draw


def draw_conv1d(data):
    """conv1d with the kernels' arguments (stride, padding as an int or a 1-tuple), batched
    or not: it runs as a 2-d convolution of height 1."""
    kernel = data.draw(st.integers(1, 3), label="kernel")
    stride = data.draw(st.sampled_from([1, 2, (2,)]), label="stride")
    padding = data.draw(st.sampled_from([0, 1, 2, (1,)]), label="padding")
    pad = padding[0] if isinstance(padding, tuple) else padding
    c, o = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    shape = (data.draw(st.integers(1, 2)), c, data.draw(st.integers(max(1, kernel - 2 * pad),
                                                                    SIDE + 2)))
    return _operands(data, shape, (o, c, kernel), o, True), {"stride": stride,
                                                             "padding": padding}


def draw_padding_mode(rank):
    """A layer's reflect / replicate / circular padding (ints or "same"), with groups,
    dilation and stride."""
    def draw(data):
        mode = data.draw(st.sampled_from(["reflect", "replicate", "circular"]), label="mode")
        groups = data.draw(st.integers(1, 2), label="groups")
        per_in, per_out = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
        kernel = _ints(data, rank, 1, 3, "kernel")
        dilation = _ints(data, rank, 1, 2, "dilation")
        stride = _ints(data, rank, 1, 2, "stride")
        padding, pads = _padding(data, rank, stride, kernel, dilation, strings=("same",))
        span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
        shape = (data.draw(st.integers(1, 2)), groups * per_in) + _sizes(data, rank, span, pads)
        arrays = _operands(data, shape, (groups * per_out, per_in) + kernel, groups * per_out,
                           unbatched_allowed=rank == 1)
        return arrays, {"stride": stride, "padding": padding, "dilation": dilation,
                        "groups": groups, "padding_mode": mode}
    return draw


def _layer_forward(nn, rank, x, weight, bias=None, **options):
    """A Conv1d/Conv2d layer of the weight's shape, run on (x, weight, bias) by its
    _conv_forward: the layer's own handling of padding and padding_mode (torch's too)."""
    layer = getattr(nn, f"Conv{rank}d")(
        weight.shape[1] * options["groups"], weight.shape[0], tuple(weight.shape[2:]),
        bias=bias is not None, **options)
    return layer._conv_forward(x, weight, bias)


def draw_transposed(rank):
    """conv_transpose with groups, stride, dilation, padding and output_padding (each below
    stride or dilation), batched or not; padding small enough for a non-empty output."""
    def draw(data):
        groups = data.draw(st.integers(1, 2), label="groups")
        per_in, per_out = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
        kernel = _ints(data, rank, 1, 3, "kernel")
        stride = _ints(data, rank, 1, 3, "stride")
        dilation = _ints(data, rank, 1, 2, "dilation")
        output_padding = tuple(data.draw(st.integers(0, max(s, d) - 1), label="output_padding")
                               for s, d in zip(stride, dilation))
        sizes = _ints(data, rank, 1, 4, "size")
        padding = tuple(data.draw(st.integers(0, min(2, ((n - 1) * s + d * (k - 1) + o) // 2)),
                                  label="padding")
                        for n, s, d, k, o in zip(sizes, stride, dilation, kernel,
                                                 output_padding))
        shape = (data.draw(st.integers(1, 2)), groups * per_in) + sizes
        arrays = _operands(data, shape, (groups * per_in, per_out) + kernel, groups * per_out,
                           unbatched_allowed=True)
        return arrays, {"stride": stride, "padding": padding, "output_padding": output_padding,
                        "groups": groups, "dilation": dilation}
    return draw


CASES = [
    Case("conv2d dilated/grouped", draw_grouped(2), F.conv2d,
         lambda t, *a, **k: t.nn.functional.conv2d(*a, **k), tags=CPU_ONLY),
    Case("conv2d padding same/valid odd kernel", draw_same_2d(asymmetric=False), F.conv2d,
         lambda t, *a, **k: t.nn.functional.conv2d(*a, **k)),
    Case("conv2d padding same even kernel", draw_same_2d(asymmetric=True), F.conv2d,
         lambda t, *a, **k: t.nn.functional.conv2d(*a, **k), tags=CPU_ONLY),
    Case("conv2d padding_mode", draw_padding_mode(2),
         lambda *a, **k: _layer_forward(mt.nn, 2, *a, **k),
         lambda t, *a, **k: _layer_forward(t.nn, 2, *a, **k), tags=CPU_ONLY),
    Case("conv1d", draw_conv1d, F.conv1d, lambda t, *a, **k: t.nn.functional.conv1d(*a, **k)),
    Case("conv1d dilated/grouped", draw_grouped(1), F.conv1d,
         lambda t, *a, **k: t.nn.functional.conv1d(*a, **k), tags=CPU_ONLY),
    Case("conv1d padding_mode", draw_padding_mode(1),
         lambda *a, **k: _layer_forward(mt.nn, 1, *a, **k),
         lambda t, *a, **k: _layer_forward(t.nn, 1, *a, **k), tags=CPU_ONLY),
    Case("conv_transpose2d", draw_transposed(2), F.conv_transpose2d,
         lambda t, *a, **k: t.nn.functional.conv_transpose2d(*a, **k), tags=CPU_ONLY),
    Case("conv_transpose1d", draw_transposed(1), F.conv_transpose1d,
         lambda t, *a, **k: t.nn.functional.conv_transpose1d(*a, **k), tags=CPU_ONLY),
]
