"""mt.optim.lr_scheduler against torch.optim.lr_scheduler: for each scheduler, on
hypothesis-drawn settings and two parameter groups, the same learning rates (exactly),
last_epoch and momenta / beta1 at every one of 50 steps; state_dict() with torch's keys and
values; resuming from a state dict (ours, or torch's own loaded into ours) goes on as the
uninterrupted run; argument errors with torch's exception classes (a table run in both);
and torch's warnings."""
from __future__ import annotations

import warnings

import pytest
from hypothesis import given, strategies as st

import minitorch_pairs as mt
from minitorch_pairs.optim import lr_scheduler
from torch_reference import torch

STEPS = 50
KINDS = {"sgd": ("SGD", dict(lr=0.1, momentum=0.9)), "adam": ("Adam", dict(lr=0.1)),
         "rmsprop": ("RMSprop", dict(lr=0.1, momentum=0.5)),
         "adagrad": ("Adagrad", dict(lr=0.1))}
FRAMES = ((mt, lr_scheduler), (torch, torch.optim.lr_scheduler))


def optimizer(frame, kind: str = "sgd"):
    """Two groups, the second with its own lr, over parameters that get no gradients (a
    schedule does not depend on them)."""
    name, options = KINDS[kind]
    optim = mt.optim if frame is mt else torch.optim
    params = [frame.zeros(2, requires_grad=True), frame.zeros(3, requires_grad=True)]
    return getattr(optim, name)([{"params": [params[0]]},
                                 {"params": [params[1]], "lr": 0.05}], **options)


def trace(opt, scheduler, steps: int, metrics=None, start: int = 0) -> list:
    """What the schedule shows at each step: last lrs, last_epoch, the groups' lr and
    momentum (or betas)."""
    seen = []
    for step in range(start, start + steps):
        seen.append((step, scheduler.get_last_lr(), scheduler.last_epoch,
                     [g["lr"] for g in opt.param_groups],
                     [g.get("momentum", g.get("betas")) for g in opt.param_groups]))
        opt.step()
        scheduler.step(*(() if metrics is None else (metrics[step],)))
    return seen


def assert_same_state(ours: dict, theirs: dict) -> None:
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        if key == "_schedulers":
            for mine, other in zip(ours[key], value, strict=True):
                assert_same_state(mine, other)
        else:
            assert ours[key] == value, key


def same_schedule(make, kind: str = "sgd", steps: int = STEPS, metrics=None) -> None:
    """`make(module, optimizer)` builds the scheduler in either framework. Both run `steps`
    steps; halfway their state dicts are compared, and fresh ones of ours are resumed from
    our state dicts and from torch's: all go on as torch's."""
    built = [(opt, make(module, opt)) for opt, module in
             ((optimizer(frame, kind), module) for frame, module in FRAMES)]
    half = steps // 2
    first = [trace(opt, scheduler, half, metrics) for opt, scheduler in built]
    assert first[0] == first[1]
    (opt_ours, ours), (opt_theirs, theirs) = built
    assert_same_state(ours.state_dict(), theirs.state_dict())
    resumed = []
    for saved, saved_optimizer in ((ours.state_dict(), opt_ours.state_dict()),
                                   (theirs.state_dict(), opt_theirs.state_dict())):
        opt = optimizer(mt, kind)
        scheduler = make(lr_scheduler, opt)  # torch's order: scheduler, then optimizer
        scheduler.load_state_dict(saved)
        opt.load_state_dict(saved_optimizer)
        resumed.append((opt, scheduler))
    expected = trace(opt_theirs, theirs, steps - half, metrics, start=half)
    assert trace(opt_ours, ours, steps - half, metrics, start=half) == expected
    for opt, scheduler in resumed:
        assert trace(opt, scheduler, steps - half, metrics, start=half) == expected


kinds = st.sampled_from(["sgd", "adam"])
gammas = st.sampled_from([0.1, 0.5, 0.9, 0.99])


@given(kinds, st.lists(st.integers(0, 55), max_size=6), gammas)
def test_multi_step_lr(kind, milestones, gamma):
    same_schedule(lambda m, o: m.MultiStepLR(o, milestones, gamma), kind)


@given(kinds, gammas)
def test_exponential_lr(kind, gamma):
    same_schedule(lambda m, o: m.ExponentialLR(o, gamma), kind)


