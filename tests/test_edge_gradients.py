"""Gradients at the edges, against torch: the points where a derivative is a choice (kinks,
ties, 0 ** 0) or infinite (sqrt and log at 0, division by zero). Ours must equal torch's,
NaN and infinities included, and no NumPy RuntimeWarning may reach the user."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import minitorch_pairs as mt
from torch_reference import torch

# name -> (function of (framework, *tensors), input values); every input requires grad
EDGES = {
    "pow x**0 at 0": (lambda f, x: x ** 0, [[0.0, 1.0, -2.0]]),
    "pow x**1 at 0": (lambda f, x: x ** 1, [[0.0, 1.0, -2.0]]),
    "pow x**2 at 0": (lambda f, x: x ** 2, [[0.0, -0.0, 3.0]]),
    "pow x**0.5 at 0": (lambda f, x: x ** 0.5, [[0.0, 4.0, -1.0]]),
    "pow x**-1 at 0": (lambda f, x: x ** -1, [[0.0, 2.0]]),
    "pow 0**y": (lambda f, y: 0.0 ** y, [[0.0, 1.0, -1.0, 2.5]]),
    "pow tensor**tensor at 0": (lambda f, x, y: x ** y, [[0.0, 0.0, 0.0, 2.0],
                                                         [0.0, 1.0, -1.0, 0.0]]),
    "sqrt at 0": (lambda f, x: x.sqrt(), [[0.0, 1.0, -1.0]]),
    "log at 0": (lambda f, x: x.log(), [[0.0, 1.0, -1.0]]),
    "abs at 0": (lambda f, x: x.abs(), [[0.0, -0.0, 2.0, -2.0]]),
    "relu at 0": (lambda f, x: x.relu(), [[0.0, -1.0, 1.0]]),
    "clamp at its bounds": (lambda f, x: x.clamp(-1.0, 1.0), [[-1.0, 1.0, 0.5, 2.0, -3.0]]),
    "clamp min > max": (lambda f, x: x.clamp(1.0, -1.0), [[0.0, 2.0]]),
    "clamp nan": (lambda f, x: x.clamp(-1.0, 1.0), [[float("nan"), 0.0]]),
    "div by zero": (lambda f, x, y: x / y, [[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]]),
    "max ties, whole tensor": (lambda f, x: x.max(), [[1.0, 3.0, 3.0, 2.0]]),
    "max ties, along a dim": (lambda f, x: x.max(dim=1)[0], [[[3.0, 3.0], [1.0, 1.0]]]),
    "masked branch": (lambda f, x: (x.masked_fill(x < 0, 0.0) + 1).log(), [[-1.0, 0.0, 2.0]]),
    "exp overflow": (lambda f, x: x.exp(), [[100.0, 0.0]]),
    "sigmoid saturates": (lambda f, x: x.sigmoid(), [[100.0, -100.0, 0.0]]),
    "tanh saturates": (lambda f, x: x.tanh(), [[30.0, -30.0]]),
    "mul overflow": (lambda f, x: x * 1e30, [[1e10, -1e10]]),
}


def _run(framework, name):
    fn, values = EDGES[name]
    inputs = [framework.tensor(np.array(v, np.float32), requires_grad=True) for v in values]
    out = fn(framework, *inputs)
    upstream = np.linspace(0.5, 1.5, max(out.numel(), 1)).astype(np.float32).reshape(out.shape)
    out.backward(framework.tensor(upstream))
    return [out.detach().numpy()] + [t.grad.numpy() for t in inputs]


@pytest.mark.parametrize("name", EDGES)
def test_edge_values_and_gradients_equal_torch(name):
    theirs = _run(torch, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ours = _run(mt, name)
    labels = ["forward"] + [f"grad of input {i}" for i in range(len(theirs) - 1)]
    for label, o, t in zip(labels, ours, theirs):
        # below float32's smallest normal number, values count as equal (torch flushes
        # sigmoid(-100) to 0 where we keep the subnormal 3.8e-44)
        np.testing.assert_allclose(o, t, rtol=1e-6, atol=np.finfo(np.float32).tiny,
                                   equal_nan=True, err_msg=f"{name}: {label}")
