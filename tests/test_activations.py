"""The activations (F.leaky_relu, elu, gelu, silu, softplus, hardtanh, relu6, and relu, selu,
softmax, log_softmax) and their modules against torch: values and gradients on
hypothesis-drawn shapes and arguments through the modules (inplace=True too), the kinks,
infinities and NaN by explicit values, in-place semantics (the same tensor, its version,
torch's errors), argument and dtype errors by class, and the device (CUDA, or numba's
simulator) against the CPU. The ops' float64 finite-difference and float32 torch checks on
drawn inputs are the op_cases entries (test_op_parity.py, test_cuda_ops.py)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from minitorch_pairs import nn
from minitorch_pairs.ops.normal_cdf import normal_cdf_by_polynomial
from torch_reference import torch

TF = torch.nn.functional
# float64, the same formula: rounding only; float32 against torch's kernels: a few ulps
RTOL = {np.float64: 1e-12, np.float32: 2e-6}
ON_DEVICE = pytest.mark.skipif(not mt.cuda.is_available(),
                               reason="no CUDA device and no simulator")

# name -> (module arguments drawn for both frameworks, in-place allowed)
MODULES = {
    "ReLU": (st.fixed_dictionaries({}), True),
    "LeakyReLU": (st.fixed_dictionaries({"negative_slope": st.sampled_from(
        [0.01, 0.2, 1.5])}), True),
    "ELU": (st.fixed_dictionaries({"alpha": st.sampled_from([1.0, 0.5, 2.0])}), True),
    "GELU": (st.fixed_dictionaries({"approximate": st.sampled_from(["none", "tanh"])}), False),
    "SiLU": (st.fixed_dictionaries({}), True),
    "Softplus": (st.fixed_dictionaries({"beta": st.sampled_from([1.0, 2.0, 0.5]),
                                        "threshold": st.sampled_from([20.0, 1.0])}), False),
    "Hardtanh": (st.fixed_dictionaries({"min_val": st.sampled_from([-1.0, -0.5]),
                                        "max_val": st.sampled_from([1.0, 2.0])}), True),
    "ReLU6": (st.fixed_dictionaries({}), True),
    "SELU": (st.fixed_dictionaries({}), True),
    "Tanh": (st.fixed_dictionaries({}), False),
    "Sigmoid": (st.fixed_dictionaries({}), False),
    "Softmax": (st.fixed_dictionaries({"dim": st.sampled_from([0, -1])}), False),
    "LogSoftmax": (st.fixed_dictionaries({"dim": st.sampled_from([0, -1])}), False),
}


def _run(lib, module, x: np.ndarray, upstream: np.ndarray):
    """(output, input gradient) of `module` on a non-leaf copy of x (so inplace is legal)."""
    leaf = lib.tensor(x, requires_grad=True)
    out = module(leaf * 1)
    out.backward(lib.tensor(upstream))
    return out.detach().numpy(), leaf.grad.numpy()


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@settings(max_examples=10)
@given(data=st.data())
def test_modules_match_torch_on_drawn_shapes_and_arguments(name, dtype, data):
    arguments, can_inplace = MODULES[name]
    kwargs = data.draw(arguments, label="arguments")
    if can_inplace:
        kwargs["inplace"] = data.draw(st.booleans(), label="inplace")
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3), label="shape"))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    upstream = rng.standard_normal(shape).astype(dtype)
    ours = _run(mt, getattr(nn, name)(**kwargs), x, upstream)
    theirs = _run(torch, getattr(torch.nn, name)(**kwargs), x, upstream)
    for label, a, b in zip(["forward", "grad"], ours, theirs):
        assert a.dtype == b.dtype, label
        # the gradient suite's criterion: an absolute floor at the values' scale, since a
        # saturated element (torch's -0.0 beside ours' 2e-6) rounds at the scale of the rest
        scale = max(1.0, float(np.abs(b).max(initial=0.0)))
        np.testing.assert_allclose(a, b, rtol=RTOL[dtype], atol=RTOL[dtype] * scale,
                                   err_msg=label)


# Explicit values: the kinks, the switch points, +-inf and NaN. Each entry: the call on
# either framework's F and a float64 tensor.
EDGES = np.array([-np.inf, -30.0, -6.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 6.0,
                  10.0, 25.0, np.inf, np.nan])
EDGE_CALLS = {
    "leaky_relu": lambda f, x: f.leaky_relu(x, 0.2),
    "leaky_relu negative slope": lambda f, x: f.leaky_relu(x, -0.5),
    "elu": lambda f, x: f.elu(x, 0.5),
    "gelu": lambda f, x: f.gelu(x),
    "gelu tanh": lambda f, x: f.gelu(x, approximate="tanh"),
    "silu": lambda f, x: f.silu(x),
    "softplus": lambda f, x: f.softplus(x),
    "softplus beta threshold": lambda f, x: f.softplus(x, beta=2.0, threshold=3.0),
    "softplus beta 0": lambda f, x: f.softplus(x, beta=0),
    "hardtanh": lambda f, x: f.hardtanh(x),
    "hardtanh equal bounds": lambda f, x: f.hardtanh(x, 0.5, 0.5),
    "relu6": lambda f, x: f.relu6(x),
    "relu": lambda f, x: f.relu(x),
    "selu": lambda f, x: f.selu(x),
}


# in place too, where torch has the form (a negative slope's in-place backward is refused)
EDGE_CASES = [(name, False) for name in EDGE_CALLS] + [
    (name, True) for name in EDGE_CALLS
    if not any(word in name for word in ("gelu", "softplus", "negative slope"))]


@pytest.mark.parametrize("name,inplace", EDGE_CASES,
                         ids=[name + " inplace" * inplace for name, inplace in EDGE_CASES])
def test_kinks_infinities_and_nan_give_torchs_values_and_gradients(name, inplace):
    call = _inplace(EDGE_CALLS[name]) if inplace else EDGE_CALLS[name]
    results = []
    for lib, f in ((mt, F), (torch, TF)):
        x = lib.tensor(EDGES, requires_grad=True)
        out = call(f, x * 1)
        out.backward(lib.ones(len(EDGES), dtype=lib.float64))
        results.append((out.detach().numpy(), x.grad.numpy()))
    # (gelu: ours erf-based as torch's; near -6 its 1 + erf cancels, leaving ~1e-19)
    for label, ours, theirs in zip(["forward", "grad"], *results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15, equal_nan=True,
                                   err_msg=f"{name} {label}")


def _inplace(call):
    def run(f, x):
        result = call(_InplaceF(f), x)
        assert result is x
        return result
    return run


class _InplaceF:
    """F with inplace=True added to every call."""

    def __init__(self, f):
        self.f = f

    def __getattr__(self, name):
        return lambda *args, **kwargs: getattr(self.f, name)(*args, inplace=True, **kwargs)


# ----- in place ------------------------------------------------------------------------

INPLACE_CALLS = {
    "relu": lambda f, x: f.relu(x, inplace=True), "relu_": lambda f, x: f.relu_(x),
    "leaky_relu": lambda f, x: f.leaky_relu(x, 0.1, inplace=True),
    "leaky_relu_": lambda f, x: f.leaky_relu_(x, 0.1),
    "elu": lambda f, x: f.elu(x, inplace=True), "elu_": lambda f, x: f.elu_(x),
    "hardtanh": lambda f, x: f.hardtanh(x, inplace=True),
    "hardtanh_": lambda f, x: f.hardtanh_(x, -0.5, 0.5),
    "relu6": lambda f, x: f.relu6(x, inplace=True),
    "silu": lambda f, x: f.silu(x, inplace=True),
    "selu": lambda f, x: f.selu(x, inplace=True), "selu_": lambda f, x: f.selu_(x),
    "dropout": lambda f, x: f.dropout(x, 0.5, inplace=True),
}


@pytest.mark.parametrize("name", INPLACE_CALLS)
def test_inplace_returns_its_input_and_counts_a_version_as_torch(name):
    versions = []
    for lib, f in ((mt, F), (torch, TF)):
        x = lib.tensor([-1.5, 0.0, 0.5, 8.0])
        before = x._version
        assert INPLACE_CALLS[name](f, x) is x
        versions.append(x._version - before)
    assert versions[0] == versions[1] == 1


@pytest.mark.parametrize("name", INPLACE_CALLS)
def test_inplace_on_a_leaf_that_requires_grad_raises_torchs_error(name):
    for lib, f in ((mt, F), (torch, TF)):
        leaf = lib.tensor([-1.5, 0.5], requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being "
                                               "used in an in-place operation"):
            INPLACE_CALLS[name](f, leaf)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad "
                                               "is being used in an in-place operation"):
            INPLACE_CALLS[name](f, leaf[:1])
        with lib.no_grad():  # allowed there, as for any in-place op
            INPLACE_CALLS[name](f, leaf)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "hardtanh", "silu", "selu"])
def test_changing_the_result_of_an_inplace_op_stops_backward_where_torch_saved_it(name):
    """torch's relu_, leaky_relu_, elu_, selu_ save their result, so a later in-place change
    makes backward raise; hardtanh_ and silu_ keep the input's old values, so it does not."""
    raises = []
    for lib, f in ((mt, F), (torch, TF)):
        x = lib.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        y = INPLACE_CALLS[name](f, x * 1)
        y.add_(1)
        try:
            y.sum().backward()
            raises.append(False)
        except RuntimeError as error:
            assert "modified by an inplace operation" in str(error)
            raises.append(True)
    assert raises[0] == raises[1] == (name in ("relu", "leaky_relu", "elu", "selu"))


