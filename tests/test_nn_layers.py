"""Every nn layer against its torch twin (same weights by name): forward, input gradient and
parameter gradients under a random upstream gradient, in train and eval mode, float32 and
float64; BatchNorm's running statistics step for step; Dropout against the mask our generator
draws; default initialisation; the Module API (names, sharing, state_dict, modes, zero_grad)
and a state_dict roundtrip through mt.save/mt.load.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_pairs as mt
from minitorch_pairs import nn
from torch_reference import torch
from twins import (assert_close, assert_grads_match, assert_state_matches, copy_torch_into_ours,
                   dropout_keep_mask, dropout_reference, make_twins)

# Tolerances, relative to the largest magnitude of the torch tensor compared (see
# twins.assert_close). float64: the same formulas summed in another order leave ~1e-16 per
# op; 1e-12 still catches any wrong term. float32: one layer, sums of <= a few hundred
# terms (BatchNorm's backward subtracts two such sums): measured worst 1.2e-6 over this file;
# 1e-5 allows for other BLAS/summation orders while a wrong term moves results by >1e-3.
RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}
# A whole model (conv, two training BatchNorms, tanh, linears): rounding compounds through the
# layers. Against the float64 result, our float32 gradients were off by at most 1.0e-5 and
# torch's by 3.5e-5 (relative, 10 seeds), so the two float32 sides differ by up to 5.5e-5
# while being equally accurate; float64 agreed to 7e-14.
MODEL_RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-4}
DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["float32", "float64"]


def run_both(ours, theirs, x: np.ndarray, rng, what="", tolerances=RTOL):
    """One forward and backward (random upstream gradient) through both twins; compares output,
    input gradient and every parameter gradient, then clears the gradients."""
    rtol = tolerances[x.dtype]
    xo, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert_close(yo.detach(), yt, rtol, f"{what}forward")
    upstream = rng.standard_normal(tuple(yt.shape)).astype(x.dtype)
    yo.backward(mt.tensor(upstream))
    yt.backward(torch.from_numpy(upstream))
    assert_close(xo.grad, xt.grad, rtol, f"{what}grad of input")
    assert_grads_match(ours, theirs, rtol, what)
    ours.zero_grad()
    theirs.zero_grad()


def train_then_eval(spec, shape, dtype, train_steps=3, seed=0, scale=2.0, shift=0.5,
                    tolerances=RTOL):
    """Several train-mode steps (moving any running statistics), the full state compared,
    then one eval-mode step."""
    ours, theirs = make_twins(spec, dtype, seed)
    rng = np.random.default_rng(seed)
    rtol = tolerances[np.dtype(dtype)]
    for step in range(train_steps):
        x = (rng.standard_normal(shape) * scale + shift).astype(dtype)
        run_both(ours.train(), theirs.train(), x, rng, f"train step {step}: ", tolerances)
    assert_state_matches(ours, theirs, rtol, "after training: ")
    x = (rng.standard_normal(shape) * scale + shift).astype(dtype)
    run_both(ours.eval(), theirs.eval(), x, rng, "eval: ", tolerances)
    assert_state_matches(ours, theirs, rtol, "after eval: ")
    return ours, theirs


LAYERS = {
    "Linear": (lambda f: f.Linear(6, 4), (5, 6)),
    "Linear 3-D input": (lambda f: f.Linear(6, 4), (2, 3, 6)),
    "Linear no bias": (lambda f: f.Linear(6, 4, bias=False), (5, 6)),
    "Conv2d": (lambda f: f.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 7, 6)),
    "Conv2d rect no bias": (lambda f: f.Conv2d(2, 3, (2, 3), padding=(1, 0), bias=False),
                            (2, 2, 5, 5)),
    "MaxPool2d": (lambda f: f.MaxPool2d(2), (2, 3, 6, 6)),
    "MaxPool2d overlap pad": (lambda f: f.MaxPool2d(3, stride=2, padding=1), (2, 3, 7, 7)),
    "AvgPool2d": (lambda f: f.AvgPool2d(2, stride=1), (2, 3, 5, 4)),
    "AvgPool2d pad": (lambda f: f.AvgPool2d(3, stride=2, padding=1), (2, 2, 6, 5)),
    "ReLU": (lambda f: f.ReLU(), (4, 5)),
    "Tanh": (lambda f: f.Tanh(), (4, 5)),
    "Sigmoid": (lambda f: f.Sigmoid(), (4, 5)),
    "SELU": (lambda f: f.SELU(), (4, 5)),
    "Flatten": (lambda f: f.Flatten(), (2, 3, 4, 5)),
    "Flatten dims": (lambda f: f.Flatten(0, 2), (2, 3, 4, 5)),
    "Identity": (lambda f: f.Identity(), (2, 3)),
    "BatchNorm1d": (lambda f: f.BatchNorm1d(5), (8, 5)),
    "BatchNorm1d 3-D": (lambda f: f.BatchNorm1d(3), (4, 3, 6)),
    "BatchNorm2d": (lambda f: f.BatchNorm2d(3), (4, 3, 5, 5)),
    # A bias right before a training-mode BatchNorm gets a gradient that is exactly zero in
    # exact arithmetic (the batch mean removes it), i.e. pure rounding noise on both sides:
    # no bias there, or a nonlinearity in between, as models do.
    "Sequential": (lambda f: f.Sequential(f.Conv2d(2, 4, 3, bias=False), f.BatchNorm2d(4),
                                          f.ReLU(), f.MaxPool2d(2), f.Flatten(),
                                          f.Linear(64, 8), f.Tanh(), f.BatchNorm1d(8),
                                          f.Linear(8, 3)),
                   (8, 2, 10, 10)),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", LAYERS)
def test_layer_matches_torch_forward_and_backward_in_train_and_eval(name, dtype):
    spec, shape = LAYERS[name]
    train_then_eval(spec, shape, dtype)


def test_relu_kink_and_max_pool_ties_route_gradients_as_torch():
    """Inputs with exact zeros and equal elements in every pooling window: torch sends relu's
    gradient at 0 to 0 and a tied max-pool window's gradient to the first maximum."""
    spec = lambda f: f.Sequential(f.ReLU(), f.MaxPool2d(2, stride=1))  # noqa: E731
    ours, theirs = make_twins(spec, np.float64)
    x = np.random.default_rng(0).integers(-1, 2, size=(2, 2, 5, 5)).astype(np.float64)
    run_both(ours, theirs, x, np.random.default_rng(1))


