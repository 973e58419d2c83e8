"""benchmarks/ops.py and benchmarks/train_step.py: both frameworks do the same work, and the
quick runs (what CI runs so they never rot) produce their tables."""
from __future__ import annotations

import json

import numpy as np
import pytest

from torch_reference import torch

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from experiments.models import HEADLINE, get_spec
from experiments.training import pair_loss
from test_entry_points import run


@pytest.mark.parametrize("name", HEADLINE)
def test_train_step_gives_both_frameworks_the_same_model_and_batch(name):
    """The same named weights and batch give the same loss (float32 rounding apart)."""
    from benchmarks.harness import named_weights
    from benchmarks.study_torch import build_twin
    from benchmarks.train_step import first_batch
    spec, batch = get_spec(name), first_batch()
    weights = (spec.comparison_weight, spec.aux_weight)
    ours, theirs = spec.build(), build_twin(name)
    for key, p in ours.named_parameters():
        p.data[...] = named_weights(key, p.shape)
    with torch.no_grad():
        for key, p in theirs.named_parameters():
            p.copy_(torch.from_numpy(named_weights(key, tuple(p.shape))))
    our_loss = pair_loss(ours(mt.tensor(batch.input)), mt.tensor(batch.target),
                         mt.tensor(batch.classes), weights).item()
    their_loss = pair_loss(theirs(torch.from_numpy(batch.input.astype(np.float32))),
                           torch.from_numpy(batch.target.astype(np.int64)),
                           torch.from_numpy(batch.classes.astype(np.int64)), weights,
                           torch.nn.functional).item()
    assert our_loss == pytest.approx(their_loss, rel=1e-5)


def test_every_op_runs_the_same_call_in_both_frameworks():
    from benchmarks.ops import OPS, inputs
    for name, (spec, call) in OPS.items():
        arrays = inputs(name)
        ours = {k: mt.tensor(arrays[k]) for k in spec} | {"target": mt.tensor(arrays["target"])}
        theirs = {k: torch.tensor(arrays[k]) for k in spec} | {
            "target": torch.tensor(arrays["target"])}
        expected = call(torch.nn.functional, theirs).numpy()
        # the absolute floor scales with the values (the 32->64 convolution's reach ~80, and
        # Winograd's float32 error is ~5e-6 of that): a different op is off by O(scale)
        np.testing.assert_allclose(call(F, ours).numpy(), expected, rtol=1e-4,
                                   atol=1e-4 * max(1.0, float(np.abs(expected).max())),
                                   err_msg=name)


@pytest.mark.slow
def test_ops_benchmark_quick(tmp_path):
    from benchmarks.ops import OPS
    run("benchmarks.ops", "--quick", "--out", str(tmp_path))
    runs = json.loads((tmp_path / "ops.json").read_text())["runs"]
    for framework in ("ours", "torch"):
        (result,) = runs[framework]  # --quick: one round
        assert set(result) == set(OPS)
        assert all(r["forward_backward_ms"] > 0 for r in result.values())
    assert (tmp_path / "ops.md").read_text().startswith("| op (float32) |")


@pytest.mark.slow
def test_train_step_benchmark_quick(tmp_path):
    run("benchmarks.train_step", "--quick", "--models", "r000_shared_net1_aux",
        "--out", str(tmp_path))
    results = json.loads((tmp_path / "train_step.json").read_text())["results"]
    assert set(results) == {"1", "2"}
    for threads in ("1", "2"):
        model = results[threads]["r000_shared_net1_aux"]
        assert results[threads]["ceiling_gflops"] > 0 and model["ratio"] > 0
        for framework in ("ours", "torch"):
            assert model[framework]["step_ms"] > 0 and model[framework]["peak_rss_mib"] > 0
    assert model["torch"]["step_gflop"] > 1  # ~1.2 GFLOP: conv, linear, fwd and bwd
    assert (tmp_path / "train_step.md").read_text().startswith("| model |")


def test_workers_get_the_thread_counts_and_torch_keeps_its_own_thread_settings(monkeypatch):
    """Ours runs with minitorch_pairs.threads' defaults (BLAS at one thread per call, numba
    at N); torch with its own, and N threads in every pool (unless the user set a value,
    which both keep)."""
    from benchmarks import harness
    monkeypatch.setattr(harness, "USER_ENV", {})
    monkeypatch.setenv("GOMP_SPINCOUNT", "100000")  # as minitorch_pairs.threads sets them
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    ours, theirs = harness.worker_env("ours", 3), harness.worker_env("torch", 3)
    assert ours["NUMBA_NUM_THREADS"] == theirs["NUMBA_NUM_THREADS"] == "3"
    assert ours["OPENBLAS_NUM_THREADS"] == "1" and theirs["OPENBLAS_NUM_THREADS"] == "3"
    assert ours["GOMP_SPINCOUNT"] == "100000"
    assert "GOMP_SPINCOUNT" not in theirs
    assert theirs["MINITORCH_PAIRS_THREAD_DEFAULTS"] == "0"
    monkeypatch.setattr(harness, "USER_ENV", {"GOMP_SPINCOUNT": "100000"})
    assert harness.worker_env("torch", 3)["GOMP_SPINCOUNT"] == "100000"


def test_alternate_waits_for_both_workers_then_pairs_their_windows(monkeypatch):
    """No window is measured while the other framework's worker still builds its models
    (its start-up would slow the first window ~5x, as seen); then each name is measured by
    both, back to back, in alternating order."""
    from benchmarks import harness
    log = []

    class FakeWorker:
        def __init__(self, module, framework, threads, args):
            self.framework = framework

        def wait_ready(self):
            log.append(("ready", self.framework))

        def measure(self, name):
            log.append((name, self.framework))
            return {"ms": 1.0}

        def close(self):
            log.append(("closed", self.framework))

    monkeypatch.setattr(harness, "_Worker", FakeWorker)
    monkeypatch.setattr(harness, "PAUSE_S", 0)
    runs = harness.alternate("ops", 2, 2, ["a", "b"])
    assert log == [("ready", "ours"), ("ready", "torch"),
                   ("a", "ours"), ("a", "torch"), ("b", "ours"), ("b", "torch"),
                   ("a", "torch"), ("a", "ours"), ("b", "torch"), ("b", "ours"),
                   ("closed", "ours"), ("closed", "torch")]
    assert runs == {framework: [{"a": {"ms": 1.0}, "b": {"ms": 1.0}}] * 2
                    for framework in ("ours", "torch")}


@pytest.mark.slow
def test_study_workers_benchmark_quick(tmp_path):
    run("benchmarks.study_workers", "--quick", "--out", str(tmp_path))
    results = json.loads((tmp_path / "study_workers.json").read_text())
    assert set(results["seconds"]) >= {"in process", "1 worker"}
    assert all(s > 0 for s in results["seconds"].values())
    assert (tmp_path / "study_workers.md").read_text().startswith("| execution |")
