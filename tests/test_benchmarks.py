"""benchmarks/ops.py, benchmarks/train_step.py and benchmarks/scaling.py: every variant of
either framework does the same work, and the quick runs (what CI runs so they never rot)
produce their tables. Speed itself is never asserted here."""
from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from torch_reference import torch

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from experiments.models import HEADLINE, get_spec
from experiments.training import pair_loss
from test_entry_points import run
from twins import assert_close


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


def random_batch(pairs: int = 50):
    """Pairs of noise images: unlike the digits' flat backgrounds, no two values in a pooling
    window tie (on the digits, near-ties that the two conv algorithms round differently send
    a window's gradient to different pixels: both right, far apart)."""
    from types import SimpleNamespace
    rng = np.random.default_rng(0)
    return SimpleNamespace(input=rng.standard_normal((pairs, 2, 14, 14)).astype(np.float32),
                           target=rng.integers(0, 2, pairs),
                           classes=rng.integers(0, 10, (pairs, 2)))


def assert_same_loss_and_gradients(variants: tuple, name: str):
    """Two variants of one framework (same weights) give the same loss on the study's batch,
    and the same gradients on noise, to float32 rounding: ~3e-6 of each gradient's largest
    entry is seen, 1e-4 is allowed."""
    from benchmarks.train_step import build_step, first_batch
    batches = [first_batch(), random_batch()]
    (_, one_loss, one), (_, two_loss, two) = (build_step(v, name, batches, 2) for v in variants)
    assert two_loss(0).item() == pytest.approx(one_loss(0).item(), rel=1e-5)
    one_loss(1).backward()
    two_loss(1).backward()
    for (key, p), q in zip(one.named_parameters(), two.parameters()):
        assert tuple(p.shape) == tuple(q.shape), key
        assert_close(q.grad, p.grad, 1e-4, f"{name} {key} grad ({variants[1]})")
    return one, two


