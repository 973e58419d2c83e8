"""benchmarks/study_torch.py: the torch twins match our models, and the quick run works."""
import json
import os
import subprocess
import sys

import pytest

from torch_reference import torch  # noqa: F401  (a visible skip without torch)

from experiments.models import HEADLINE, count_parameters, get_spec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED = {"r000_naive_net1": 164_384, "r000_shared_net1": 82_308,
            "r000_shared_net1_aux": 82_308, "r000_benchmark_leq": 87_878}


@pytest.mark.parametrize("name", HEADLINE)
def test_twin_parameter_counts_match_ours(name):
    from benchmarks.study_torch import build_twin
    ours = count_parameters(get_spec(name).build())
    assert ours == EXPECTED[name]
    assert count_parameters(build_twin(name)) == ours


def test_twin_forward_shapes():
    from benchmarks.study_torch import build_twin
    output = build_twin("r000_shared_net1")(torch.zeros(3, 2, 14, 14))
    assert tuple(output.comparison.shape) == (3, 2) and tuple(output.digits.shape) == (3, 2, 10)


@pytest.mark.slow
def test_quick_study_torch(tmp_path):
    out = tmp_path / "tmp"
    subprocess.run([sys.executable, "-m", "benchmarks.study_torch", "--quick",
                    "--out", str(out)], cwd=ROOT, check=True, timeout=600,
                   capture_output=True, text=True)
    with open(out / "study_torch.json") as f:
        result = json.load(f)
    assert set(result["models"]) == set(HEADLINE)
    for name in HEADLINE:
        assert 0.0 <= result["models"][name]["test_accuracy_mean"] <= 1.0
    assert (out / "study_torch.md").is_file()

    # --reuse sets an earlier torch run beside a (here: fake) study of ours, no training
    ours = tmp_path / "ours"
    ours.mkdir()
    fake = {name: dict(result["models"][name], test_accuracy_mean=0.5) for name in HEADLINE}
    (ours / "summary.json").write_text(json.dumps(fake))
    again = subprocess.run([sys.executable, "-m", "benchmarks.study_torch", "--reuse", str(out),
                            "--ours", str(ours), "--out", str(tmp_path / "again")], cwd=ROOT,
                           check=True, timeout=120, capture_output=True, text=True)
    assert "ours mean ± std" in again.stdout and "r000_shared_net1" in again.stdout
    reused = json.loads((tmp_path / "again" / "study_torch.json").read_text())
    assert reused["models"] == result["models"]
    assert set(reused["comparison"]) == set(HEADLINE)
