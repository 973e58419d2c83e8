"""Reverse-mode automatic differentiation.

A differentiable op is a `Function` subclass with `forward` and `backward`
side by side, both working on raw arrays. `Function.apply` runs the forward
pass on the tensors' arrays and, when a gradient is wanted, records a `Node`
on the output. `backward` walks the recorded graph once, in one
deterministic reverse-topological order, without recursion (deep graphs
are fine), accumulates gradients with `+=`, undoes broadcasting in one place
and frees the graph as it goes.
"""
from __future__ import annotations

import collections
import functools

import numpy as np

from . import backend

_grad_enabled = True
_HALF, _SINGLE = np.dtype(np.float16), np.dtype(np.float32)


def is_grad_enabled() -> bool:
    return _grad_enabled


class no_grad:
    """Context manager (and decorator) that stops graph recording."""

    def __enter__(self):
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = False

    def __exit__(self, *exc_info):
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)
        return wrapper


class Context:
    """What a forward pass leaves for its backward pass."""

    def __init__(self, device: str, needs_input_grad: tuple):
        self.device = device
        self.kernels = backend.kernels(device)
        self.needs_input_grad = needs_input_grad
        self.saved = ()
        self.versions = ()  # (version counter, value when saved, input index or -1: output)

    def save_for_backward(self, *arrays):
        self.saved = arrays


class Node:
    """An op in the recorded graph: the function, its context, the shape and dtype of its
    output, and per input where its gradient goes: the Node that made the input *when it
    was used* (so an in-place change of the input later does not reroute it), the input
    itself if it is a leaf that requires grad, or None."""

    __slots__ = ("function", "ctx", "parents", "shape", "dtype")

    def __init__(self, function, ctx, parents, shape, dtype):
        self.function = function
        self.ctx = ctx
        self.parents = parents
        self.shape = shape
        self.dtype = dtype

    @property
    def name(self) -> str:
        return self.function.__name__


class Function:
    """Base class of the differentiable primitives.

    `forward(ctx, *arrays, **options)` gets the arrays of the positional
    tensor arguments and returns one array; `backward(ctx, grad)` returns one
    gradient array (or None) per positional tensor argument.
    """

    @staticmethod
    def forward(ctx, *arrays, **options):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    # True for ops whose numba kernels compile for float32/float64 only: given a float16
    # first input, the op runs in float32 and its result is cast back.
    computes_half_in_float32 = False

    @classmethod
    def apply(cls, *inputs, **options):
        device = _common_device(cls.__name__, inputs)
        needs = tuple([t.requires_grad for t in inputs])
        if cls.computes_half_in_float32 and inputs and inputs[0]._data.dtype == _HALF:
            return _through_float32(cls, inputs, options)
        record = _grad_enabled and True in needs
        ctx = Context(device, needs)
        out = cls.forward(ctx, *[t._data for t in inputs], **options)
        if isinstance(out, np.generic):  # NumPy's 0-d arithmetic: storage must be writable
            out = np.asarray(out)
        record = record and out.dtype.kind == "f"  # integer and bool results have no gradient
        result = _new_tensor(out, device, record)
        if record:
            if ctx.saved:
                ctx.versions = _saved_versions(
                    ctx.saved, [t._data for t in inputs],
                    [(t._version_counter, t._version_counter[0]) for t in inputs], out, result)
            result.grad_fn = Node(cls, ctx, _parents(inputs), out.shape, out.dtype)
        return result

    @classmethod
    def apply_to(cls, inputs: "Snapshot", **options):
        """apply() on inputs as they were when the snapshot was taken (an op run later than
        its call, ops/fusion.py): their values, graph parents, version counters and the grad
        mode then."""
        ctx = Context(inputs.device, inputs.needs)
        out = cls.forward(ctx, *inputs.arrays, **options)
        if isinstance(out, np.generic):
            out = np.asarray(out)
        record = inputs.records and out.dtype.kind == "f"
        result = _new_tensor(out, inputs.device, record)
        if record:
            if ctx.saved:
                ctx.versions = _saved_versions(ctx.saved, inputs.arrays, inputs.versions, out,
                                               result)
            result.grad_fn = Node(cls, ctx, inputs.parents, out.shape, out.dtype)
        return result


