"""One training run of a study model on a pair set: the loss (comparison + weighted digit
losses, with the reports' weight schedules), the decision rules, evaluation, and the
per-epoch history, on the CPU or a CUDA device. A run is stopped and reported as diverged
(`Diverged`) as soon as anything it computes stops being finite: a step's training loss, the
parameters after an epoch (which covers the last update, whose loss is computed before it),
or an evaluation's loss, outputs or scores.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from minitorch_pairs.data import PairSet

from .augment import Augmentation
from .batches import DevicePairs
from .models import ModelSpec, PairOutput

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("constant", "cosine", "onecycle")
AUX_SCHEDULES = ("fixed", "decay", "transfer")
STOP_LOSSES = ("mean", "sum")
HISTORY_KEYS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int
    batch_size: int
    optimizer: str
    lr: float
    aux_weight: float
    comparison_weight: float = 1.0
    aux_schedule: str = "fixed"
    momentum: float = 0.0  # SGD only
    weight_decay: float = 0.0
    # report 001: stop once the epoch's training loss changes by less than this, the loss
    # being the mean over the epoch's pairs ("mean") or the sum of its mini-batch losses
    # ("sum", what a loop adding up loss.item() per batch measures)
    stop_loss_change: float | None = None
    stop_loss: str = "mean"
    # fresh shifted / rotated / swapped variants of the training pairs every epoch
    augmentation: Augmentation | None = None
    # the learning rate over the run: constant; cosine (CosineAnnealingLR to 0 over the
    # epochs, stepped per epoch); onecycle (OneCycleLR peaking at lr, stepped per batch)
    schedule: str = "constant"

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule: expected one of {SCHEDULES}, got {self.schedule!r}")
        if self.stop_loss not in STOP_LOSSES:
            raise ValueError(f"stop loss: expected one of {STOP_LOSSES}, got {self.stop_loss!r}")
        if self.aux_schedule not in AUX_SCHEDULES:
            raise ValueError(f"aux schedule: expected one of {AUX_SCHEDULES}, got "
                             f"{self.aux_schedule!r}")
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if not (np.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr: expected a positive, finite learning rate, got {self.lr}")
        for name in ("aux_weight", "comparison_weight", "momentum", "weight_decay"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"{name.replace('_', ' ')}: expected a finite value >= 0, "
                                 f"got {value}")

    @classmethod
    def for_spec(cls, spec: ModelSpec, **overrides) -> "TrainConfig":
        """The report's recipe for `spec`, with any non-None override applied."""
        recipe = dict(epochs=spec.epochs, batch_size=spec.batch_size, optimizer=spec.optimizer,
                      lr=spec.lr, aux_weight=spec.aux_weight,
                      comparison_weight=spec.comparison_weight, aux_schedule=spec.aux_schedule,
                      stop_loss_change=spec.stop_loss_change, augmentation=spec.augmentation,
                      schedule=spec.schedule)
        recipe.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**recipe)

    def loss_weights(self, epoch: int) -> tuple:
        """(comparison weight, digit weight) in epoch `epoch` (0-based)."""
        if self.aux_schedule == "decay":  # report 002: beta_e = (E - e) / E on the digit loss
            beta = (self.epochs - epoch) / self.epochs
            return 1 - beta, beta
        if self.aux_schedule == "transfer":  # report 002: digits first, then the comparison
            return (0.0, 1.0) if epoch < self.epochs // 2 else (1.0, 0.0)
        return self.comparison_weight, self.aux_weight


class Diverged(FloatingPointError):
    """A training loss, the parameters or an evaluation became NaN or infinite."""


@mt.no_grad()
def magnitude(tensors) -> mt.Tensor:
    """The sum of |x| over the tensors' elements, a float64 scalar on their device: NaN if an
    element is NaN, else inf if one is infinite (finite float32 values cannot overflow it), so
    it checks finiteness without a host sync of its own."""
    return mt.stack([t.double().abs().sum() for t in tensors]).sum()


@dataclass
class RunResult:
    history: dict  # per-epoch lists, HISTORY_KEYS
    train: dict  # final metrics on the training pairs
    test: dict  # final metrics on the test pairs, with predictions and scores
    seconds: float
    model: object = field(repr=False, default=None)


