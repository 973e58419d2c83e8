"""Report 003: an MLP and a ConvNet, each a feature extractor with a one-unit sigmoid "<="
classifier and (with aux) a digit classifier, in three configurations: vanilla (the pair as
one 2-channel input), weight sharing, and weight sharing + aux (STUDY.md section 5).

The factories `r003_mlp` and `r003_cnn` take the report's ablation switches; the named specs
use the settings the report carried forward (ReLU, no dropout, no BatchNorm). `ablation_spec`
gives a spec for any other point of the report's sequential search.

The comparison output is one raw logit, (N, 1): the sigmoid belongs to the loss
(binary cross-entropy with logits) and to the reported probability, not to the model.
"""
from __future__ import annotations

import dataclasses
import functools

from minitorch_pairs import nn

from .base import ModelSpec, Siamese, TwoChannel

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "selu": nn.SELU}
MLP_WIDTHS = (128, 64, 32, 256)  # [h1, h2, h3, h4] chosen by the width search
CNN_CHANNELS = (32, 64, 32)  # [c1, c2, c3]
HIDDEN = 512  # H of the ConvNet's binary classifier (the fourth number of [32, 64, 32, 512])
DIGIT_HIDDEN = 512  # H_d of the ConvNet's digit classifier: unspecified, Suggestion 512
CNN_FEATURES = CNN_CHANNELS[-1] * 3 * 3  # 288 per extractor input with the geometry below


def _activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]()


def _check_aux(aux: bool, weight_sharing: bool) -> None:
    # The digit classifier reads one image's features, which only the weight-shared
    # configuration has; the report has no vanilla + aux configuration.
    if aux and not weight_sharing:
        raise ValueError("report 003: the aux digit classifier needs weight_sharing=True")


