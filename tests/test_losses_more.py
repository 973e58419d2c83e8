"""The regression and margin losses (l1, mse, smooth_l1, huber, kl_div, poisson_nll,
soft_margin, hinge_embedding, margin_ranking, cosine_embedding) and an audit of the class
and binary losses, all against torch itself: values, dtypes and every input's gradient on
hypothesis-drawn shapes (broadcasting included) and options, gradients at the kinks, the
warnings torch gives (shapes that broadcast, the deprecated size_average/reduce flags,
kl_div's 'mean'), the exception classes of bad calls, and the loss modules."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from minitorch_pairs import nn
from torch_reference import torch

tF = torch.nn.functional
RTOL32 = 1e-5


def _close(label, ours, theirs, rtol=RTOL32) -> None:
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{label}: shape {ours.shape} != torch {theirs.shape}"
    finite = theirs[np.isfinite(theirs)]
    scale = max(1.0, float(np.max(np.abs(finite), initial=0.0)))
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale, equal_nan=True,
                               err_msg=label)


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


def _run(lib, call, arrays, grads):
    """call(lib, functional, *tensors) with the warnings it gives; tensors in `grads`
    require grad."""
    tensors = [lib.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call(lib, F if lib is mt else tF, *tensors)
    return out, tensors, sorted({w.category.__name__ for w in caught})


def compare(call, arrays, grads=(0, 1), rtol=RTOL32, seed=0) -> None:
    """Forward value, dtype, warnings and the gradient of every input in `grads` (under a
    random upstream gradient) equal torch's."""
    arrays = [np.asarray(a) for a in arrays]
    ours, ours_in, ours_warned = _run(mt, call, arrays, grads)
    theirs, theirs_in, theirs_warned = _run(torch, call, arrays, grads)
    assert ours_warned == theirs_warned, (ours_warned, theirs_warned)
    assert _dtype_name(ours.dtype) == _dtype_name(theirs.dtype), (ours.dtype, theirs.dtype)
    _close("forward", ours.detach().numpy(), theirs.detach().numpy(), rtol)
    if not grads:
        return
    upstream = np.random.default_rng(seed).standard_normal(tuple(theirs.shape))
    ours.backward(mt.tensor(upstream, dtype=ours.dtype))
    theirs.backward(torch.tensor(upstream, dtype=theirs.dtype))
    for i in grads:
        o, t = ours_in[i].grad, theirs_in[i].grad
        assert (o is None) == (t is None), f"input {i}: gradient {o} vs torch {t}"
        if t is not None:
            _close(f"gradient of input {i}", o.numpy(), t.numpy(), rtol)


def raises_as_torch(call, arrays=(), grads=()):
    """Both frameworks refuse the call, ours with (a subclass of) torch's exception class;
    returns our exception."""
    with pytest.raises(Exception) as theirs:
        _run(torch, call, arrays, grads)
    with pytest.raises(type(theirs.value)) as ours:
        _run(mt, call, arrays, grads)
    return ours.value


# ----- the pointwise losses, drawn --------------------------------------------------------

def _broadcasting_shapes(draw):
    """(input shape, target shape): equal, or differing and broadcasting together."""
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=3)))
    if draw(st.booleans()):
        return shape, shape
    other = tuple(1 if draw(st.booleans()) else n for n in shape)
    other = other[draw(st.integers(0, len(other))):]
    return (other, shape) if draw(st.booleans()) else (shape, other)


POINTWISE = {  # name -> (options drawn, the target's values from standard normals)
    "l1_loss": ({"weight": [False, True]}, lambda z: z),
    "mse_loss": ({"weight": [False, True]}, lambda z: z),
    "smooth_l1_loss": ({"beta": [1.0, 0.3, 0.0, 2.5]}, lambda z: z),
    "huber_loss": ({"delta": [1.0, 0.3, 2.5], "weight": [False, True]}, lambda z: z),
    "kl_div": ({"log_target": [False, True]}, lambda z: z),
    "poisson_nll_loss": ({"log_input": [True, False], "full": [False, True],
                          "eps": [1e-8, 0.1]}, lambda z: np.abs(z) * 3),
}


