"""Device dispatch: a device name selects the module of kernels that runs its ops.

The CPU and CUDA kernel modules expose the same function names, so an op
calls `ctx.kernels.conv2d_forward(...)` and never branches on the device.
"""
from __future__ import annotations

import importlib

DEVICES = ("cpu", "cuda")
_KERNEL_MODULES = {"cpu": "kernels.cpu", "cuda": "kernels.cuda"}
_loaded = {}


def check_device(device) -> str:
    name = str(device)
    if name not in DEVICES:
        raise ValueError(f"device: expected one of {DEVICES}, got {device!r}")
    if name != "cpu":
        raise RuntimeError(f"device {name!r} is not available in this build of minitorch_pairs "
                           "(only 'cpu' is implemented so far)")
    return name


def kernels(device: str):
    """The kernel module of `device`, imported on first use."""
    if device not in _loaded:
        _loaded[device] = importlib.import_module(_KERNEL_MODULES[check_device(device)])
    return _loaded[device]
