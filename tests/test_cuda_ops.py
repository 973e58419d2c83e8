"""Every differentiable op (tests/op_cases.py, the same cases the gradient-check and torch
parity suites use) on device tensors against the CPU backend: forward value and every
input's gradient, float64, under a random upstream gradient, on hypothesis-drawn shapes and
arguments. Under numba's CUDA simulator each kernel thread runs in Python, so few examples."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minitorch_pairs as mt
from kernels.cuda.array import CudaArray
from all_op_cases import CASES

pytestmark = pytest.mark.skipif(not mt.cuda.is_available(),
                                reason="no CUDA device and no simulator")
SIMULATOR = settings(max_examples=5)


def _run(case, arrays, kwargs, device, upstream_seed):
    inputs = [mt.tensor(a, dtype=mt.float64).to(device).requires_grad_() for a in arrays]
    out = case.ours(*inputs, **kwargs)
    assert out.device == device and (device == "cuda") == isinstance(out._data, CudaArray)
    upstream = np.random.default_rng(upstream_seed).standard_normal(out.shape)
    out.backward(mt.tensor(upstream, dtype=mt.float64).to(device))
    return out.detach().numpy(), [t.grad.numpy() if t.grad is not None else None
                                  for t in inputs]


ON_DEVICE = [case for case in CASES if "cpu_only" not in case.tags]
CPU_ONLY = [case for case in CASES if "cpu_only" in case.tags]


@pytest.mark.parametrize("case", ON_DEVICE, ids=lambda c: c.name)
@SIMULATOR
@given(data=st.data())
def test_the_op_on_the_device_matches_the_cpu_forward_and_backward(case, data):
    arrays, kwargs = case.draw(data)
    seed = data.draw(st.integers(0, 2 ** 32 - 1), label="upstream seed")
    on_cpu = _run(case, arrays, kwargs, "cpu", seed)
    on_gpu = _run(case, arrays, kwargs, "cuda", seed)
    np.testing.assert_allclose(on_gpu[0], on_cpu[0], rtol=1e-10, atol=1e-12,
                               err_msg=f"{case.name} forward")
    for i, (ours, expected) in enumerate(zip(on_gpu[1], on_cpu[1])):
        assert (ours is None) == (expected is None), f"{case.name}: input {i} gradient"
        if expected is not None:
            np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12,
                                       err_msg=f"{case.name} gradient of input {i}")


@pytest.mark.parametrize("case", CPU_ONLY, ids=lambda c: c.name)
@settings(max_examples=1)
@given(data=st.data())
def test_a_cpu_only_op_refuses_device_tensors_by_name(case, data):
    arrays, kwargs = case.draw(data)
    inputs = [mt.tensor(a, dtype=mt.float64).to("cuda") for a in arrays]
    with pytest.raises(NotImplementedError, match="not implemented for CUDA tensors"):
        case.ours(*inputs, **kwargs)
