"""The reports' protocols: which pairs each round sees (fixed or new, report 002's 500/500
split of the test pairs), the inputs' scaling, the rounds' seeds (report 001's 1-10), the
training each report gives its models, report 001's stopping rule, and the statistics."""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from experiments import siamese_aux
from experiments.models import get_spec
from experiments.protocols import PROTOCOLS, protocol_of
from experiments.results import summarise
from experiments.sources import load_pools
from experiments.training import TrainConfig, stops
from minitorch_pairs.data import generate_pair_sets

TINY = ["--epochs", "1", "--n-pairs", "40", "--quiet", "--no-plots", "--workers", "0"]


@pytest.fixture(scope="module")
def pools():
    return load_pools("embedded")


def same(a, b) -> bool:
    return np.array_equal(a.input, b.input) and np.array_equal(a.classes, b.classes)


@pytest.mark.parametrize("name", ["p001", "p002"])
def test_fixed_protocols_give_every_round_the_same_pairs(pools, name):
    protocol = PROTOCOLS[name]
    first, later = (protocol.pair_sets(pools, 60, 3, r) for r in (0, 7))
    assert same(first[0], later[0]) and same(first[1], later[1])
    assert protocol.seed(3, 0) != protocol.seed(3, 7)  # the initialisation still changes


@pytest.mark.parametrize("name", ["common", "p000", "p003", "p004"])
def test_other_protocols_draw_new_pairs_every_round(pools, name):
    protocol = PROTOCOLS[name]
    first, later = (protocol.pair_sets(pools, 60, 3, r) for r in (0, 1))
    assert not same(first[0], later[0]) and not same(first[1], later[1])
    # round r's pairs are the ones the round's own seed draws
    train, test = generate_pair_sets(pools, 60, seed=3 + 1, normalize=protocol.normalize)
    assert same(later[0], train) and same(later[1], test)


def test_report_002_tests_on_the_second_half_of_one_fixed_test_set(pools):
    train, test = PROTOCOLS["p002"].pair_sets(pools, 60, 5, 4)
    full_train, full_test = generate_pair_sets(pools, 60, seed=5, normalize="standardise")
    assert len(train) == 60 and len(test) == 30 == PROTOCOLS["p002"].test_pairs(60)
    assert same(train, full_train) and same(test, full_test.subset(slice(30, 60)))


def test_report_001_uses_seeds_1_to_10(pools):
    protocol = PROTOCOLS["p001"]
    assert [protocol.seed(0, r) for r in range(protocol.rounds)] == list(range(1, 11))


def test_raw_protocols_keep_the_pixels_and_the_others_standardise(pools):
    raw = PROTOCOLS["p000"].pair_sets(pools, 40, 0, 0)[0].input
    assert raw.max() > 200 and raw.min() == 0  # 0-255, as the course's generator gives them
    standardised = PROTOCOLS["common"].pair_sets(pools, 40, 0, 0)[0].input
    assert standardised.mean() == pytest.approx(0, abs=1e-5)
    assert standardised.std() == pytest.approx(1, abs=1e-3)
    assert PROTOCOLS["p000"].pair_sets(pools, 40, 0, 0, "standardise")[0].input.mean() == \
        pytest.approx(0, abs=1e-5)  # --normalize wins over the protocol's


def test_rounds_and_scaling_per_report():
    assert {n: (p.rounds, p.normalize) for n, p in PROTOCOLS.items()} == {
        "common": (10, "standardise"), "p000": (10, "raw"), "p001": (10, "standardise"),
        "p002": (15, "standardise"), "p003": (10, "standardise"), "p004": (10, "standardise")}


def test_faithful_gives_each_model_its_report_protocol():
    for model, expected in [("r000_naive_net1", "p000"), ("r001_fc", "p001"),
                            ("r002_transfer", "p002"), ("r003_cnn_ws_aux", "p003"),
                            ("r004_siamese2", "p004"), ("beyond_digits", "common")]:
        assert protocol_of("faithful", model).name == expected
    assert protocol_of("p001", "r000_naive_net1").name == "p001"
    with pytest.raises(ValueError, match="protocol: expected one of"):
        protocol_of("p005", "r001_fc")


def test_report_000_trains_with_its_chosen_sgd_rates():
    config = TrainConfig.for_spec(get_spec("r000_shared_net1_aux"),
                                  **PROTOCOLS["p000"].training(get_spec("r000_shared_net1_aux")))
    assert (config.optimizer, config.lr, config.momentum, config.aux_weight, config.batch_size,
            config.epochs) == ("sgd", 0.0031, 0.9, 0.23, 100, 25)
    # the common protocol keeps the model's own recipe
    assert PROTOCOLS["common"].training(get_spec("r000_shared_net1_aux")) == {}
    assert TrainConfig.for_spec(get_spec("r000_shared_net1_aux")).optimizer == "adam"


