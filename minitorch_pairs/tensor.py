"""Tensor: an array on a device, plus what autograd needs (requires_grad, grad, grad_fn).

`Tensor._data` is the raw device array (a NumPy array on the CPU); `.data` is, as in torch,
a tensor sharing it outside the graph. Every operator and method below forwards to a
differentiable op in `ops/`.
"""
from __future__ import annotations

import numpy as np

from . import autograd, backend, dtypes
from .dtypes import (as_dtype, bool_, float16, float32, float64, int8, int16, int32,  # noqa: F401
                     int64, uint8)
from .errors import ShapeError


def _inferred_dtype(data, array: np.ndarray) -> np.dtype:
    """torch.tensor's dtype for data given without dtype=: an array or NumPy scalar keeps its
    dtype; Python floats take the default dtype, ints int64, bools bool."""
    if isinstance(data, (np.ndarray, np.generic)):
        return dtypes.as_dtype(array.dtype)
    kind = array.dtype.kind
    if kind == "f":
        return dtypes.get_default_dtype()
    if kind in "iu":
        return dtypes.int64
    if kind == "b":
        return dtypes.bool_
    raise TypeError(f"tensor: expected numbers or an array of numbers, got dtype {array.dtype}")


def _leaves(data):
    """The numbers of nested Python lists and tuples."""
    if isinstance(data, (list, tuple)):
        for item in data:
            yield from _leaves(item)
    else:
        yield data


def _beyond_int64(data, array: np.ndarray) -> bool:
    """Python data holding an int outside int64 (NumPy then gives uint64, object, or float64
    for ints mixed with one), all its numbers ints: torch.tensor's overflow, unless a floating
    dtype= is asked for."""
    if isinstance(data, (np.ndarray, np.generic)) or array.dtype.kind not in "uOf":
        return False
    if array.dtype.kind == "f" and not (array.size and np.abs(array).max() >= 2.0**63):
        return False
    leaves = list(_leaves(data))
    return all(isinstance(v, int) and not isinstance(v, bool) for v in leaves) and \
        any(not -2**63 <= v < 2**63 for v in leaves)


def _to_array(data, dtype) -> np.ndarray:
    """A fresh host array of `data` with torch's dtype inference."""
    if isinstance(data, Tensor):
        data = backend.transfer(data._data, "cpu")
    try:
        array = np.array(data, copy=True)
    except (ValueError, TypeError) as error:  # ragged nesting, unconvertible objects
        raise ValueError(f"tensor: cannot make a tensor from this {type(data).__name__} "
                         f"({error})") from None
    if _beyond_int64(data, array):
        if dtype is None or dtype.kind not in "f":
            raise ValueError("tensor: Overflow when unpacking long long: a Python int "
                             "beyond int64's range (as torch; pass a floating dtype= to "
                             "keep it as a float)")
        array = np.array(data, dtype=np.float64)
    return array.astype(dtype or _inferred_dtype(data, array), copy=False)


