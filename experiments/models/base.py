"""What every study model shares: its output, its description, and the two ways a pair is
seen (one 2-channel image, or two images through one or two branches)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import minitorch_pairs as mt
from minitorch_pairs import nn


@dataclass
class PairOutput:
    """comparison: (N, 2) logits (or (N, 1) for a sigmoid output); digits: (N, 2, 10) digit
    logits of image 1 and image 2, or None for a model without digit outputs."""

    comparison: mt.Tensor | None
    digits: mt.Tensor | None = None


@dataclass(frozen=True)
class ModelSpec:
    """A study model and the report's training recipe for it."""

    name: str
    report: str
    description: str
    build: Callable[[], nn.Module]
    parameters: int | None = None  # stated by the report or derived in STUDY.md
    aux_weight: float = 0.0  # weight of the digit loss L_dig; 0 means none
    comparison_weight: float = 1.0  # weight of the comparison loss
    decision: str = "comparison"  # or "digits": predict argmax(d1) <= argmax(d2)
    # How the two loss weights move over the epochs: "fixed"; "decay" (report 002: the digit
    # loss weighs beta_e = (E - e) / E, the comparison 1 - beta_e); "transfer" (report 002:
    # the first half of the epochs on the digit loss alone, the second half on the comparison
    # loss alone, reusing the branch).
    aux_schedule: str = "fixed"
    optimizer: str = "sgd"
    lr: float = 0.1
    epochs: int = 25
    batch_size: int = 100
    # Report 001's stopping rule: stop once the mean training loss of an epoch differs from
    # the previous epoch's by less than this; `epochs` is then only a safety cap. None: train
    # for exactly `epochs`.
    stop_loss_change: float | None = None
    augmentation: object = None  # an experiments.augment.Augmentation, or None
    schedule: str = "constant"  # the learning rate over the run (TrainConfig.schedule)


class TwoChannel(nn.Module):
    """The pair as one 2-channel image through a single network to the comparison logits."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: mt.Tensor) -> PairOutput:
        return PairOutput(self.net(x))


class Siamese(nn.Module):
    """Each image through a branch to a feature vector; the two vectors, concatenated
    (image 1 first), through a comparator. With `shared`, one branch serves both images
    in a single batch of 2N; otherwise each image has its own branch. `digit_head` maps
    features to digit logits; without it the features themselves are the digit logits
    when `features_are_digits`."""

    def __init__(self, branch: nn.Module, comparator: nn.Module | None,
                 second_branch: nn.Module | None = None, digit_head: nn.Module | None = None,
                 features_are_digits: bool = True):
        super().__init__()
        self.branch = branch
        self.second_branch = second_branch
        self.comparator = comparator
        self.digit_head = digit_head
        self.features_are_digits = features_are_digits

    def features(self, x: mt.Tensor) -> tuple:
        first, second = x[:, 0:1], x[:, 1:2]
        if self.second_branch is not None:
            return self.branch(first), self.second_branch(second)
        both = self.branch(mt.cat([first, second], dim=0))
        n = x.shape[0]
        return both[:n], both[n:]

    def forward(self, x: mt.Tensor) -> PairOutput:
        f1, f2 = self.features(x)
        digits = None
        if self.digit_head is not None:
            digits = mt.stack([self.digit_head(f1), self.digit_head(f2)], dim=1)
        elif self.features_are_digits:
            digits = mt.stack([f1, f2], dim=1)
        comparison = None if self.comparator is None else self.comparator(mt.cat([f1, f2], 1))
        return PairOutput(comparison, digits)
