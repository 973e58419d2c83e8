"""Tensor: an array on a device, plus what autograd needs (requires_grad, grad, grad_fn).

`Tensor.data` is the raw device array (a NumPy array on the CPU). Every
operator and method below forwards to a differentiable op in `ops/`.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import autograd, backend

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)
_DTYPES = {"float32": float32, "float64": float64, "int64": int64, "bool": bool_}
_default_float = float32


def as_dtype(dtype) -> np.dtype:
    """Canonical dtype of `dtype` (a numpy dtype, type or name); only float32/64, int64, bool."""
    if dtype is None:
        return None
    try:
        canonical = np.dtype(dtype)
    except TypeError:
        canonical = None
    if canonical is None or canonical.name not in _DTYPES:
        raise TypeError(f"dtype: expected one of {sorted(_DTYPES)}, got {dtype!r}")
    return canonical


def _to_array(data, dtype) -> np.ndarray:
    """A fresh array from Python data or an array; Python floats default to float32."""
    if isinstance(data, Tensor):
        data = backend.transfer(data.data, "cpu")
    try:
        array = np.array(data, copy=True)
    except (ValueError, TypeError) as error:  # ragged nesting, unconvertible objects
        raise ValueError(f"tensor: cannot make a tensor from this {type(data).__name__} "
                         f"({error})") from None
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if array.dtype.kind == "f":
        keep = isinstance(data, np.ndarray) or isinstance(data, np.generic)
        return array if keep and array.dtype in (float32, float64) else array.astype(_default_float)
    if array.dtype.kind in "iu":
        return array.astype(int64)
    if array.dtype.kind == "b":
        return array
    raise TypeError(f"tensor: expected numbers or an array of numbers, got dtype {array.dtype}")


class Tensor:
    """A multi-dimensional array with reverse-mode autograd."""

    __array_priority__ = 1000  # make `ndarray + Tensor` call Tensor.__radd__

    def __init__(self, data, dtype=None, requires_grad: bool = False, device: str = "cpu"):
        self.device = backend.check_device(device)
        self.data = backend.transfer(_to_array(data, as_dtype(dtype)), self.device)
        self.grad = None
        self.grad_fn = None
        self.requires_grad = False
        self.requires_grad_(requires_grad)

    @classmethod
    def _from_array(cls, array, device: str = "cpu", requires_grad: bool = False) -> "Tensor":
        """Wrap an array the caller owns, without copying."""
        tensor = cls.__new__(cls)
        tensor.data, tensor.device = array, device
        tensor.grad, tensor.grad_fn, tensor.requires_grad = None, None, requires_grad
        return tensor

    # ----- attributes -------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def dim(self) -> int:
        return self.data.ndim

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def T(self) -> "Tensor":
        return self.permute(*reversed(range(self.ndim)))

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        grad = f", grad_fn=<{self.grad_fn.name}>" if self.grad_fn else (
            ", requires_grad=True" if self.requires_grad else "")
        return f"tensor({np.array2string(self.data, separator=', ')}, dtype={self.dtype}{grad})"

    # ----- autograd ---------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"requires_grad: only floating-point tensors can require gradients, "
                            f"got dtype {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor into the `.grad` of every leaf it depends on."""
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no grad_fn")
        if gradient is None:
            if self.numel() != 1:
                raise RuntimeError(f"backward: gradient can be implicit only for a scalar output; "
                                   f"got shape {self.shape}, pass gradient= of that shape")
            grad = backend.full(self.shape, 1, self.dtype, self.data)
        else:
            grad = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
            grad = backend.transfer(grad, self.device)
            if grad.shape != self.shape:
                raise ValueError(f"backward: expected gradient of shape {self.shape}, "
                                 f"got {grad.shape}")
            grad = grad.astype(self.dtype, copy=False)
        autograd.backward(self, grad, retain_graph=retain_graph)

    def _accumulate_grad(self, grad, unshared: bool = False) -> None:
        """Add `grad` to `.grad`; an unshared array of the right dtype is kept, not copied."""
        if self.grad is None:
            keep = unshared and grad.dtype == self.dtype
            self.grad = Tensor._from_array(grad if keep else grad.astype(self.dtype), self.device)
        else:
            self.grad.data += grad

    def detach(self) -> "Tensor":
        """The same data, cut from the graph (shares memory, like torch)."""
        return Tensor._from_array(self.data, self.device)

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("numpy: call .detach().numpy() on a tensor that requires grad")
        return backend.transfer(self.data, "cpu")  # a device tensor: copied to the host

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item: expected a tensor with one element, got shape {self.shape}")
        return backend.transfer(self.data, "cpu").item()

    def tolist(self):
        return backend.transfer(self.data, "cpu").tolist()

    def clone(self) -> "Tensor":
        return shape_ops.clone(self)

    def to(self, device=None, dtype=None) -> "Tensor":
        """On another device: a copy there, as a new leaf (moving does not carry gradients
        back across devices); with a dtype: a differentiable cast."""
        moved = self
        if device is not None and backend.check_device(device) != self.device:
            moved = Tensor._from_array(backend.transfer(self.data, str(device)), str(device),
                                       requires_grad=self.requires_grad)
        if dtype is None or as_dtype(dtype) == moved.dtype:
            return moved
        return elementwise.cast(moved, as_dtype(dtype))

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self) -> "Tensor":
        return self.to("cuda")

    def float(self) -> "Tensor":
        return self.to(dtype=float32)

    def double(self) -> "Tensor":
        return self.to(dtype=float64)

    def long(self) -> "Tensor":
        return self.to(dtype=int64)

    # ----- arithmetic -------------------------------------------------------------
    def __add__(self, other): return elementwise.add(self, other)
    def __radd__(self, other): return elementwise.add(other, self)
    def __sub__(self, other): return elementwise.sub(self, other)
    def __rsub__(self, other): return elementwise.sub(other, self)
    def __mul__(self, other): return elementwise.mul(self, other)
    def __rmul__(self, other): return elementwise.mul(other, self)
    def __truediv__(self, other): return elementwise.div(self, other)
    def __rtruediv__(self, other): return elementwise.div(other, self)
    def __pow__(self, other): return elementwise.pow(self, other)
    def __rpow__(self, other): return elementwise.pow(other, self)
    def __neg__(self): return elementwise.neg(self)
    def __matmul__(self, other): return linalg.matmul(self, other)
    def __rmatmul__(self, other): return linalg.matmul(other, self)

    def __eq__(self, other): return elementwise.compare(np.equal, self, other)
    def __ne__(self, other): return elementwise.compare(np.not_equal, self, other)
    def __lt__(self, other): return elementwise.compare(np.less, self, other)
    def __le__(self, other): return elementwise.compare(np.less_equal, self, other)
    def __gt__(self, other): return elementwise.compare(np.greater, self, other)
    def __ge__(self, other): return elementwise.compare(np.greater_equal, self, other)
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(f"bool: the truth value of a tensor of shape {self.shape} "
                               "is ambiguous; use .any() or .all()")
        return bool(self.data)

    def exp(self): return elementwise.exp(self)
    def log(self): return elementwise.log(self)
    def sqrt(self): return elementwise.sqrt(self)
    def abs(self): return elementwise.abs(self)
    def relu(self): return elementwise.relu(self)
    def tanh(self): return elementwise.tanh(self)
    def sigmoid(self): return elementwise.sigmoid(self)
    def matmul(self, other): return linalg.matmul(self, other)

    # ----- reductions -------------------------------------------------------------
    def sum(self, dim=None, keepdim=False): return reduction.sum(self, dim, keepdim)
    def mean(self, dim=None, keepdim=False): return reduction.mean(self, dim, keepdim)
    def max(self, dim=None, keepdim=False): return reduction.max(self, dim, keepdim)
    def argmax(self, dim=None, keepdim=False): return reduction.argmax(self, dim, keepdim)
    def any(self): return Tensor._from_array(np.asarray(self.data.any()), self.device)
    def all(self): return Tensor._from_array(np.asarray(self.data.all()), self.device)

    # ----- shapes and indexing ----------------------------------------------------
    def reshape(self, *shape): return shape_ops.reshape(self, *shape)
    def view(self, *shape): return shape_ops.reshape(self, *shape)
    def flatten(self, start_dim=0, end_dim=-1): return shape_ops.flatten(self, start_dim, end_dim)
    def permute(self, *dims): return shape_ops.permute(self, *dims)
    def transpose(self, dim0, dim1): return shape_ops.transpose(self, dim0, dim1)
    def unsqueeze(self, dim): return shape_ops.unsqueeze(self, dim)
    def squeeze(self, dim=None): return shape_ops.squeeze(self, dim)
    def contiguous(self): return self
    def __getitem__(self, index): return shape_ops.getitem(self, index)