# ----- hypothesis over layer geometry ---------------------------------------------------

@st.composite
def conv_configs(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = tuple(draw(st.integers(max(1, k - 2 * p), 6)) for k, p in zip(kernel, padding))
    return dict(in_channels=draw(st.integers(1, 3)), out_channels=draw(st.integers(1, 4)),
                kernel_size=kernel, stride=(draw(st.integers(1, 2)), draw(st.integers(1, 2))),
                padding=padding, bias=draw(st.booleans())), (draw(st.integers(1, 3)),) + size


@given(conv_configs(), st.sampled_from(DTYPES))
def test_conv2d_layer_matches_torch_for_any_geometry(config, dtype):
    arguments, (batch, h, w) = config
    spec = lambda f: f.Conv2d(**arguments)  # noqa: E731
    ours, theirs = make_twins(spec, dtype)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, arguments["in_channels"], h, w)).astype(dtype)
    run_both(ours, theirs, x, rng)


@st.composite
def pool_configs(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    stride = draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    size = tuple(draw(st.integers(k, 7)) for k in kernel)
    return dict(kernel_size=kernel, stride=stride, padding=padding), size


@given(pool_configs(), st.sampled_from(["MaxPool2d", "AvgPool2d"]), st.sampled_from(DTYPES))
def test_pooling_layers_match_torch_for_any_geometry(config, layer, dtype):
    arguments, size = config
    spec = lambda f: getattr(f, layer)(**arguments)  # noqa: E731
    ours, theirs = make_twins(spec, dtype)
    rng = np.random.default_rng(0)
    run_both(ours, theirs, rng.standard_normal((2, 2) + size).astype(dtype), rng)


# ----- BatchNorm ---------------------------------------------------------------------------

BATCH_NORMS = {
    "1d 2-D input": (lambda f, **kw: f.BatchNorm1d(4, **kw), (6, 4)),
    "1d 3-D input": (lambda f, **kw: f.BatchNorm1d(4, **kw), (3, 4, 5)),
    "2d": (lambda f, **kw: f.BatchNorm2d(4, **kw), (3, 4, 3, 2)),
}
BATCH_NORM_OPTIONS = {
    "default": {},
    "momentum 0.5": dict(momentum=0.5),
    "momentum 1": dict(momentum=1.0),
    "momentum 0": dict(momentum=0.0),
    "cumulative average (momentum None)": dict(momentum=None),
    "eps 1e-2": dict(eps=1e-2),
    "affine False": dict(affine=False),
    "track_running_stats False": dict(track_running_stats=False),
    "no affine, no running stats": dict(affine=False, track_running_stats=False),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("options", BATCH_NORM_OPTIONS)
@pytest.mark.parametrize("kind", BATCH_NORMS)
def test_batch_norm_matches_torch_including_running_statistics(kind, options, dtype):
    """Five train steps on shifted, scaled inputs (running mean/var/num_batches_tracked are
    compared after each via the state), then eval mode: normalisation by the running
    statistics, or by the batch's when they are not tracked."""
    build, shape = BATCH_NORMS[kind]
    spec = lambda f: build(f, **BATCH_NORM_OPTIONS[options])  # noqa: E731
    ours, theirs = train_then_eval(spec, shape, dtype, train_steps=5, scale=3.0, shift=-1.5)
    if ours.track_running_stats:
        assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 5
        assert ours.num_batches_tracked.dtype == mt.int64
    else:
        assert "running_mean" not in ours.state_dict()


def test_batch_norm_eval_leaves_running_statistics_alone():
    ours, theirs = make_twins(lambda f: f.BatchNorm2d(3), np.float64)
    x = np.random.default_rng(0).standard_normal((4, 3, 2, 2))
    ours(mt.tensor(x))
    before = {k: v.numpy().copy() for k, v in ours.state_dict().items()}
    ours.eval()(mt.tensor(x * 5 + 2))
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(value.data, before[key], err_msg=key)


def test_batch_norm_rejects_wrong_input_rank_and_channels():
    with pytest.raises(ValueError, match="BatchNorm2d"):
        nn.BatchNorm2d(3)(mt.zeros(4, 3))
    with pytest.raises(ValueError, match="BatchNorm1d"):
        nn.BatchNorm1d(3)(mt.zeros(4, 3, 2, 2))
    with pytest.raises(ValueError, match="3 channels"):
        nn.BatchNorm1d(3)(mt.zeros(4, 5))


# ----- Dropout -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_in_training_multiplies_by_the_mask_our_generator_draws(p, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3, 5)).astype(dtype)
    layer = nn.Dropout(p)
    mt.manual_seed(3)
    state = mt.get_rng_state()
    xo = mt.tensor(x, requires_grad=True)
    y = layer(xo)
    keep = dropout_keep_mask(state, x.shape, p)
    assert y.dtype == x.dtype
    np.testing.assert_array_equal(y.detach().numpy(), dropout_reference(x, keep, p))
    upstream = rng.standard_normal(x.shape).astype(dtype)
    y.backward(mt.tensor(upstream))
    np.testing.assert_array_equal(xo.grad.data, dropout_reference(upstream, keep, p))
    # the next call draws a fresh mask, from where the generator now stands
    state = mt.get_rng_state()
    again = layer(mt.tensor(x)).numpy()
    np.testing.assert_array_equal(again, dropout_reference(x, dropout_keep_mask(state, x.shape,
                                                                                p), p))
    assert not np.array_equal(again, y.detach().numpy())


def test_dropout_drops_a_fraction_p_and_keeps_the_mean():
    mt.manual_seed(0)
    y = nn.Dropout(0.3)(mt.ones(200_000)).numpy()
    dropped = (y == 0).mean()
    # binomial: standard error sqrt(0.3 * 0.7 / 2e5) = 1e-3; 5e-3 is five of them
    assert abs(dropped - 0.3) < 5e-3
    assert abs(y.mean() - 1.0) < 5e-3 / 0.7
    np.testing.assert_allclose(np.unique(y), [0.0, np.float32(1 / 0.7)])


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_dropout_edge_probabilities_and_eval_match_torch(dtype):
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(dtype)
    for p, training in [(0.0, True), (1.0, True), (0.5, False), (1.0, False)]:
        ours, theirs = nn.Dropout(p).train(training), torch.nn.Dropout(p).train(training)
        state = mt.get_rng_state()
        xo, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        # deterministic cases: torch's result does not depend on its generator
        np.testing.assert_array_equal(yo.detach().numpy(), yt.detach().numpy(),
                                      err_msg=f"p={p} training={training}")
        upstream = np.arange(20, dtype=dtype).reshape(4, 5) + 1
        yo.backward(mt.tensor(upstream))
        yt.backward(torch.from_numpy(upstream))
        np.testing.assert_array_equal(xo.grad.data, xt.grad.numpy())
        if not training or p == 0:
            assert mt.get_rng_state() == state, "an identity dropout should draw nothing"


def test_dropout_rejects_bad_probabilities():
    for p in (-0.1, 1.5, "0.5"):
        with pytest.raises(ValueError, match="Dropout"):
            nn.Dropout(p)


# ----- losses ------------------------------------------------------------------------------

def loss_inputs(name, dtype, rng):
    logits = rng.standard_normal((6, 4)).astype(dtype) * 2
    if name in ("CrossEntropyLoss", "NLLLoss"):
        target = rng.integers(0, 4, 6)
        if name == "NLLLoss":
            logits = torch.log_softmax(torch.from_numpy(logits), 1).numpy()
        return logits, target, torch.from_numpy(target)
    target = rng.uniform(0, 1, (6, 4)).astype(dtype)
    return logits, target, torch.from_numpy(target)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss",
                                  "MSELoss"])