def make_schedule(config: TrainConfig, optimizer, steps_per_epoch: int):
    """(scheduler or None, whether it steps per batch)."""
    if config.schedule == "cosine":
        return mt.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.epochs), False
    if config.schedule == "onecycle":
        return mt.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr,
                                                total_steps=config.epochs * steps_per_epoch), \
            True
    return None, False


def make_optimizer(config: TrainConfig, parameters):
    if config.optimizer == "adam":
        return mt.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)
    return mt.optim.SGD(parameters, lr=config.lr, momentum=config.momentum,
                        weight_decay=config.weight_decay)


def comparison_loss(comparison: mt.Tensor, target: mt.Tensor, functional=F) -> mt.Tensor:
    """Cross-entropy for 2 logits per pair, binary cross-entropy for 1 (a sigmoid output)."""
    if comparison.shape[1] == 1:
        return functional.binary_cross_entropy_with_logits(comparison.reshape(-1),
                                                           target.float())
    return functional.cross_entropy(comparison, target)


def pair_loss(output: PairOutput, target: mt.Tensor, classes: mt.Tensor, weights: tuple,
              functional=F):
    """weights[0] * L_cmp + weights[1] * L_dig, with L_dig the mean digit cross-entropy over
    all 2N digits (= the mean of the two per-image losses). `functional` is our F, or
    torch.nn.functional for the torch twins (benchmarks/study_torch.py): same names."""
    comparison_weight, digit_weight = weights
    total = None
    if comparison_weight and output.comparison is not None:
        total = comparison_loss(output.comparison, target, functional) * comparison_weight
    if digit_weight and output.digits is not None:
        digit_loss = functional.cross_entropy(output.digits.reshape(-1, 10),
                                              classes.reshape(-1))
        total = digit_loss * digit_weight if total is None else total + digit_loss * digit_weight
    if total is None:
        raise ValueError("loss: this model and configuration give no loss term (comparison "
                         "weight 0 and no digit outputs, or aux weight 0 and no comparison "
                         "output)")
    return total


# P(d1 <= d2) = sum over i <= j of p1(i) p2(j), for independent digit posteriors
_LEQ = np.triu(np.ones((10, 10)))
_leq_on = {}  # device -> _LEQ as a float64 tensor there (uploaded once)


def decide(spec: ModelSpec, output: PairOutput) -> tuple:
    """(predicted target (N,) int64, score = probability that digit 1 <= digit 2 (N,)
    float64), as tensors on the output's device."""
    if spec.decision == "digits":
        digits = output.digits
        if digits.device not in _leq_on:
            _leq_on[digits.device] = mt.tensor(_LEQ, dtype=mt.float64).to(digits.device)
        probs = F.softmax(digits, dim=2).double()
        # a probability, whatever the float32 softmax's rounding adds to its sum
        score = ((probs[:, 0] @ _leq_on[digits.device]) * probs[:, 1]).sum(dim=1).clamp(0, 1)
        predicted = digits[:, 0].argmax(dim=1) <= digits[:, 1].argmax(dim=1)
        return predicted.long(), score
    if output.comparison.shape[1] == 1:
        score = F.sigmoid(output.comparison)[:, 0].double()
        return (score >= 0.5).long(), score
    probs = F.softmax(output.comparison, dim=1).double()
    return probs.argmax(dim=1), probs[:, 1]


@mt.no_grad()
def evaluate(model, spec: ModelSpec, pairs: DevicePairs, weights: tuple,
             batch_size: int = 500):
    """Accuracy, mean loss, predictions and scores of `model` (in eval mode) on `pairs`, and
    `nonfinite`: {"loss" / "outputs" / "scores": nan or inf} for those that are not finite;
    the results reach the host once, at the end."""
    was_training = model.training
    model.eval()
    predictions, scores, magnitudes, loss_sum = [], [], [], 0.0
    for inputs, target, classes in pairs.in_order(batch_size):
        output = model(inputs)
        loss_sum = loss_sum + pair_loss(output, target, classes, weights).double() * \
            target.shape[0]
        predicted, score = decide(spec, output)
        predictions.append(predicted)
        scores.append(score)
        # every output, also those neither the loss nor the decision reads
        magnitudes.append(magnitude([t for t in (output.comparison, output.digits)
                                     if t is not None]))
    model.train(was_training)
    predictions = mt.cat(predictions).numpy()
    loss_sum, outputs = mt.stack([loss_sum, mt.stack(magnitudes).sum()]).numpy().tolist()
    scores = mt.cat(scores).numpy()
    checks = {"loss": loss_sum, "outputs": outputs, "scores": float(np.abs(scores).sum())}
    return {"accuracy": float((predictions == pairs.host.target).mean()),
            "loss": loss_sum / len(pairs), "predictions": predictions, "scores": scores,
            "nonfinite": {name: value for name, value in checks.items()
                          if not np.isfinite(value)}}