@st.composite
def pointwise_problems(draw):
    name = draw(st.sampled_from(sorted(POINTWISE)))
    choices, target_of = POINTWISE[name]
    options = {key: draw(st.sampled_from(values)) for key, values in choices.items()}
    reductions = ["mean", "sum", "none"] + (["batchmean"] if name == "kl_div" else [])
    options["reduction"] = draw(st.sampled_from(reductions))
    input_shape, target_shape = _broadcasting_shapes(draw)
    if name == "huber_loss" and options.get("weight"):
        target_shape = input_shape  # (torch's weighted huber keeps the unweighted shape)
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    x = rng.standard_normal(input_shape).astype(np.float32) * 2
    if name == "kl_div" and not options["log_target"]:
        target = rng.random(target_shape).astype(np.float32)
    else:
        target = target_of(rng.standard_normal(target_shape)).astype(np.float32)
    if name == "poisson_nll_loss" and not options["log_input"]:
        x = np.abs(x)
    weight = rng.random(input_shape).astype(np.float32) + 0.1 if options.pop("weight", False) \
        else None
    return name, x, target, weight, options


@given(problem=pointwise_problems())
def test_pointwise_losses_match_torch_with_broadcasting_and_every_option(problem):
    name, x, target, weight, options = problem
    arrays = [x, target] + ([] if weight is None else [weight])

    def call(lib, functional, a, b, *w):
        return getattr(functional, name)(a, b, **options, **({"weight": w[0]} if w else {}))
    # the weight's gradient too; torch's kl_div and poisson targets are differentiable
    compare(call, arrays, grads=tuple(range(len(arrays))))


@given(data=st.data())
def test_margin_losses_match_torch(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    margin = data.draw(st.sampled_from([0.0, 1.0, -0.5, 0.3]))
    input_shape, target_shape = _broadcasting_shapes(data.draw)
    x = rng.standard_normal(input_shape).astype(np.float32) * 2
    labels = rng.choice([1.0, -1.0, 0.5, 0.0], size=target_shape).astype(np.float32)
    compare(lambda lib, f, a, y: f.hinge_embedding_loss(a, y, margin=margin,
                                                         reduction=reduction),
            [x, labels], grads=(0, 1))
    if target_shape == input_shape:  # soft margin: the target broadcasts into the input
        compare(lambda lib, f, a, y: f.soft_margin_loss(a, y, reduction=reduction),
                [x, np.sign(labels) + (labels == 0)], grads=(0,))
    x2 = rng.standard_normal(input_shape).astype(np.float32)
    signs = rng.choice([1.0, -1.0], size=input_shape).astype(np.float32)
    compare(lambda lib, f, a, b, y: f.margin_ranking_loss(a, b, y, margin=margin,
                                                          reduction=reduction),
            [x, x2, signs], grads=(0, 1, 2))


@given(data=st.data())
def test_cosine_embedding_loss_matches_torch(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    features = data.draw(st.integers(1, 5))
    batch = data.draw(st.sampled_from([None, 1, 3]))
    shape = (features,) if batch is None else (batch, features)
    x1, x2 = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))
    if data.draw(st.booleans()):  # zero rows: the 1e-12 in each norm keeps them finite
        x1[..., :] = 0
    target = rng.choice([1.0, -1.0, 0.0], size=shape[:-1]).astype(np.float32)
    options = {"margin": data.draw(st.sampled_from([0.0, 0.5, -0.5])),
               "reduction": data.draw(st.sampled_from(["mean", "sum", "none"]))}
    compare(lambda lib, f, a, b, y: f.cosine_embedding_loss(a, b, y, **options),
            [x1, x2, target], grads=(0, 1, 2))


# ----- gradients at the kinks, and NaN where torch has NaN -----------------------------------