def test_loss_modules_match_torch(name, reduction, dtype):
    rng = np.random.default_rng(0)
    x, target, target_t = loss_inputs(name, dtype, rng)
    ours, theirs = getattr(nn, name)(reduction=reduction), \
        getattr(torch.nn, name)(reduction=reduction)
    xo, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo, lt = ours(xo, mt.tensor(target)), theirs(xt, target_t)
    rtol = RTOL[np.dtype(dtype)]
    assert_close(lo.detach(), lt, rtol, "forward")
    upstream = rng.standard_normal(tuple(lt.shape)).astype(dtype)
    lo.backward(mt.tensor(upstream))
    lt.backward(torch.from_numpy(upstream))
    assert_close(xo.grad, xt.grad, rtol, "grad of input")


# ----- initialisation ----------------------------------------------------------------------

def uniform_ks_distance(values: np.ndarray, bound: float) -> float:
    """Kolmogorov-Smirnov distance between the sample and U(-bound, bound)."""
    ordered = np.sort(values.ravel())
    cdf = (ordered + bound) / (2 * bound)
    n = ordered.size
    return max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))


@pytest.mark.parametrize("spec,fan_in", [
    (lambda f: f.Linear(400, 300), 400),
    (lambda f: f.Conv2d(16, 40, 5), 16 * 25),
    (lambda f: f.Conv2d(3, 200, (2, 3)), 3 * 6),
], ids=["Linear", "Conv2d", "Conv2d rect"])
def test_default_init_is_torchs_uniform(spec, fan_in):
    """torch's Linear/Conv2d reset: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), +) for the
    weight, the same bound for the bias."""
    mt.manual_seed(0)
    ours, theirs = spec(nn), spec(torch.nn)
    bound = 1 / np.sqrt(fan_in)
    for name in ("weight", "bias"):
        ours_values = getattr(ours, name).detach().numpy()
        their_values = getattr(theirs, name).detach().numpy()
        assert ours_values.dtype == np.float32 and ours_values.shape == their_values.shape
        assert np.abs(ours_values).max() <= np.float32(bound), name
        # both samples fill the same interval: their extremes lie near the bound
        assert np.abs(ours_values).max() > bound * (1 - 20 / ours_values.size), name
    weight = ours.weight.detach().numpy().astype(np.float64)
    n = weight.size
    # variance of U(-b, b) is b^2/3; the estimate's relative standard error is
    # sqrt(4/45/n) * 3 (<= 0.2% here for n >= 3600): 3% is many standard errors, while
    # torch's old 1/fan_in-style bounds or a normal init would be far off.
    np.testing.assert_allclose(weight.var(), bound ** 2 / 3, rtol=max(0.03, 10 * np.sqrt(0.8 / n)))
    np.testing.assert_allclose(weight.var(), theirs.weight.detach().numpy().var(), rtol=0.05)
    # KS at the 0.1% level: 1.95 / sqrt(n)
    assert uniform_ks_distance(weight, bound) < 1.95 / np.sqrt(n)
    assert abs(weight.mean()) < 4 * bound / np.sqrt(3 * n)  # four standard errors


