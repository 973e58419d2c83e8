"""Device tensors: data that stays on the CUDA device (a GPU, or numba's simulator in CI)
through forward, backward and the optimizer step, with the same numbers as on the CPU. The
simulator runs every GPU thread in Python, so the model here is tiny."""
from __future__ import annotations

import numpy as np
import pytest

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from minitorch_pairs import nn
from kernels.cuda.array import CudaArray

pytestmark = pytest.mark.skipif(not mt.cuda.is_available(),
                                reason="no CUDA device and no simulator")


def test_to_and_back_keeps_the_values_and_moves_the_data():
    x = mt.tensor(np.arange(6.0).reshape(2, 3), dtype=mt.float64)
    on_gpu = x.to("cuda")
    assert on_gpu.device == "cuda" and isinstance(on_gpu._data, CudaArray)
    np.testing.assert_array_equal(on_gpu.numpy(), x.numpy())
    back = on_gpu.cpu()
    assert back.device == "cpu" and isinstance(back._data, np.ndarray)
    assert (on_gpu * 2).sum().item() == 30.0


def tiny_cnn():
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(2 * 3 * 3, 3))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_training_step_on_the_device_matches_the_cpu(optimizer):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 1, 6, 6))
    y = np.array([0, 2])
    results = {}
    for device in ("cpu", "cuda"):
        mt.manual_seed(0)
        model = tiny_cnn().double().to(device)
        make = mt.optim.SGD if optimizer == "sgd" else mt.optim.Adam
        step = make(model.parameters(), lr=0.1, **({"momentum": 0.9} if optimizer == "sgd"
                                                    else {}))
        inputs = mt.tensor(x, dtype=mt.float64).to(device)
        targets = mt.tensor(y).to(device)
        losses = []
        for _ in range(2):
            loss = F.cross_entropy(model(inputs), targets)
            step.zero_grad()
            loss.backward()
            step.step()
            losses.append(loss.item())
        for p in model.parameters():
            assert p.device == device and (device == "cpu") == isinstance(p._data, np.ndarray)
        results[device] = losses, [p.detach().numpy() for p in model.parameters()]
    np.testing.assert_allclose(results["cuda"][0], results["cpu"][0], rtol=1e-12)
    for ours, expected in zip(results["cuda"][1], results["cpu"][1]):
        np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)


def test_what_the_device_cannot_do_is_a_clear_error():
    x = mt.tensor(np.ones((2, 3))).to("cuda")
    with pytest.raises(IndexError, match=r"index 2 is out of bounds for axis 0 with size 2"):
        x[[0, 2]]
    with pytest.raises(TypeError, match=r"np.cumsum is not implemented for CUDA arrays"):
        np.cumsum(x._data)
    with pytest.raises(RuntimeError, match="one device"):
        x + mt.ones(2, 3)


def test_slicing_cat_stack_and_reductions_carry_gradients_on_the_device():
    """The pieces a Siamese network uses around its branches (x[:, 0:1], cat, stack)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 4))
    grads = {}
    for device in ("cpu", "cuda"):
        t = mt.tensor(x, dtype=mt.float64).to(device).requires_grad_()
        first, second = t[:, 0:1], t[:, 1:2]
        both = mt.cat([first * 2.0, second.exp()], dim=0)
        out = (mt.stack([both, both * both], dim=1).mean() + t[1, 1, 2] * 3.0
               - both.max())
        out.backward()
        grads[device] = out.item(), t.grad.numpy()
    assert grads["cuda"][0] == pytest.approx(grads["cpu"][0], rel=1e-12)
    np.testing.assert_allclose(grads["cuda"][1], grads["cpu"][1], rtol=1e-12, atol=1e-14)


def test_an_out_of_range_target_on_the_device_gives_a_nan_loss_not_a_wrong_number():
    """The CPU raises (test_bad_input); on the device the check would cost a sync per loss,
    so the kernels make the bad row's loss NaN instead of reading another row's score."""
    logits = mt.tensor(np.zeros((3, 4))).to("cuda")
    target = mt.tensor([0, 4, 1]).to("cuda")
    for loss in (F.cross_entropy(logits, target, reduction="none"),
                 F.nll_loss(F.log_softmax(logits, 1), target, reduction="none")):
        values = loss.numpy()
        assert np.isnan(values[1]) and np.allclose(values[[0, 2]], np.log(4))