@pytest.mark.parametrize("name", HEADLINE)
def test_functional_twin_gives_the_sequential_models_loss_and_gradients(name):
    """Ours written as F.max_pool2d(F.relu(conv(x)), 2) (nothing fused) against the study's
    nn.Sequential build (fused conv + ReLU + pool) with the same weights."""
    sequential, functional = assert_same_loss_and_gradients(("sequential", "functional"), name)
    for p, q in zip(sequential.parameters(), functional.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_torch_channels_last_twin_gives_the_eager_loss_and_gradients(monkeypatch):
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # this process's own
    _, last = assert_same_loss_and_gradients(("eager", "channels_last"), "r000_shared_net1_aux")
    assert last.branch[0][3].weight.is_contiguous(memory_format=torch.channels_last)


def test_a_failing_torch_compile_is_reported_unavailable_not_a_crash(monkeypatch):
    """Where inductor cannot compile (no C++ compiler, say), the worker answers why, and the
    table says 'unavailable' and ranks the other torch variants."""
    from benchmarks import train_step

    def broken(*args, **kwargs):
        def compiled(*args, **kwargs):
            raise RuntimeError("InductorError: no C++ compiler\n(a page of log)")
        return compiled
    monkeypatch.setattr(torch, "compile", broken)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # this process's own
    measure = train_step.prepare("compile", 1, ["r000_shared_net1_aux"], 1)
    reason = "RuntimeError: InductorError: no C++ compiler"
    assert measure("r000_shared_net1_aux") == {"unavailable": reason}
    runs = {"sequential": [{"m": {"step_ms": 6.0}}, {"m": {"step_ms": 8.0}}],
            "eager": [{"m": {"step_ms": 20.0}}, {"m": {"step_ms": 16.0}}],
            "channels_last": [{"m": {"step_ms": 12.0}}, {"m": {"step_ms": 20.0}}],
            "compile": [{"m": {"unavailable": reason}}] * 2}
    summary = train_step.compare(runs, "m", "step_ms")
    assert summary["fastest_torch"] == "channels_last"  # median 16.0 against eager's 18.0
    assert summary["ratio"] == {"sequential": pytest.approx(0.45)}  # median of 0.5, 0.4
    assert train_step.cells(summary, list(runs)) == ["7.0", "18.0", "16.0", "unavailable",
                                                     "torch channels_last", "0.45"]
    assert reason in train_step.unavailable_note([summary])


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
    from benchmarks.ops import OPS, VARIANTS
    run("benchmarks.ops", "--quick", "--out", str(tmp_path))
    runs = json.loads((tmp_path / "ops.json").read_text())["runs"]
    assert set(runs) == set(VARIANTS) == {"ours", "eager", "channels_last", "compile"}
    for variant, rounds in runs.items():
        (result,) = rounds  # --quick: one round
        assert set(result) == set(OPS)
        assert all(r["forward_backward_ms"] > 0 or "unavailable" in r for r in result.values())
    table = (tmp_path / "ops.md").read_text()
    assert table.startswith("| op (float32) |") and "fastest torch" in table


@pytest.mark.slow
def test_train_step_benchmark_quick(tmp_path):
    run("benchmarks.train_step", "--quick", "--models", "r000_shared_net1_aux",
        "--out", str(tmp_path))
    results = json.loads((tmp_path / "train_step.json").read_text())["results"]
    assert set(results) == {"1", "2"}
    for threads in ("1", "2"):
        model = results[threads]["r000_shared_net1_aux"]
        assert results[threads]["ceiling_gflops"] > 0
        assert set(model["ratio"]) == {"sequential", "functional"}
        assert all(r > 0 for r in model["ratio"].values())
        assert model["fastest_torch"] in ("eager", "channels_last", "compile")
        for variant, rounds in model["runs"].items():
            (result,) = rounds
            step = result["r000_shared_net1_aux"]
            assert variant == "compile" and "unavailable" in step or (
                step["step_ms"] > 0 and step["peak_rss_mib"] > 0)
    assert model["runs"]["eager"][0]["r000_shared_net1_aux"]["step_gflop"] > 1  # ~1.2 GFLOP
    table = (tmp_path / "train_step.md").read_text()
    assert table.startswith("| model |") and "| torch.compile (ms/step) |" in table


@pytest.mark.slow
def test_scaling_benchmark_quick(tmp_path):
    run("benchmarks.scaling", "--quick", "--out", str(tmp_path))
    results = json.loads((tmp_path / "scaling.json").read_text())
    assert set(results["summaries"]) == {"1", "4", "16"}
    assert results["variants"] == ["sequential", "functional", "eager", "channels_last"]
    for summary in results["summaries"].values():
        assert all(ms > 0 for ms in summary["ms"].values())
        assert summary["fastest_torch"] in ("eager", "channels_last")
    rows = (tmp_path / "scaling.csv").read_text().splitlines()
    assert rows[0] == "pairs,variant,ms_per_step,ratio_to_fastest_torch" and len(rows) == 13
    assert (tmp_path / "scaling.md").read_text().startswith("| pairs |")
    assert (tmp_path / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


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


def test_alternate_variants_rotates_the_order_and_survives_a_dead_compile_worker(monkeypatch):
    """Every variant in its own worker, all ready before the first window; each round one
    window per variant per name, the order rotated; a compile worker that dies while
    getting ready is reported unavailable and the others go on."""
    from benchmarks import harness, train_step
    log = []

    class FakeWorker:
        def __init__(self, module, framework, threads, args):
            self.variant = args[-1]
            assert framework == train_step.framework_of(self.variant)

        def wait_ready(self):
            log.append(("ready", self.variant))
            if self.variant == "compile":
                raise RuntimeError("train_step worker failed:\n...\nSegmentation fault")

        def measure(self, name):
            log.append((name, self.variant))
            return {"ms": 1.0}

        def close(self):
            log.append(("closed", self.variant))

    monkeypatch.setattr(harness, "_Worker", FakeWorker)
    monkeypatch.setattr(harness, "PAUSE_S", 0)
    variants = ["sequential", "eager", "compile"]
    runs = train_step.alternate_variants("train_step", 2, 2, ["a"], variants)
    assert log == [("ready", "sequential"), ("ready", "eager"), ("ready", "compile"),
                   ("closed", "compile"),
                   ("a", "sequential"), ("a", "eager"),
                   ("a", "eager"), ("a", "sequential"),  # round 1: rotated by one
                   ("closed", "sequential"), ("closed", "eager")]
    assert runs["compile"] == [{"a": {"unavailable": "RuntimeError: Segmentation fault"}}] * 2
    assert runs["eager"] == [{"a": {"ms": 1.0}}] * 2


@pytest.mark.slow
def test_study_workers_benchmark_quick(tmp_path):
    run("benchmarks.study_workers", "--quick", "--out", str(tmp_path))
    results = json.loads((tmp_path / "study_workers.json").read_text())
    assert set(results["seconds"]) >= {"in process", "1 worker"}
    assert all(s > 0 for s in results["seconds"].values())
    assert (tmp_path / "study_workers.md").read_text().startswith("| execution |")



def test_fusion_benchmark_variants_do_the_same_work_and_only_unfused_runs_three_ops():
    """Each layer variant gives the one call's output and gradients (F(6x6) against F(4x4)
    rounding apart where unfused), and fusion is off in the unfused one alone."""
    from benchmarks.fusion import LAYERS, layer_calls
    from minitorch_pairs.ops import conv_pool
    for name, spec in LAYERS.items():
        calls, leaves = layer_calls(*spec)
        results = {}
        for variant, call in calls.items():
            for leaf in leaves:
                leaf.grad = None
            out = call()
            fused = out.grad_fn.function is conv_pool.Conv2dReluPool
            assert fused == (variant != "unfused"), (name, variant)
            results[variant] = [out.detach().numpy()] + [
                leaf.grad.numpy() for leaf in leaves if leaf.requires_grad]
        for got, want in zip(results["functional"], results["one call"]):
            np.testing.assert_array_equal(got, want)  # the same fused op
        for got, want in zip(results["unfused"], results["one call"]):
            assert_close(got, want, 1e-5, f"{name} unfused")


@pytest.mark.slow
def test_fusion_benchmark_quick(tmp_path):
    from benchmarks.fusion import LAYER_VARIANTS, LAYERS, STEP_VARIANTS
    run("benchmarks.fusion", "--quick", "--out", str(tmp_path))
    results = json.loads((tmp_path / "fusion.json").read_text())
    for name in LAYERS:
        assert list(results[name]) == list(LAYER_VARIANTS)
    assert list(results["r000_shared_net1_aux step"]) == list(STEP_VARIANTS)
    for group in list(LAYERS) + ["r000_shared_net1_aux step"]:
        first = next(iter(results[group].values()))
        assert first["ratio"] == 1.0 and len(first["windows_ms"]) == 2
        assert all(r["ms"] > 0 for r in results[group].values())
    assert (tmp_path / "fusion.md").read_text().startswith("| layer or model |")


def test_ops_forward_timing_computes_the_values():
    """Ours defers a convolution's values until something reads them: the timed forward must
    compute them, or it times nothing."""
    from benchmarks.ops import OPS, inputs, run_forward
    for name, (spec, call) in OPS.items():
        arrays = inputs(name)
        ours = {k: mt.tensor(arrays[k]) for k in spec} | {"target": mt.tensor(arrays["target"])}
        assert type(run_forward(functools.partial(call, F), ours)) is mt.Tensor, name


@pytest.mark.slow
def test_winograd_stages_benchmark_quick(tmp_path):
    """Every stage of the fused layer runs, and --before imports another checkout's kernels
    (here this one's) beside this one's and pairs their windows."""
    import pathlib
    checkout = pathlib.Path(__file__).resolve().parent.parent
    run("benchmarks.winograd_stages", "--quick", "--before", str(checkout), "--out",
        str(tmp_path))
    results = json.loads((tmp_path / "winograd_stages.json").read_text())
    stages = list(results["stages_ms"])
    forward, backward = stages.index("forward, whole"), stages.index("backward, whole")
    assert forward == 0 and backward > 1 and len(stages) > backward + 1
    assert all(name.startswith("- ") for name in stages if "whole" not in name)
    assert all(len(ms) == 1 and ms[0] > 0 for ms in results["stages_ms"].values())
    assert list(results["before"]["windows_ms"]) == ["forward before", "forward this",
                                                     "backward before", "backward this"]
    table = (tmp_path / "winograd_stages.md").read_text()
    assert table.startswith("| stage (this checkout) |") and "| this / before |" in table
