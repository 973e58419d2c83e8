"""The benchmarks' --device cuda path: our worker's measurement on device tensors (the
simulator in CI, on tiny stand-ins for the study's shapes: the real ones would take hours
there), and the drivers' usage error where either framework sees no GPU."""
from __future__ import annotations

import pytest

import minitorch_pairs as mt
from benchmarks import ops, train_step
from experiments.models import ModelSpec
from test_cuda_study import pairs, tiny_siamese
from torch_reference import torch

pytestmark = pytest.mark.skipif(not mt.cuda.is_available(),
                                reason="no CUDA device and no simulator")


def test_the_ops_worker_measures_on_the_device(monkeypatch):
    monkeypatch.setattr(ops, "OPS", {"conv2d tiny": (
        {"x": ((2, 1, 5, 5), True), "w": ((2, 1, 3, 3), True), "b": ((2,), True)},
        lambda F, t: F.conv2d(t["x"], t["w"], t["b"], padding=1))})
    timings = ops.prepare("ours", 1, repeats=1, device="cuda")("conv2d tiny")
    assert timings["forward_ms"] > 0 and timings["forward_backward_ms"] > 0


def test_the_train_step_worker_steps_the_model_on_the_device(monkeypatch):
    import experiments.models
    tiny = ModelSpec("tiny", "test", "tiny Siamese", tiny_siamese, aux_weight=0.5)
    monkeypatch.setattr(experiments.models, "get_spec", lambda name: tiny)
    monkeypatch.setattr(train_step, "first_batch", lambda: pairs(4, 0))
    measure = train_step.prepare("ours", 1, ["tiny"], repeats=1, device="cuda")
    assert measure("tiny")["step_ms"] > 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU for torch")
@pytest.mark.parametrize("driver", [ops, train_step], ids=["ops", "train_step"])
def test_device_cuda_without_a_gpu_for_both_frameworks_is_a_usage_error(driver, capsys):
    with pytest.raises(SystemExit) as exit_info:
        driver.main(["--device", "cuda", "--quick"])
    assert exit_info.value.code == 2
    assert "--device cuda: needs a CUDA GPU for both frameworks" in capsys.readouterr().err


def test_cuda_launches_counts_the_kernels_of_a_training_step():
    import json
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "benchmarks.cuda_launches", "--models",
                           "r000_shared_net1", "--batch-pairs", "2"], capture_output=True,
                          text=True, check=True)
    counts = json.loads(done.stdout.strip().splitlines()[-1])["r000_shared_net1"]
    from experiments.models import get_spec
    parameters = list(get_spec("r000_shared_net1").build().parameters())
    assert counts["_sgd_step"] == len(parameters)  # one fused update per parameter
    assert counts["_im2col"] == 2 and counts["_col2im"] == 1  # the first conv's input: no grad
    assert sum(counts.values()) > 50