KINKS = {
    "l1 at 0": (lambda lib, f, a, b: f.l1_loss(a, b, reduction="none"),
                [[0.0, 1.5, -2.0], [0.0, 1.5, 1.0]]),
    "smooth_l1 at 0 and +-beta": (
        lambda lib, f, a, b: f.smooth_l1_loss(a, b, beta=0.5, reduction="none"),
        [[0.5, -0.5, 0.0, 0.25], [0.0, 0.0, 0.0, 0.0]]),
    "smooth_l1 beta=0 at 0": (
        lambda lib, f, a, b: f.smooth_l1_loss(a, b, beta=0.0, reduction="none"),
        [[0.0, 0.3], [0.0, 0.0]]),
    "huber at +-delta": (lambda lib, f, a, b: f.huber_loss(a, b, delta=0.5, reduction="none"),
                         [[0.5, -0.5, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0]]),
    "hinge at the margin": (
        lambda lib, f, a, y: f.hinge_embedding_loss(a, y, margin=1.0, reduction="none"),
        [[1.0, 1.0, 2.0, 0.3], [-1.0, 0.5, -1.0, 0.0]]),
    "margin ranking at 0": (
        lambda lib, f, a, b, y: f.margin_ranking_loss(a, b, y, margin=0.5, reduction="none"),
        [[1.0, 0.5, 2.0], [0.5, 1.0, 0.0], [1.0, -1.0, -1.0]]),
    "cosine at the margin": (
        lambda lib, f, a, b, y: f.cosine_embedding_loss(a, b, y, margin=0.0, reduction="none"),
        [[[1.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [1.0, 1.0]], [-1.0, -1.0]]),
    "kl_div target 0 and < 0": (lambda lib, f, a, b: f.kl_div(a, b, reduction="none"),
                                [[-0.5, -1.0, -2.0], [0.0, -0.3, 0.5]]),
    "poisson full, counts <= 1": (
        lambda lib, f, a, b: f.poisson_nll_loss(a, b, full=True, reduction="none"),
        [[0.5, 0.1, 0.2, -1.0, 0.3], [0.0, 1.0, 0.5, -1.0, 3.0]]),
    "poisson rates at 0": (
        lambda lib, f, a, b: f.poisson_nll_loss(a, b, log_input=False, reduction="none"),
        [[0.0, 1.0], [2.0, 0.0]]),
}


@pytest.mark.parametrize("case", sorted(KINKS))
def test_gradients_at_the_kinks_are_torchs(case):
    call, arrays = KINKS[case]
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    with np.errstate(all="ignore"):
        compare(call, arrays, grads=tuple(range(len(arrays))), rtol=1e-12)


# ----- dtypes ----------------------------------------------------------------------------

ONE_TARGET = ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "kl_div",
              "poisson_nll_loss", "soft_margin_loss", "hinge_embedding_loss"]
DTYPE_PAIRS = [("float32", "float64"), ("float64", "float32"), ("float32", "int64"),
               ("int64", "float32"), ("int64", "int64"), ("bool", "bool"),
               ("float16", "float16"), ("float32", "bool")]


# torch computes an integer hinge_embedding_loss input in integers, truncating the margin:
# refused here, clearly, instead
REFUSED = {("hinge_embedding_loss", "int64", "float32"), ("hinge_embedding_loss", "int64",
                                                           "int64")}


@pytest.mark.parametrize("name", ONE_TARGET)
@pytest.mark.parametrize("dtypes", DTYPE_PAIRS, ids="-".join)
def test_result_dtype_or_refusal_matches_torch(name, dtypes):
    rng = np.random.default_rng(0)
    arrays = [(np.abs(rng.standard_normal((2, 3))) + 0.5).astype(d) if d != "bool"
              else rng.random((2, 3)) > 0.5 for d in dtypes]

    def call(lib, functional, a, b):
        return getattr(functional, name)(a, b, reduction="sum")
    if (name,) + dtypes in REFUSED:
        with pytest.raises(NotImplementedError, match="not supported"):
            call(mt, F, *(mt.tensor(a) for a in arrays))
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = call(torch, tF, *(torch.tensor(a) for a in arrays))
    except Exception:  # noqa: BLE001 (torch's class is the specification)
        raises_as_torch(call, arrays)
        return
    ours = call(mt, F, *(mt.tensor(a) for a in arrays))
    assert _dtype_name(ours.dtype) == _dtype_name(expected.dtype)
    _close("value", ours.numpy().astype(np.float64), expected.double().numpy(), rtol=1e-3)


