"""The study's training loop on the CUDA backend: a run (data, batches, loss, Adam, dropout,
batch norm, evaluation and decisions) on "cuda" gives the CPU's history and predictions, and
the CLI runs a study with --device cuda. The simulator runs every GPU thread in Python, so
the model is a tiny Siamese net with the study's building blocks and the data are few."""
from __future__ import annotations

import json

import numpy as np
import pytest

import minitorch_pairs as mt
from experiments import siamese_aux
from experiments.models import ModelSpec
from experiments.models.base import Siamese
from experiments.training import TrainConfig, train_run
from minitorch_pairs import nn
from minitorch_pairs.data import PairSet

pytestmark = pytest.mark.skipif(not mt.cuda.is_available(),
                                reason="no CUDA device and no simulator")


def tiny_siamese():
    branch = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.BatchNorm2d(2),
                           nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.2),
                           nn.Linear(18, 10))
    return Siamese(branch, nn.Linear(20, 2))


def pairs(n, seed) -> PairSet:
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, 10, (n, 2))
    images = rng.standard_normal((n, 2, 14, 14)).astype(np.float32) + \
        classes[:, :, None, None].astype(np.float32) * 0.3  # learnable: brightness ~ class
    return PairSet(images, (classes[:, 0] <= classes[:, 1]).astype(np.int64), classes)


def float64(pair_set: PairSet) -> PairSet:
    return PairSet(pair_set.input.astype(np.float64), pair_set.target, pair_set.classes)


@pytest.mark.parametrize("decision", ["comparison", "digits"])
def test_a_training_run_on_the_device_matches_the_cpu(decision):
    """float64, so that the two devices' different summation orders stay far below the
    tolerance even after Adam (whose first steps divide tiny gradients by their size)."""
    spec = ModelSpec("tiny", "test", "tiny Siamese", lambda: tiny_siamese().double(),
                     aux_weight=0.5, decision=decision)
    config = TrainConfig(epochs=2, batch_size=4, optimizer="adam", lr=0.01, aux_weight=0.5)
    train, test = float64(pairs(8, 0)), float64(pairs(6, 1))
    runs = {device: train_run(spec, config, train, test, seed=3, device=device)
            for device in ("cpu", "cuda")}
    for p in runs["cuda"].model.parameters():
        assert p.device == "cuda"
    for key, values in runs["cpu"].history.items():
        np.testing.assert_allclose(runs["cuda"].history[key], values, rtol=1e-9, err_msg=key)
    np.testing.assert_array_equal(runs["cuda"].test["predictions"],
                                  runs["cpu"].test["predictions"])
    np.testing.assert_allclose(runs["cuda"].test["scores"], runs["cpu"].test["scores"],
                               rtol=1e-9, atol=1e-12)
    # 1e-6, not 1e-9: the conv bias feeds batch norm, which cancels it, so its true gradient
    # is 0 and Adam divides rounding noise by rounding noise (seen: 3e-9 relative)
    cpu_weights = runs["cpu"].model.state_dict()
    for name, value in runs["cuda"].model.state_dict().items():
        np.testing.assert_allclose(value.numpy(), cpu_weights[name].numpy(), rtol=1e-6,
                                   atol=1e-12, err_msg=name)


def test_the_study_cli_runs_on_the_device(tmp_path, monkeypatch):
    """`python -m experiments.siamese_aux --device cuda` end to end (table, files, best
    checkpoint copied from the device), with the tiny model standing in for a study one."""
    tiny = ModelSpec("r000_shared_net1", "000", "tiny stand-in", tiny_siamese, aux_weight=0.5,
                     optimizer="adam", lr=0.01)
    monkeypatch.setattr(siamese_aux, "get_spec", lambda name: tiny)
    out = tmp_path / "study"
    assert siamese_aux.main(["--models", "r000_shared_net1", "--rounds", "1", "--epochs", "1",
                             "--n-pairs", "10", "--batch-size", "5", "--device", "cuda",
                             "--no-plots", "--quiet", "--out", str(out),
                             "--workers", "0"]) == 0  # in process: get_spec is patched here
    assert json.loads((out / "config.json").read_text())["device"] == "cuda"
    summary = json.loads((out / "summary.json").read_text())["r000_shared_net1"]
    assert summary["rounds"] == 1 and 0 <= summary["test_accuracy_mean"] <= 1
    assert (out / "best" / "r000_shared_net1.npz").exists()
    state = mt.load(out / "best" / "r000_shared_net1.npz")
    assert set(state) == set(tiny_siamese().state_dict())
    assert all(isinstance(value._data, np.ndarray) for value in state.values())


def test_a_training_step_moves_no_data_between_host_and_device(monkeypatch):
    """Inside an epoch, a step (batch gather, forward, loss, backward, Adam, the loss sum)
    copies nothing either way: each copy would wait for the queued kernels. Constants are
    uploaded once (the first steps), the permutation once per epoch."""
    import numba.cuda
    from experiments.batches import DevicePairs
    from experiments.training import pair_loss
    from kernels.cuda.array import CudaArray
    mt.manual_seed(0)
    model = tiny_siamese().to("cuda")
    optimizer = mt.optim.Adam(model.parameters(), lr=0.01)
    batches = DevicePairs(pairs(8, 0), "cuda").shuffled(2, np.random.default_rng(0))
    copies = []
    upload, download = numba.cuda.to_device, CudaArray.get

    def step(loss_sum):
        inputs, target, classes = next(batches)
        loss = pair_loss(model(inputs), target, classes, (1.0, 0.5))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss_sum + loss.detach().double() * target.shape[0]

    loss_sum = step(step(0.0))  # warm-up: constants reach the device
    monkeypatch.setattr(numba.cuda, "to_device",
                        lambda *a, **k: copies.append("to device") or upload(*a, **k))
    monkeypatch.setattr(CudaArray, "get", lambda self: copies.append("to host") or
                        download(self))
    loss_sum = step(step(loss_sum))
    assert copies == []
    assert np.isfinite(loss_sum.item()) and copies == ["to host"]
