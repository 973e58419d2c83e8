"""Op cases of the regression and margin losses (ops/regression_losses.py,
ops/binary_losses.py; see op_cases.py for what a Case is). Inputs are drawn away from each
loss's kinks (|d| = 0, beta or delta; the margins' hinges; Stirling's jump at a count of 1)
so that central differences are valid there; targets that take no gradient in torch (the
±1 labels of the margin losses) travel as keyword arrays."""
from __future__ import annotations

import warnings

import numpy as np
from hypothesis import assume, strategies as st

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from op_cases import Case, _normal, away_from, dims

REDUCTIONS = ["mean", "sum", "none"]


def _rng(data) -> np.random.Generator:
    return np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))


def _quiet(call):
    """`call` with torch's (and our) deprecation warning for kl_div's 'mean' silenced."""
    def quiet(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return call(*args, **kwargs)
    return quiet


def draw_differences(kinks):
    """input, target (one shape) whose differences stay off `kinks(**kwargs)`, the
    reduction, and an optional elementwise weight (a third input) for the ops that take one."""
    def draw(data, options=None, weighted=False):
        kwargs = {name: data.draw(st.sampled_from(choices), label=name)
                  for name, choices in (options or {}).items()}
        kwargs["reduction"] = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
        shape = data.draw(dims(0, 3), label="shape")
        target = _normal(data, shape)
        kink_points = [sign * k for k in kinks(**kwargs) for sign in (1, -1)]
        difference = away_from(np.asarray(_normal(data, shape) * 2), kink_points, margin=0.05)
        arrays = [target + difference, target]
        if weighted and data.draw(st.booleans(), label="weight"):
            arrays.append(np.asarray(_rng(data).random(shape) + 0.5))
        return arrays, kwargs
    return draw


def _with_weight(function):
    """function(input, target, weight=third input if drawn, **kwargs)."""
    return lambda x, y, *weight, **k: function(x, y, weight=weight[0] if weight else None,
                                               **k)


l1_differences = draw_differences(lambda **k: (0.0,))
smooth_differences = draw_differences(lambda beta, **k: (beta,))
huber_differences = draw_differences(lambda delta, **k: (delta,))


def draw_kl(data):
    shape = data.draw(dims(0, 3), label="shape")
    log_target = data.draw(st.booleans(), label="log_target")
    target = _normal(data, shape) if log_target else _rng(data).random(shape) + 0.05
    reduction = data.draw(st.sampled_from(REDUCTIONS + ["batchmean"]), label="reduction")
    return [_normal(data, shape) - 1, target], {"reduction": reduction,
                                                 "log_target": log_target}


def draw_poisson(data):
    shape = data.draw(dims(0, 3), label="shape")
    log_input = data.draw(st.booleans(), label="log_input")
    x = _normal(data, shape)
    if not log_input:  # rates, kept off 0 where log(x + eps) explodes
        x = np.abs(x) + 0.3
    # counts, away from 1 where the Stirling term switches on (and jumps)
    counts = away_from(np.asarray(_rng(data).random(shape) * 4), (1.0,), margin=0.05)
    return [x, counts], {"log_input": log_input,
                         "full": data.draw(st.booleans(), label="full"),
                         "reduction": data.draw(st.sampled_from(REDUCTIONS))}


def _labels(data, shape, other_values=False):
    """Targets of 1 and -1 (and, for the hinge, other values, which torch gives both terms)."""
    choices = [1.0, -1.0, 0.5] if other_values else [1.0, -1.0]
    return np.asarray(_rng(data).choice(choices, size=shape))


def draw_soft_margin(data):
    shape = data.draw(dims(0, 3), label="shape")
    return [_normal(data, shape) * 2], {"target": _labels(data, shape),
                                        "reduction": data.draw(st.sampled_from(REDUCTIONS))}


def draw_hinge(data):
    shape = data.draw(dims(0, 3), label="shape")
    margin = data.draw(st.sampled_from([1.0, 0.5, 2.0]), label="margin")
    x = away_from(np.asarray(_normal(data, shape) * 2), (margin,), margin=0.05)
    return [x], {"target": _labels(data, shape, other_values=True), "margin": margin,
                 "reduction": data.draw(st.sampled_from(REDUCTIONS))}


def draw_margin_ranking(data):
    shape = data.draw(dims(0, 3), label="shape")
    margin = data.draw(st.sampled_from([0.0, 0.5, -0.3]), label="margin")
    x1, x2, y = _normal(data, shape), _normal(data, shape), _labels(data, shape)
    hinge = -y * (x1 - x2) + margin
    close = np.abs(hinge) < 0.1  # move x1 so the hinge is at least 0.1 from its kink
    x1 = np.where(close, x1 + y * 0.2 * np.where(hinge >= 0, 1, -1), x1)
    return [np.asarray(x1), np.asarray(x2), y], {
        "margin": margin, "reduction": data.draw(st.sampled_from(REDUCTIONS))}


def draw_cosine(data):
    batched = data.draw(st.booleans(), label="batched")
    features = data.draw(st.integers(1, 4), label="features")
    shape = (data.draw(st.integers(1, 3), label="batch"), features) if batched else (features,)
    x1, x2 = _normal(data, shape), _normal(data, shape)
    margin = data.draw(st.sampled_from([0.0, 0.5, -0.5]), label="margin")
    cos = (x1 * x2).sum(-1) / np.sqrt((x1 * x1).sum(-1) * (x2 * x2).sum(-1))
    assume(np.all(np.abs(cos - margin) > 0.05))  # off the hinge of the -1 targets
    return [x1, x2], {"target": _labels(data, shape[:-1]), "margin": margin,
                      "reduction": data.draw(st.sampled_from(REDUCTIONS))}


def _ours_target(target, like):
    return mt.tensor(target, dtype=like.dtype).to(like.device)


CASES = [
    Case("l1_loss", lambda d: l1_differences(d, weighted=True), _with_weight(F.l1_loss),
         lambda t, *a, **k: _with_weight(t.nn.functional.l1_loss)(*a, **k)),
    Case("mse_loss weighted", lambda d: l1_differences(d, weighted=True),
         _with_weight(F.mse_loss),
         lambda t, *a, **k: _with_weight(t.nn.functional.mse_loss)(*a, **k)),
    Case("smooth_l1_loss", lambda d: smooth_differences(d, {"beta": [1.0, 0.5, 2.0]}),
         F.smooth_l1_loss, lambda t, *a, **k: t.nn.functional.smooth_l1_loss(*a, **k)),
    # beta = 0 is l1_loss, off the kink at 0
    Case("smooth_l1_loss beta=0", lambda d: l1_differences(d, {"beta": [0.0]}),
         F.smooth_l1_loss, lambda t, *a, **k: t.nn.functional.smooth_l1_loss(*a, **k)),
    Case("huber_loss", lambda d: huber_differences(d, {"delta": [1.0, 0.5, 2.0]},
                                                  weighted=True),
         _with_weight(F.huber_loss),
         lambda t, *a, **k: _with_weight(t.nn.functional.huber_loss)(*a, **k)),
    Case("kl_div", draw_kl, _quiet(F.kl_div),
         _quiet(lambda t, *a, **k: t.nn.functional.kl_div(*a, **k))),
    Case("poisson_nll_loss", draw_poisson, F.poisson_nll_loss,
         lambda t, *a, **k: t.nn.functional.poisson_nll_loss(*a, **k)),
    Case("soft_margin_loss", draw_soft_margin,
         lambda x, target, **k: F.soft_margin_loss(x, _ours_target(target, x), **k),
         lambda t, x, target, **k: t.nn.functional.soft_margin_loss(
             x, t.tensor(target, dtype=x.dtype), **k)),
    Case("hinge_embedding_loss", draw_hinge,
         lambda x, target, **k: F.hinge_embedding_loss(x, _ours_target(target, x), **k),
         lambda t, x, target, **k: t.nn.functional.hinge_embedding_loss(
             x, t.tensor(target, dtype=x.dtype), **k)),
    Case("margin_ranking_loss", draw_margin_ranking, F.margin_ranking_loss,
         lambda t, *a, **k: t.nn.functional.margin_ranking_loss(*a, **k)),
    Case("cosine_embedding_loss", draw_cosine,
         lambda x1, x2, target, **k: F.cosine_embedding_loss(
             x1, x2, _ours_target(target, x1), **k),
         lambda t, x1, x2, target, **k: t.nn.functional.cosine_embedding_loss(
             x1, x2, t.tensor(target, dtype=x1.dtype), **k)),
]