@pytest.mark.parametrize("call", [lambda f, x: f.leaky_relu(x, -0.5, inplace=True),
                                  lambda f, x: f.elu(x, -0.5, inplace=True)],
                         ids=["leaky_relu", "elu"])
def test_inplace_with_a_negative_slope_refuses_backward_as_torch(call):
    for lib, f in ((mt, F), (torch, TF)):
        x = lib.tensor([-1.0, 0.5], requires_grad=True)
        y = call(f, x * 1)
        with pytest.raises(RuntimeError, match="negative slope which is not supported"):
            y.sum().backward()


def test_inplace_relu_after_a_convolution_still_runs_fused_and_matches_torch():
    results = []
    for lib in (mt, torch):
        torch.manual_seed(0)
        conv = torch.nn.Conv2d(2, 3, 3).double()
        model = lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3), lib.nn.ReLU(inplace=True),
                                  lib.nn.MaxPool2d(2)).double()
        model.load_state_dict({"0." + k: v.detach().numpy() if lib is mt else v
                               for k, v in conv.state_dict().items()})
        x = lib.tensor(np.random.default_rng(1).standard_normal((2, 2, 8, 8)),
                       requires_grad=True)
        out = model(x)
        if lib is mt:
            assert out.grad_fn.name == "Conv2dReluPool"
        out.backward(lib.ones(out.shape, dtype=lib.float64))
        results.append((out.detach().numpy(), x.grad.numpy(),
                        model[0].weight.grad.numpy()))
    for label, ours, theirs in zip(["forward", "grad", "weight grad"], *results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, err_msg=label)


