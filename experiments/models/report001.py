"""Report 001: a 2-channel CNN, a weight-shared CNN with and without auxiliary digit losses,
and a fully connected network with and without aux (STUDY.md section 3)."""
from __future__ import annotations

import dataclasses

import minitorch_pairs as mt
from minitorch_pairs import nn

from .base import ModelSpec, PairOutput, Siamese, TwoChannel


def cnn_stack(in_channels: int, outputs: int) -> nn.Module:
    """Table I: Conv(in->32, 3) ReLU | Conv(32->64, 3) ReLU MaxPool(2) | Conv(64->128, 3) ReLU
    MaxPool(2) | Linear(128->100) ReLU Dropout(0.5) | Linear(100->outputs).

    Stride 1 and no padding: the only setting that leaves the 128 features the report feeds
    to its first linear layer (14 -> 12 -> 10 -> 5 -> 3 -> 1). Dropout sits after the hidden
    ReLU (Suggestion; the report does not place it)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 3), nn.ReLU(),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(128, 100), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(100, outputs))


def cnn_basic() -> nn.Module:
    """Basic CNN: the pair as one 2-channel image to 2 logits."""
    return TwoChannel(cnn_stack(2, 2))


def cnn_weight_sharing() -> nn.Module:
    """CNN weight sharing: one 1-channel branch to 10 values per image, then a comparator.
    The comparator was only drawn (lost Fig. 2); Suggestion: Linear(20->100) ReLU
    Linear(100->2). The 10-vectors double as digit logits for the aux variant."""
    comparator = nn.Sequential(nn.Linear(20, 100), nn.ReLU(), nn.Linear(100, 2))
    return Siamese(cnn_stack(1, 10), comparator)


FC_WIDTHS = (392, 150, 50, 20, 10)  # the hidden layers (150, 50, 20, 10) chosen by CV


def fc_trunk() -> nn.Module:
    """Flattened 2x14x14 pair -> 150 -> 50 -> 20 -> 10, ReLU after each (Suggestion: the report
    gives only the hidden widths; no dropout)."""
    layers = [nn.Flatten()]
    for a, b in zip(FC_WIDTHS, FC_WIDTHS[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers)


def fc_net() -> nn.Module:
    """FC Network: the trunk, then Linear(10->2)."""
    return TwoChannel(nn.Sequential(fc_trunk(), nn.Linear(10, 2)))


class FCWithAux(nn.Module):
    """FC Network with Aux: one trunk over the whole pair and three output layers on its last
    10-unit layer: the comparison (2) and one digit head per image (10 each). The two digit
    heads are separate layers (Suggestion), since the trunk sees the pair, not one image."""

    def __init__(self):
        super().__init__()
        self.trunk = fc_trunk()
        self.comparison_head = nn.Linear(10, 2)
        self.first_digit_head = nn.Linear(10, 10)
        self.second_digit_head = nn.Linear(10, 10)

    def forward(self, x: mt.Tensor) -> PairOutput:
        hidden = self.trunk(x)
        digits = mt.stack([self.first_digit_head(hidden), self.second_digit_head(hidden)], dim=1)
        return PairOutput(self.comparison_head(hidden), digits)


def aux_weight_variant(spec: ModelSpec, w: float) -> ModelSpec:
    """Table IV's sweep: loss (1 - w) * L_cmp + w * L_aux (the comparison weight 1 - w is
    inferred, not stated)."""
    return dataclasses.replace(spec, name=f"{spec.name}@w={w:g}", aux_weight=w,
                               comparison_weight=1.0 - w)


# Shared recipe: plain SGD (momentum unspecified, Suggestion: none), batch 20 for every model,
# the tuned "lambda" read as the learning rate, and training until the epoch-mean loss
# changes by less than 0.001 (with the suggested cap of 500 epochs).
RECIPE = dict(optimizer="sgd", batch_size=20, epochs=500, stop_loss_change=1e-3)
AUX = dict(aux_weight=0.3, comparison_weight=0.7)  # L = 0.7 L_cmp + 0.3 L_dig (mean of the 2 CEs)

SPECS = [
    ModelSpec("r001_cnn_basic", "001", "Basic CNN: 2-channel Conv 2->32->64->128, "
              "FC 128->100 (dropout 0.5) -> 2", cnn_basic, parameters=106_062, lr=0.1, **RECIPE),
    ModelSpec("r001_cnn_ws", "001", "CNN weight sharing: shared 1-channel CNN to 10 values per "
              "image, comparator 20->100->2; comparison loss only", cnn_weight_sharing,
              parameters=108_884, lr=0.1, **RECIPE),
    ModelSpec("r001_cnn_ws_aux", "001", "CNN weight sharing & Aux: as r001_cnn_ws, "
              "0.7 comparison + 0.3 digit loss", cnn_weight_sharing, parameters=108_884,
              lr=0.1, **AUX, **RECIPE),
    ModelSpec("r001_fc", "001", "FC Network: 392->150->50->20->10->2", fc_net,
              parameters=67_752, lr=0.005, **RECIPE),
    ModelSpec("r001_fc_aux", "001", "FC Network with Aux: same trunk, comparison head and two "
              "digit heads; 0.7 comparison + 0.3 digit loss", FCWithAux, parameters=67_972,
              lr=0.01, **AUX, **RECIPE),
]
