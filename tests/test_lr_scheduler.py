"""mt.optim.lr_scheduler against torch.optim.lr_scheduler: the same learning rates (and, for
OneCycleLR, momenta / beta1) at every step, exactly, on hypothesis-drawn settings."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

import minitorch_pairs as mt
from minitorch_pairs import nn
from minitorch_pairs.optim import lr_scheduler
from torch_reference import torch


def optimizers(kind: str, lr: float):
    ours = [nn.Parameter(mt.zeros(2))]
    theirs = [torch.nn.Parameter(torch.zeros(2))]
    if kind == "sgd":
        return (mt.optim.SGD(ours, lr=lr, momentum=0.9),
                torch.optim.SGD(theirs, lr=lr, momentum=0.9))
    return mt.optim.Adam(ours, lr=lr), torch.optim.Adam(theirs, lr=lr)


def same_schedule(make_ours, make_theirs, kind: str, lr: float, steps: int) -> None:
    opt_ours, opt_theirs = optimizers(kind, lr)
    ours, theirs = make_ours(opt_ours), make_theirs(opt_theirs)
    for step in range(steps):
        assert ours.get_last_lr() == theirs.get_last_lr(), f"step {step}"
        for g_ours, g_theirs in zip(opt_ours.param_groups, opt_theirs.param_groups):
            key = "momentum" if kind == "sgd" else "betas"
            assert g_ours[key] == pytest.approx(g_theirs[key], abs=0, rel=0), f"step {step}"
        opt_ours.step()
        opt_theirs.step()
        ours.step()
        theirs.step()


lrs = st.sampled_from([0.1, 1e-3, 0.05, 1.0])
kinds = st.sampled_from(["sgd", "adam"])


@given(kinds, lrs, st.integers(1, 7), st.sampled_from([0.1, 0.5, 0.9]), st.integers(1, 30))
def test_step_lr(kind, lr, step_size, gamma, steps):
    same_schedule(lambda o: lr_scheduler.StepLR(o, step_size, gamma),
                  lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma),
                  kind, lr, steps)


@given(kinds, lrs, st.integers(1, 12), st.sampled_from([0.0, 1e-4, 0.01]), st.integers(1, 40))
def test_cosine_annealing_lr_including_past_t_max(kind, lr, t_max, eta_min, steps):
    same_schedule(lambda o: lr_scheduler.CosineAnnealingLR(o, t_max, eta_min),
                  lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, t_max, eta_min),
                  kind, lr, steps)


@given(kinds, lrs, st.integers(2, 60), st.sampled_from([0.1, 0.25, 0.3, 0.5]),
       st.sampled_from(["cos", "linear"]), st.booleans(), st.booleans())
def test_one_cycle_lr_with_momentum_cycling(kind, lr, total, pct, anneal, three_phase,
                                            cycle):
    settings = dict(max_lr=lr, total_steps=total, pct_start=pct, anneal_strategy=anneal,
                    three_phase=three_phase, cycle_momentum=cycle)
    up = pct * total
    if up == 1 or up == total or (three_phase and total - 2 * up + 1 == 0):
        with pytest.raises(ZeroDivisionError):  # a phase of no steps: torch divides 0 by 0
            torch.optim.lr_scheduler.OneCycleLR(optimizers(kind, lr)[1], **settings)
        with pytest.raises(ValueError, match="leaves a phase of no steps"):
            lr_scheduler.OneCycleLR(optimizers(kind, lr)[0], **settings)
        return
    same_schedule(lambda o: lr_scheduler.OneCycleLR(o, **settings),
                  lambda o: torch.optim.lr_scheduler.OneCycleLR(o, **settings),
                  kind, lr, total)


def test_one_cycle_refuses_a_step_past_its_end_and_bad_settings():
    opt = mt.optim.SGD([nn.Parameter(mt.zeros(1))], lr=0.1, momentum=0.9)
    schedule = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=2)
    schedule.step()
    schedule.step()
    with pytest.raises(ValueError, match="stepped 3 times; total_steps is 2"):
        schedule.step()
    with pytest.raises(ValueError, match="give total_steps, or epochs and steps_per_epoch"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="positive integer step_size, got 0"):
        lr_scheduler.StepLR(opt, 0)
    with pytest.raises(TypeError, match="expected an Optimizer"):
        lr_scheduler.CosineAnnealingLR("sgd", 10)