# ----- the reductions: the deprecated flags, kl_div's, over nothing --------------------------

LEGACY = [(None, False), (False, None), (True, False), (False, True), (True, None)]
LEGACY_CALLS = {
    "l1_loss": lambda f, a, b, **k: f.l1_loss(a, b, **k),
    "mse_loss": lambda f, a, b, **k: f.mse_loss(a, b, **k),
    "smooth_l1_loss": lambda f, a, b, **k: f.smooth_l1_loss(a, b, **k),
    "kl_div": lambda f, a, b, **k: f.kl_div(a, b.abs(), **k),
    "kl_div batchmean": lambda f, a, b, **k: f.kl_div(a, b.abs(), reduction="batchmean", **k),
    "poisson_nll_loss": lambda f, a, b, **k: f.poisson_nll_loss(a, b.abs(), **k),
    "soft_margin_loss": lambda f, a, b, **k: f.soft_margin_loss(a, b.sign(), **k),
    "hinge_embedding_loss": lambda f, a, b, **k: f.hinge_embedding_loss(a, b.sign(), **k),
    "margin_ranking_loss": lambda f, a, b, **k: f.margin_ranking_loss(a, b, b.sign(), **k),
    "cross_entropy": lambda f, a, b, **k: f.cross_entropy(a, b.abs().argmax(1), **k),
    "nll_loss": lambda f, a, b, **k: f.nll_loss(a, b.abs().argmax(1), **k),
    "binary_cross_entropy": lambda f, a, b, **k: f.binary_cross_entropy(
        a.sigmoid(), b.sigmoid(), **k),
    "binary_cross_entropy_with_logits": lambda f, a, b, **k:
        f.binary_cross_entropy_with_logits(a, b.sigmoid(), **k),
    "cosine_embedding_loss": lambda f, a, b, **k: f.cosine_embedding_loss(
        a, b, b[:, 0].sign(), **k),
}


@pytest.mark.parametrize("name", sorted(LEGACY_CALLS))
@pytest.mark.parametrize("size_average, reduce", LEGACY)
def test_the_deprecated_flags_choose_torchs_reduction_and_warn(name, size_average, reduce):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((3, 4)).astype(np.float32) for _ in range(2)]
    compare(lambda lib, f, a, b: LEGACY_CALLS[name](f, a, b, size_average=size_average,
                                                    reduce=reduce), arrays, grads=(0,))


@pytest.mark.parametrize("shape", [(2, 3), (4,), (), (0, 3)])
@pytest.mark.parametrize("reduction", ["batchmean", "mean", "sum", "none"])
def test_kl_div_reductions_and_the_mean_warning_match_torch(shape, reduction):
    rng = np.random.default_rng(2)
    x = np.log(rng.random(shape) + 0.1).astype(np.float32)
    p = rng.random(shape).astype(np.float32)
    with np.errstate(all="ignore"):
        compare(lambda lib, f, a, b: f.kl_div(a, b, reduction=reduction), [x, p])
        compare(lambda lib, f, a, b: nn_of(lib).KLDivLoss(reduction=reduction,
                                                          log_target=True)(a, b.log()), [x, p])


def nn_of(lib):
    return nn if lib is mt else torch.nn


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss",
                                  "kl_div", "poisson_nll_loss", "soft_margin_loss",
                                  "hinge_embedding_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_over_no_elements_match_torch(name, reduction):
    empty = np.zeros((0, 3), np.float32)
    with np.errstate(all="ignore"):
        compare(lambda lib, f, a, b: getattr(f, name)(a, b, reduction=reduction),
                [empty, empty], grads=(0,))


