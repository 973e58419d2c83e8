"""Conv2d, ReLU and a 2x2 max-pool run as one op however a model writes them.

Where the kernels have a fused convolution + ReLU + 2x2 max-pool for a layer (the CPU's
per-image and Winograd paths: kernels/cpu/conv.py), `conv2d` returns a *deferred* tensor:
its shape, dtype and requires_grad are known, its values are not computed yet. If relu and
max_pool2d(2) (2x2 windows, stride 2, no padding) follow, in either order, as functions,
methods or modules, in nn.Sequential or not, the three run as the one fused op
(conv_pool.Conv2dReluPool), which never makes the convolution's output. Anything else that
needs a deferred tensor's values or graph (another op, .numpy(), printing, a hook that reads
values) computes it then, by the plain ops, and the chain goes on unfused. Turn it off with
mt.backends.flags(fuse_conv_relu_pool=False).

What stays as in eager execution:
- Arguments are checked, and errors raised, at the call.
- The convolution computes from its inputs as they were at its call: a Snapshot keeps
  copies of their arrays (so in-place changes afterwards, also through .data or NumPy, are
  not seen), their graph parents, version counters and the grad mode then.
- An intermediate (the convolution's output, or the ReLU's or pool's after it) that is read
  after the chain was fused is computed then by the plain ops from the same snapshot, and
  the fused op's graph node is replaced, in place, by the plain ops' last node: so whatever
  the intermediate is used for, gradients flow as in eager execution. After a backward
  freed the fused node, the intermediate's graph is freed too, as torch's would be.
- Values are the plain ops' bit for bit, except where the fused op takes F(6x6, 3x3)
  Winograd tiles and the plain convolution F(4x4, 3x3): equal there to float32 rounding.

A weight whose deferred output was read by something else (a convolution followed by
batch norm) is computed eagerly for its next calls (SKIP_AFTER_UNFUSED), so such layers do
not pay for snapshots they do not use.
"""
from __future__ import annotations

import weakref

import numpy as np

from kernels import policy

from .. import autograd, backend
from ..tensor import Tensor
from . import conv_general, conv_pool, elementwise

# Calls of a weight computed eagerly after its deferred output was read unfused; then it is
# deferred once more, so a model that changes its pattern is fused again.
SKIP_AFTER_UNFUSED = 64

_HALVES = dict(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
           padding=0, dilation=1, groups=1) -> Tensor:
    # dilation, groups, padding "same"/"valid": checked and run by ops/conv_general.py
    if conv_general.needs_numpy_path(stride, padding, dilation, groups):
        return conv_general.conv2d(x, weight, bias, stride, padding, dilation, groups)
    inputs, options = conv_pool._conv_arguments("conv2d", x, weight, bias, stride, padding)
    shape = _deferrable(inputs, options)
    if shape is None:
        return conv_pool.Conv2d.apply(*inputs, **options)
    snapshot = autograd.Snapshot(inputs, shared=(0,) if _may_share(x) else ())
    if snapshot.shared:
        _sharing.add(snapshot)
    return _Chain(snapshot, options, weight).stage_tensor(0, shape, x.dtype)


# The convolution's input is kept by reference, not copied, where only our own code can
# write into its storage and every place that does calls before_write first: an op's
# output (not a leaf: no optimizer, gradient or buffer update writes it) that owns its
# memory (no view of another tensor's) and was never handed out raw (numpy(), .data,
# detach(): _handed_out). The snapshots keeping such an input, until they are garbage:
_sharing = weakref.WeakSet()
_handed_out = weakref.WeakValueDictionary()  # id(storage) -> storage, for those handed out


def _may_share(x: Tensor) -> bool:
    array = x._data
    return (x.grad_fn is not None and isinstance(array, np.ndarray) and array.base is None
            and _handed_out.get(id(array)) is not array)


def before_write(array) -> None:
    """Called before `array`'s storage is written: snapshots keeping it copy it first."""
    if _sharing:
        storage = _storage(array)
        for snapshot in list(_sharing):
            if any(snapshot.arrays[i] is storage for i in snapshot.shared):
                snapshot.unshare()
                _sharing.discard(snapshot)


def handing_out(array) -> None:
    """Called where `array`'s storage is handed out (numpy(), .data, detach()): anyone may
    write it from now on, so snapshots keeping it copy it, and later ones will not keep it."""
    before_write(array)
    storage = _storage(array)
    if isinstance(storage, np.ndarray):
        _handed_out[id(storage)] = storage


def _storage(array):
    """The array that owns `array`'s memory."""
    while isinstance(getattr(array, "base", None), np.ndarray):
        array = array.base
    return array


def relu(a: Tensor) -> Tensor:
    if type(a) is _Deferred:
        result = a._chain.then("relu", a)
        if result is not None:
            return result
    return elementwise.relu(a)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    if type(input) is _Deferred and conv_pool._plain_pool(input, dilation, ceil_mode,
                                                          return_indices):
        arguments = conv_pool._pool_arguments("max_pool2d", input, kernel_size, stride,
                                              padding)
        if arguments == _HALVES:
            result = input._chain.then("pool", input)
            if result is not None:
                return result
    return conv_pool.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode,
                                return_indices)