def test_the_stopping_rule_compares_consecutive_epoch_losses():
    rule = TrainConfig(epochs=500, batch_size=20, optimizer="sgd", lr=0.1, aux_weight=0,
                       stop_loss_change=0.001, stop_loss="sum")
    assert not stops(rule, None, 0.5)  # the first epoch has nothing to compare with
    assert stops(rule, 0.6935, 0.6931) and stops(rule, 0.6931, 0.6935)
    assert not stops(rule, 34.66, 34.64)  # summed over 50 batches: a change of 0.0004 each
    assert not stops(TrainConfig(epochs=5, batch_size=20, optimizer="sgd", lr=0.1,
                                 aux_weight=0), 0.5, 0.5)  # no rule, no stop
    with pytest.raises(ValueError, match="stop loss: expected one of"):
        TrainConfig(epochs=5, batch_size=20, optimizer="sgd", lr=0.1, aux_weight=0,
                    stop_loss="median")


def test_training_stops_by_the_loss_the_rule_names(pools, monkeypatch):
    """The rule sees the epoch's mean loss per pair, or the sum of its mini-batch losses:
    with batches of one pair the sum is exactly len(train) times the mean."""
    from experiments import training
    seen = []

    def recording(config, previous, current):
        seen.append(current)
        return False
    monkeypatch.setattr(training, "stops", recording)
    train, test = generate_pair_sets(pools, 20, seed=0, normalize="standardise")
    measured = {}
    for measure in ("mean", "sum"):
        seen.clear()
        config = TrainConfig(epochs=2, batch_size=1, optimizer="sgd", lr=0.01, aux_weight=0,
                             stop_loss_change=0.001, stop_loss=measure)
        training.train_run(get_spec("r001_fc"), config, train, test, seed=0)
        measured[measure] = list(seen)
    assert len(measured["mean"]) == 2
    assert np.allclose(measured["sum"], 20 * np.array(measured["mean"]), rtol=1e-12)


def test_summary_gives_the_standard_error_and_each_models_rounds():
    rows = [dict(model=m, round=r, status="ok", test_accuracy=a, train_accuracy=1.0,
                 parameters=5, seconds=1.0, epochs=e)
            for m, r, a, e in [("a", 0, 0.8, 10), ("a", 1, 0.9, 20), ("a", 2, 0.7, 30),
                               ("b", 0, 0.5, 4), ("b", 1, 0.6, 4)]]
    summary = summarise(rows, ["a", "b"], {"a": 3, "b": 1})
    assert summary["a"]["test_accuracy_std"] == pytest.approx(0.1)
    assert summary["a"]["test_accuracy_sem"] == pytest.approx(0.1 / math.sqrt(3))
    assert summary["a"]["epochs_mean"] == 20
    assert summary["b"]["rounds"] == 1 and summary["b"]["test_accuracy_sem"] is None


def read_rows(out) -> list:
    with open(out / "runs.csv", newline="") as file:
        return list(csv.DictReader(file))


def test_a_faithful_study_runs_each_model_under_its_report(tmp_path):
    out = tmp_path / "study"
    assert siamese_aux.main(["--out", str(out), "--protocol", "faithful", "--models",
                             "r000_shared_net1,r001_fc,r002_mlp", *TINY]) == 0
    rows = read_rows(out)
    seeds = {m: sorted(int(r["seed"]) for r in rows if r["model"] == m)
             for m in ("r000_shared_net1", "r001_fc", "r002_mlp")}
    assert seeds == {"r000_shared_net1": list(range(10)), "r001_fc": list(range(1, 11)),
                     "r002_mlp": list(range(15))}
    config = json.loads((out / "config.json").read_text())
    assert config["protocol"] == "faithful" and config["rounds"] == 15
    assert config["normalize"] is None  # each protocol's own: raw for p000 only
    details = json.loads((out / "runs" / "r002_mlp" / "round_003.json").read_text())
    assert len(details["test"]["target"]) == 20  # report 002: half the test pairs
    assert details["config"]["optimizer"] == "adam"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["r001_fc"]["rounds"] == 10 and summary["r002_mlp"]["rounds"] == 15
    # a resume checks the rows' seeds against the protocol's and finds nothing to do
    assert siamese_aux.main(["--out", str(out), "--protocol", "faithful", "--models",
                             "r000_shared_net1,r001_fc,r002_mlp", "--resume", *TINY]) == 0
    assert len(read_rows(out)) == 35
    # and a different protocol is refused
    assert siamese_aux.main(["--out", str(out), "--protocol", "common", "--models",
                             "r000_shared_net1,r001_fc,r002_mlp", "--resume", *TINY]) == 2


def test_the_common_protocol_is_the_default_and_writes_no_protocol_key(tmp_path):
    out = tmp_path / "study"
    assert siamese_aux.main(["--out", str(out), "--models", "r000_shared_net1",
                             "--rounds", "2", *TINY]) == 0
    config = json.loads((out / "config.json").read_text())
    assert "protocol" not in config and config["normalize"] == "standardise"
    assert [int(r["seed"]) for r in read_rows(out)] == [0, 1]