# ----- weights -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_an_elementwise_weight_is_torchs_with_its_gradient(name, reduction):
    rng = np.random.default_rng(3)
    x, y = (rng.standard_normal((2, 3)) for _ in range(2))
    w = rng.random((2, 3)) + 0.2
    compare(lambda lib, f, a, b, c: getattr(f, name)(a, b, reduction=reduction, weight=c),
            [x, y, w], grads=(0, 1, 2))
    # the weight has the input's shape; the target may broadcast
    compare(lambda lib, f, a, b, c: getattr(f, name)(a, b, reduction=reduction, weight=c),
            [x[0], y, w[0]], grads=(0, 1, 2)) if name != "huber_loss" else None
    raises_as_torch(lambda lib, f, a, b, c: getattr(f, name)(a, b, weight=c),
                    [x, y, w[0]])


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_a_bce_weight_of_another_dtype_keeps_the_inputs_dtype(name):
    rng = np.random.default_rng(4)
    x, y = rng.random((3, 2)).astype(np.float32), rng.random((3, 2)).astype(np.float32)
    w = rng.random((3, 2))  # float64
    compare(lambda lib, f, a, b, c: getattr(f, name)(a, b, weight=c), [x, y, w], grads=(0,))


# ----- bad calls ---------------------------------------------------------------------------

