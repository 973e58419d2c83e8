"""torch.nn.functional's `inplace=True` forms (and relu_, selu_) of ops defined elsewhere:
relu, selu, dropout; and `in_place`, which the activations' own in-place forms share.

An in-place call writes the result into its input (ops/inplace.py: the version counter goes
up, a leaf that requires grad is refused as torch refuses it). Where torch's in-place
backward reads the result, the op saves its result too, and `in_place` makes that saved
result stand for the input's new value: a later in-place change of it stops backward, as in
torch.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from . import elementwise, fusion, normalization
from .inplace import apply_inplace
from .promotion import cast


def in_place(op: str, x: Tensor, function, **options) -> Tensor:
    """x overwritten by `function` (a Function class) applied to it."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if isinstance(x._data, np.generic):
        # a 0-d result can hold a NumPy scalar, which cannot be written to; nothing else can
        # reach its memory, so it becomes a 0-d array first
        x._data = np.asarray(x._data).copy()
    apply_inplace(op, x, lambda old: function.apply(old, **options))
    node = x.grad_fn
    if node is not None and node.function is function and node.ctx is not None:
        node.ctx.versions = [(x._version_counter, x._version_counter[0], index) if index < 0
                             else (counter, value, index)
                             for counter, value, index in node.ctx.versions]
    return x


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """F.relu: fused with a convolution and 2x2 pool around it where the kernels can
    (fusion.py), in place too."""
    return relu_(input) if inplace else fusion.relu(input)


def relu_(input: Tensor) -> Tensor:
    deferred = _relu_deferred_in_place(input)
    if deferred is not None:
        return deferred
    if isinstance(input, Tensor) and input.dtype.kind == "b":
        raise NotImplementedError("relu_: bool inputs are not supported (as in torch)")
    return in_place("relu_", input, elementwise.Relu)


def _relu_deferred_in_place(x):
    """relu_ of a convolution's output not computed yet (fusion.py) goes on with the deferred
    chain, so Conv2d, ReLU(inplace=True), MaxPool2d(2) still run fused: nothing can have
    read or aliased x's values yet, so x simply becomes the chain's next stage. None where
    the chain cannot go on."""
    if type(x) is not fusion._Deferred:
        return None
    version = x._version_counter[0] + 1
    result = x._chain.then("relu", x)
    if result is None:
        return None
    state = x.__dict__
    state.clear()
    state.update(result.__dict__)
    x.__class__ = type(result)
    if type(result) is fusion._Deferred:  # (a fused result's counter is the fused op's)
        x._version_counter[0] = version
    return x


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    if not inplace:
        return elementwise.selu(input)
    if isinstance(input, Tensor) and input.dtype.kind != "f":
        raise NotImplementedError(f"selu_: not implemented for dtype {input.dtype} (only "
                                  "floating-point tensors, as in torch)")
    from .activations import Elu  # (activations imports this module)
    return in_place("selu_", input, Elu, alpha=elementwise.SELU_ALPHA,
                    scale=elementwise.SELU_SCALE, from_result=True)


def selu_(input: Tensor) -> Tensor:
    return selu(input, inplace=True)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """torch's F.dropout; in place, the input is overwritten with the dropped-out values
    (in eval mode, or with p = 0, it is returned untouched, as torch)."""
    if not inplace:
        return _dropout(input, p, training)
    normalization.dropout(input, p, False)  # checks the arguments
    if not training or p == 0:
        return input
    if isinstance(input._data, np.generic):  # (as in in_place)
        input._data = np.asarray(input._data).copy()
    return apply_inplace("dropout_", input, lambda old: _dropout(old, p, training))


def _dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Dropout; a float16 tensor through float32 (the mask kernels have no float16)."""
    if isinstance(x, Tensor) and x.dtype == dtypes.float16 and training and p != 0:
        return cast(normalization.dropout(cast(x, dtypes.float32), p, training),
                    dtypes.float16)
    return normalization.dropout(x, p, training)
