"""A run is recorded as diverged whenever anything it computes stops being finite: a step's
training loss, the parameters after an epoch (and so after the very last update, whose loss
is computed before it), or an evaluation's loss, outputs or scores. A diverged run is never
"ok" and never the best checkpoint."""
from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest

import minitorch_pairs as mt
from experiments import siamese_aux, training
from experiments.models import PairOutput, get_spec
from experiments.training import Diverged, TrainConfig

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                                        "ignore:invalid value encountered:RuntimeWarning")
MODEL = "r000_shared_net1"


@pytest.fixture(scope="module")
def pairs():
    from experiments.sources import load_pools
    from minitorch_pairs.data import generate_pair_sets
    return generate_pair_sets(load_pools("embedded"), 40, seed=0)


def study(out, *extra) -> list:
    assert siamese_aux.main(["--out", str(out), "--models", MODEL, "--rounds", "1",
                             "--epochs", "1", "--n-pairs", "40", "--workers", "0", "--quiet",
                             "--no-plots", *extra]) == 0
    with open(out / "runs.csv", newline="") as file:
        return list(csv.DictReader(file))


@pytest.mark.parametrize("optimizer,lr,message", [
    ("sgd", "1e308", "the parameters became inf after epoch 1"),
    # weights of ~1e30 are finite, but the evaluation's activations overflow
    ("adam", "1e30", "the train loss became nan, outputs became nan, scores became nan in "
                     "the evaluation after epoch 1"),
], ids=["sgd 1e308", "adam 1e30"])
def test_a_run_diverging_at_its_only_step_is_recorded_as_diverged(tmp_path, optimizer, lr,
                                                                   message):
    # one step: its loss is computed before the update that breaks the model
    [row] = study(tmp_path, "--batch-size", "40", "--optimizer", optimizer, "--lr", lr)
    assert row["status"] == "diverged", row
    assert message in row["error"]
    assert np.isnan(float(row["test_accuracy"]))
    assert not (tmp_path / "best" / f"{MODEL}.npz").exists()


def test_a_normal_short_run_is_still_ok(tmp_path):
    [row] = study(tmp_path, "--batch-size", "10", "--optimizer", "adam", "--lr", "0.001")
    assert row["status"] == "ok" and row["error"] == "", row
    assert 0 <= float(row["test_accuracy"]) <= 1 and np.isfinite(float(row["test_loss"]))
    assert (tmp_path / "best" / f"{MODEL}.npz").exists()


@pytest.mark.parametrize("broken_step,epoch", [(4, 1), (8, 2)],
                         ids=["last step of epoch 1", "last step of the run"])
def test_parameters_made_nan_by_a_last_step_raise_diverged(pairs, monkeypatch, broken_step,
                                                           epoch):
    """2 epochs of 4 steps; the update of step `broken_step` writes a NaN into a weight."""
    real_make_optimizer, steps = training.make_optimizer, []

    def make_optimizer(config, parameters):
        optimizer = real_make_optimizer(config, parameters)
        real_step = optimizer.step

        def step():
            real_step()
            steps.append(1)
            if len(steps) == broken_step:
                weight = optimizer.param_groups[0]["params"][0]
                with mt.no_grad():
                    weight[(0,) * weight.dim()] = float("nan")
        optimizer.step = step
        return optimizer

    monkeypatch.setattr(training, "make_optimizer", make_optimizer)
    spec = get_spec(MODEL)
    config = TrainConfig.for_spec(spec, epochs=2, batch_size=10, optimizer="adam", lr=1e-3)
    with pytest.raises(Diverged, match=f"the parameters became nan after epoch {epoch} "):
        training.train_run(spec, config, *pairs, seed=0)
    assert len(steps) == broken_step


real_decide, real_pair_loss = training.decide, training.pair_loss


def _nan_scores(spec, output):
    predicted, score = real_decide(spec, output)
    return predicted, score * float("nan")


def _nan_eval_loss(output, target, classes, weights, functional=None):
    loss = real_pair_loss(output, target, classes, weights)
    return loss if mt.is_grad_enabled() else loss * float("nan")


def _inf_digit_output(build):
    """The model with -inf digit logits in evaluation: the scores and the loss of a model
    decided and trained on its comparison output alone never see it."""
    def wrapped():
        model = build()
        forward = model.forward

        def patched(inputs):
            output = forward(inputs)
            if model.training:
                return output
            digits = output.digits if output.digits is not None else \
                mt.zeros(output.comparison.shape[0], 2, 10)
            return PairOutput(output.comparison, digits - float("inf"))
        model.forward = patched
        return model
    return wrapped


@pytest.mark.parametrize("what,value", [("scores", "nan"), ("loss", "nan"), ("outputs", "inf")])
def test_non_finite_evaluation_raises_diverged(pairs, monkeypatch, what, value):
    spec = get_spec(MODEL)
    if what == "scores":
        monkeypatch.setattr(training, "decide", _nan_scores)
    elif what == "loss":
        monkeypatch.setattr(training, "pair_loss", _nan_eval_loss)
    else:
        spec = dataclasses.replace(spec, build=_inf_digit_output(spec.build))
    config = TrainConfig.for_spec(spec, epochs=2, batch_size=10, optimizer="adam", lr=1e-3,
                                  aux_weight=0.0)
    with pytest.raises(Diverged, match=f"the train {what} became {value} in the evaluation "
                                      f"after epoch 1$"):
        training.train_run(spec, config, *pairs, seed=0)
