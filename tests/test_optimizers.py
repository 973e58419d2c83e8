"""SGD and Adam follow torch.optim's parameter trajectories step for step, for every option."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import minitorch_pairs as mt
from torch_reference import torch

STEPS = 25
# float64: the same formulas in a possibly different operation order -> a few ulps per step.
RTOL64 = 1e-12
# float32: rounding of the same formulas, compounded over 25 steps.
RTOL32 = 1e-5


def trajectories(make_ours, make_theirs, dtype, groups=False):
    """Run both optimizers on the same parameters and per-step gradients of a quadratic
    plus noise; return the two stacked parameter trajectories."""
    rng = np.random.default_rng(0)
    start = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    curvature = [rng.uniform(0.5, 2.0, s.shape) for s in start]
    noise = rng.standard_normal((STEPS, sum(s.size for s in start)))
    ours = [mt.tensor(s, dtype=dtype, requires_grad=True) for s in start]
    theirs = [torch.tensor(s.astype(dtype), requires_grad=True) for s in start]
    opt_ours = make_ours([{"params": [ours[0]]}, {"params": [ours[1]], "lr": 0.05}]
                         if groups else ours)
    opt_theirs = make_theirs([{"params": [theirs[0]]}, {"params": [theirs[1]], "lr": 0.05}]
                             if groups else theirs)
    path_ours, path_theirs = [], []
    for step in range(STEPS):
        for params, opt, frame in ((ours, opt_ours, mt), (theirs, opt_theirs, torch)):
            opt.zero_grad()
            offset = 0
            loss = 0
            for p, c in zip(params, curvature):
                n = int(np.prod(p.shape))
                kick = noise[step, offset:offset + n].reshape(p.shape).astype(dtype)
                offset += n
                loss = loss + (frame.tensor(c.astype(dtype)) * p * p).sum() \
                    + (frame.tensor(kick) * p).sum()
            loss.backward()
            opt.step()
        path_ours.append(np.concatenate([p.detach().numpy().ravel() for p in ours]))
        path_theirs.append(np.concatenate([p.detach().numpy().ravel() for p in theirs]))
    return np.array(path_ours), np.array(path_theirs)


SGD_OPTIONS = [dict(momentum=m, dampening=d, nesterov=n, weight_decay=w, maximize=x)
               for m, d, n, w, x in itertools.product([0.0, 0.9], [0.0, 0.3], [False, True],
                                                      [0.0, 0.01], [False, True])
               if not (n and (m == 0 or d != 0))]

ADAM_OPTIONS = [dict(betas=b, eps=e, weight_decay=w, amsgrad=a, maximize=x)
                for b, e, w, a, x in itertools.product([(0.9, 0.999), (0.5, 0.9)], [1e-8, 1e-3],
                                                       [0.0, 0.1], [False, True], [False, True])]


@pytest.mark.parametrize("dtype,rtol", [(np.float64, RTOL64), (np.float32, RTOL32)])
@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
def test_sgd_follows_torch(options, dtype, rtol):
    ours, theirs = trajectories(lambda p: mt.optim.SGD(p, lr=0.1, **options),
                                lambda p: torch.optim.SGD(p, lr=0.1, **options), dtype)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype,rtol", [(np.float64, RTOL64), (np.float32, RTOL32)])
@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
def test_adam_follows_torch(options, dtype, rtol):
    ours, theirs = trajectories(lambda p: mt.optim.Adam(p, lr=0.1, **options),
                                lambda p: torch.optim.Adam(p, lr=0.1, **options), dtype)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_parameter_groups_keep_their_own_learning_rate(name):
    kwargs = {"momentum": 0.9} if name == "SGD" else {}
    ours, theirs = trajectories(lambda p: getattr(mt.optim, name)(p, lr=0.2, **kwargs),
                                lambda p: getattr(torch.optim, name)(p, lr=0.2, **kwargs),
                                np.float64, groups=True)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL64, atol=RTOL64)


def test_step_skips_parameters_without_gradient_and_zero_grad_clears():
    a, b = mt.ones(2, requires_grad=True), mt.ones(2, requires_grad=True)
    opt = mt.optim.SGD([a, b], lr=1.0)
    (a * 3).sum().backward()
    opt.step()
    np.testing.assert_array_equal(a.data, [-2.0, -2.0])
    np.testing.assert_array_equal(b.data, [1.0, 1.0])
    opt.zero_grad()
    assert a.grad is None
    (a * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.0])


@pytest.mark.parametrize("make,message", [
    (lambda p: mt.optim.SGD(p, lr=-1.0), "lr"),
    (lambda p: mt.optim.SGD(p, lr=0.1, momentum=-0.5), "momentum"),
    (lambda p: mt.optim.SGD(p, lr=0.1, nesterov=True), "Nesterov"),
    (lambda p: mt.optim.Adam(p, betas=(0.9, 1.0)), "betas"),
    (lambda p: mt.optim.Adam(p, eps=-1e-8), "eps"),
    (lambda p: mt.optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda p: mt.optim.SGD([{"params": p}, {"params": p}], lr=0.1), "more than one"),
])
def test_bad_hyperparameters_are_refused_by_name(make, message):
    params = [mt.ones(2, requires_grad=True)]
    with pytest.raises((ValueError, TypeError), match=message):
        make(params)


def test_frozen_parameters_and_extra_group_keys_are_accepted_as_torch():
    """torch optimizes a leaf that does not require grad (it has no gradient, so a step
    leaves it) and keeps a group's keys it does not use (a name, say)."""
    frozen, theirs = mt.ones(2), torch.ones(2)
    ours_opt = mt.optim.SGD([frozen], lr=0.1)
    torch_opt = torch.optim.SGD([theirs], lr=0.1)
    ours_opt.step(), torch_opt.step()
    np.testing.assert_array_equal(frozen.numpy(), theirs.numpy())
    group = {"momentum": 0.9, "name": "head"}
    ours = mt.optim.Adam([{"params": [mt.ones(2, requires_grad=True)], **group}])
    torch_adam = torch.optim.Adam([{"params": [torch.ones(2, requires_grad=True)], **group}])
    assert sorted(ours.param_groups[0]) == sorted(torch_adam.param_groups[0])
    assert ours.param_groups[0]["name"] == "head"