def mlp_extractor(in_features: int, activation: str, dropout: float) -> nn.Module:
    """Flattened input -> 128 -> 64 -> 32 -> 256, each Linear followed by the activation and,
    if dropout > 0, Dropout(p) (placement unspecified; Suggestion: after each activation)."""
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout!r}")
    layers = [nn.Flatten()]
    for a, b in zip((in_features,) + MLP_WIDTHS, MLP_WIDTHS):
        layers += [nn.Linear(a, b), _activation(activation)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def r003_mlp(activation: str = "relu", dropout: float = 0.0, weight_sharing: bool = False,
             aux: bool = False) -> nn.Module:
    """The report-003 MLP. Vanilla: the 392-vector pair -> extractor -> Linear(256->1).
    Weight sharing: each 196-vector image through one extractor, [f1, f2] (512) ->
    Linear(512->1). Aux: + a shared Linear(256->10) digit classifier on each image."""
    _check_aux(aux, weight_sharing)
    if not weight_sharing:
        return TwoChannel(nn.Sequential(mlp_extractor(2 * 196, activation, dropout),
                                        nn.Linear(MLP_WIDTHS[-1], 1)))
    digit_head = nn.Linear(MLP_WIDTHS[-1], 10) if aux else None
    return Siamese(mlp_extractor(196, activation, dropout), nn.Linear(2 * MLP_WIDTHS[-1], 1),
                   digit_head=digit_head, features_are_digits=False)


def cnn_extractor(in_channels: int, activation: str, batchnorm: bool) -> nn.Module:
    """Conv(in->32) act MaxPool(2) | Conv(32->64) act MaxPool(2) | Conv(64->32) act, flattened.

    Kernel, stride, padding and pooling are unspecified; Suggestion (STUDY.md 5.1): k=3, s=1,
    p=1 and MaxPool(2) after the first two convolutions only, 14 -> 7 -> 3, so 32*3*3 = 288
    features. (This puts the vanilla ConvNet at 186 049 parameters, outside the report's
    65-75 k search window; the report's real geometry is unknown.) With batchnorm, BN2d sits
    after each convolution, before the activation (placement unspecified; Suggestion)."""
    layers = []
    for i, (a, b) in enumerate(zip((in_channels,) + CNN_CHANNELS, CNN_CHANNELS)):
        layers.append(nn.Conv2d(a, b, 3, padding=1))
        if batchnorm:
            layers.append(nn.BatchNorm2d(b))
        layers.append(_activation(activation))
        if i < len(CNN_CHANNELS) - 1:
            layers.append(nn.MaxPool2d(2))
    layers.append(nn.Flatten())
    return nn.Sequential(*layers)


def r003_cnn(activation: str = "relu", batchnorm: bool = False, weight_sharing: bool = False,
             aux: bool = False) -> nn.Module:
    """The report-003 ConvNet. Vanilla: the 2-channel pair -> extractor (288) -> binary
    classifier Linear(288->512) act Linear(512->1). Weight sharing: each image through one
    1-channel extractor, [f1, f2] (576) -> Linear(576->512) act Linear(512->1). Aux: + a shared
    digit classifier Linear(288->512) act Linear(512->10) on each image."""
    _check_aux(aux, weight_sharing)

    def classifier(inputs: int, hidden: int, outputs: int) -> nn.Module:
        return nn.Sequential(nn.Linear(inputs, hidden), _activation(activation),
                             nn.Linear(hidden, outputs))

    if not weight_sharing:
        return TwoChannel(nn.Sequential(cnn_extractor(2, activation, batchnorm),
                                        classifier(CNN_FEATURES, HIDDEN, 1)))
    digit_head = classifier(CNN_FEATURES, DIGIT_HIDDEN, 10) if aux else None
    return Siamese(cnn_extractor(1, activation, batchnorm), classifier(2 * CNN_FEATURES, HIDDEN, 1),
                   digit_head=digit_head, features_are_digits=False)


# Optimiser unspecified (Suggestion: Adam); lr 0.001 as stated for the search (0.01 for the
# Sigmoid-activation runs); batch 100 as stated; epochs unspecified (Suggestion: 25).
RECIPE = dict(optimizer="adam", lr=1e-3, epochs=25, batch_size=100)
SIGMOID_LR = 1e-2
BEST_LAMBDA = {"mlp": 0.9, "cnn": 0.8}  # best weight of the binary term, per family


def aux_weights(lam: float) -> dict:
    """L = L_dig1 + L_dig2 + lam * L_bin. The training loss's L_dig is the mean of the two
    digit CEs, so the digit weight is 2 and lam weighs the comparison."""
    return dict(aux_weight=2.0, comparison_weight=lam)


def ablation_spec(family: str, activation: str = "relu", dropout: float = 0.0,
                  batchnorm: bool = False, weight_sharing: bool = False, aux: bool = False,
                  lam: float | None = None) -> ModelSpec:
    """A spec for one point of the report's search: family "mlp" (dropout switch) or "cnn"
    (batchnorm switch); lam (aux only) defaults to the report's best for the family."""
    if family == "mlp":
        if batchnorm:
            raise ValueError("report 003: BatchNorm was only tried on the ConvNet")
        build = functools.partial(r003_mlp, activation=activation, dropout=dropout,
                                  weight_sharing=weight_sharing, aux=aux)
        switches = {"activation": activation, "dropout": dropout}
    elif family == "cnn":
        if dropout:
            raise ValueError("report 003: dropout was only tried on the MLP")
        build = functools.partial(r003_cnn, activation=activation, batchnorm=batchnorm,
                                  weight_sharing=weight_sharing, aux=aux)
        switches = {"activation": activation, "batchnorm": batchnorm}
    else:
        raise ValueError(f"family: expected 'mlp' or 'cnn', got {family!r}")
    if lam is not None and not aux:
        raise ValueError("report 003: lambda weighs the binary term of the aux loss only")
    recipe = dict(RECIPE, lr=SIGMOID_LR if activation == "sigmoid" else RECIPE["lr"])
    weights = aux_weights(BEST_LAMBDA[family] if lam is None else lam) if aux else {}
    if aux:
        switches["lam"] = weights["comparison_weight"]
    base = f"r003_{family}" + ("_ws" if weight_sharing else "") + ("_aux" if aux else "")
    tag = ",".join(f"{k}={v}" for k, v in switches.items())
    return ModelSpec(f"{base}[{tag}]", "003", f"report 003 ablation: {base} with {tag}", build,
                     **weights, **recipe)


def _named(name: str, description: str, build, parameters: int | None, aux_lambda=None):
    weights = aux_weights(aux_lambda) if aux_lambda is not None else {}
    return ModelSpec(name, "003", description, build, parameters=parameters, **weights, **RECIPE)


SPECS = [
    _named("r003_mlp", "vanilla MLP: 392->128->64->32->256 (ReLU) -> 1 logit", r003_mlp,
           69_345),
    _named("r003_mlp_ws", "MLP + weight sharing: shared 196->...->256, [f1, f2] 512 -> 1 logit",
           functools.partial(r003_mlp, weight_sharing=True), 44_513),
    _named("r003_mlp_ws_aux", "MLP + WS + aux: + shared 256->10 digit head, "
           "loss d1 + d2 + 0.9 bin", functools.partial(r003_mlp, weight_sharing=True, aux=True),
           47_083, aux_lambda=BEST_LAMBDA["mlp"]),
    # The ConvNet with the suggested geometry: STUDY.md derives only the vanilla count.
    _named("r003_cnn", "vanilla ConvNet: Conv 2->32->64->32 (k3 p1, 2 pools), "
           "FC 288->512->1 logit", r003_cnn, 186_049),
    _named("r003_cnn_ws", "ConvNet + weight sharing: shared 1-channel extractor, [f1, f2] "
           "576->512->1 logit", functools.partial(r003_cnn, weight_sharing=True), None),
    _named("r003_cnn_ws_aux", "ConvNet + WS + aux: + shared digit head 288->512->10, "
           "loss d1 + d2 + 0.8 bin", functools.partial(r003_cnn, weight_sharing=True, aux=True),
           None, aux_lambda=BEST_LAMBDA["cnn"]),
]


SWITCHES = {"activation": str, "dropout": float, "batchnorm": lambda text: _boolean(text),
            "lam": float}


def _boolean(text: str) -> bool:
    if text not in ("True", "False"):
        raise ValueError(f"batchnorm: expected True or False, got {text!r}")
    return text == "True"


def spec_from_name(name: str) -> ModelSpec:
    """The spec of an ablation name as `ablation_spec` writes it: `r003_<mlp|cnn>[_ws][_aux]`
    then `[switch=value,...]` with switches activation, dropout (MLP), batchnorm (ConvNet)
    and lam (aux); a switch left out takes the report's carried-forward setting."""
    base, _, tag = name[:-1].partition("[")
    parts = base.split("_")
    if len(parts) < 2 or parts[0] != "r003" or parts[1] not in ("mlp", "cnn") or \
            parts[2:] not in ([], ["ws"], ["ws", "aux"]):
        raise ValueError(f"model {name!r}: expected r003_mlp or r003_cnn, optionally with "
                         f"_ws or _ws_aux, before the [switches]")
    switches = {}
    for item in filter(None, tag.split(",")):
        key, equals, value = item.partition("=")
        if not equals or key not in SWITCHES:
            raise ValueError(f"model {name!r}: expected switches key=value with keys "
                             f"{sorted(SWITCHES)}, got {item!r}")
        switches[key] = SWITCHES[key](value)
    spec = ablation_spec(parts[1], weight_sharing="ws" in parts, aux="aux" in parts,
                         **switches)
    return dataclasses.replace(spec, name=name)