class Tensor:
    """A multi-dimensional array with reverse-mode autograd."""

    __array_priority__ = 1000  # make `ndarray + Tensor` call Tensor.__radd__

    def __init__(self, data, dtype=None, requires_grad: bool = False, device: str = "cpu"):
        self.device = backend.check_device(device)
        self._data = backend.transfer(_to_array(data, as_dtype(dtype)), self.device)
        self.grad = None
        self.grad_fn = None
        self.requires_grad = False
        self._version_counter, self._base = [0], None
        self.requires_grad_(requires_grad)

    @classmethod
    def _from_array(cls, array, device: str = "cpu", requires_grad: bool = False) -> "Tensor":
        """Wrap an array the caller owns, without copying."""
        tensor = cls.__new__(cls)
        tensor._data, tensor.device = array, backend.CANONICAL[device]
        tensor.grad, tensor.grad_fn, tensor.requires_grad = None, None, requires_grad
        # changes counted for autograd's saved-tensor check; views share their base's counter
        tensor._version_counter, tensor._base = [0], None
        return tensor

    # ----- attributes -------------------------------------------------------------
    @property
    def data(self) -> "Tensor":
        """The same storage as a tensor outside the graph, as torch's `.data`: changes made
        through it are not counted by the version counter (use `.detach()` to have them
        checked)."""
        fusion.handing_out(self._data)
        return Tensor._from_array(self._data, self.device)

    @data.setter
    def data(self, value: "Tensor") -> None:
        """Replace the storage (torch's `p.data = t`): no graph, no version change."""
        if not isinstance(value, Tensor):
            raise TypeError(f"data: expected a Tensor, got {type(value).__name__}")
        fusion.handing_out(value._data)
        self._data = value._data

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return self._data.size

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
        """torch's layout: dtype shown unless it is the default float, int64 or bool."""
        values = backend.transfer(self._data, "cpu")
        fixed = self.dtype.kind == "f" and values.size and not np.all(
            np.isfinite(values) & (values == np.round(values)))
        body = np.array2string(values, separator=", ", prefix="tensor(", precision=4,
                               floatmode="fixed" if fixed else "maxprec")
        extras = []
        if self.device != "cpu":
            extras.append(f"device='{self.device}:0'")
        if self.dtype not in (dtypes.get_default_dtype(), int64, bool_) or values.size == 0:
            extras.append(f"dtype=torch.{self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({', '.join([body] + extras)})"

    def __format__(self, spec: str) -> str:
        if self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__ (only "
                            "0-d tensors format like numbers, as in torch)")
        return repr(self)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __contains__(self, element) -> bool:
        return bool((self == element).any())

    def _scalar(self, kind: str):
        if self.numel() != 1:
            raise ValueError(f"{kind}: only one element tensors can be converted to Python "
                             f"scalars, got shape {self.shape}")
        return backend.transfer(self._data, "cpu").item()

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __index__(self) -> int:
        if self.dtype.kind not in "iub" or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            f"index, got dtype {self.dtype} and shape {self.shape}")
        return int(self._scalar("index"))

    def __array__(self, dtype=None, copy=None):
        """NumPy's view of the tensor (np.asarray, matplotlib): refused while it requires
        grad, as torch's .numpy()."""
        array = np.asarray(self.numpy())  # a 0-d result can hold a NumPy scalar
        return array if dtype is None else array.astype(dtype, copy=False)

    # ----- autograd ---------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError(f"requires_grad: only Tensors of floating point dtype can require "
                               f"gradients, got dtype {self.dtype}")
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
            grad = backend.full(self.shape, 1, self.dtype, self._data)
        else:
            grad = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient)
            grad = backend.transfer(grad, self.device)
            if grad.shape != self.shape:
                raise ShapeError(f"backward: expected gradient of shape {self.shape}, "
                                 f"got {grad.shape}")
            grad = grad.astype(self.dtype, copy=False)
        autograd.backward(self, grad, retain_graph=retain_graph)

    def _accumulate_grad(self, grad, unshared: bool = False) -> None:
        """Add `grad` to `.grad`; an unshared array of the right dtype is kept, not copied."""
        if self.grad is None:
            keep = unshared and grad.dtype == self.dtype
            self.grad = Tensor._from_array(grad if keep else grad.astype(self.dtype), self.device)
        else:
            self.grad._data += grad

    def detach(self) -> "Tensor":
        """The same data, cut from the graph (shares memory and the version counter, like
        torch: an in-place change of either is seen by autograd)."""
        fusion.handing_out(self._data)
        detached = Tensor._from_array(self._data, self.device)
        detached._version_counter = self._version_counter
        return detached

    def detach_(self) -> "Tensor":
        if self._base is not None:
            raise RuntimeError("detach_: can't detach views in-place; use detach() instead")
        self.grad_fn, self.requires_grad = None, False
        return self

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's storage has seen (torch's `_version`)."""
        return self._version_counter[0]

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("numpy: call .detach().numpy() on a tensor that requires grad")
        fusion.handing_out(self._data)
        return backend.transfer(self._data, "cpu")  # a device tensor: copied to the host

    def item(self):
        if self.numel() != 1:
            raise ShapeError(f"item: a Tensor with {self.numel()} elements cannot be converted "
                             f"to Scalar (shape {self.shape})")
        return backend.transfer(self._data, "cpu").item()

    def tolist(self):
        return backend.transfer(self._data, "cpu").tolist()

    def clone(self) -> "Tensor":
        return shape_ops.clone(self)

    def to(self, *args, dtype=None, device=None, copy: bool = False) -> "Tensor":
        """torch's forms: to(device), to(dtype), to(device, dtype), to(other), keywords too.
        On another device: a copy there, as a new leaf (moving does not carry gradients back
        across devices); with a dtype: a differentiable cast; the same tensor if neither
        changes (a copy with copy=True)."""
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, (np.dtype, type)) or (
                    isinstance(arg, str) and arg in dtypes.SUPPORTED_NAMES):
                dtype = arg
            else:
                device = arg
        moved = self
        target = self.device if device is None else backend.check_device(device)
        if target is not self.device:
            moved = Tensor._from_array(backend.transfer(self._data, target), target,
                                       requires_grad=self.requires_grad)
        if dtype is None or as_dtype(dtype) == moved.dtype:
            return moved.clone() if copy and moved is self else moved
        return promotion.cast(moved, as_dtype(dtype))

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self) -> "Tensor":
        return self.to("cuda")

    def float(self) -> "Tensor":
        return self.to(dtype=float32)

    def double(self) -> "Tensor":
        return self.to(dtype=float64)

    def half(self) -> "Tensor":
        return self.to(dtype=float16)

    def long(self) -> "Tensor":
        return self.to(dtype=int64)

    def int(self) -> "Tensor":
        return self.to(dtype=int32)

    def short(self) -> "Tensor":
        return self.to(dtype=int16)

    def char(self) -> "Tensor":
        return self.to(dtype=int8)

    def byte(self) -> "Tensor":
        return self.to(dtype=uint8)

    def bool(self) -> "Tensor":
        return self.to(dtype=bool_)

    def type(self, dtype=None):
        """With a dtype: this tensor converted to it; without: torch's type name."""
        if dtype is None:
            names = {bool_: "Bool", uint8: "Byte", int8: "Char", int16: "Short", int32: "Int",
                     int64: "Long", float16: "Half", float32: "Float", float64: "Double"}
            return f"{'torch.cuda' if self.device != 'cpu' else 'torch'}.{names[self.dtype]}Tensor"
        return self.to(dtype=dtype)

    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

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

    def __eq__(self, other): return comparison.compare(np.equal, self, other)
    def __ne__(self, other): return comparison.compare(np.not_equal, self, other)
    def __lt__(self, other): return comparison.compare(np.less, self, other)
    def __le__(self, other): return comparison.compare(np.less_equal, self, other)
    def __gt__(self, other): return comparison.compare(np.greater, self, other)
    def __ge__(self, other): return comparison.compare(np.greater_equal, self, other)
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(f"bool: the truth value of a tensor of shape {self.shape} "
                               "is ambiguous; use .any() or .all()")
        return bool(backend.transfer(self._data, "cpu"))

    def __and__(self, other): return comparison.bitwise(np.bitwise_and, self, other)
    def __rand__(self, other): return comparison.bitwise(np.bitwise_and, other, self)
    def __or__(self, other): return comparison.bitwise(np.bitwise_or, self, other)
    def __ror__(self, other): return comparison.bitwise(np.bitwise_or, other, self)
    def __xor__(self, other): return comparison.bitwise(np.bitwise_xor, self, other)
    def __rxor__(self, other): return comparison.bitwise(np.bitwise_xor, other, self)

    def __invert__(self):
        if self.dtype.kind not in "iub":
            raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                            f"tensors, got dtype {self.dtype}")
        return Tensor._from_array(np.invert(self._data), self.device)

    # ----- in place (ops/inplace.py: the out-of-place twin, written into this storage) ----
    def _inplace(self, op: str, compute) -> "Tensor":
        return inplace.apply_inplace(op, self, compute)

    def add_(self, other, alpha=1):
        return self._inplace("add_", lambda t: t + (other if alpha == 1 else other * alpha))

    def sub_(self, other, alpha=1):
        return self._inplace("sub_", lambda t: t - (other if alpha == 1 else other * alpha))

    def mul_(self, other): return self._inplace("mul_", lambda t: t * other)
    def div_(self, other): return self._inplace("div_", lambda t: t / other)
    def pow_(self, other): return self._inplace("pow_", lambda t: t ** other)
    def neg_(self): return self._inplace("neg_", elementwise.neg)
    def exp_(self): return self._inplace("exp_", elementwise.exp)
    def log_(self): return self._inplace("log_", elementwise.log)
    def sqrt_(self): return self._inplace("sqrt_", elementwise.sqrt)
    def abs_(self): return self._inplace("abs_", elementwise.abs)
    def relu_(self): return self._inplace("relu_", elementwise.relu)
    def tanh_(self): return self._inplace("tanh_", elementwise.tanh)
    def sigmoid_(self): return self._inplace("sigmoid_", elementwise.sigmoid)
    def __iadd__(self, other): return self.add_(other)
    def __isub__(self, other): return self.sub_(other)
    def __imul__(self, other): return self.mul_(other)
    def __itruediv__(self, other): return self.div_(other)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", lambda t: comparison.clamp(t, min, max))

    def masked_fill_(self, mask, value):
        return self._inplace("masked_fill_", lambda t: comparison.masked_fill(t, mask, value))

    def fill_(self, value):
        if isinstance(value, Tensor):  # a 0-d tensor: its gradient is the filled elements'
            if value.ndim:
                raise RuntimeError(f"fill_: only supports a 0-dimension value tensor, got one "
                                   f"with {value.ndim} dimension(s)")
            return self.copy_(value)
        return self._inplace("fill_", lambda t: inplace.Fill.apply(t, value=value))

    def zero_(self):
        return self.fill_(0)

    def copy_(self, source):
        source = source if isinstance(source, Tensor) else tensor(source)
        if source.device != self.device:
            source = source.to(self.device)
        return self._inplace("copy_", lambda t: inplace.CopyFrom.apply(t, source))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        rng = random.numpy_generator(generator)
        noise = Tensor(rng.standard_normal(self.shape) * std + mean, dtype=self.dtype)
        return self.copy_(noise)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        rng = random.numpy_generator(generator)
        noise = Tensor(rng.uniform(a, b, self.shape), dtype=self.dtype)
        return self.copy_(noise)

    def __setitem__(self, index, value) -> None:
        basic, advanced = shape_ops.split_index(index)
        if isinstance(value, Tensor):
            value = value if value.dtype == self.dtype else value.to(dtype=self.dtype)
        else:
            value = Tensor._from_array(backend.transfer(np.asarray(value, self.dtype),
                                                        self.device), self.device)
        try:
            self._inplace("setitem", lambda t: inplace.SetItem.apply(
                t, value, basic=basic, advanced=advanced))
        except ValueError as error:  # NumPy's broadcast failure
            if isinstance(error, ShapeError):
                raise
            raise ShapeError(f"setitem: value of shape {value.shape} cannot be broadcast to "
                             f"the indexed region of a tensor of shape {self.shape} "
                             f"({error})") from None

    def clamp(self, min=None, max=None): return comparison.clamp(self, min, max)
    def clip(self, min=None, max=None): return comparison.clamp(self, min, max)
    def masked_fill(self, mask, value): return comparison.masked_fill(self, mask, value)
    def exp(self): return elementwise.exp(self)
    def log(self): return elementwise.log(self)
    def sqrt(self): return elementwise.sqrt(self)
    def abs(self): return elementwise.abs(self)
    def relu(self): return fusion.relu(self)
    def tanh(self): return elementwise.tanh(self)
    def sigmoid(self): return elementwise.sigmoid(self)
    def matmul(self, other): return linalg.matmul(self, other)

    # ----- reductions -------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        return reduction.sum(self, dim, keepdim, dtype=dtype)
    def mean(self, dim=None, keepdim=False, *, dtype=None):
        return reduction.mean(self, dim, keepdim, dtype=dtype)
    def max(self, dim=None, keepdim=False): return reduction.max(self, dim, keepdim)
    def argmax(self, dim=None, keepdim=False): return reduction.argmax(self, dim, keepdim)
    def any(self, dim=None, keepdim=False): return reduction.any(self, dim, keepdim)
    def all(self, dim=None, keepdim=False): return reduction.all(self, dim, keepdim)

    # ----- shapes and indexing ----------------------------------------------------
    def reshape(self, *shape): return shape_ops.reshape(self, *shape)
    def view(self, *shape, size=None):  # (also x.view(size=...), as torch)
        return views.view(self, *shape) if size is None else views.view(self, size)

    def flatten(self, start_dim=0, end_dim=-1): return shape_ops.flatten(self, start_dim, end_dim)
    def permute(self, *dims): return shape_ops.permute(self, *dims)
    def transpose(self, dim0, dim1): return shape_ops.transpose(self, dim0, dim1)
    def unsqueeze(self, dim): return views.unsqueeze(self, dim)
    def squeeze(self, dim=None): return views.squeeze(self, dim)
    def contiguous(self): return views.contiguous(self)
    def __getitem__(self, index): return shape_ops.getitem(self, index)

    # ----- pointwise math, division, logic (ops/pointwise, division, logic) ------------
    def neg(self): return pointwise.neg(self)
    def negative(self): return pointwise.neg(self)
    def sign(self): return pointwise.sign(self)
    def reciprocal(self): return pointwise.reciprocal(self)
    def expm1(self): return pointwise.expm1(self)
    def log1p(self): return pointwise.log1p(self)
    def log2(self): return pointwise.log2(self)
    def log10(self): return pointwise.log10(self)
    def rsqrt(self): return pointwise.rsqrt(self)
    def square(self): return pointwise.square(self)
    def sin(self): return pointwise.sin(self)
    def cos(self): return pointwise.cos(self)
    def tan(self): return pointwise.tan(self)
    def asin(self): return pointwise.asin(self)
    def acos(self): return pointwise.acos(self)
    def atan(self): return pointwise.atan(self)
    def floor(self): return pointwise.floor(self)
    def ceil(self): return pointwise.ceil(self)
    def round(self, decimals=None): return pointwise.round(self, decimals=decimals)
    def trunc(self): return pointwise.trunc(self)
    def frac(self): return pointwise.frac(self)
    def pow(self, exponent): return pointwise.pow(self, exponent)
    def atan2(self, other): return pointwise.atan2(self, other)
    def minimum(self, other): return pointwise.minimum(self, other)
    def maximum(self, other): return pointwise.maximum(self, other)
    def fmin(self, other): return pointwise.fmin(self, other)
    def fmax(self, other): return pointwise.fmax(self, other)
    def remainder(self, other): return division.remainder(self, other)
    def fmod(self, other): return division.fmod(self, other)
    def div(self, other, *, rounding_mode=None):
        return division.div(self, other, rounding_mode=rounding_mode)
    def true_divide(self, other): return division.true_divide(self, other)
    def floor_divide(self, other): return division.floor_divide(self, other)
    def __mod__(self, other): return division.remainder(self, other)
    def __rmod__(self, other): return division.remainder(other, self)
    def __floordiv__(self, other): return division.floor_divide(self, other)
    def __rfloordiv__(self, other): return division.floor_divide(other, self)
    def where(self, condition, other): return logic.where(condition, self, other)
    def eq(self, other): return logic.eq(self, other)
    def ne(self, other): return logic.ne(self, other)
    def lt(self, other): return logic.lt(self, other)
    def le(self, other): return logic.le(self, other)
    def gt(self, other): return logic.gt(self, other)
    def ge(self, other): return logic.ge(self, other)
    def equal(self, other): return logic.equal(self, other)
    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return logic.isclose(self, other, rtol, atol, equal_nan)
    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return logic.allclose(self, other, rtol, atol, equal_nan)
    def isnan(self): return logic.isnan(self)
    def isinf(self): return logic.isinf(self)
    def isfinite(self): return logic.isfinite(self)
    def isposinf(self): return logic.isposinf(self)
    def isneginf(self): return logic.isneginf(self)
    def logical_and(self, other): return logic.logical_and(self, other)
    def logical_or(self, other): return logic.logical_or(self, other)
    def logical_xor(self, other): return logic.logical_xor(self, other)
    def logical_not(self): return logic.logical_not(self)

    # ----- statistics, scans and sorting (ops/statistics.py, ops/sorting.py) ------
    def min(self, dim=None, keepdim=False): return statistics.min(self, dim, keepdim)
    def argmin(self, dim=None, keepdim=False): return statistics.argmin(self, dim, keepdim)
    def amax(self, dim=(), keepdim=False): return statistics.amax(self, dim, keepdim)
    def amin(self, dim=(), keepdim=False): return statistics.amin(self, dim, keepdim)
    def aminmax(self, *, dim=None, keepdim=False):
        return statistics.aminmax(self, dim=dim, keepdim=keepdim)
    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return statistics.var(self, dim, unbiased, keepdim, correction=correction)
    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return statistics.std(self, dim, unbiased, keepdim, correction=correction)
    def median(self, dim=None, keepdim=False): return sorting.median(self, dim, keepdim)
    def kthvalue(self, k, dim=-1, keepdim=False):
        return sorting.kthvalue(self, k, dim, keepdim)
    def mode(self, dim=-1, keepdim=False): return sorting.mode(self, dim, keepdim)
    def prod(self, dim=None, keepdim=False, *, dtype=None):
        return statistics.prod(self, dim, keepdim, dtype=dtype)
    def cumsum(self, dim, *, dtype=None): return statistics.cumsum(self, dim, dtype=dtype)
    def cumprod(self, dim, *, dtype=None): return statistics.cumprod(self, dim, dtype=dtype)
    def logsumexp(self, dim, keepdim=False): return statistics.logsumexp(self, dim, keepdim)
    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return statistics.norm(self, p, dim, keepdim, dtype=dtype)
    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        return statistics.nansum(self, dim, keepdim, dtype=dtype)
    def nanmean(self, dim=None, keepdim=False, *, dtype=None):
        return statistics.nanmean(self, dim, keepdim, dtype=dtype)
    def count_nonzero(self, dim=None): return statistics.count_nonzero(self, dim)
    def sort(self, dim=-1, descending=False, stable=False):
        return sorting.sort(self, dim, descending, stable)
    def argsort(self, dim=-1, descending=False, stable=False):
        return sorting.argsort(self, dim, descending, stable)
    def topk(self, k, dim=-1, largest=True, sorted=True):
        return sorting.topk(self, k, dim, largest, sorted)

    # ----- reshaping and views (ops/reshaping.py, ops/views.py) -------------------
    def view_as(self, other): return views.view_as(self, other)
    def reshape_as(self, other): return views.reshape_as(self, other)
    def expand(self, *sizes, size=None):  # (the sizes also as a keyword, as in torch)
        return reshaping.expand(self, *sizes) if size is None else reshaping.expand(self, size)

    def expand_as(self, other): return reshaping.expand_as(self, other)
    def repeat(self, *counts, repeats=None):
        return reshaping.repeat(self, *counts) if repeats is None else \
            reshaping.repeat(self, repeats)

    def tile(self, *sizes, dims=None):
        return reshaping.tile(self, reshaping.as_sizes(sizes) if dims is None else dims)

    def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
        return reshaping.repeat_interleave(self, repeats, dim, output_size=output_size)

    def flip(self, *axes, dims=None):
        return reshaping.flip(self, reshaping.as_sizes(axes) if dims is None else dims)

    def fliplr(self): return reshaping.fliplr(self)
    def flipud(self): return reshaping.flipud(self)
    def roll(self, shifts, dims=None): return reshaping.roll(self, shifts, dims)
    def unflatten(self, dim, sizes): return views.unflatten(self, dim, sizes)
    def movedim(self, source, destination): return views.movedim(self, source, destination)
    def moveaxis(self, source, destination): return views.movedim(self, source, destination)
    def t(self): return views.t(self)
    def swapaxes(self, axis0, axis1): return views.swapaxes(self, axis0, axis1)
    def swapdims(self, dim0, dim1): return views.swapdims(self, dim0, dim1)
    def narrow(self, dim, start, length): return views.narrow(self, dim, start, length)
    def split(self, split_size, dim=0): return views.split(self, split_size, dim)
    def chunk(self, chunks, dim=0): return views.chunk(self, chunks, dim)
    def unbind(self, dim=0): return views.unbind(self, dim)
    def tril(self, diagonal=0): return reshaping.tril(self, diagonal)
    def triu(self, diagonal=0): return reshaping.triu(self, diagonal)

    def tril_(self, diagonal=0):
        return self._inplace("tril_", lambda t: reshaping.tril(t, diagonal))

    def triu_(self, diagonal=0):
        return self._inplace("triu_", lambda t: reshaping.triu(t, diagonal))

    # ----- indexing and products (ops/indexing.py) --------------------------------
    def gather(self, dim, index): return indexing.gather(self, dim, index)
    def index_select(self, dim, index): return indexing.index_select(self, dim, index)
    def masked_select(self, mask): return indexing.masked_select(self, mask)
    def nonzero(self, *, as_tuple=False): return indexing.nonzero(self, as_tuple=as_tuple)
    def argwhere(self): return indexing.argwhere(self)

    def take_along_dim(self, indices, dim=None):
        return indexing.take_along_dim(self, indices, dim)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return indexing.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return self._inplace("scatter_", lambda t: indexing.scatter(
            t, dim, index, src, value=value, reduce=reduce))

    def scatter_add(self, dim, index, src): return indexing.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim, index, src):
        return self._inplace("scatter_add_", lambda t: indexing.scatter_add(t, dim, index, src))

    def dot(self, other): return linalg.dot(self, other)
    def vdot(self, other): return linalg.vdot(self, other)
    def outer(self, vec2): return linalg.outer(self, vec2)
    def ger(self, vec2): return linalg.outer(self, vec2)
    def mm(self, mat2): return linalg.mm(self, mat2)
    def bmm(self, mat2): return linalg.bmm(self, mat2)
    def mv(self, vec): return linalg.mv(self, vec)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return linalg.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return linalg.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)


def tensor(data, dtype=None, requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """A new tensor holding a copy of `data`; without dtype=, Python floats take the default
    dtype, ints int64, bools bool, and arrays keep theirs (as torch.tensor)."""
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


# The ops import Tensor from this module, so they are bound after it exists.
from . import random  # noqa: E402
from .ops import (comparison, division, elementwise, fusion, indexing, inplace,  # noqa: E402
                  linalg, logic, pointwise, promotion, reduction, reshaping, shape_ops,
                  sorting, statistics, views)