def test_init_draws_from_the_seeded_generator():
    mt.manual_seed(7)
    a = nn.Linear(5, 3)
    mt.manual_seed(7)
    b = nn.Linear(5, 3)
    c = nn.Linear(5, 3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(b.weight.data, c.weight.data)


@pytest.mark.parametrize("layer", [nn.BatchNorm1d, nn.BatchNorm2d])
def test_batch_norm_starts_at_identity_with_torchs_buffers(layer):
    ours, theirs = layer(4), getattr(torch.nn, layer.__name__)(4)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[name].data, value.numpy(), err_msg=name)
        assert ours.state_dict()[name].dtype == value.numpy().dtype, name
    assert (ours.eps, ours.momentum) == (theirs.eps, theirs.momentum)


def test_layers_accept_a_float64_dtype():
    assert nn.Linear(3, 2, dtype=mt.float64).weight.dtype == mt.float64
    assert nn.Conv2d(1, 2, 3, dtype=mt.float64).bias.dtype == mt.float64
    bn = nn.BatchNorm2d(2, dtype=mt.float64)
    assert bn.weight.dtype == bn.running_var.dtype == mt.float64
    assert bn.num_batches_tracked.dtype == mt.int64


# ----- the Module API ----------------------------------------------------------------------

def net_spec(f):
    """A custom Module subclass with nested containers, built from either namespace."""

    class Net(f.Module):
        def __init__(self):
            super().__init__()
            # no bias right before a training-mode BatchNorm: its exact gradient is zero
            self.features = f.Sequential(f.Conv2d(2, 4, 3, padding=1, bias=False),
                                         f.BatchNorm2d(4), f.ReLU(), f.MaxPool2d(2))
            # BatchNorm1d after a Tanh, not right after the ReLU/max-pool path or a piecewise
            # linear SELU: a training BatchNorm1d is invariant to scale and shift of its input,
            # so through a (piecewise) linear path the BatchNorm2d weight's and fc bias's exact
            # gradients are ~0 (eps-sized) and comparing them compares rounding noise.
            self.head = f.Sequential(OrderedDict([("fc", f.Linear(4 * 3 * 3, 5)),
                                                  ("act", f.Tanh()),
                                                  ("norm", f.BatchNorm1d(5))]))
            self.out = f.Linear(5, 2)
            self.drop = f.Dropout(0.0)

        def forward(self, x):
            return self.out(self.drop(self.head(self.features(x).flatten(1))))

    return Net()