BAD_CALLS = {
    "l1 shapes do not broadcast": (lambda lib, f, a, b: f.l1_loss(a, b), [(2, 3), (2,)]),
    "mse shapes do not broadcast": (lambda lib, f, a, b: f.mse_loss(a, b), [(2, 3), (4,)]),
    "huber shapes do not broadcast": (lambda lib, f, a, b: f.huber_loss(a, b), [(3,), (2,)]),
    "kl shapes do not broadcast": (lambda lib, f, a, b: f.kl_div(a, b, reduction="sum"),
                                   [(2, 3), (2,)]),
    "poisson shapes do not broadcast": (lambda lib, f, a, b: f.poisson_nll_loss(a, b),
                                        [(2, 3), (2,)]),
    "l1 bad reduction": (lambda lib, f, a, b: f.l1_loss(a, b, reduction="avg"), [(2,), (2,)]),
    "kl bad reduction": (lambda lib, f, a, b: f.kl_div(a, b, reduction="avg"), [(2,), (2,)]),
    "poisson bad reduction": (lambda lib, f, a, b: f.poisson_nll_loss(a, b, reduction="x"),
                              [(2,), (2,)]),
    "smooth_l1 negative beta": (lambda lib, f, a, b: f.smooth_l1_loss(a, b, beta=-1.0),
                                [(2,), (2,)]),
    "huber zero delta": (lambda lib, f, a, b: f.huber_loss(a, b, delta=0.0), [(2,), (2,)]),
    "huber negative delta": (lambda lib, f, a, b: f.huber_loss(a, b, delta=-1.0),
                             [(2,), (2,)]),
    "soft margin target grows the input": (lambda lib, f, a, b: f.soft_margin_loss(a, b),
                                           [(3,), (2, 3)]),
    "soft margin target does not broadcast": (lambda lib, f, a, b: f.soft_margin_loss(a, b),
                                              [(2, 3), (2,)]),
    "margin ranking dims differ": (lambda lib, f, a, b: f.margin_ranking_loss(a, b, b[0]),
                                   [(2, 3), (2, 3)]),
    "margin ranking shapes do not broadcast": (
        lambda lib, f, a, b: f.margin_ranking_loss(a, b, b), [(2, 3), (2, 2)]),
    "cosine 2-D target": (lambda lib, f, a, b: f.cosine_embedding_loss(a, b, b),
                          [(2, 3), (2, 3)]),
    "cosine 1-D target, 1-D inputs": (
        lambda lib, f, a, b: f.cosine_embedding_loss(a[0], b[0], b[:, 0]), [(2, 3), (2, 3)]),
    "cosine 0-D target, 2-D inputs": (
        lambda lib, f, a, b: f.cosine_embedding_loss(a, b, b[0, 0]), [(2, 3), (2, 3)]),
    "cosine feature sizes differ": (
        lambda lib, f, a, b: f.cosine_embedding_loss(a, b, a[:, 0]), [(2, 3), (2, 2)]),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_calls_raise_the_class_torch_raises_and_name_the_op(case):
    call, shapes = BAD_CALLS[case]
    arrays = [np.ones(s, np.float32) for s in shapes]
    error = raises_as_torch(call, arrays)
    assert any(op in str(error) for op in ("l1_loss", "mse_loss", "huber_loss", "kl_div",
                                           "poisson_nll_loss", "smooth_l1_loss", "margin",
                                           "cosine_embedding_loss")), str(error)


def test_a_soft_margin_target_that_requires_grad_is_refused_as_torch():
    raises_as_torch(lambda lib, f, a, b: f.soft_margin_loss(a, b), [np.ones(3), np.ones(3)],
                    grads=(0, 1))
    with mt.no_grad():  # nothing to differentiate: both accept it
        F.soft_margin_loss(mt.ones(3), mt.ones(3, requires_grad=True))


def test_soft_margin_stays_finite_where_torchs_exp_overflows():
    """Deliberate: softplus(-y x) computed without overflow, where torch's log1p(exp(-y x))
    gives inf in float32 (and NaN gradients); equal to torch wherever torch is finite."""
    x = mt.tensor([-100.0, 100.0], requires_grad=True)
    loss = F.soft_margin_loss(x, mt.tensor([1.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [100.0, 0.0], atol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, 0.0], atol=1e-6)


# ----- the audit of cross_entropy, nll_loss and the binary losses ----------------------------

def _classes(lib, values):
    return lib.tensor(np.asarray(values), dtype=lib.int64)


UNBATCHED = [(name, options) for name in ("cross_entropy", "nll_loss")
             for options in ({}, {"weight": True}, {"ignore_index": 1})] + \
    [("cross_entropy", {"label_smoothing": 0.2})]


@pytest.mark.parametrize("name, options", UNBATCHED, ids=str)
def test_an_unbatched_input_with_a_target_of_shape_1_gives_a_0d_loss_as_torch(name, options):
    options = dict(options)
    x = np.random.default_rng(5).standard_normal(4).astype(np.float32)
    weight = np.linspace(0.5, 2, 4).astype(np.float32) if options.pop("weight", False) \
        else None

    def call(lib, f, a, target=(2,)):
        w = None if weight is None else lib.tensor(weight)
        return getattr(f, name)(a, _classes(lib, target), weight=w, reduction="none",
                                **options)
    if not options.get("label_smoothing"):  # (where torch's forward fails)
        compare(call, [x], grads=())  # (torch's backward fails: "size mismatch")
    # the gradient is the one of the 0-d target
    grads = []
    for target in ((2,), 2):
        leaf = mt.tensor(x, requires_grad=True)
        call(mt, F, leaf, target).backward(mt.tensor(1.5))
        grads.append(leaf.grad.numpy())
    np.testing.assert_array_equal(*grads)


@pytest.mark.parametrize("dtype", ["int64", "bool"])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_an_integer_input_is_refused_as_torch(name, dtype):
    error = raises_as_torch(lambda lib, f, a: getattr(f, name)(a, _classes(lib, [0, 1])),
                            [np.ones((2, 3), dtype)])
    assert isinstance(error, TypeError) and name in str(error)


@pytest.mark.parametrize("shape", [(2, 3, 2, 2), (1, 4, 3), (3, 2)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_of_k_dims_with_every_option_matches_torch(shape, reduction):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape).astype(np.float32)
    target = rng.integers(0, shape[1], shape[:1] + shape[2:])
    target.flat[0] = 1  # ignore_index 1: at least one target ignored
    weight = (rng.random(shape[1]) + 0.5).astype(np.float32)
    for options in ({"ignore_index": 1}, {"label_smoothing": 0.3, "ignore_index": 1},
                    {"size_average": False}, {"reduce": False}):
        compare(lambda lib, f, a, w: f.cross_entropy(a, _classes(lib, target), weight=w,
                                                     reduction=reduction, **options),
                [x, weight], grads=(0,))
        compare(lambda lib, f, a, w: f.nll_loss(a, _classes(lib, target), weight=w,
                                                reduction=reduction,
                                                **{k: v for k, v in options.items()
                                                   if k != "label_smoothing"}),
                [x, weight], grads=(0,))
    probabilities = rng.random(shape).astype(np.float32)
    compare(lambda lib, f, a, p, w: f.cross_entropy(a, p, weight=w, reduction=reduction,
                                                    label_smoothing=0.1),
            [x, probabilities, weight], grads=(0, 1, 2))


def test_the_binary_losses_differentiate_the_target_and_weights_as_torch():
    rng = np.random.default_rng(7)
    x, y, w = rng.standard_normal((3, 4)), rng.random((3, 4)), rng.random((3, 4)) + 0.1
    compare(lambda lib, f, a, b: f.binary_cross_entropy(a.sigmoid(), b), [x, y])
    compare(lambda lib, f, a, b, c, p: f.binary_cross_entropy_with_logits(
        a, b, weight=c, pos_weight=p), [x, y, w, w[0] * 2], grads=(0, 1))
    # torch has no gradient for the weights, and refuses weights that ask for one
    for grads in ((2,), (3,)):
        raises_as_torch(lambda lib, f, a, b, c, p: f.binary_cross_entropy_with_logits(
            a, b, weight=c, pos_weight=p), [x, y, w, w[0] * 2], grads=grads)
    raises_as_torch(lambda lib, f, a, b, c: f.binary_cross_entropy(a, b, weight=c),
                    [x * 0 + 0.5, y, w], grads=(2,))


# ----- the modules -------------------------------------------------------------------------

MODULES = {  # name -> (positional constructor arguments, number of inputs, target from z)
    "L1Loss": ((None, None, "sum"), 2, lambda z: z),
    "MSELoss": ((None, None, "none"), 2, lambda z: z),
    "SmoothL1Loss": ((None, None, "mean", 0.5), 2, lambda z: z),
    "HuberLoss": (("sum", 0.7), 2, lambda z: z),
    "KLDivLoss": ((None, None, "batchmean", True), 2, lambda z: z),
    "PoissonNLLLoss": ((False, True, None, 0.01, None, "sum"), 2, np.abs),
    "SoftMarginLoss": ((None, None, "none"), 2, np.sign),
    "HingeEmbeddingLoss": ((0.5, None, None, "sum"), 2, np.sign),
    "MarginRankingLoss": ((0.2, None, None, "none"), 3, np.sign),
    "CosineEmbeddingLoss": ((0.1, None, None, "mean"), 3, lambda z: np.sign(z[:, 0])),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_loss_modules_take_torchs_constructor_arguments_and_match_torch(name):
    args, inputs, target_of = MODULES[name]
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs) and ours.reduction == theirs.reduction
    rng = np.random.default_rng(8)
    x = np.abs(rng.standard_normal((3, 4))) + 0.1
    arrays = [x, rng.standard_normal((3, 4))][:inputs - 1] + \
        [target_of(rng.standard_normal((3, 4)))]
    compare(lambda lib, f, *a: (ours if lib is mt else theirs)(*a), arrays, grads=(0,))


@pytest.mark.parametrize("name", ["L1Loss", "MSELoss", "CrossEntropyLoss", "KLDivLoss",
                                  "BCELoss", "HingeEmbeddingLoss"])
def test_modules_take_the_deprecated_flags_and_refuse_a_bad_reduction_when_called(name):
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        ours = getattr(nn, name)(size_average=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ours.reduction == getattr(torch.nn, name)(size_average=False).reduction
    bad = getattr(nn, name)(reduction="avg")  # torch checks the reduction when called
    with pytest.raises(ValueError, match="reduction"):
        bad(mt.ones(2, 3) * 0.5, mt.zeros(2, dtype=mt.int64) if name == "CrossEntropyLoss"
            else mt.ones(2, 3) * 0.5)
