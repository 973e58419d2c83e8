"""Losses and reductions against torch itself: hypothesis draws layouts ((C,), (N, C),
(N, C, d...)), class weights, ignored targets (all of them too), label smoothing, class
probabilities, BCE weights, and the reduction; forward value, dtype, shape and the input's
gradient under a random upstream gradient must match in float32. Also empty reductions,
softmax of a 0-d tensor, the exception classes of bad calls, the modules, and the new
paths on the CUDA device (a GPU or numba's simulator)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from minitorch_pairs import nn
from torch_reference import torch

tF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # none may reach a user

# float32: a sum of up to ~50 terms rounds differently in the two summation orders
RTOL32 = 1e-5


def _close(label, ours: np.ndarray, theirs: np.ndarray, rtol: float = RTOL32) -> None:
    """Equal within rtol of the values' scale; NaN where torch has NaN (an all-ignored mean)."""
    assert ours.shape == theirs.shape, f"{label}: shape {ours.shape} != torch {theirs.shape}"
    scale = max(1.0, float(np.max(np.abs(theirs[np.isfinite(theirs)]), initial=0.0)))
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale, equal_nan=True,
                               err_msg=label)


def _compare(ours_fn, theirs_fn, x: np.ndarray, seed: int = 0) -> None:
    ours_in, theirs_in = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, theirs = ours_fn(ours_in), theirs_fn(theirs_in)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (ours.dtype, theirs.dtype)
    _close("forward", ours.detach().numpy(), theirs.detach().numpy())
    upstream = np.random.default_rng(seed).standard_normal(theirs.shape).astype(x.dtype)
    ours.backward(mt.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    _close("input gradient", ours_in.grad.numpy(), theirs_in.grad.numpy())


@st.composite
def class_problems(draw):
    classes = draw(st.integers(1, 5))
    layout = draw(st.sampled_from(["unbatched", "batch", "spatial"]))
    batch = draw(st.integers(0 if layout == "batch" else 1, 4))
    shape = {"unbatched": (classes,), "batch": (batch, classes),
             "spatial": (batch, classes) + tuple(draw(st.lists(st.integers(1, 3), min_size=1,
                                                                max_size=2)))}[layout]
    class_dim = 0 if layout == "unbatched" else 1
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    target_shape = shape[:class_dim] + shape[class_dim + 1:]
    ignore_index = draw(st.sampled_from([-100, 0, classes - 1]))
    share_ignored = draw(st.sampled_from([0.0, 0.3, 1.0]))  # 1.0: every target ignored
    target = rng.integers(0, classes, target_shape)
    target = np.array(np.where(rng.random(target_shape) < share_ignored, ignore_index, target))
    return {"x": (rng.standard_normal(shape) * 3).astype(np.float32), "target": target,
            "weight": (rng.random(classes) + 0.25).astype(np.float32)
            if draw(st.booleans()) else None,
            "ignore_index": ignore_index,
            "reduction": draw(st.sampled_from(["mean", "sum", "none"])),
            "label_smoothing": draw(st.sampled_from([0.0, 0.0, 0.1, 0.5, 1.0, -0.2]))}


def _weights(problem):
    w = problem["weight"]
    return (None, None) if w is None else (mt.tensor(w), torch.tensor(w))


@given(problem=class_problems())
def test_cross_entropy_with_class_targets_matches_torch(problem):
    ours_w, theirs_w = _weights(problem)
    options = {k: problem[k] for k in ("ignore_index", "reduction", "label_smoothing")}
    target = problem["target"]
    _compare(lambda x: F.cross_entropy(x, mt.tensor(target), weight=ours_w, **options),
             lambda x: tF.cross_entropy(x, torch.tensor(target), weight=theirs_w, **options),
             problem["x"])


@given(problem=class_problems())
def test_nll_loss_matches_torch(problem):
    ours_w, theirs_w = _weights(problem)
    options = {k: problem[k] for k in ("ignore_index", "reduction")}
    target = problem["target"]
    _compare(lambda x: F.nll_loss(x, mt.tensor(target), weight=ours_w, **options),
             lambda x: tF.nll_loss(x, torch.tensor(target), weight=theirs_w, **options),
             problem["x"])


@given(problem=class_problems(), data=st.data())
def test_cross_entropy_with_class_probabilities_matches_torch(problem, data):
    ours_w, theirs_w = _weights(problem)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    p = rng.random(problem["x"].shape).astype(np.float32)
    if data.draw(st.booleans()):  # proper distributions, or any non-negative numbers
        p /= np.maximum(p.sum(axis=0 if p.ndim == 1 else 1, keepdims=True), 1e-3)
    options = {k: problem[k] for k in ("reduction", "label_smoothing")}
    _compare(lambda x: F.cross_entropy(x, mt.tensor(p), weight=ours_w, **options),
             lambda x: tF.cross_entropy(x, torch.tensor(p), weight=theirs_w, **options),
             problem["x"])


@st.composite
def binary_problems(draw):
    shape = tuple(draw(st.lists(st.integers(0, 3), min_size=1, max_size=3)))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))

    def broadcastable():
        kept = shape[draw(st.integers(0, len(shape))):]
        return tuple(1 if draw(st.booleans()) else n for n in kept)
    return {"x": (rng.standard_normal(shape) * 3).astype(np.float32),
            "y": rng.random(shape).astype(np.float32),
            "weight": (rng.random(broadcastable()) + 0.1).astype(np.float32)
            if draw(st.booleans()) else None,
            "pos_weight": (rng.random(broadcastable()) * 3).astype(np.float32)
            if draw(st.booleans()) else None,
            "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


def _pair(value):
    return (None, None) if value is None else (mt.tensor(value), torch.tensor(value))


@given(problem=binary_problems())
def test_binary_cross_entropy_with_logits_matches_torch(problem):
    (ow, tw), (opw, tpw) = _pair(problem["weight"]), _pair(problem["pos_weight"])
    y, reduction = problem["y"], problem["reduction"]
    _compare(lambda x: F.binary_cross_entropy_with_logits(
                 x, mt.tensor(y), weight=ow, pos_weight=opw, reduction=reduction),
             lambda x: tF.binary_cross_entropy_with_logits(
                 x, torch.tensor(y), weight=tw, pos_weight=tpw, reduction=reduction),
             problem["x"])


@given(problem=binary_problems(), saturate=st.booleans())
def test_binary_cross_entropy_matches_torch(problem, saturate):
    (ow, tw) = _pair(problem["weight"])
    x = 1 / (1 + np.exp(-problem["x"]))
    if saturate and x.size:  # exact 0 and 1: torch clamps each log at -100
        x.flat[0], x.flat[-1] = 0.0, 1.0
    y, reduction = problem["y"], problem["reduction"]
    _compare(lambda a: F.binary_cross_entropy(a, mt.tensor(y), weight=ow, reduction=reduction),
             lambda a: tF.binary_cross_entropy(a, torch.tensor(y), weight=tw,
                                               reduction=reduction), x.astype(np.float32))


# ----- reductions and softmax at their edges --------------------------------------------

@pytest.mark.parametrize("shape, dim", [((3, 0), 1), ((0, 3), 0), ((0, 3), 1), ((0,), None),
                                        ((2, 0, 2), (0, 1))])
def test_sum_and_mean_over_nothing_match_torch(shape, dim):
    for op in ("sum", "mean"):
        ours_in = mt.zeros(*shape, requires_grad=True)
        theirs_in = torch.zeros(*shape, requires_grad=True)
        args = () if dim is None else (dim,)
        ours, theirs = getattr(ours_in, op)(*args), getattr(theirs_in, op)(*args)
        _close(op, ours.detach().numpy(), theirs.detach().numpy())
        ours.sum().backward()
        theirs.sum().backward()
        _close(f"{op} gradient", ours_in.grad.numpy(), theirs_in.grad.numpy())


@pytest.mark.parametrize("call", [lambda m, a: a.max(), lambda m, a: a.max(0),
                                  lambda m, a: a.argmax(), lambda m, a: a.argmax(0),
                                  lambda m, a: a.max(1), lambda m, a: a.argmax(1)])
def test_max_and_argmax_of_empty_tensors_raise_or_answer_as_torch(call):
    try:
        expected = call(torch, torch.zeros(0, 3))
    except Exception as error:  # noqa: BLE001 (torch's class is the specification)
        with pytest.raises(type(error), match=r"max\(\): expected"):
            call(mt, mt.zeros(0, 3))
        return
    ours = call(mt, mt.zeros(0, 3))
    ours, expected = (ours[0], expected[0]) if isinstance(ours, tuple) else (ours, expected)
    assert ours.shape == tuple(expected.shape)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_of_a_zero_dim_tensor_matches_torch(name, dim):
    _compare(lambda x: getattr(F, name)(x, dim), lambda x: getattr(tF, name)(x, dim),
             np.array(2.5, np.float32))
    with pytest.raises(IndexError):
        getattr(F, name)(mt.tensor(2.5), 1)


# ----- bad calls raise torch's exception class ---------------------------------------------

def _bad_calls(lib, functional):
    t = lib.tensor
    long = (lambda v: t(v)) if lib is mt else (lambda v: t(v, dtype=torch.long))
    return {
        "batch mismatch": lambda: functional.cross_entropy(lib.randn(3, 5), long([1, 2, 3, 4])),
        "spatial mismatch": lambda: functional.cross_entropy(
            lib.randn(2, 3, 4), lib.zeros(2, 5).long()),
        "unbatched target of 2": lambda: functional.cross_entropy(lib.randn(3), long([1, 2])),
        "integer probabilities": lambda: functional.cross_entropy(
            lib.randn(2, 3), lib.zeros(2, 3).long()),
        "float class targets": lambda: functional.cross_entropy(lib.randn(2, 3), lib.rand(2)),
        "probabilities with ignore_index": lambda: functional.cross_entropy(
            lib.randn(2, 3), lib.rand(2, 3), ignore_index=1),
        "smoothing above 1": lambda: functional.cross_entropy(
            lib.randn(2, 3), long([0, 1]), label_smoothing=1.5),
        "weight of 4 for 3 classes": lambda: functional.cross_entropy(
            lib.randn(2, 3), long([0, 1]), weight=lib.ones(4)),
        "target out of range": lambda: functional.nll_loss(lib.randn(2, 3), long([0, 3])),
        "negative target": lambda: functional.cross_entropy(lib.randn(2, 3), long([0, -1])),
        "bad reduction": lambda: functional.cross_entropy(
            lib.randn(2, 3), long([0, 1]), reduction="avg"),
        "bce target shape": lambda: functional.binary_cross_entropy(lib.rand(2, 3), lib.rand(3)),
        "bce input above 1": lambda: functional.binary_cross_entropy(
            lib.rand(2, 3) + 1, lib.rand(2, 3)),
        "bce weight grows the shape": lambda: functional.binary_cross_entropy(
            lib.rand(3), lib.rand(3), weight=lib.rand(2, 3)),
        "bce weight does not broadcast": lambda: functional.binary_cross_entropy(
            lib.rand(2, 3), lib.rand(2, 3), weight=lib.rand(2)),
        "bce-logits target shape": lambda: functional.binary_cross_entropy_with_logits(
            lib.rand(2, 3), lib.rand(3)),
        "bce-logits pos_weight grows": lambda: functional.binary_cross_entropy_with_logits(
            lib.rand(3), lib.rand(3), pos_weight=lib.rand(2, 3)),
        "bce-logits pos_weight bad": lambda: functional.binary_cross_entropy_with_logits(
            lib.rand(2, 3), lib.rand(2, 3), pos_weight=lib.rand(2)),
        "nll weight with grad": lambda: functional.nll_loss(
            lib.randn(2, 3), long([0, 1]), weight=lib.ones(3, requires_grad=True)),
    }


@pytest.mark.parametrize("case", sorted(_bad_calls(mt, F)))
def test_bad_calls_raise_the_class_torch_raises_and_name_the_op(case):
    with pytest.raises(Exception) as theirs:
        _bad_calls(torch, tF)[case]()
    with pytest.raises(type(theirs.value)) as ours:
        _bad_calls(mt, F)[case]()
    message = str(ours.value)
    assert any(op in message for op in ("cross_entropy", "nll_loss")) or \
        "binary_cross_entropy" in message, message


# ----- the modules ------------------------------------------------------------------------

def test_loss_modules_take_torch_constructor_arguments_and_match_the_functions():
    w = np.array([0.5, 1.0, 2.0], np.float32)
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    target = np.array([0, 2, -1, 1])
    pairs = [
        (nn.CrossEntropyLoss(mt.tensor(w), None, -1, None, "sum", 0.2),
         torch.nn.CrossEntropyLoss(torch.tensor(w), None, -1, None, "sum", 0.2)),
        (nn.NLLLoss(weight=mt.tensor(w), ignore_index=-1, reduction="mean"),
         torch.nn.NLLLoss(weight=torch.tensor(w), ignore_index=-1, reduction="mean")),
    ]
    for ours, theirs in pairs:
        _compare(lambda a: ours(a, mt.tensor(target)),
                 lambda a: theirs(a, torch.tensor(target)), x)
        assert sorted(ours.state_dict()) == sorted(theirs.state_dict()) == ["weight"]
    y = np.random.default_rng(2).random((4, 3)).astype(np.float32)
    bce = (nn.BCEWithLogitsLoss(pos_weight=mt.tensor(w), reduction="none"),
           torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w), reduction="none"))
    _compare(lambda a: bce[0](a, mt.tensor(y)), lambda a: bce[1](a, torch.tensor(y)), x)
    _compare(lambda a: nn.BCELoss(mt.tensor(w))(a, mt.tensor(y)),
             lambda a: torch.nn.BCELoss(torch.tensor(w))(a, torch.tensor(y)),
             1 / (1 + np.exp(-x)))
    legacy = nn.NLLLoss(size_average=False), torch.nn.NLLLoss(size_average=False)
    assert legacy[0].reduction == legacy[1].reduction == "sum"