def _deferrable(inputs, options):
    """The convolution's output shape where its call is deferred, else None."""
    x, weight = inputs[0], inputs[1]
    if not policy.get().fuse_conv_relu_pool or x.device != "cpu" or x.dtype not in _FLOATS:
        return None
    skip = getattr(weight, "_fusion_skip", 0)
    if skip:
        weight._fusion_skip = skip - 1
        return None
    n, _, h, w = x.shape
    oh, ow = conv_pool.output_size("conv2d", (h, w), weight.shape[2:], options["stride"],
                                   options["padding"])
    shape = (n, weight.shape[0], oh, ow)
    if min(oh, ow) < 2 or not _fused_kernel(x, weight, options):
        return None
    return shape


def _fused_kernel(x, weight, options) -> bool:
    """Whether the CPU kernels have a fused forward for this layer (a plan of their own)."""
    plan = backend.kernels("cpu").conv2d_plan(x.shape, weight.shape, x.dtype, options["stride"],
                                              options["padding"], pooled=True)
    return plan.fused


class _Chain:
    """One deferred convolution and the ReLU / pool after it: the snapshot of its inputs,
    the steps taken ("relu", "pool"), the plain ops' results where they were needed, and
    the fused op's node and output version counter once fused."""

    __slots__ = ("inputs", "options", "weight", "settings", "steps", "plain", "fused")

    def __init__(self, inputs, options, weight):
        self.inputs, self.options, self.weight = inputs, options, weight
        self.settings = policy.get()  # the kernels' settings at the call, used when it runs
        self.steps, self.plain, self.fused = [], [], None

    def stage_tensor(self, stage: int, shape, dtype) -> "_Deferred":
        tensor = _Deferred.__new__(_Deferred)
        tensor.__dict__.update(_chain=self, _stage=stage, _shape=tuple(shape),
                               _dtype=np.dtype(dtype), device="cpu", grad=None,
                               requires_grad=self.inputs.records, _version_counter=[0],
                               _base=None)
        return tensor

    def then(self, step: str, tensor: "_Deferred"):
        """The next stage after `tensor` by `step`, deferred or fused; None where the chain
        cannot go on (a second step from the same stage, a stage already computed plainly, a
        repeated step): the caller runs the plain op."""
        if tensor._stage != len(self.steps) or self.plain or self.fused or step in self.steps:
            return None
        self.steps.append(step)
        if len(self.steps) == 1:
            n, o, h, w = tensor._shape
            shape = tensor._shape if step == "relu" else (n, o, h // 2, w // 2)
            return self.stage_tensor(1, shape, tensor._dtype)
        with policy.restored(self.settings):
            out = conv_pool.Conv2dReluPool.apply_to(self.inputs, **self.options,
                                                    relu_last=self.steps[-1] == "relu")
        self.fused = (out.grad_fn, out._version_counter)
        return out

    def realize(self, stage: int) -> Tensor:
        """The plain ops' result of `stage` (0 the convolution, 1 and 2 the steps), computed
        now from the snapshot, once. Once the chain is fused, its last stage too: the fused
        node then takes the plain ops' last node's place."""
        if not self.plain and not self.steps and self.weight is not None:
            self.weight._fusion_skip = SKIP_AFTER_UNFUSED  # read unfused, with no step
        last = len(self.steps) if self.fused else stage
        previous_mode = autograd._grad_enabled
        autograd._grad_enabled = self.inputs.records  # the grad mode of the call
        try:
            with policy.restored(self.settings):
                while len(self.plain) <= last:
                    self.plain.append(self._plain_stage(len(self.plain)))
        finally:
            autograd._grad_enabled = previous_mode
        if self.fused:
            self._replace_fused_node()
        return self.plain[stage]

    def _plain_stage(self, stage: int) -> Tensor:
        if stage == 0:
            return conv_pool.Conv2d.apply_to(self.inputs, **self.options)
        if self.steps[stage - 1] == "relu":
            return elementwise.relu(self.plain[stage - 1])
        return conv_pool.max_pool2d(self.plain[stage - 1], **_HALVES)

    def _replace_fused_node(self) -> None:
        node, counter = self.fused
        self.fused = None
        last = self.plain[-1]
        if node is None:
            return
        plain = last.grad_fn
        if node.ctx is None:  # a backward freed the fused op's graph: free the plain one's
            for tensor in self.plain:
                tensor.grad_fn.ctx = None
            return
        # the fused output's own counter where the plain last op saved its output (the
        # ReLU after the pool saves it: a change of the output then stops backward)
        plain.ctx.versions = [(counter if held is last._version_counter else held, value,
                               index) for held, value, index in plain.ctx.versions]
        node.function, node.ctx, node.parents = plain.function, plain.ctx, plain.parents


class _Deferred(Tensor):
    """A tensor of a deferred chain: shape, dtype and requires_grad without its values;
    reading `_data` or `grad_fn` computes them by the plain ops (_Chain.realize), and it is
    a plain Tensor from then on."""

    def _realize(self) -> None:
        real = self._chain.realize(self._stage)
        state = self.__dict__
        for name in ("_chain", "_stage", "_shape", "_dtype"):
            del state[name]
        state.update(_data=real._data, grad_fn=real.grad_fn, requires_grad=real.requires_grad,
                     _version_counter=real._version_counter)
        self.__class__ = Tensor

    def _get_data(self):
        self._realize()
        return self._data

    def _set_data(self, value):
        self._realize()
        self._data = value

    def _get_grad_fn(self):
        self._realize()
        return self.grad_fn

    def _set_grad_fn(self, value):
        self._realize()
        self.grad_fn = value

    _data = property(_get_data, _set_data)
    grad_fn = property(_get_grad_fn, _set_grad_fn)

    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def dim(self) -> int:
        return len(self._shape)

    def numel(self) -> int:
        return int(np.prod(self._shape))