class Warmup:
    """A callable object: LambdaLR's state dict keeps its attributes (a function's not)."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


FACTORS = {"decay": lambda epoch: 0.95 ** epoch, "inverse": lambda epoch: 1 / (epoch + 1),
           "stairs": lambda epoch: 0.5 ** (epoch // 7), "warmup": Warmup(10)}
MULTIPLIERS = {"constant": lambda epoch: 0.9, "alternating": lambda epoch: 1.1 ** (-1) ** epoch,
               "warmup": Warmup(4)}


@given(kinds, st.lists(st.sampled_from(sorted(FACTORS)), min_size=1, max_size=2))
def test_lambda_lr(kind, names):
    functions = [FACTORS[n] for n in names] if len(names) == 2 else FACTORS[names[0]]
    same_schedule(lambda m, o: m.LambdaLR(o, functions), kind)


@given(kinds, st.lists(st.sampled_from(sorted(MULTIPLIERS)), min_size=1, max_size=2))
def test_multiplicative_lr(kind, names):
    functions = [MULTIPLIERS[n] for n in names] if len(names) == 2 else MULTIPLIERS[names[0]]
    same_schedule(lambda m, o: m.MultiplicativeLR(o, functions), kind)


@given(kinds, st.sampled_from([1.0, 0.5, 1 / 3, 0.01]), st.sampled_from([1.0, 0.5, 0.0, 0.2]),
       st.integers(0, 60))
def test_linear_lr(kind, start, end, total):
    same_schedule(lambda m, o: m.LinearLR(o, start, end, total), kind)


@given(kinds, st.sampled_from([1.0, 0.5, 1 / 3, 0.05]), st.integers(0, 60))
def test_constant_lr(kind, factor, total):
    same_schedule(lambda m, o: m.ConstantLR(o, factor, total), kind)


STAGES = {  # (name, make(module, optimizer)) for SequentialLR's stages
    "constant": lambda m, o: m.ConstantLR(o, 0.1, 5),
    "linear": lambda m, o: m.LinearLR(o, 0.2, 1.0, 8),
    "exponential": lambda m, o: m.ExponentialLR(o, 0.9),
    "step": lambda m, o: m.StepLR(o, 3, 0.5),
    "cosine": lambda m, o: m.CosineAnnealingLR(o, 10, 1e-3),
    "multistep": lambda m, o: m.MultiStepLR(o, [2, 30], 0.3),
    "lambda": lambda m, o: m.LambdaLR(o, FACTORS["decay"]),
}


@given(kinds, st.lists(st.sampled_from(sorted(STAGES)), min_size=1, max_size=3),
       st.lists(st.integers(1, 45), min_size=2, max_size=2, unique=True))
def test_sequential_lr(kind, names, milestones):
    milestones = sorted(milestones)[:len(names) - 1]
    same_schedule(lambda m, o: m.SequentialLR(o, [STAGES[n](m, o) for n in names],
                                              milestones), kind)


def test_sequential_lr_of_a_sequential_lr_fails_at_its_milestone_as_torchs():
    """torch's SequentialLR has no get_lr, so one nested in another fails when the outer
    hands over to it: the same values until then, and the same error."""
    seen, errors = {}, {}
    for frame, m in FRAMES:
        o = optimizer(frame)
        inner = m.SequentialLR(o, [m.ConstantLR(o, 0.5, 3), m.ExponentialLR(o, 0.8)], [4])
        outer = m.SequentialLR(o, [m.LinearLR(o, 0.3, 1.0, 5), inner], [6])
        seen[frame] = []
        with pytest.raises(NotImplementedError) as errors[frame]:
            for _ in range(10):
                o.step()
                outer.step()
                seen[frame].append(outer.get_last_lr())
    assert seen[mt] == seen[torch] and len(seen[mt]) == 5


# a metric that falls, plateaus, rises and falls again, sampled from a few shapes
metric_steps = st.sampled_from([-1.0, -1e-3, -1e-6, 0.0, 0.0, 0.0, 1e-5, 0.5])


@given(kinds, st.lists(metric_steps, min_size=STEPS, max_size=STEPS),
       st.sampled_from(["min", "max"]), st.sampled_from([0.1, 0.5, 0.9]), st.integers(0, 4),
       st.sampled_from([0.0, 1e-4, 0.05]), st.sampled_from(["rel", "abs"]), st.integers(0, 3),
       st.sampled_from([0, 1e-3, [1e-2, 0.0]]), st.sampled_from([1e-8, 1e-2]))
def test_reduce_lr_on_plateau_fed_the_same_metrics(kind, deltas, mode, factor, patience,
                                                   threshold, threshold_mode, cooldown, min_lr,
                                                   eps):
    metrics = [10.0]
    for delta in deltas[1:]:
        metrics.append(metrics[-1] + delta)
    same_schedule(lambda m, o: m.ReduceLROnPlateau(
        o, mode=mode, factor=factor, patience=patience, threshold=threshold,
        threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_lr, eps=eps),
        kind, metrics=metrics)


def test_reduce_lr_on_plateau_takes_a_tensor_metric():
    opt = optimizer(mt)
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    for value in (1.0, 2.0):
        opt.step()
        scheduler.step(mt.tensor(value))
    assert scheduler.get_last_lr() == [0.1 * 0.1, 0.05 * 0.1]


class Halving:
    """A custom scale_fn as a callable object (CyclicLR's state dict keeps its attributes)."""

    def __init__(self):
        self.base = 0.5

    def __call__(self, x):
        return self.base ** x


@given(st.sampled_from(["sgd", "adam", "rmsprop"]), st.sampled_from([1e-3, [1e-3, 1e-2]]),
       st.sampled_from([0.1, [0.1, 0.05]]), st.integers(1, 8),
       st.one_of(st.none(), st.integers(1, 8)),
       st.sampled_from(["triangular", "triangular2", "exp_range", "custom"]),
       st.sampled_from([1.0, 0.97]), st.booleans(), st.sampled_from(["cycle", "iterations"]))
def test_cyclic_lr(kind, base_lr, max_lr, up, down, mode, gamma, cycle_momentum,
                   scale_mode):
    custom = mode == "custom"
    same_schedule(lambda m, o: m.CyclicLR(
        o, base_lr, max_lr, step_size_up=up, step_size_down=down,
        mode="triangular" if custom else mode, gamma=gamma,
        scale_fn=Halving() if custom else None, scale_mode=scale_mode,
        cycle_momentum=cycle_momentum, base_momentum=0.8, max_momentum=[0.9, 0.95]), kind)


@pytest.mark.parametrize("name,make", [
    ("StepLR", lambda m, o: m.StepLR(o, 4, 0.5)),
    ("CosineAnnealingLR", lambda m, o: m.CosineAnnealingLR(o, 9, 1e-3)),
    ("OneCycleLR", lambda m, o: m.OneCycleLR(o, [0.1, 0.2], total_steps=STEPS + 1,
                                             three_phase=True)),
])
def test_the_earlier_schedulers_state_dicts_are_torchs_too(name, make):
    same_schedule(make, "adam")


# ----- the deprecated step(epoch): torch's closed forms ----------------------------------------

@pytest.mark.parametrize("make", [
    lambda m, o: m.StepLR(o, 3, 0.5), lambda m, o: m.MultiStepLR(o, [2, 5, 5], 0.5),
    lambda m, o: m.ExponentialLR(o, 0.9), lambda m, o: m.ConstantLR(o, 0.5, 4),
    lambda m, o: m.LinearLR(o, 0.25, 1.0, 6), lambda m, o: m.CosineAnnealingLR(o, 7, 1e-3),
    lambda m, o: m.LambdaLR(o, FACTORS["decay"]),
])
def test_step_with_an_epoch_uses_torchs_closed_form(make):
    seen = {}
    for frame, module in FRAMES:
        opt = optimizer(frame)
        scheduler = make(module, opt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            seen[frame] = []
            for epoch in (3, 0, 9, 4, 4, 12):
                opt.step()
                scheduler.step(epoch)
                seen[frame].append((scheduler.get_last_lr(), scheduler.last_epoch))
    assert seen[mt] == seen[torch]


# ----- warnings as torch's ---------------------------------------------------------------------

def test_torchs_warnings():
    for frame, module in FRAMES:
        opt = optimizer(frame)
        scheduler = module.ExponentialLR(opt, 0.9)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            scheduler.step()
        with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
            scheduler.get_lr()
        with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step\\(\\)`"):
            scheduler.step(5)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # none in ordinary use
            opt = optimizer(frame)
            scheduler = module.ExponentialLR(opt, 0.9)
            opt.step()
            scheduler.step()


# ----- argument errors ---------------------------------------------------------------------

def _f(epoch):
    return 1.0


BAD_ARGUMENTS = [  # (name, make(module, optimizer, frame))
    ("MultiStepLR milestones=5", lambda m, o, f: m.MultiStepLR(o, 5)),
    ("ConstantLR factor>1", lambda m, o, f: m.ConstantLR(o, factor=1.5)),
    ("ConstantLR factor<0", lambda m, o, f: m.ConstantLR(o, factor=-0.1)),
    ("ConstantLR factor=0", lambda m, o, f: m.ConstantLR(o, factor=0.0, total_iters=2)),
    ("LinearLR start=0", lambda m, o, f: m.LinearLR(o, start_factor=0)),
    ("LinearLR start>1", lambda m, o, f: m.LinearLR(o, start_factor=1.5)),
    ("LinearLR end<0", lambda m, o, f: m.LinearLR(o, end_factor=-0.5)),
    ("LinearLR end>1", lambda m, o, f: m.LinearLR(o, end_factor=2.0)),
    ("LinearLR start='x'", lambda m, o, f: m.LinearLR(o, start_factor="x")),
    ("LambdaLR one for two", lambda m, o, f: m.LambdaLR(o, [_f])),
    ("LambdaLR not callable", lambda m, o, f: m.LambdaLR(o, 0.5)),
    ("MultiplicativeLR not callable", lambda m, o, f: m.MultiplicativeLR(o, 0.5)),
    ("MultiplicativeLR three for two", lambda m, o, f: m.MultiplicativeLR(o, [_f] * 3)),
    ("SequentialLR none", lambda m, o, f: m.SequentialLR(o, [], [])),
    ("SequentialLR milestones", lambda m, o, f: m.SequentialLR(
        o, [m.ConstantLR(o), m.ExponentialLR(o, 0.9)], [1, 2])),
    ("SequentialLR other optimizer", lambda m, o, f: m.SequentialLR(
        o, [m.ExponentialLR(optimizer(f), 0.9)], [])),
    ("SequentialLR plateau", lambda m, o, f: m.SequentialLR(
        o, [m.ReduceLROnPlateau(o)], [])),
    ("SequentialLR not a scheduler", lambda m, o, f: m.SequentialLR(o, [object()], [])),
    ("ReduceLROnPlateau factor=1", lambda m, o, f: m.ReduceLROnPlateau(o, factor=1.0)),
    ("ReduceLROnPlateau mode", lambda m, o, f: m.ReduceLROnPlateau(o, mode="avg")),
    ("ReduceLROnPlateau threshold_mode",
     lambda m, o, f: m.ReduceLROnPlateau(o, threshold_mode="x")),
    ("ReduceLROnPlateau min_lrs", lambda m, o, f: m.ReduceLROnPlateau(o, min_lr=[0, 0, 0])),
    ("ReduceLROnPlateau optimizer", lambda m, o, f: m.ReduceLROnPlateau("sgd")),
    ("ReduceLROnPlateau metric", lambda m, o, f: m.ReduceLROnPlateau(o).step("x")),
    ("CyclicLR mode", lambda m, o, f: m.CyclicLR(o, 0.01, 0.1, mode="sine")),
    ("CyclicLR base_lr", lambda m, o, f: m.CyclicLR(o, [0.01] * 3, 0.1)),
    ("CyclicLR max_momentum", lambda m, o, f: m.CyclicLR(o, 0.01, 0.1, max_momentum=[0.9])),
    ("CyclicLR no momentum", lambda m, o, f: m.CyclicLR(optimizer(f, "adagrad"), 0.01, 0.1)),
    ("CyclicLR optimizer", lambda m, o, f: m.CyclicLR(None, 0.01, 0.1)),
    ("OneCycleLR anneal", lambda m, o, f: m.OneCycleLR(o, 0.1, 10, anneal_strategy="x")),
    ("OneCycleLR no momentum", lambda m, o, f: m.OneCycleLR(optimizer(f, "adagrad"), 0.1, 10)),
    ("OneCycleLR pct_start", lambda m, o, f: m.OneCycleLR(o, 0.1, 10, pct_start=1.5)),
    ("ExponentialLR optimizer", lambda m, o, f: m.ExponentialLR([], 0.9)),
    ("ExponentialLR resumed without initial_lr",
     lambda m, o, f: m.ExponentialLR(o, 0.9, last_epoch=3)),
]


def _outcome(frame, module, make):
    opt = optimizer(frame)
    try:
        scheduler = make(module, opt, frame)
        for _ in range(3):  # some mistakes show at a step
            opt.step()
            if not isinstance(scheduler, module.ReduceLROnPlateau):
                scheduler.step()
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return error
    return None


@pytest.mark.parametrize("case", BAD_ARGUMENTS, ids=[c[0] for c in BAD_ARGUMENTS])
def test_bad_arguments_raise_torchs_exception_class(case):
    name, make = case
    ours, theirs = (_outcome(frame, module, make) for frame, module in FRAMES)
    assert theirs is not None
    assert type(ours) is type(theirs), f"ours {ours!r}, torch {theirs!r}"
    if isinstance(theirs, ValueError) and not name.startswith("OneCycleLR"):
        assert str(theirs) in str(ours)  # OneCycleLR keeps its own wording