# ----- errors ---------------------------------------------------------------------------

BAD_CALLS = {
    "gelu approximate": (lambda f, lib: f.gelu(lib.ones(2), approximate="foo"), RuntimeError),
    "gelu approximate type": (lambda f, lib: f.gelu(lib.ones(2), approximate=None),
                              TypeError),
    "hardtanh bounds": (lambda f, lib: f.hardtanh(lib.ones(2), 2.0, 1.0), ValueError),
    "Hardtanh bounds": (lambda f, lib: lib.nn.Hardtanh(1.0, 1.0), AssertionError),
    "leaky_relu slope type": (lambda f, lib: f.leaky_relu(lib.ones(2), "x"), TypeError),
    "elu alpha type": (lambda f, lib: f.elu(lib.ones(2), None), TypeError),
    "softplus int": (lambda f, lib: f.softplus(lib.ones(2, dtype=lib.int64)),
                     NotImplementedError),
    "elu bool": (lambda f, lib: f.elu(lib.ones(2, dtype=lib.bool)), NotImplementedError),
    "leaky_relu int": (lambda f, lib: f.leaky_relu(lib.ones(2, dtype=lib.int64)),
                       NotImplementedError),
    "gelu int": (lambda f, lib: f.gelu(lib.ones(2, dtype=lib.int64)), NotImplementedError),
    "silu int": (lambda f, lib: f.silu(lib.ones(2, dtype=lib.int64)), NotImplementedError),
    "hardtanh bool": (lambda f, lib: f.hardtanh(lib.ones(2, dtype=lib.bool)),
                      NotImplementedError),
    "GELU forward": (lambda f, lib: lib.nn.GELU("erf")(lib.ones(2)), RuntimeError),
}


@pytest.mark.parametrize("name", BAD_CALLS)
def test_bad_calls_raise_torchs_exception_class(name):
    call, error = BAD_CALLS[name]
    for lib, f in ((mt, F), (torch, TF)):
        with pytest.raises(error):
            call(f, lib)


def test_hardtanh_and_relu6_keep_integer_dtypes_as_torch():
    for call in (lambda f, x: f.hardtanh(x, -1.5, 2.5), lambda f, x: f.relu6(x * 3)):
        ours, theirs = call(F, mt.arange(-3, 4)), call(TF, torch.arange(-3, 4))
        assert ours.dtype == mt.int64 and theirs.dtype == torch.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", ["ELU", "GELU", "SiLU", "Softplus", "LeakyReLU", "Hardtanh",
                                  "ReLU6", "Dropout"])
