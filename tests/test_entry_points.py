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


def test_main_job_smoke_training_learns():
    out = run("experiments.siamese_aux", "--epochs", "2")
    accuracies = [float(line.rsplit(" ", 1)[1]) for line in out.splitlines()
                  if "test accuracy" in line]
    assert len(accuracies) == 2
    assert accuracies[-1] > 0.75, out  # chance is 0.5 on the synthetic pairs


@pytest.mark.slow
def test_startup_benchmark_quick(tmp_path):
    run("benchmarks.startup", "--quick", "--out", str(tmp_path))
    results = json.loads((tmp_path / "startup.json").read_text())
    assert set(results) == {"cold", "warm"}
    assert results["warm"]["import_and_first_step_s"] > 0
    assert (tmp_path / "startup.md").read_text().startswith("| numba cache |")
