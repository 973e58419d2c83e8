"""The commands a user runs: the main job and the benchmarks, end to end in subprocesses."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run(*args, timeout=600):
    result = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_main_job_runs_the_headline_study_with_figures(tmp_path):
    """The README's main job, shrunk (1 epoch, 2 rounds, 60 pairs): the table, the files
    and the four figures."""
    out = run("experiments.siamese_aux", "--epochs", "1", "--rounds", "2", "--n-pairs", "60",
              "--out", str(tmp_path), "--quiet")
    table = out.splitlines()
    assert table[0].split()[:3] == ["model", "test", "accuracy"]
    for model in ("r000_naive_net1", "r000_shared_net1", "r000_shared_net1_aux",
                  "r000_benchmark_leq"):
        assert any(line.startswith(model) and "±" in line for line in table), out
    for figure in ("accuracy_boxplot", "training_curves", "roc_pr", "pair_errors"):
        assert (tmp_path / "figures" / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "summary.json").read_text())["r000_shared_net1"]["rounds"] == 2


@pytest.mark.slow
def test_every_model_trains_through_the_main_job(tmp_path):
    """All 25 architectures, one epoch on 50 pairs each, through the CLI."""
    from experiments.models import REPRODUCTIONS as MODELS
    out = run("experiments.siamese_aux", "--models", "all", "--epochs", "1", "--rounds", "1",
              "--n-pairs", "50", "--out", str(tmp_path), "--quiet", "--no-plots")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary) == set(MODELS), out
    assert all(s["rounds"] == 1 for s in summary.values())


@pytest.mark.slow
def test_startup_benchmark_quick(tmp_path):
    run("benchmarks.startup", "--quick", "--out", str(tmp_path))
    results = json.loads((tmp_path / "startup.json").read_text())
    assert set(results) == {"cold", "warm"}
    assert results["warm"]["import_and_first_step_s"] > 0
    assert (tmp_path / "startup.md").read_text().startswith("| numba cache |")


def test_the_framework_never_imports_torch():
    """DESIGN.md: torch (and torchvision, which imports it) is a test/benchmark reference
    only. Importing the framework, its kernels and its data layer, and running a step,
    leaves torch unloaded."""
    code = ("import sys, minitorch_pairs as mt, minitorch_pairs.data, kernels.cpu\n"
            "x = mt.randn(2, 1, 6, 6, requires_grad=True)\n"
            "mt.nn.functional.max_pool2d(mt.nn.Conv2d(1, 2, 3)(x), 2).sum().backward()\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', "
            "'torchvision'))\n"
            "assert not loaded, loaded\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
