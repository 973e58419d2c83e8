"""The studies' protocols (STUDY.md section 7.3): where each round's pairs come from, how the
inputs are scaled, which seeds the rounds use, how many rounds, and the training recipe a
report used for its models.

    common   the study's own protocol (the default): new 1000/1000 pairs and initialisation
             every round, standardised inputs, each model's recipe as in experiments/models
    p000-4   one report's protocol for its models (p002 and p001 keep one pair set for every
             round; p001 uses seeds 1-10 and its stopping rule on the epoch's summed loss)
    faithful each model under its own report's protocol

The choices a report leaves open, and why each was taken, are in experiments/REPRODUCTION.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from minitorch_pairs.data import PairSet, generate_pair_sets

from .models import ModelSpec, get_spec

# Report 000 (STUDY.md 2.4): SGD at the grid-chosen learning rate and aux weight per model,
# rates made for raw 0-255 pixels. The benchmark is the SharedWeightNet(2)+aux network trained
# the same way (the report does not say which weights it used).
P000_CHOSEN = {
    "r000_naive_net1": dict(lr=0.0002),
    "r000_shared_net1": dict(lr=0.0005),
    "r000_shared_net1_aux": dict(lr=0.0031, aux_weight=0.23),
    "r000_shared_net2_aux": dict(lr=0.012, aux_weight=0.23),
    "r000_benchmark_leq": dict(lr=0.012, aux_weight=0.23),
}


@dataclass(frozen=True)
class Protocol:
    name: str
    description: str
    normalize: str  # "standardise" or "raw"
    rounds: int  # the report's repetitions
    fixed_data: bool = False  # one pair set for every round, drawn with the study's --seed
    seed_offset: int = 0  # round r of a study with --seed s uses seed s + offset + r
    test_half: bool = False  # p002: of the test pairs, the first half validate, the second test
    recipe: dict = field(default_factory=dict)  # training settings for every model
    per_model: dict = field(default_factory=dict)  # and for some models, by name

    def training(self, spec: ModelSpec) -> dict:
        """The protocol's changes to `spec`'s own recipe (TrainConfig fields)."""
        return {**self.recipe, **self.per_model.get(spec.name, {})}

    def seed(self, study_seed: int, round_: int) -> int:
        """The seed of a round's initialisation and batch order (and pairs, unless fixed)."""
        return study_seed + self.seed_offset + round_

    def test_pairs(self, n_pairs: int) -> int:
        """How many test pairs a round of `n_pairs` pairs is scored on."""
        return n_pairs - n_pairs // 2 if self.test_half else n_pairs

    def pair_sets(self, pools: tuple, n_pairs: int, study_seed: int, round_: int,
                  normalize: str | None = None) -> tuple[PairSet, PairSet]:
        """(train, test) pairs of `round_`: drawn with the round's seed, or with the study's
        seed for every round when the data are fixed; `normalize` overrides the protocol's."""
        seed = self.seed(study_seed, 0 if self.fixed_data else round_)
        train, test = generate_pair_sets(pools, n_pairs, seed=seed,
                                         normalize=normalize or self.normalize)
        if self.test_half:
            test = test.subset(slice(len(test) // 2, None))
        return train, test


PROTOCOLS = {
    "common": Protocol(
        "common", "new 1000/1000 pairs and initialisation every round, standardised inputs, "
        "each model's recipe; 10 rounds", normalize="standardise", rounds=10),
    "p000": Protocol(
        "p000", "report 000: new pairs every round, raw pixels, SGD with momentum 0.9 (the "
        "report names no momentum; without it every model underfits) at the grid-chosen "
        "learning rate, batch 100, 25 epochs; 10 rounds", normalize="raw", rounds=10,
        recipe=dict(optimizer="sgd", momentum=0.9, batch_size=100, epochs=25),
        per_model=P000_CHOSEN),
    "p001": Protocol(
        "p001", "report 001: one pair set for seeds 1-10, standardised (raw pixels diverge at "
        "its rates), SGD batch 20 until the epoch's summed loss changes by less than 0.001 "
        "(at most 500 epochs)", normalize="standardise", rounds=10, fixed_data=True, seed_offset=1,
        recipe=dict(stop_loss_change=0.001, stop_loss="sum")),
    "p002": Protocol(
        "p002", "report 002: one set of 1000 training pairs and 500 test pairs (500 more "
        "validate, unused) for all 15 rounds, which change only the initialisation; Adam 1e-3, "
        "100 epochs", normalize="standardise", rounds=15, fixed_data=True, test_half=True),
    "p003": Protocol(
        "p003", "report 003: new pairs every round, standardised, Adam 1e-3 (1e-2 with "
        "Sigmoid), batch 100, 25 epochs; 10 rounds", normalize="standardise", rounds=10),
    "p004": Protocol(
        "p004", "report 004: a new pair set for each of 10 runs, standardised, SGD at the "
        "model's chosen rate, batch 100, 25 epochs", normalize="standardise", rounds=10),
}
CHOICES = (*PROTOCOLS, "faithful")


def protocol_of(name: str, model: str) -> Protocol:
    """The protocol `name` gives `model`: under 'faithful', that of the model's own report
    (the common one for models beyond the reports)."""
    if name not in CHOICES:
        raise ValueError(f"protocol: expected one of {CHOICES}, got {name!r}")
    if name != "faithful":
        return PROTOCOLS[name]
    return PROTOCOLS.get(f"p{get_spec(model).report}", PROTOCOLS["common"])
