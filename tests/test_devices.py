"""Devices: `mt.device` parses as torch.device does, every factory and `*_like` puts its
storage on the device it names (a GPU, or numba's CUDA simulator in CI), and the names
torch refuses are refused."""
from __future__ import annotations

import numpy as np
import pytest

import minitorch_pairs as mt
from kernels.cuda.array import CudaArray
from torch_reference import torch

FACTORIES = {
    "zeros": lambda d: mt.zeros(2, 3, device=d), "ones": lambda d: mt.ones(2, 3, device=d),
    "full": lambda d: mt.full((2, 3), 1.5, device=d), "empty": lambda d: mt.empty(2, 3, device=d),
    "rand": lambda d: mt.rand(2, 3, device=d), "randn": lambda d: mt.randn(2, 3, device=d),
    "arange": lambda d: mt.arange(6, device=d), "tensor": lambda d: mt.tensor([1.0, 2], device=d),
    "zeros_like": lambda d: mt.zeros_like(mt.ones(2), device=d),
    "ones_like": lambda d: mt.ones_like(mt.ones(2), device=d),
    "full_like": lambda d: mt.full_like(mt.ones(2), 3, device=d),
    "rand_like": lambda d: mt.rand_like(mt.ones(2), device=d),
    "randn_like": lambda d: mt.randn_like(mt.ones(2), device=d),
    "empty_like": lambda d: mt.empty_like(mt.ones(2), device=d),
}


@pytest.mark.skipif(not mt.cuda.is_available(), reason="no CUDA device and no simulator")
@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("spec", ["cuda", "cuda:0", mt.device("cuda", 0)], ids=str)
def test_factories_put_their_storage_on_the_device(name, spec):
    made = FACTORIES[name](spec)
    assert made.device == mt.device("cuda") and isinstance(made._data, CudaArray)
    assert (made + mt.ones(made.shape, dtype=made.dtype).to("cuda")).device.type == "cuda"
    on_host = FACTORIES[name]("cpu")
    assert made.shape == on_host.shape and made.dtype == on_host.dtype


@pytest.mark.skipif(not mt.cuda.is_available(), reason="no CUDA device and no simulator")
def test_like_factories_follow_the_device_of_their_model():
    x = mt.ones(2, device="cuda")
    assert isinstance(mt.zeros_like(x)._data, CudaArray)
    assert isinstance(mt.zeros_like(x, device="cpu")._data, np.ndarray)


@pytest.mark.parametrize("spec", ["cpu", "cuda", "cuda:0"])
def test_device_parses_as_torch(spec):
    ours, theirs = mt.device(spec), torch.device(spec)
    assert (ours.type, ours.index, str(ours), repr(ours)) == \
        (theirs.type, theirs.index, str(theirs), repr(theirs))
    assert mt.device(ours) is ours and mt.device("cuda", 0) == mt.device("cuda:0")


@pytest.mark.parametrize("spec", ["gpu", "cuda:x", "cuda:-1"])
def test_unknown_devices_raise_runtime_error_as_torch(spec):
    with pytest.raises(RuntimeError):
        torch.device(spec)
    with pytest.raises(RuntimeError, match="device"):
        mt.device(spec)


def test_a_second_gpu_is_refused_clearly():
    with pytest.raises(RuntimeError, match="index 0"):
        mt.device("cuda:1")


def test_a_tensors_device_is_a_device_equal_to_its_name():
    t = mt.zeros(2)
    assert isinstance(t.device, mt.device) and t.device == "cpu" and t.device.type == "cpu"
    assert t.to(mt.device("cpu")) is t


@pytest.mark.skipif(not mt.cuda.is_available(), reason="no CUDA device and no simulator")
def test_inplace_ops_and_setitem_work_on_the_device():
    results = []
    for device in ("cpu", "cuda"):
        w = mt.tensor([1.0, -2.0, 3.0], requires_grad=True, device=device)
        x = w * 2.0
        x.add_(1.0).clamp_(-2.0, 5.0)
        x[mt.tensor([0, 2], device=device)] = mt.tensor([9.0, 8.0], device=device)
        x.masked_fill_(x < 0, 0.5)
        (x * x).sum().backward()
        with mt.no_grad():
            w.mul_(0.5).zero_()
        results.append((x.detach().numpy(), w.grad.numpy(), w.detach().numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)