def test_parameter_buffer_and_state_names_and_order_equal_torchs():
    ours, theirs = make_twins(net_spec)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 9
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert all(isinstance(p, nn.Parameter) for p in ours.parameters())


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_custom_module_matches_torch_in_train_and_eval(dtype):
    train_then_eval(net_spec, (4, 2, 6, 6), dtype, tolerances=MODEL_RTOL)


def shared_weight_spec(f):
    class Tied(f.Module):
        def __init__(self):
            super().__init__()
            self.a = f.Linear(3, 3)
            self.b = f.Linear(3, 3)
            self.b.weight = self.a.weight  # tied weights, separate biases
            self.act = f.Tanh()

        def forward(self, x):
            return self.b(self.act(self.a(x)))

    return Tied()


def shared_module_spec(f):
    class Siamese(f.Module):
        def __init__(self):
            super().__init__()
            self.left = f.Linear(4, 2)
            self.right = self.left
            self.top = f.Linear(2, 1)

        def forward(self, x):
            return self.top(self.left(x) * self.right(x * 2))

    return Siamese()


@pytest.mark.parametrize("spec,unique", [(shared_weight_spec, 3), (shared_module_spec, 4)],
                         ids=["tied weight", "shared module"])
def test_shared_parameters_are_listed_once_and_accumulate_gradient(spec, unique):
    ours, theirs = make_twins(spec, np.float64)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert len(list(ours.parameters())) == unique
    # state_dict keeps every name, shared or not, as torch's does
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 3 if unique == 3 else 4))
    run_both(ours, theirs, x, np.random.default_rng(1))