def tensor(data, dtype=None, requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """A new tensor holding a copy of `data` (Python floats become float32, like torch)."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device)


def expect_tensors(op: str, **values) -> None:
    """A TypeError naming the op and the argument unless each value is a Tensor (None
    allowed for arguments named optional_*)."""
    for name, value in values.items():
        optional = name.startswith("optional_")
        if not isinstance(value, Tensor) and not (optional and value is None):
            name = name.removeprefix("optional_")
            raise TypeError(f"{op}: expected {name} to be a Tensor"
                            f"{' or None' if optional else ''}, got {type(value).__name__}")


def as_tensor(value, like: Tensor | None = None) -> Tensor:
    """`value` as a tensor; a Python number takes the dtype and device of `like`."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, numbers.Number) and like is not None:
        dtype = like.dtype if like.dtype.kind == "f" or isinstance(value, numbers.Integral) \
            else _default_float
        return Tensor._from_array(backend.full((), value, dtype, like.data), like.device)
    return tensor(value)


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for extent in size:
        if not isinstance(extent, numbers.Integral) or extent < 0:
            raise ValueError(f"size: expected non-negative integers, got {size}")
    return tuple(int(extent) for extent in size)


def _factory(array, dtype, requires_grad, device) -> Tensor:
    dtype = as_dtype(dtype) or _default_float
    result = Tensor._from_array(array.astype(dtype, copy=False), backend.check_device(device))
    return result.requires_grad_(requires_grad)


def zeros(*size, dtype=None, requires_grad=False, device="cpu") -> Tensor:
    return _factory(np.zeros(_shape(size)), dtype, requires_grad, device)


def ones(*size, dtype=None, requires_grad=False, device="cpu") -> Tensor:
    return _factory(np.ones(_shape(size)), dtype, requires_grad, device)


def full(size, fill_value, dtype=None, requires_grad=False, device="cpu") -> Tensor:
    return _factory(np.full(_shape((size,)), fill_value), dtype, requires_grad, device)


def zeros_like(other: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return zeros(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad,
                 device=other.device)


def ones_like(other: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return ones(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad,
                device=other.device)


def randn(*size, dtype=None, requires_grad=False, device="cpu", generator=None) -> Tensor:
    rng = generator or random.default_generator()
    return _factory(rng.standard_normal(_shape(size)), dtype, requires_grad, device)


def rand(*size, dtype=None, requires_grad=False, device="cpu", generator=None) -> Tensor:
    rng = generator or random.default_generator()
    return _factory(rng.random(_shape(size)), dtype, requires_grad, device)


def arange(start, end=None, step=1, dtype=None, device="cpu") -> Tensor:
    if end is None:
        start, end = 0, start
    array = np.arange(start, end, step)
    if dtype is None and array.dtype.kind == "f":
        dtype = _default_float
    return Tensor._from_array(array.astype(as_dtype(dtype) or array.dtype),
                              backend.check_device(device))


# The ops import Tensor from this module, so they are bound after it exists.
from . import random  # noqa: E402
from .ops import elementwise, linalg, reduction, shape_ops  # noqa: E402
