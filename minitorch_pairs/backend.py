"""Device dispatch: a device name selects the module of kernels that runs its ops.

The CPU and CUDA kernel modules expose the same function names, so an op
calls `ctx.kernels.conv2d_forward(...)` and never branches on the device.
"""
from __future__ import annotations

import importlib

import numpy as np

DEVICES = ("cpu", "cuda")
_KERNEL_MODULES = {"cpu": "kernels.cpu", "cuda": "kernels.cuda"}
_loaded = {}


class device(str):
    """torch.device: `device("cpu")`, `device("cuda")`, `device("cuda:0")`,
    `device("cuda", 0)`. A str subclass whose value is the type, so it also compares equal
    to "cpu" / "cuda" (torch's device does not: code written for torch compares devices, and
    that works here too). One CUDA device exists: index 0."""

    def __new__(cls, spec, index=None):
        if isinstance(spec, device) and index is None:
            return spec
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string or a device, got {type(spec).__name__}")
        kind, _, suffix = spec.partition(":")
        if kind not in DEVICES or (suffix and not suffix.isdigit()):
            raise RuntimeError(f"device: expected one of {', '.join(DEVICES)} (optionally "
                               f"with ':0' for cuda), got {spec!r}")
        if suffix:
            index = int(suffix)
        if index is not None and index != 0:
            raise RuntimeError(f"device {spec!r}: only one device of each type (index 0) is "
                               f"supported, got index {index}")
        made = super().__new__(cls, kind)
        made.type, made.index = kind, index
        return made

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):  # a device, or a name: "cuda" and "cuda:0" are this GPU
            kind, _, index = other.partition(":")
            return kind == self.type and index in ("", "0")
        return NotImplemented

    def __ne__(self, other) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__


# the device objects tensors carry (a tensor on the GPU is on cuda:0, as in torch), keyed by
# themselves so that a lookup with one of them is an identity hit
CANONICAL = {canonical: canonical for canonical in (device("cpu"), device("cuda", 0))}
_BY_TYPE = {canonical.type: canonical for canonical in CANONICAL}


def check_device(spec) -> device:
    """The canonical device of `spec` (a name or a device); a clear error if unusable."""
    name = device(spec).type
    if name == "cuda" and not cuda_available():
        raise RuntimeError("device 'cuda': no CUDA GPU is available (numba.cuda.is_available() "
                           "is False); use device='cpu', or NUMBA_ENABLE_CUDASIM=1 to run the "
                           "CUDA code on numba's simulator")
    return _BY_TYPE[name]


def cuda_available() -> bool:
    """Whether numba can reach a CUDA GPU (or its simulator, when NUMBA_ENABLE_CUDASIM=1)."""
    try:
        from numba import cuda
    except ImportError:
        return False
    return bool(cuda.is_available())


def transfer(array, device: str):
    """`array` (host or device) as an array of `device`; a copy only when it has to move."""
    from_host = isinstance(array, (np.ndarray, np.generic))
    if device == "cpu":
        return array if from_host else array.get()
    from kernels.cuda.array import CudaArray
    return CudaArray.from_host(np.asarray(array)) if from_host else array


def shares_storage(view, base) -> bool:
    """Whether `view` may read or write `base`'s memory (a view of it, not a copy)."""
    if isinstance(view, np.ndarray) and isinstance(base, np.ndarray):
        # NumPy points a view's .base at the array that owns the memory
        return (view.base if view.base is not None else view) is \
            (base.base if base.base is not None else base)
    return getattr(view, "buffer", None) is getattr(base, "buffer", view)


def is_contiguous(array) -> bool:
    flags = getattr(array, "flags", None)
    return flags.c_contiguous if flags is not None else array.is_contiguous


def require_cpu(op: str, *tensors) -> None:
    """NotImplementedError naming `op` when any of `tensors` lives on the GPU: ops whose
    NumPy calls the CUDA array does not implement refuse device tensors at the call."""
    for t in tensors:
        if getattr(t, "device", "cpu") != "cpu":
            raise NotImplementedError(f"{op}: not implemented for CUDA tensors (got a tensor "
                                      f"on {t.device}); move it to the CPU with .cpu() first")


def kernels(device: str):
    """The kernel module of `device`, imported on first use."""
    if device not in _loaded:
        _loaded[device] = importlib.import_module(_KERNEL_MODULES[check_device(device)])
    return _loaded[device]


# NumPy hands creation functions to a device array only when asked with `like=`; these
# are what ops call so that one op body serves host and device arrays.


def empty(shape, dtype, like):
    """An uninitialised array on the device of `like`."""
    if isinstance(like, (np.ndarray, np.generic)):
        return np.empty(shape, dtype=dtype)
    return np.empty(shape, dtype=dtype, like=like)


def zeros(shape, dtype, like):
    """Zeros on the device of `like`."""
    if isinstance(like, (np.ndarray, np.generic)):
        return np.zeros(shape, dtype=dtype)
    return np.zeros(shape, dtype=dtype, like=like)


def full(shape, value, dtype, like):
    """`value` everywhere, on the device of `like` (there filled by a kernel from a cached
    constant: no host-to-device copy, which would wait for the queued kernels)."""
    if isinstance(like, (np.ndarray, np.generic)):
        return np.full(shape, value, dtype=dtype)
    return np.full(shape, value, dtype=dtype, like=like)


def contiguous(array):
    """`array` in C order (itself when it already is)."""
    if isinstance(array, (np.ndarray, np.generic)):
        return np.ascontiguousarray(array) if np.ndim(array) else np.asarray(array)
    return array.contiguous()
