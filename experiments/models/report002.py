"""Report 002: a ladder from an MLP through a LeNet-style CNN, weight sharing, an auxiliary
loss with a decaying weight and transfer learning, to a pure digit classifier
(STUDY.md section 4). The report states every parameter count; the layer sizes are the
ones STUDY.md derives to reproduce them exactly."""
from __future__ import annotations

from minitorch_pairs import nn

from .base import ModelSpec, Siamese, TwoChannel

DROPOUT = 0.3  # "dropout 0.3 after every activation"


def mlp() -> nn.Module:
    """Baseline: five fully connected layers with ReLU, 392->264->120->84->10->2. The widths
    are a Suggestion (the report gives only the depth and 146 588 parameters, which these
    match exactly); no dropout (Suggestion)."""
    widths = (392, 264, 120, 84, 10, 2)
    layers = [nn.Flatten()]
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return TwoChannel(nn.Sequential(*layers))


def lenet_features(in_channels: int) -> nn.Module:
    """Conv(in->32, 3) ReLU MaxPool(2) Dropout | Conv(32->64, 3) ReLU MaxPool(2) Dropout |
    Linear(256->120) ReLU Dropout | Linear(120->84) ReLU Dropout. Kernel 3 without padding
    and FC widths 120/84 are derived from the stated counts; dropout after the pooling is a
    Suggestion (only its position relative to the pooling is open)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(DROPOUT),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(DROPOUT),
        nn.Flatten(),
        nn.Linear(256, 120), nn.ReLU(), nn.Dropout(DROPOUT),
        nn.Linear(120, 84), nn.ReLU(), nn.Dropout(DROPOUT))


def cnn() -> nn.Module:
    """CNN: the 2-channel pair through the LeNet-style stack, then Linear(84->2)."""
    return TwoChannel(nn.Sequential(lenet_features(2), nn.Linear(84, 2)))


def comparison_head() -> nn.Module:
    """[f1, f2] (168) -> 20 -> 2. The width 20 is forced by the stated 63 242; ReLU + dropout
    on the hidden layer follow the CNN's pattern (Suggestion)."""
    return nn.Sequential(nn.Linear(168, 20), nn.ReLU(), nn.Dropout(DROPOUT), nn.Linear(20, 2))


def cnn_weight_sharing() -> nn.Module:
    """Weight Sharing: one 1-channel branch to 84 features per image, the comparison head on
    the concatenated pair. No digit outputs."""
    return Siamese(lenet_features(1), comparison_head(), features_are_digits=False)


def cnn_weight_sharing_aux() -> nn.Module:
    """Auxiliary Loss / Transfer Learning: Weight Sharing plus one shared Linear(84->10) digit
    head on each image's features (the 850 parameters between 63 242 and 64 092)."""
    return Siamese(lenet_features(1), comparison_head(), digit_head=nn.Linear(84, 10))


def digit_classifier() -> nn.Module:
    """Digit Classification: the branch and Linear(84->10) only; the comparison is the rule
    argmax(d1) <= argmax(d2) outside the network."""
    return Siamese(lenet_features(1), None, digit_head=nn.Linear(84, 10))


# Adam at lr 0.001 (other settings: PyTorch defaults, Suggestion), 100 epochs (transfer:
# 50 + 50), batch size 100 (unspecified; Suggestion).
RECIPE = dict(optimizer="adam", lr=1e-3, epochs=100, batch_size=100)

SPECS = [
    ModelSpec("r002_mlp", "002", "Baseline: MLP 392->264->120->84->10->2", mlp,
              parameters=146_588, **RECIPE),
    ModelSpec("r002_cnn", "002", "CNN: 2-channel LeNet-style, Conv 2->32->64, "
              "FC 256->120->84->2, dropout 0.3", cnn, parameters=60_278, **RECIPE),
    ModelSpec("r002_cnn_ws", "002", "Weight Sharing: shared branch to 84 features, "
              "head 168->20->2", cnn_weight_sharing, parameters=63_242, **RECIPE),
    # Under "decay" the weights move with the epoch (digit beta_e = (E - e)/E, comparison
    # 1 - beta_e); aux_weight 1.0 only marks that a digit loss is used.
    ModelSpec("r002_cnn_ws_aux", "002", "Auxiliary Loss: + shared 84->10 digit head, loss "
              "beta_e * L_dig + (1 - beta_e) * L_cmp", cnn_weight_sharing_aux,
              parameters=64_092, aux_weight=1.0, aux_schedule="decay", **RECIPE),
    # Phase 1 (first half of the epochs): digit loss only; phase 2: comparison loss only,
    # every layer but the digit head reused and fine-tuned (Suggestion: nothing frozen).
    ModelSpec("r002_transfer", "002", "Transfer Learning: 50 epochs on the digits, then 50 on "
              "the comparison with the branch reused", cnn_weight_sharing_aux,
              parameters=64_092, aux_weight=1.0, aux_schedule="transfer", **RECIPE),
    ModelSpec("r002_digit_classifier", "002", "Digit Classification: branch + 84->10 trained on "
              "digits only, argmax(d1) <= argmax(d2)", digit_classifier, parameters=60_670,
              aux_weight=1.0, comparison_weight=0.0, decision="digits", **RECIPE),
]