def test_float16_runs_and_stays_float16(name):
    module = getattr(nn, name)()
    x = mt.randn(3, 4).half().requires_grad_()
    out = module(x * 1)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == mt.float16
    expected = getattr(torch.nn, name)().eval()(torch.tensor(x.detach().numpy()).float())
    if name != "Dropout":
        np.testing.assert_allclose(out.detach().numpy(), expected.numpy(), rtol=2e-3,
                                   atol=2e-3)


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("ndim", [1, 2, 3, 4])
def test_softmax_modules_without_dim_take_torchs_implicit_dim_and_warn(name, ndim):
    x = np.random.default_rng(ndim).standard_normal((2, 3, 2, 2)[:ndim])
    outputs = []
    for lib in (mt, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            outputs.append(getattr(lib.nn, name)()(lib.tensor(x)).numpy())
        assert [str(w.message) for w in caught] == [
            f"Implicit dimension choice for {name.lower().replace('logs', 'log_s')} has been "
            "deprecated. Change the call to include dim=X as an argument."]
    np.testing.assert_allclose(*outputs, rtol=1e-12)


# ----- device -----------------------------------------------------------------------------

DEVICE_CALLS = {
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2), "elu": lambda x: F.elu(x, 0.5),
    "gelu": F.gelu, "gelu tanh": lambda x: F.gelu(x, approximate="tanh"), "silu": F.silu,
    "softplus": lambda x: F.softplus(x, 2.0, 3.0), "hardtanh": F.hardtanh, "relu6": F.relu6,
    "leaky_relu_": lambda x: F.leaky_relu(x * 1, 0.2, inplace=True),
    "elu_": lambda x: F.elu(x * 1, inplace=True),
    "hardtanh_": lambda x: F.hardtanh(x * 1, inplace=True),
    "silu_": lambda x: F.silu(x * 1, inplace=True),
    "relu_": lambda x: F.relu(x * 1, inplace=True),
    "selu_": lambda x: F.selu(x * 1, inplace=True),
}


@ON_DEVICE
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the simulator's scalar inf * 0
@pytest.mark.parametrize("name", DEVICE_CALLS)
def test_activations_on_the_device_match_the_cpu_at_the_edges(name):
    results = []
    for device in ("cpu", "cuda"):
        x = mt.tensor(EDGES).to(device).requires_grad_()
        out = DEVICE_CALLS[name](x)
        assert out.device == device
        out.backward(mt.ones(len(EDGES), dtype=mt.float64).to(device))
        results.append((out.detach().numpy(), x.grad.numpy()))
    # (gelu: the device's Phi differs from the host's 1 + erf by ~1e-19 where that cancels)
    for label, device, cpu in zip(["forward", "grad"], *results):
        np.testing.assert_allclose(device, cpu, rtol=1e-12, atol=1e-15, equal_nan=True,
                                   err_msg=f"{name} {label}")


@ON_DEVICE
def test_inplace_on_the_device_writes_the_device_tensor():
    x = mt.tensor([-1.0, 0.5, 3.0]).to("cuda")
    assert F.elu(x, inplace=True) is x and x._version == 1 and x.device == "cuda"
    np.testing.assert_allclose(x.numpy(), TF.elu(torch.tensor([-1.0, 0.5, 3.0])).numpy(),
                               rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_device_normal_cdf_agrees_with_scipy(dtype):
    """The polynomial the device's gelu uses, on host arrays: relative error near float64
    rounding where Phi is a normal number, a few float32 ulps for float32."""
    from scipy.special import ndtr
    reach = 37 if dtype == np.float64 else 12  # where Phi(-x) is still a normal number
    x = np.concatenate([np.linspace(-reach, reach, 20001), [0.0, -0.0, 1e-30]]).astype(dtype)
    reference = ndtr(x)
    error = np.abs(normal_cdf_by_polynomial(x) - reference) / reference
    assert error.max() < (1e-13 if dtype == np.float64 else 3e-5)
    assert normal_cdf_by_polynomial(np.array([np.inf, -np.inf, np.nan], dtype)).tolist()[:2] \
        == [1.0, 0.0]


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("ndim", [1, 2, 3, 4])
def test_softmax_functions_without_dim_take_torchs_implicit_dim_and_warn(name, ndim):
    x = np.random.default_rng(ndim).standard_normal((2, 3, 2, 2)[:ndim])
    outputs = []
    for lib, functional in ((mt, F), (torch, TF)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            outputs.append(getattr(functional, name)(lib.tensor(x)).numpy())
        assert [str(w.message) for w in caught] == [
            f"Implicit dimension choice for {name} has been deprecated. Change the call to "
            "include dim=X as an argument."]
    np.testing.assert_allclose(*outputs, rtol=1e-12)