def _parents(inputs) -> tuple:
    """Where each input's gradient goes: the Node that made it, itself if it is a leaf that
    requires grad, or nowhere."""
    return tuple([t.grad_fn if t.grad_fn is not None else t if t.requires_grad else None
                  for t in inputs])


class Snapshot:
    """Tensors as they are now, for an op that runs later: their arrays, copied (so later
    in-place changes, also through .data or NumPy, are not seen) except those of the
    `shared` inputs, whose owner must call unshare() before their storage changes; their
    graph parents, their version counters with the values now, and whether the op records
    a graph."""

    __slots__ = ("arrays", "needs", "parents", "versions", "device", "records", "shared",
                 "__weakref__")

    def __init__(self, inputs, shared=()):
        self.device = _common_device("snapshot", inputs)
        # copies in C order, as the kernels want
        self.arrays = [t._data if i in shared else t._data.copy() for i, t in enumerate(inputs)]
        self.shared = tuple(shared)
        self.needs = tuple([t.requires_grad for t in inputs])
        self.parents = _parents(inputs)
        self.versions = [(t._version_counter, t._version_counter[0]) for t in inputs]
        self.records = _grad_enabled and True in self.needs

    def unshare(self) -> None:
        """Copy the arrays kept by reference (their storage is about to change)."""
        for i in self.shared:
            self.arrays[i] = self.arrays[i].copy()
        self.shared = ()


def _saved_versions(saved, arrays, versions, out, result) -> list:
    """The version counters of the tensors whose arrays the forward saved (its inputs'
    `arrays` and its output's own; arrays it derived are its own), with the values the
    inputs' counters had when they were used (`versions`)."""
    recorded = []
    for array in saved:
        if array is out:
            recorded.append((result._version_counter, 0, -1))
            continue
        for index, given in enumerate(arrays):
            if array is given:
                counter, value = versions[index]
                recorded.append((counter, value, index))
                break
    return recorded


def _check_versions(node) -> None:
    for counter, expected, index in node.ctx.versions:
        if counter[0] != expected:
            which = "output" if index < 0 else f"input {index}"
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by "
                f"an inplace operation: the {which} of {node.name} is at version "
                f"{counter[0]}; expected version {expected} instead (change a clone() "
                f"instead, or do the in-place change after backward)")


def _through_float32(cls, inputs, options):
    """`cls` on float32 copies of its float16 inputs (casts recorded, so gradients flow),
    the result cast back to float16."""
    from .ops.promotion import cast
    wide = [cast(t, _SINGLE) if t.dtype == _HALF else t for t in inputs]
    out = cls.apply(*wide, **options)
    return cast(out, _HALF) if out.dtype.kind == "f" else out


def _new_tensor(array, device: str, requires_grad: bool):
    """Tensor._from_array, looked up once (tensor.py imports this module)."""
    global _new_tensor
    from .tensor import Tensor
    _new_tensor = Tensor._from_array
    return _new_tensor(array, device, requires_grad)


def _common_device(op: str, inputs) -> str:
    if not inputs:
        return "cpu"
    device = inputs[0].device
    for t in inputs:
        if t.device is not device and t.device != device:
            devices = sorted({str(t.device) for t in inputs})
            raise RuntimeError(f"{op}: expected all tensors on one device, got {devices}")
    return device


def _with_dtype(grad, dtype):
    """A backward's result as an array of `dtype` (host scalars become 0-d arrays)."""
    if isinstance(grad, (np.ndarray, np.generic, float, int)):
        return np.asarray(grad, dtype=dtype)
    return grad if grad.dtype == dtype else grad.astype(dtype)