def stops(config: TrainConfig, previous: float | None, current: float) -> bool:
    """Report 001's stopping rule: the epoch's loss (measured as `config.stop_loss` says)
    changed by less than `config.stop_loss_change` since the epoch before."""
    return config.stop_loss_change is not None and previous is not None and \
        abs(current - previous) < config.stop_loss_change


def train_run(spec: ModelSpec, config: TrainConfig, train: PairSet, test: PairSet, seed: int,
              on_epoch=None, device: str = "cpu") -> RunResult:
    """Train a fresh model (initialisation and dropout from `seed`) on `device`, evaluating
    it on both sets after every epoch. The data go to the device once; the loss reaches the
    host once per epoch. Diverged is raised when, in an epoch, a step's loss (any NaN or inf
    makes the float64 sum non-finite), the parameters after it, or its evaluation stops
    being finite."""
    mt.manual_seed(seed)
    model = spec.build().to(device)
    optimizer = make_optimizer(config, model.parameters())
    schedule, per_batch = make_schedule(config, optimizer, -(-len(train) // config.batch_size))
    order_rng = np.random.default_rng([seed, 1])  # batch order, independent of init
    augment_rng = np.random.default_rng([seed, 2])  # augmentation, independent of both
    augment = config.augmentation if config.augmentation and config.augmentation.active \
        else None
    on_device = {"train": DevicePairs(train, device), "test": DevicePairs(test, device)}
    history = {key: [] for key in HISTORY_KEYS}
    started = time.perf_counter()
    previous_epoch_loss = None
    for epoch in range(config.epochs):
        weights = config.loss_weights(epoch)
        model.train()
        loss_sum = batch_sum = 0.0
        # (evaluation below stays on the original training pairs)
        epoch_pairs = on_device["train"] if augment is None else \
            DevicePairs(augment(train, augment_rng), device)
        for inputs, target, classes in epoch_pairs.shuffled(config.batch_size, order_rng):
            loss = pair_loss(model(inputs), target, classes, weights)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if per_batch:
                schedule.step()
            batch_loss = loss.detach().double()
            loss_sum = loss_sum + batch_loss * target.shape[0]  # float64 sums
            batch_sum = batch_sum + batch_loss
        if schedule is not None and not per_batch:
            schedule.step()
        # the steps' losses predate their updates: the last one shows only in the parameters
        loss_sum, batch_sum, parameters = mt.stack(
            [loss_sum, batch_sum, magnitude(model.parameters())]).numpy().tolist()  # one sync
        epoch_loss = loss_sum / len(train)
        if not np.isfinite(epoch_loss):
            raise Diverged(f"{spec.name}: the training loss became {epoch_loss} in epoch "
                           f"{epoch + 1} (lr {config.lr} too large?)")
        if not np.isfinite(parameters):
            raise Diverged(f"{spec.name}: the parameters became {parameters} after epoch "
                           f"{epoch + 1} (lr {config.lr} too large?)")
        final = {}
        for split in ("train", "test"):
            final[split] = evaluate(model, spec, on_device[split], weights)
            if final[split]["nonfinite"]:
                what = ", ".join(f"{name} became {value}"
                                 for name, value in final[split]["nonfinite"].items())
                raise Diverged(f"{spec.name}: the {split} {what} in the evaluation after "
                               f"epoch {epoch + 1}")
            history[f"{split}_loss"].append(final[split]["loss"])
            history[f"{split}_accuracy"].append(final[split]["accuracy"])
        if on_epoch is not None:
            on_epoch(epoch, history)
        measured = epoch_loss if config.stop_loss == "mean" else batch_sum
        if stops(config, previous_epoch_loss, measured):
            break
        previous_epoch_loss = measured
    seconds = time.perf_counter() - started
    return RunResult(history, final["train"], final["test"], seconds, model)
