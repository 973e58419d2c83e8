"""Bad input gets a clear error from our code naming the op, what was expected and what came;
no numba or numpy internals reach the user."""
from __future__ import annotations

import numpy as np
import pytest

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from minitorch_pairs import nn

x4 = mt.randn(2, 3, 8, 8)
w4 = mt.randn(4, 3, 3, 3)
logits = mt.randn(4, 3)

CASES = [
    # (call, exception type, message pattern)
    (lambda: F.conv2d(mt.randn(3, 8, 8), w4), ValueError, r"conv2d: expected a 4-D input .* got shape \(3, 8, 8\)"),
    (lambda: F.conv2d(x4, mt.randn(4, 2, 3, 3)), ValueError, r"conv2d: input has 3 channels, weight expects 2"),
    (lambda: F.conv2d(x4, mt.randn(4, 3, 3)), ValueError, r"conv2d: expected a 4-D weight"),
    (lambda: F.conv2d(x4, w4, mt.randn(3)), ValueError, r"conv2d: expected bias of shape \(4,\), got \(3,\)"),
    (lambda: F.conv2d(x4, w4.double()), RuntimeError, r"conv2d: input dtype float32 differs from weight dtype float64"),
    (lambda: F.conv2d(mt.ones(2, 3, 8, 8, dtype=mt.int64), w4), TypeError, r"conv2d: expected a floating-point input, got dtype int64"),
    (lambda: F.conv2d(x4, w4, stride=0), ValueError, r"conv2d: expected stride to be an int >= 1"),
    (lambda: F.conv2d(x4, w4, padding=-1), ValueError, r"conv2d: expected padding to be an int >= 0"),
    (lambda: F.conv2d(mt.randn(1, 3, 2, 2), w4), ValueError, r"conv2d: input of spatial size \(2, 2\).* smaller than the kernel"),
    (lambda: F.conv2d_relu_max_pool2d(x4, mt.randn(4, 2, 3, 3)), ValueError, r"conv2d_relu_max_pool2d: input has 3 channels, weight expects 2"),
    (lambda: F.conv2d_relu_max_pool2d(mt.randn(1, 3, 3, 3), w4), ValueError, r"conv2d_relu_max_pool2d: its max_pool2d: input of spatial size \(1, 1\).* smaller than the kernel \(2, 2\)"),
    (lambda: F.relu_max_pool2d(x4, 2, padding=2), ValueError, r"relu_max_pool2d: padding \(2, 2\) must be at most half the kernel"),
    (lambda: F.max_pool2d(mt.randn(8, 8), 2), ValueError, r"max_pool2d: expected a 4-D input"),
    (lambda: F.max_pool2d(x4, 2, padding=2), ValueError, r"max_pool2d: padding \(2, 2\) must be at most half the kernel"),
    (lambda: F.max_pool2d(x4, 0), ValueError, r"max_pool2d: expected kernel_size to be an int >= 1"),
    (lambda: F.avg_pool2d(x4, 9), ValueError, r"avg_pool2d: .*smaller than the kernel"),
    (lambda: F.linear(mt.randn(2, 5), mt.randn(3, 4)), ValueError, r"linear: input has 5 features, weight expects 4"),
    (lambda: F.linear(mt.randn(2, 4), mt.randn(3, 4), mt.randn(4)), ValueError, r"linear: expected bias of shape \(3,\)"),
    (lambda: nn.BatchNorm2d(3)(mt.randn(2, 3, 4)), ValueError, r"BatchNorm2d: expected a 4-D input, got shape \(2, 3, 4\)"),
    (lambda: nn.BatchNorm2d(4)(x4), ValueError, r"BatchNorm2d: expected 4 channels in dim 1, got input shape \(2, 3, 8, 8\)"),
    (lambda: nn.BatchNorm1d(3)(mt.randn(1, 3)), ValueError, r"batch_norm: expected more than 1 value per channel when training"),
    (lambda: F.batch_norm(x4, None, None, training=False), ValueError, r"batch_norm: evaluation mode needs running_mean"),
    (lambda: mt.ones(2, 3) + mt.ones(4), ValueError, r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    (lambda: mt.ones(2, 3) * mt.ones(2, 2), ValueError, r"mul: shapes \(2, 3\) and \(2, 2\) cannot be broadcast"),
    (lambda: mt.ones(2, 3) @ mt.ones(2, 3), ValueError, r"matmul: inner sizes differ: shapes \(2, 3\) and \(2, 3\)"),
    (lambda: mt.ones(2, 2, 3) @ mt.ones(3, 3, 1), ValueError, r"matmul: batch dims .* cannot be broadcast"),
    (lambda: F.cross_entropy(logits, mt.randn(4)), RuntimeError, r"cross_entropy: expected target dtype int64 \(class indices\) or uint8, got float32"),
    (lambda: F.cross_entropy(logits, mt.tensor([0, 1, 2, 3])), IndexError, r"cross_entropy: target 3 is out of range for 3 classes"),
    (lambda: F.cross_entropy(logits, mt.tensor([0, -1, 2, 1])), IndexError, r"cross_entropy: target -1 is out of range"),
    (lambda: F.cross_entropy(logits, mt.tensor([0, 1])), ValueError, r"cross_entropy: expected input batch_size \(4\) to match target batch_size \(2\)"),
    (lambda: F.cross_entropy(logits, mt.tensor([0, 1, 2, 0]), reduction="avg"), ValueError, r"cross_entropy: expected reduction in"),
    (lambda: F.cross_entropy(mt.randn(()), mt.tensor(0)), RuntimeError, r"cross_entropy: expected an input of shape \(C,\) or \(N, C, ...\), got a 0-d"),
    (lambda: F.nll_loss(logits, [0, 1, 2, 0]), TypeError, r"nll_loss: expected target to be an int64 Tensor, got list"),
    (lambda: F.mse_loss(mt.ones(3), mt.ones(4)), ValueError, r"mse_loss: expected target of the input's shape \(3,\), got \(4,\)"),
    (lambda: F.binary_cross_entropy_with_logits(mt.ones(3), mt.tensor([0, 1, 1])), RuntimeError, r"binary_cross_entropy_with_logits: expected floating-point input and target"),
    (lambda: F.dropout(x4, 1.5), ValueError, r"dropout: expected a probability p in \[0, 1\], got 1.5"),
    (lambda: nn.Dropout(-0.1), ValueError, r"Dropout: expected a probability p"),
    (lambda: F.softmax(logits, dim=2), IndexError, r"softmax: dim 2 out of range for a tensor of 2 dims"),
    (lambda: mt.ones(2, 3).reshape(4, 2), ValueError, r"reshape: cannot view a tensor of shape \(2, 3\) \(6 elements\) as shape \(4, 2\)"),
    (lambda: mt.ones(2, 3).reshape(-1, -1), ValueError, r"reshape: cannot view"),
    (lambda: mt.ones(2, 3).sum(dim=2), IndexError, r"sum: dim 2 out of range for a tensor of 2 dims"),
    (lambda: mt.ones(2, 3).permute(0, 0), ValueError, r"permute: expected a permutation of the 2 dims"),
    (lambda: mt.ones(2, 3)[5], IndexError, r"getitem: index 5 does not fit a tensor of shape \(2, 3\)"),
    (lambda: mt.ones(2, 3)[np.array([0.5])], IndexError, r"getitem: tensors used as indices must be long, int, byte or bool tensors, got dtype float64"),
    (lambda: mt.cat([mt.ones(2, 3), mt.ones(2, 4)]), ValueError, r"cat: tensor 1 has shape \(2, 4\), expected shape \(2, 3\) except in dim 0"),
    (lambda: mt.stack([mt.ones(2), mt.ones(3)]), ValueError, r"stack: tensor 1 has shape \(3,\), expected \(2,\)"),
    (lambda: mt.cat([]), ValueError, r"cat: expected a non-empty sequence"),
    (lambda: mt.tensor([1.0], dtype="complex64"), TypeError, r"dtype: expected one of .* got 'complex64'"),
    (lambda: mt.tensor(["a"]), TypeError, r"tensor: expected numbers"),
    (lambda: mt.zeros(-1, 2), ValueError, r"size: expected non-negative integers"),
    (lambda: mt.manual_seed(-3), ValueError, r"manual_seed: expected a non-negative integer"),
    (lambda: mt.ones(3).max(dim=1.5), TypeError, r"max: expected dim to be an int"),
    (lambda: mt.zeros(0).max(), RuntimeError, r"max\(\): expected reduction dim to be specified"),
    (lambda: mt.ones(2, 3).item(), RuntimeError, r"item: a Tensor with 6 elements cannot be converted to Scalar \(shape \(2, 3\)\)"),
    (lambda: bool(mt.ones(2)), RuntimeError, r"bool: the truth value of a tensor of shape \(2,\) is ambiguous"),
    (lambda: mt.ones(2, requires_grad=True).numpy(), RuntimeError, r"numpy: call .detach\(\).numpy\(\)"),
    (lambda: nn.Linear(0, 3), ValueError, r"Linear: expected in_features to be a positive integer, got 0"),
    (lambda: nn.Conv2d(3, 4, 0), ValueError, r"Conv2d: expected kernel_size to be an int >= 1"),
    (lambda: nn.Sequential(nn.ReLU(), lambda t: t), TypeError, r"Sequential: expected Module instances, got function"),
    (lambda: mt.ones(2).to(device="tpu"), RuntimeError, r"device: expected one of cpu, cuda \(optionally with ':0' for cuda\), got 'tpu'"),
]


@pytest.mark.parametrize("call,error,pattern", CASES, ids=[c[2][:40] for c in CASES])
def test_bad_input_raises_a_clear_error(call, error, pattern):
    with pytest.raises(error, match=pattern) as raised:
        call()
    # the error comes from our own checks, not from deep inside numba or numpy
    raised_in = str(raised.traceback[-1].path)
    assert raised_in.startswith(mt.__path__[0]), f"raised in {raised_in}, not in our checks"


def test_non_contiguous_inputs_work_and_match_contiguous_ones():
    mt.manual_seed(0)
    base = mt.randn(3, 2, 6, 6)
    strided = base.permute(1, 0, 2, 3)  # a transposed view
    assert not strided._data.flags.c_contiguous
    w = mt.randn(4, 3, 3, 3)
    contiguous = mt.tensor(np.ascontiguousarray(strided.data))
    np.testing.assert_array_equal(F.conv2d(strided, w).numpy(), F.conv2d(contiguous, w).numpy())
    np.testing.assert_array_equal(F.max_pool2d(strided, 2).numpy(),
                                  F.max_pool2d(contiguous, 2).numpy())
    np.testing.assert_array_equal(F.log_softmax(strided, 1).numpy(),
                                  F.log_softmax(contiguous, 1).numpy())


def test_ops_on_different_devices_are_refused():
    with pytest.raises(RuntimeError, match=r"expected all tensors on one device, got \['cpu', "
                                           r"'cuda:0'\]"):
        mt.ones(2) + mt.ones(2, device="cuda")  # the simulator stands in for a GPU in CI


def test_cuda_without_a_gpu_is_a_clear_error(monkeypatch):
    from minitorch_pairs import backend
    monkeypatch.setattr(backend, "cuda_available", lambda: False)
    with pytest.raises(RuntimeError, match="no CUDA GPU is available"):
        mt.ones(2, device="cuda")