def unbroadcast(grad, shape: tuple):
    """Sum a gradient of a broadcast result back down to the operand's shape."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, size in enumerate(shape) if size == 1 and grad.shape[i + extra] != 1)
    grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _topological_order(root) -> list:
    """The graph's vertices below `root` (Nodes, and leaf tensors that require grad), each
    after every vertex it was computed from.

    Iterative depth-first search: a vertex is marked when it is expanded, and appended
    once all of its parents have been appended.
    """
    order, expanded = [], set()
    stack = [(root, False)]
    while stack:
        vertex, parents_done = stack.pop()
        if parents_done:
            order.append(vertex)
            continue
        if id(vertex) in expanded:
            continue
        expanded.add(id(vertex))
        stack.append((vertex, True))
        if type(vertex) is Node:
            for parent in reversed(vertex.parents):
                if parent is not None and id(parent) not in expanded:
                    stack.append((parent, False))
    return order


def backward(root, grad, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into every leaf's `.grad`. Infinities and NaNs that
    backwards make (1/0 at sqrt(0), ...) come silently, as in torch."""
    with np.errstate(all="ignore"):
        _walk_backward(root.grad_fn if root.grad_fn is not None else root, grad,
                       retain_graph)


def _walk_backward(root, grad, retain_graph: bool) -> None:
    root_grad, grads, leaves = grad, {id(root): grad}, []
    for vertex in reversed(_topological_order(root)):
        grad = grads.pop(id(vertex), None)
        if grad is None:
            continue
        if type(vertex) is not Node:
            leaves.append((vertex, grad))
            continue
        node = vertex
        if node.ctx is None:
            raise RuntimeError(
                f"backward through {node.name} a second time: its graph was freed after the "
                "first backward; pass retain_graph=True to the first call")
        if node.ctx.versions:
            _check_versions(node)
        input_grads = node.function.backward(node.ctx, grad)
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        if len(input_grads) != len(node.parents):
            raise RuntimeError(f"{node.name}.backward returned {len(input_grads)} gradients "
                               f"for {len(node.parents)} inputs")
        for index, parent in enumerate(node.parents):
            parent_grad = input_grads[index]
            if parent_grad is None or parent is None:
                continue
            if type(parent) is Node:
                shape, dtype = parent.shape, parent.dtype
            else:
                shape, dtype = parent._data.shape, parent._data.dtype
            if isinstance(parent_grad, _HOST_SCALARS) or parent_grad.dtype != dtype:
                parent_grad = _with_dtype(parent_grad, dtype)
            if parent_grad.shape != shape:
                parent_grad = unbroadcast(parent_grad, shape)
                if parent_grad.shape != shape:
                    raise RuntimeError(f"{node.name}.backward: gradient of input {index} has "
                                       f"shape {parent_grad.shape}, expected {shape}")
            key = id(parent)
            previous = grads.get(key)
            grads[key] = parent_grad if previous is None else previous + parent_grad
        if not retain_graph:
            node.ctx = None
    _give_to_leaves(leaves, root_grad)


_HOST_SCALARS = (np.generic, float, int)  # a backward's scalar result becomes a 0-d array


def _give_to_leaves(leaves, root_grad) -> None:
    """Hand each leaf its gradient once every backward has run. A leaf keeps an array no one
    else can reach (made by a backward, owning its memory, given to no other leaf) instead of
    copying it, as torch steals such buffers: the caller's gradient, views and arrays shared
    between leaves are copied. (A backward returns fresh arrays or views of its `grad`, never
    an array it keeps.)"""
    given = collections.Counter(id(grad) for _, grad in leaves)
    for tensor, grad in leaves:
        unshared = (grad is not root_grad and given[id(grad)] == 1
                    and isinstance(grad, np.ndarray) and grad.base is None)
        tensor._accumulate_grad(grad, unshared)
