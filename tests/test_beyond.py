"""experiments/models/beyond.py: our own models, apart from the reproductions: outputs,
decision rules, recipes, and a short training run that learns."""
from __future__ import annotations

import numpy as np
import pytest

import minitorch_pairs as mt
from experiments.models import MODELS, REPRODUCTIONS, count_parameters, get_spec
from experiments.training import TrainConfig, decide, train_run

BEYOND = ("beyond_digits", "beyond_end_to_end")


def test_they_are_registered_apart_from_the_reproductions():
    assert set(BEYOND) <= set(MODELS) and not set(BEYOND) & set(REPRODUCTIONS)


@pytest.mark.parametrize("name", BEYOND)
def test_outputs_decision_and_recipe(name):
    spec = get_spec(name)
    mt.manual_seed(0)
    model = spec.build().eval()
    with mt.no_grad():
        out = model(mt.randn(3, 2, 14, 14))
    assert out.digits.shape == (3, 2, 10)
    if name == "beyond_digits":
        assert out.comparison is None and spec.decision == "digits"
    else:
        assert out.comparison.shape == (3, 2) and spec.decision == "comparison"
    with mt.no_grad():
        predicted, score = decide(spec, out)
    assert predicted.shape == (3,) and np.all((score.numpy() >= 0) & (score.numpy() <= 1))
    config = TrainConfig.for_spec(spec)
    assert config.schedule == "onecycle" and config.augmentation.active
    assert 100_000 < count_parameters(model) < 250_000


@pytest.mark.parametrize("name", BEYOND)
def test_a_short_run_learns(name):
    from experiments.sources import load_pools
    from minitorch_pairs.data import generate_pair_sets
    train, test = generate_pair_sets(load_pools("embedded"), 200, seed=0)
    spec = get_spec(name)
    config = TrainConfig.for_spec(spec, epochs=5, batch_size=20)  # 50 one-cycle steps
    result = train_run(spec, config, train, test, seed=0)
    assert result.test["accuracy"] > 0.7, result.history


@pytest.mark.slow
def test_they_run_unchanged_on_the_torchvision_mnist_path(tmp_path):
    """--data mnist (torchvision's reader) on small IDX files the test writes: the main job
    trains and records both models exactly as on the embedded digits."""
    import csv
    from experiments import siamese_aux
    from test_data import random_split, write_mnist
    rng = np.random.default_rng(8)
    write_mnist(tmp_path / "root", random_split(rng, 120), random_split(rng, 120))
    out = tmp_path / "out"
    assert siamese_aux.main(["--data", "mnist", "--data-root", str(tmp_path / "root"),
                             "--models", ",".join(BEYOND), "--rounds", "1", "--epochs", "1",
                             "--n-pairs", "40", "--workers", "0", "--quiet", "--no-plots",
                             "--out", str(out)]) == 0
    with open(out / "runs.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert sorted(row["model"] for row in rows) == sorted(BEYOND)
    assert all(0 <= float(row["test_accuracy"]) <= 1 for row in rows)
