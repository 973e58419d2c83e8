"""nn.init against torch.nn.init: calculate_gain for every nonlinearity, the fans, the
deterministic fills (constant, eye, dirac with groups) exactly, the random ones by their
statistics (mean, std and bounds of large tensors against torch's own samples, within
sampling error; orthogonality to 1e-5), in place under no_grad with the tensor returned,
reproducible from a generator, and torch's exception classes for bad calls."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minitorch_pairs as mt
from minitorch_pairs.nn import init
from torch_reference import torch

tinit = torch.nn.init
SHAPE = (400, 500)  # 200,000 draws: a mean's standard error is 0.0022 std


def _both(fill, shape=SHAPE, dtype="float32"):
    """fill(init module, tensor) on a fresh tensor of each framework; their values."""
    ours = mt.zeros(*shape, dtype=dtype)
    theirs = torch.zeros(*shape, dtype=getattr(torch, dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fill(init, ours)
        fill(tinit, theirs)
    return ours.numpy().astype(np.float64), theirs.numpy().astype(np.float64)


def assert_same_distribution(ours, theirs, bounded: bool = False) -> None:
    """Mean and std equal within sampling error (5 standard errors; std to 2%); with
    `bounded`, the extremes (which approach the bounds) within 0.5%."""
    std = max(theirs.std(), 1e-12)
    tolerance = 5 * std * math.sqrt(2 / ours.size)
    assert abs(ours.mean() - theirs.mean()) < tolerance, (ours.mean(), theirs.mean())
    assert abs(ours.std() / std - 1) < 0.02, (ours.std(), std)
    if bounded:
        for ours_end, theirs_end in ((ours.min(), theirs.min()), (ours.max(), theirs.max())):
            assert abs(ours_end - theirs_end) <= 5e-3 * max(abs(theirs_end), std)


# ----- calculate_gain and the fans -------------------------------------------------------

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh", "relu",
                  "leaky_relu", "selu"]


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_of_every_nonlinearity_is_torchs(nonlinearity):
    assert init.calculate_gain(nonlinearity) == tinit.calculate_gain(nonlinearity)
    assert init.calculate_gain(nonlinearity, 0.3) == tinit.calculate_gain(nonlinearity, 0.3)


@given(slope=st.one_of(st.floats(-10, 10), st.integers(-5, 5)))
def test_leaky_relu_gain_takes_its_slope_as_torch(slope):
    assert init.calculate_gain("leaky_relu", slope) == tinit.calculate_gain("leaky_relu", slope)


@pytest.mark.parametrize("args", [("leaky_relu", True), ("leaky_relu", "0.1"), ("bogus",),
                                  ("ReLU",)], ids=str)
def test_calculate_gain_refuses_what_torch_refuses(args):
    with pytest.raises(ValueError):
        tinit.calculate_gain(*args)
    with pytest.raises(ValueError, match="calculate_gain"):
        init.calculate_gain(*args)


@given(shape=st.lists(st.integers(0, 5), min_size=2, max_size=5).map(tuple))
def test_fan_in_and_fan_out_are_torchs(shape):
    expected = tinit._calculate_fan_in_and_fan_out(torch.zeros(shape))
    assert init.fan_in_and_fan_out(mt.zeros(*shape)) == expected
    assert init._calculate_fan_in_and_fan_out(mt.zeros(*shape)) == expected


# ----- the deterministic fills -------------------------------------------------------------

DETERMINISTIC = {
    "constant_": ((3, 4), lambda i, t: i.constant_(t, 2.5)),
    "ones_": ((3, 4), lambda i, t: i.ones_(t)),
    "zeros_": ((3, 4), lambda i, t: i.zeros_(t)),
    "eye_ wide": ((3, 5), lambda i, t: i.eye_(t)),
    "eye_ tall": ((5, 2), lambda i, t: i.eye_(t)),
    "dirac_ 3-D": ((4, 3, 5), lambda i, t: i.dirac_(t)),
    "dirac_ 4-D": ((2, 4, 3, 2), lambda i, t: i.dirac_(t)),
    "dirac_ 5-D": ((3, 3, 3, 2, 3), lambda i, t: i.dirac_(t)),
    "dirac_ groups": ((6, 2, 3, 3), lambda i, t: i.dirac_(t, groups=3)),
    "dirac_ groups, fewer inputs": ((4, 1, 3), lambda i, t: i.dirac_(t, groups=2)),
}


@pytest.mark.parametrize("case", sorted(DETERMINISTIC))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_deterministic_fills_equal_torchs(case, dtype):
    shape, fill = DETERMINISTIC[case]
    ours, theirs = _both(fill, shape, dtype)
    np.testing.assert_array_equal(ours, theirs)


# ----- the random fills --------------------------------------------------------------------

RANDOM = {
    "uniform_": (lambda i, t: i.uniform_(t), True),
    "uniform_ (a, b)": (lambda i, t: i.uniform_(t, -3.0, 0.5), True),
    "normal_": (lambda i, t: i.normal_(t), False),
    "normal_ (mean, std)": (lambda i, t: i.normal_(t, 2.0, 0.1), False),
    "xavier_uniform_": (lambda i, t: i.xavier_uniform_(t), True),
    "xavier_uniform_ gain": (lambda i, t: i.xavier_uniform_(t, gain=2.5), True),
    "xavier_normal_ gain": (lambda i, t: i.xavier_normal_(t, gain=0.5), False),
    "kaiming_uniform_": (lambda i, t: i.kaiming_uniform_(t), True),
    "kaiming_uniform_ a=sqrt(5)": (lambda i, t: i.kaiming_uniform_(t, a=math.sqrt(5)), True),
    "kaiming_uniform_ fan_out relu": (
        lambda i, t: i.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"), True),
    "kaiming_normal_": (lambda i, t: i.kaiming_normal_(t), False),
    "kaiming_normal_ fan_out tanh": (
        lambda i, t: i.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh"), False),
    "kaiming_normal_ leaky 0.2 selu": (
        lambda i, t: i.kaiming_normal_(t, a=0.2, nonlinearity="selu"), False),
    # (its bounds: test_trunc_normal_stays_inside_its_bounds_in_every_dtype)
    "trunc_normal_": (lambda i, t: i.trunc_normal_(t), False),
    "trunc_normal_ narrow (uniform proposals)": (
        lambda i, t: i.trunc_normal_(t, mean=0.0, std=1.0, a=1.0, b=3.0), False, (200, 100)),
    "trunc_normal_ small std": (lambda i, t: i.trunc_normal_(t, mean=0.5, std=0.02), False),
    "trunc_normal_ one-sided": (
        lambda i, t: i.trunc_normal_(t, mean=0.0, std=2.0, a=-1.0, b=10.0), False),
}


@pytest.mark.parametrize("case", sorted(RANDOM))
def test_random_fills_have_torchs_distribution(case):
    fill, bounded, *shape = RANDOM[case]  # (torch's uniform proposals are slow: fewer)
    ours, theirs = _both(fill, *shape)
    assert_same_distribution(ours, theirs, bounded)


@pytest.mark.parametrize("shape", [(100, 2000), (30, 40, 5, 5)], ids=str)
def test_kaiming_and_xavier_use_the_fans_of_conv_weights(shape):
    for fill in (lambda i, t: i.kaiming_normal_(t, mode="fan_out"),
                 lambda i, t: i.xavier_uniform_(t)):
        assert_same_distribution(*_both(fill, shape))


@pytest.mark.parametrize("bounds", [(-2.0, 2.0), (1.0, 3.0), (-0.5, 0.25)])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_trunc_normal_stays_inside_its_bounds_in_every_dtype(bounds, dtype):
    a, b = bounds
    t = init.trunc_normal_(mt.zeros(50_000, dtype=dtype), mean=0.3, std=1.5, a=a, b=b)
    values = t.numpy()
    assert t.dtype == np.dtype(dtype)
    assert values.min() >= np.dtype(dtype).type(a) and values.max() <= np.dtype(dtype).type(b)


def test_trunc_normal_warns_as_torch_when_the_mean_is_far_outside():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(mt.zeros(100), mean=5.0, std=1.0, a=-1.0, b=1.0)


@pytest.mark.parametrize("shape", [(3, 7), (7, 3), (5, 5), (6, 2, 3, 3), (4, 1)], ids=str)
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_gives_orthonormal_rows_or_columns_times_the_gain(shape, gain):
    t = init.orthogonal_(mt.zeros(*shape), gain=gain)
    assert t.shape == shape and t.dtype == mt.float32
    q = t.numpy().reshape(shape[0], -1).astype(np.float64) / gain
    small = q @ q.T if q.shape[0] <= q.shape[1] else q.T @ q
    np.testing.assert_allclose(small, np.eye(small.shape[0]), atol=1e-5)


def test_orthogonal_is_uniform_over_signs_as_torch():
    """The sign fix makes Q Haar-distributed: a diagonal entry of a square Q has mean 0."""
    diagonals = np.array([np.diag(init.orthogonal_(mt.zeros(4, 4, dtype=mt.float64)).numpy())
                          for _ in range(400)])
    assert abs(diagonals.mean()) < 0.1


@pytest.mark.parametrize("sparsity", [0.1, 0.5, 0.95])
def test_sparse_zeroes_a_fraction_of_each_column_as_torch(sparsity):
    ours, theirs = _both(lambda i, t: i.sparse_(t, sparsity, std=0.3), (200, 50))
    np.testing.assert_array_equal((ours == 0).sum(axis=0), (theirs == 0).sum(axis=0))
    assert abs(ours[ours != 0].std() / 0.3 - 1) < 0.05


# ----- in place, outside the graph, from a generator ---------------------------------------

FILLS = {
    "uniform_": lambda t, g: init.uniform_(t, -1, 1, generator=g),
    "normal_": lambda t, g: init.normal_(t, 0, 2, generator=g),
    "trunc_normal_": lambda t, g: init.trunc_normal_(t, generator=g),
    "xavier_uniform_": lambda t, g: init.xavier_uniform_(t, generator=g),
    "xavier_normal_": lambda t, g: init.xavier_normal_(t, generator=g),
    "kaiming_uniform_": lambda t, g: init.kaiming_uniform_(t, generator=g),
    "kaiming_normal_": lambda t, g: init.kaiming_normal_(t, generator=g),
    "orthogonal_": lambda t, g: init.orthogonal_(t, generator=g),
    "sparse_": lambda t, g: init.sparse_(t, 0.5, generator=g),
    "constant_": lambda t, g: init.constant_(t, 0.5),
    "ones_": lambda t, g: init.ones_(t),
    "zeros_": lambda t, g: init.zeros_(t),
    "eye_": lambda t, g: init.eye_(t),
}


@pytest.mark.parametrize("name", sorted(FILLS))
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_a_fill_changes_the_tensor_in_place_outside_the_graph_and_returns_it(name, dtype):
    parameter = mt.nn.Parameter(mt.full((6, 4), 7.0, dtype=dtype))
    version = parameter._version
    out = FILLS[name](parameter, mt.Generator())  # grad mode on: init is under no_grad
    assert out is parameter and out.shape == (6, 4) and out.dtype == np.dtype(dtype)
    assert out.requires_grad and out.grad_fn is None and out.is_leaf
    assert out._version == version + 1 and not np.any(out.detach().numpy() == 7.0)


@pytest.mark.parametrize("name", sorted(set(FILLS) - {"constant_", "ones_", "zeros_",
                                                        "eye_"}))
def test_a_generator_makes_random_fills_reproducible(name):
    def draw(generator):
        return FILLS[name](mt.zeros(6, 4), generator).numpy()
    first, again = draw(mt.Generator().manual_seed(3)), draw(mt.Generator().manual_seed(3))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, draw(mt.Generator().manual_seed(4)))
    np.testing.assert_array_equal(  # a NumPy Generator works too
        draw(np.random.default_rng(5)), draw(np.random.default_rng(5)))
    mt.manual_seed(11)
    default = draw(None)
    mt.manual_seed(11)
    np.testing.assert_array_equal(default, draw(None))


# ----- bad calls ---------------------------------------------------------------------------

BAD_CALLS = {
    "uniform_ of int64": lambda lib, i: i.uniform_(lib.zeros(3, dtype=lib.int64)),
    "normal_ of bool": lambda lib, i: i.normal_(lib.zeros(3, dtype=lib.bool)),
    "trunc_normal_ of int64": lambda lib, i: i.trunc_normal_(lib.zeros(3, dtype=lib.int64)),
    "xavier_uniform_ of int64": lambda lib, i: i.xavier_uniform_(
        lib.zeros(3, 2, dtype=lib.int64)),
    "kaiming_normal_ of int64": lambda lib, i: i.kaiming_normal_(
        lib.zeros(3, 2, dtype=lib.int64)),
    "orthogonal_ of int64": lambda lib, i: i.orthogonal_(lib.zeros(3, 2, dtype=lib.int64)),
    "uniform_ a > b": lambda lib, i: i.uniform_(lib.zeros(3), 2.0, 1.0),
    "normal_ std < 0": lambda lib, i: i.normal_(lib.zeros(3), 0.0, -1.0),
    "trunc_normal_ a > b": lambda lib, i: i.trunc_normal_(lib.zeros(3), 0.0, 1.0, 2.0, 1.0),
    "xavier_uniform_ of 1 dim": lambda lib, i: i.xavier_uniform_(lib.zeros(3)),
    "xavier_normal_ of 0 dims": lambda lib, i: i.xavier_normal_(lib.zeros(())),
    "xavier_uniform_ of (0, 0)": lambda lib, i: i.xavier_uniform_(lib.zeros(0, 0)),
    "kaiming_uniform_ of 1 dim": lambda lib, i: i.kaiming_uniform_(lib.zeros(3)),
    "kaiming_normal_ bad mode": lambda lib, i: i.kaiming_normal_(lib.zeros(3, 3), mode="fan"),
    "kaiming_normal_ bad nonlinearity": lambda lib, i: i.kaiming_normal_(
        lib.zeros(3, 3), nonlinearity="swish"),
    "eye_ of 3 dims": lambda lib, i: i.eye_(lib.zeros(2, 2, 2)),
    "dirac_ of 2 dims": lambda lib, i: i.dirac_(lib.zeros(2, 2)),
    "dirac_ groups do not divide": lambda lib, i: i.dirac_(lib.zeros(3, 2, 3), groups=2),
    "orthogonal_ of 1 dim": lambda lib, i: i.orthogonal_(lib.zeros(3)),
    "sparse_ of 3 dims": lambda lib, i: i.sparse_(lib.zeros(2, 2, 2), 0.5),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_calls_raise_the_class_torch_raises(case):
    with pytest.raises(Exception) as theirs:
        BAD_CALLS[case](torch, tinit)
    with pytest.raises(type(theirs.value)):
        BAD_CALLS[case](mt, init)


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_of_no_elements_warns_and_does_nothing_as_torch(name):
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        out = getattr(init, name)(mt.zeros(0, 3))
    assert out.shape == (0, 3)
    for empty in (mt.zeros(0, 3), mt.zeros(3, 0)):  # the others fill nothing, silently
        assert init.xavier_normal_(empty).shape == init.orthogonal_(empty).shape


@pytest.mark.parametrize("old", ["uniform", "normal", "constant", "eye", "dirac",
                                 "xavier_uniform", "xavier_normal", "kaiming_uniform",
                                 "kaiming_normal", "orthogonal", "sparse"])
def test_the_deprecated_names_warn_as_torch_and_fill(old):
    args = {"constant": (0.5,), "sparse": (0.5,)}.get(old, ())
    shape = (3, 2, 3) if old == "dirac" else (4, 3)
    with pytest.warns(FutureWarning, match=f"nn.init.{old}_"):
        out = getattr(init, old)(mt.zeros(*shape), *args)
    assert out.shape == shape


@pytest.mark.skipif(not mt.cuda.is_available(), reason="no CUDA device and no simulator")
def test_fills_of_a_device_tensor_stay_on_the_device():
    for name, fill in sorted(FILLS.items()):
        t = mt.zeros(6, 4).to("cuda")
        assert fill(t, mt.Generator().manual_seed(0)) is t and t.device == "cuda", name
        expected = fill(mt.zeros(6, 4), mt.Generator().manual_seed(0))
        np.testing.assert_array_equal(t.cpu().numpy(), expected.numpy(), err_msg=name)