# ----- on the device ----------------------------------------------------------------------

@pytest.mark.skipif(not mt.cuda.is_available(), reason="no CUDA device and no simulator")
def test_the_new_loss_paths_give_the_cpu_results_on_the_device():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 2)).astype(np.float32)
    target = np.array([[0, -100], [2, 1]])
    w = np.array([0.5, 1.0, 2.0], np.float32)
    p = rng.random(x.shape).astype(np.float32)
    y = rng.random(x.shape).astype(np.float32)
    calls = {
        "cross_entropy (N, C, d)": lambda a, dev: F.cross_entropy(
            a, mt.tensor(target).to(dev), weight=mt.tensor(w).to(dev), label_smoothing=0.1),
        "fused, an ignored row": lambda a, dev: F.cross_entropy(
            a[:, :, 0], mt.tensor(target[:, 1]).to(dev), reduction="mean"),
        "nll_loss none": lambda a, dev: F.nll_loss(
            a, mt.tensor(target).to(dev), reduction="none"),
        "probabilities": lambda a, dev: F.cross_entropy(
            a, mt.tensor(p).to(dev), weight=mt.tensor(w).to(dev)),
        "bce with logits": lambda a, dev: F.binary_cross_entropy_with_logits(
            a, mt.tensor(y).to(dev), pos_weight=mt.tensor(w[:2]).to(dev)),
        "bce": lambda a, dev: F.binary_cross_entropy(a.sigmoid(), mt.tensor(y).to(dev)),
    }
    for name, call in calls.items():
        results = []
        for device in ("cpu", "cuda"):
            leaf = mt.tensor(x).to(device).requires_grad_()
            loss = call(leaf, device)
            loss.sum().backward()
            results.append((loss.detach().cpu().numpy(), leaf.grad.cpu().numpy()))
        (cpu_loss, cpu_grad), (gpu_loss, gpu_grad) = results
        np.testing.assert_allclose(gpu_loss, cpu_loss, rtol=1e-5, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(gpu_grad, cpu_grad, rtol=1e-5, atol=1e-6, err_msg=name)