def test_train_and_eval_propagate_and_return_the_module():
    model = net_spec(nn)
    assert model.eval() is model
    assert [m.training for m in model.modules()] == [False] * len(list(model.modules()))
    assert model.train() is model
    assert all(m.training for m in model.modules())
    model.head.eval()
    assert model.training and not model.head.norm.training and model.features[1].training
    assert model.train(False) is model and not model.features[1].training


def test_zero_grad_clears_or_zeroes_every_gradient():
    model = net_spec(nn)
    model(mt.randn(3, 2, 6, 6)).sum().backward()
    assert all(p.grad is not None and p.grad.numpy().any() for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_requires_grad_freezes_and_unfreezes_every_parameter():
    model = net_spec(nn)
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    out = model(mt.randn(3, 2, 6, 6))
    assert not out.requires_grad and out.grad_fn is None  # a frozen model records no graph
    model.head.requires_grad_(True)
    assert [n for n, p in model.named_parameters() if p.requires_grad] == \
        ["head.fc.weight", "head.fc.bias", "head.norm.weight", "head.norm.bias"]


def test_load_state_dict_checks_names_and_shapes():
    mt.manual_seed(0)
    source, target = net_spec(nn), net_spec(nn)
    state = source.state_dict()
    del state["out.bias"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "out.bias"'):
        target.load_state_dict(state)
    state = source.state_dict()
    state["head.extra"] = mt.zeros(1)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "head.extra"'):
        target.load_state_dict(state)
    state = source.state_dict()
    state["features.0.weight"] = mt.zeros(4, 2, 2, 2)
    with pytest.raises(RuntimeError, match=r"size mismatch for features.0.weight: copying a "
                                           r"param with shape torch.Size\(\[4, 2, 2, 2\]\) "
                                           r"from checkpoint, the shape in current model is "
                                           r"torch.Size\(\[4, 2, 3, 3\]\)"):
        target.load_state_dict(state)
    # strict=False loads what is there and leaves the rest
    state = source.state_dict()
    del state["out.bias"]
    kept = target.out.bias.detach().numpy().copy()
    result = target.load_state_dict(state, strict=False)
    assert result.missing_keys == ["out.bias"] and result.unexpected_keys == []
    np.testing.assert_array_equal(target.out.weight.data, source.out.weight.data)
    np.testing.assert_array_equal(target.out.bias.data, kept)


def test_state_loaded_from_torch_gives_torchs_outputs():
    ours, theirs = net_spec(nn), net_spec(torch.nn)
    x = np.random.default_rng(0).standard_normal((4, 2, 6, 6)).astype(np.float32)
    theirs(torch.from_numpy(x))  # move torch's running statistics off their start
    copy_torch_into_ours(theirs, ours)
    assert_state_matches(ours, theirs, 0.0)
    ours.eval(), theirs.eval()
    assert_close(ours(mt.tensor(x)), theirs(torch.from_numpy(x)), RTOL[np.dtype(np.float32)],
                 "eval forward")


def test_state_dict_roundtrip_through_save_and_load(tmp_path):
    mt.manual_seed(1)
    model = net_spec(nn)
    for _ in range(3):  # move the running statistics and num_batches_tracked
        model(mt.randn(4, 2, 6, 6))
    mt.save(model.state_dict(), tmp_path / "net.npz")
    loaded = mt.load(tmp_path / "net.npz")
    assert list(loaded) == list(model.state_dict())
    mt.manual_seed(2)
    clone = net_spec(nn)
    clone.load_state_dict(loaded)
    for name, value in model.state_dict().items():
        assert clone.state_dict()[name].dtype == value.dtype, name
        np.testing.assert_array_equal(clone.state_dict()[name].data, value.data, err_msg=name)
    assert clone.features[1].num_batches_tracked.item() == 3
    x = mt.randn(2, 2, 6, 6)
    np.testing.assert_array_equal(model.eval()(x).detach().numpy(),
                                  clone.eval()(x).detach().numpy())


def test_state_dict_tensors_are_detached_and_share_memory_like_torchs():
    model = nn.Linear(3, 2)
    state = model.state_dict()
    assert not state["weight"].requires_grad
    state["weight"].data[0, 0] = 42.0
    assert model.weight.data[0, 0] == 42.0


def test_reassigning_a_parameter_or_buffer_keeps_its_kind_and_place_like_torch():
    def spec(f):
        layer = f.BatchNorm1d(3)
        layer.weight = f.Parameter(layer.weight.detach() * 2)
        layer.running_mean = layer.running_mean + 1  # a plain tensor: stays a buffer
        return layer

    ours, theirs = spec(nn), spec(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    np.testing.assert_array_equal(ours.running_mean.data, np.ones(3, np.float32))
    np.testing.assert_array_equal(ours.weight.data, np.full(3, 2, np.float32))


def test_sequential_behaves_like_a_list_and_names_like_torch():
    spec = lambda f: f.Sequential(OrderedDict([("conv", f.Conv2d(1, 2, 3)),  # noqa: E731
                                               ("act", f.ReLU())]))
    ours, theirs = make_twins(spec)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["conv.weight",
                                                                    "conv.bias"]
    assert len(ours) == 2 and isinstance(ours[0], nn.Conv2d) and isinstance(ours[-1], nn.ReLU)
    assert [type(m).__name__ for m in ours] == ["Conv2d", "ReLU"]
    with pytest.raises(TypeError, match="Sequential"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_module_double_casts_parameters_and_buffers_but_not_counters():
    model = net_spec(nn).double()
    for name, value in model.state_dict().items():
        expected = mt.int64 if name.endswith("num_batches_tracked") else mt.float64
        assert value.dtype == expected, name
    assert model(mt.randn(2, 2, 6, 6, dtype=mt.float64)).dtype == mt.float64
