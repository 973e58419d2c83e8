"""Report 004: a 2-channel baseline ConvNet with BatchNorm, and one weight-shared Siamese
architecture trained two ways: Siamese2 (comparison + digit losses) and Siamese10 (digit
losses only, compared by rule) (STUDY.md section 6).

The report puts a ReLU after the 10-way digit layer and after the final 2-way layer, so its
cross-entropies see non-negative logits. We keep them (faithful); `output_relu=False` drops
them as a variant.
"""
from __future__ import annotations

import dataclasses
import functools

from minitorch_pairs import nn

from .base import ModelSpec, Siamese, TwoChannel


REPAIRS = ("padding", "pool_stride")


def baseline_cnn(repair: str = "padding") -> nn.Module:
    """Baseline: Conv(2->64, 4) MaxPool(4) ReLU BN2d | Conv(64->64, 4) ReLU BN2d | FC 64 -> 128
    -> 128 -> 2. As written the sizes do not work (14 -> 11 -> 2, and a 4x4 kernel cannot run
    on 2x2). Two repairs give 64 features and the same parameters: "padding" (Suggestion)
    pads the second convolution by 1, 2x2 -> 1x1; "pool_stride" pools with stride 2,
    11 -> 4, and the second convolution takes 4x4 -> 1x1."""
    if repair not in REPAIRS:
        raise ValueError(f"r004_baseline_cnn: repair expected one of {REPAIRS}, got {repair!r}")
    pool, padding = (nn.MaxPool2d(4), 1) if repair == "padding" else (nn.MaxPool2d(4, 2), 0)
    return TwoChannel(nn.Sequential(
        nn.Conv2d(2, 64, 4), pool, nn.ReLU(), nn.BatchNorm2d(64),
        nn.Conv2d(64, 64, 4, padding=padding), nn.ReLU(), nn.BatchNorm2d(64),
        nn.Flatten(),
        nn.Linear(64, 128), nn.ReLU(),
        nn.Linear(128, 128), nn.ReLU(),
        nn.Linear(128, 2)))


def siamese_branch(c1: int, c2: int, hidden: int, output_relu: bool) -> nn.Module:
    """One 1x14x14 image -> 10 digit scores: Conv(1->c1, 4) MaxPool(2) ReLU BN2d |
    Conv(c1->c2, 4) ReLU BN2d | Linear(c2*2*2->hidden) ReLU BN1d | Linear(hidden->10) [ReLU].
    Kernel 4, stride 1, no padding is a Suggestion ("similar" to the baseline): 14 -> 11 -> 5
    -> 2."""
    layers = [nn.Conv2d(1, c1, 4), nn.MaxPool2d(2), nn.ReLU(), nn.BatchNorm2d(c1),
              nn.Conv2d(c1, c2, 4), nn.ReLU(), nn.BatchNorm2d(c2),
              nn.Flatten(),
              nn.Linear(c2 * 2 * 2, hidden), nn.ReLU(), nn.BatchNorm1d(hidden),
              nn.Linear(hidden, 10)]
    if output_relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def siamese(c2: int, output_relu: bool = True) -> nn.Module:
    """The shared branch (c1 = 64, FC 64) on each image; its two 10-vectors are the digit
    outputs and, concatenated, feed Linear(20->2) [ReLU]."""
    head = [nn.Linear(20, 2)] + ([nn.ReLU()] if output_relu else [])
    return Siamese(siamese_branch(64, c2, 64, output_relu), nn.Sequential(*head))


# SGD (momentum unspecified; Suggestion: none), batch 100 and 25 epochs (both unspecified;
# Suggestions), the learning rates chosen by the report's grid search.
RECIPE = dict(optimizer="sgd", batch_size=100, epochs=25)

SPECS = [
    ModelSpec("r004_baseline_cnn", "004", "Baseline: 2-channel Conv(k4) 64, MaxPool 4, BN; "
              "Conv(k4, p1) 64, BN; FC 64->128->128->2", baseline_cnn, parameters=93_058,
              lr=0.1, **RECIPE),
    # "Equal weights" read as L_cmp + L_dig (L_dig the mean of the two digit CEs); whether
    # they were 1/1 or 1/2 each is unknown.
    ModelSpec("r004_siamese2", "004", "Siamese2: shared branch 64/8 channels, FC 64 (BN1d) "
              "-> 10 (ReLU), head 20->2 (ReLU); comparison + digit loss",
              functools.partial(siamese, c2=8), parameters=12_364, aux_weight=1.0, lr=1.0,
              **RECIPE),
    # Trained on the digits only and judged by argmax(d1) <= argmax(d2); its 20->2 head is
    # built (and counted, as in STUDY.md's 22 628) but never trained or used.
    ModelSpec("r004_siamese10", "004", "Siamese10: shared branch 64/16 channels, FC 64, digit "
              "loss only, argmax(d1) <= argmax(d2)", functools.partial(siamese, c2=16),
              parameters=22_628, aux_weight=1.0, comparison_weight=0.0, decision="digits",
              lr=0.1, **RECIPE),
]


def spec_from_name(name: str) -> ModelSpec:
    """`r004_baseline_cnn[repair=pool_stride]`: the baseline under the other repair."""
    base, _, tag = name[:-1].partition("[")
    key, _, repair = tag.partition("=")
    if base != "r004_baseline_cnn" or key != "repair" or repair not in REPAIRS:
        raise ValueError(f"model {name!r}: expected r004_baseline_cnn[repair=R] with R one of "
                         f"{REPAIRS}")
    return dataclasses.replace(SPECS[0], name=name,
                               build=functools.partial(baseline_cnn, repair=repair))
