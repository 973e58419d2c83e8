"""The Module API on the same models built from mt.nn and torch.nn: traversal names and
orders (named_modules/children/parameters/buffers, shared modules listed once), apply's
order, repr (hypothesis-drawn architectures too), state_dict keys and metadata (non-persistent
buffers left out), load_state_dict's _IncompatibleKeys and strict error text, the containers
(ModuleList, ModuleDict, ParameterList, Sequential) as lists and dicts, requires_grad_,
zero_grad, float/double/half casts, and bad calls raising torch's exception class and
message."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minitorch_pairs as mt
from minitorch_pairs import nn
from torch_reference import torch

FRAMEWORKS = ((mt.nn, mt), (torch.nn, torch))


def net_spec(nn_, lib):
    """Nested containers, a module shared twice, buffers of every kind, new activations."""
    class Block(nn_.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn_.Conv2d(2, 4, 3, padding=1)
            self.norm = nn_.BatchNorm2d(4)
            self.act = nn_.LeakyReLU(0.1, inplace=True)
            self.register_buffer("scale", lib.ones(4))
            self.register_buffer("cache", lib.zeros(2), persistent=False)
            self.register_buffer("empty", None)

        def forward(self, x):
            return self.act(self.norm(self.conv(x))) * self.scale.reshape(1, 4, 1, 1)

    class Net(nn_.Module):
        def __init__(self):
            super().__init__()
            self.features = nn_.Sequential(Block(), nn_.MaxPool2d(2), nn_.ELU(alpha=0.5))
            shared = nn_.Linear(16, 8)
            self.heads = nn_.ModuleList([shared, nn_.GELU(), shared, nn_.Dropout(0.2)])
            self.branches = nn_.ModuleDict({
                "left": nn_.Sequential(nn_.Linear(8, 3), nn_.Softplus(beta=2)),
                "right": nn_.Linear(8, 3, bias=False)})
            self.gates = nn_.ParameterList([nn_.Parameter(lib.ones(3)), lib.zeros(3)])
            self.out = nn_.Linear(3, 2)
            self.register_parameter("temperature", nn_.Parameter(lib.ones(())))

        def forward(self, x):
            h = self.heads[1](self.heads[0](self.features(x).flatten(1)))
            h = self.branches["left"](h) * self.gates[0] + \
                self.branches["right"](h) * self.gates[1]
            return self.out(h) * self.temperature

    return Net()


def both(spec=net_spec):
    return [spec(nn_, lib) for nn_, lib in FRAMEWORKS]


VIEWS = {
    "named_modules": lambda m: [(n, type(x).__name__) for n, x in m.named_modules()],
    "named_modules all": lambda m: [n for n, _ in m.named_modules(remove_duplicate=False)],
    "named_modules prefix": lambda m: [n for n, _ in m.named_modules(prefix="root")],
    "modules": lambda m: [x._get_name() for x in m.modules()],
    "named_children": lambda m: [n for n, _ in m.named_children()],
    "children of a list": lambda m: [x._get_name() for x in m.heads.children()],
    "named_parameters": lambda m: [(n, tuple(p.shape)) for n, p in m.named_parameters()],
    "named_parameters all": lambda m: [n for n, _ in
                                       m.named_parameters(remove_duplicate=False)],
    "named_parameters here": lambda m: [n for n, _ in
                                        m.named_parameters(prefix="p", recurse=False)],
    "parameters of a list": lambda m: [tuple(p.shape) for p in m.gates.parameters()],
    "named_buffers": lambda m: [n for n, _ in m.named_buffers()],
    "buffers here": lambda m: [n for n, _ in m.features[0].named_buffers(recurse=False)],
    "state_dict": lambda m: [(k, tuple(v.shape)) for k, v in m.state_dict().items()],
    "state_dict prefix": lambda m: list(m.state_dict(prefix="net.")),
    "state_dict metadata": lambda m: dict(m.state_dict()._metadata),
    "repr": repr,
    "_get_name": lambda m: m.features[0]._get_name(),
    "len": lambda m: (len(m.heads), len(m.branches), len(m.gates), len(m.features)),
}


@pytest.mark.parametrize("view", VIEWS)
def test_names_orders_and_reprs_equal_torchs(view):
    ours, theirs = both()
    assert VIEWS[view](ours) == VIEWS[view](theirs)


def test_apply_visits_children_before_their_parent_as_torch():
    visits = []
    for model in both():
        calls = []
        assert model.apply(lambda m: calls.append(m._get_name())) is model
        visits.append(calls)
    assert visits[0] == visits[1] and visits[0][-1] == "Net"


def test_state_dict_keep_vars_and_detach_as_torch():
    for model in both():
        kept = model.state_dict(keep_vars=True)
        assert kept["out.weight"] is model.out.weight
        assert not model.state_dict()["out.weight"].requires_grad


# ----- load_state_dict ------------------------------------------------------------------

def _edit(state, lib, edit: str):
    """The same change to either framework's state dict (keeping its _metadata)."""
    if edit == "missing":
        del state["out.bias"], state["features.0.norm.running_var"]
    elif edit == "unexpected":
        state["extra"] = lib.zeros(1)
        state["features.0.conv.nope"] = lib.zeros(1)
        state["nochild.weight"] = lib.zeros(1)
        state["features.0.cache"] = lib.zeros(2)  # a non-persistent buffer's key
        state["heads"] = lib.zeros(1)  # a child's own name: torch ignores it
    elif edit == "both":
        del state["gates.1"]
        state["gates.2"] = lib.zeros(3)
    elif edit == "counter":  # an old checkpoint: BatchNorm's counter only required from v2
        del state["features.0.norm.num_batches_tracked"]
    elif edit == "counter, plain dict":
        del state["features.0.norm.num_batches_tracked"]
        state = dict(state)
    return state


EDITS = ["none", "missing", "unexpected", "both", "counter", "counter, plain dict"]


@pytest.mark.parametrize("edit", EDITS)
def test_load_state_dict_reports_torchs_keys_non_strict(edit):
    results = []
    for (nn_, lib), model in zip(FRAMEWORKS, both()):
        state = _edit(model.state_dict(), lib, edit)
        result = model.load_state_dict(state, strict=False)
        results.append((result.missing_keys, result.unexpected_keys, repr(result),
                        type(result).__name__, result._fields))
    assert results[0] == results[1]


@pytest.mark.parametrize("edit", EDITS)
def test_strict_load_state_dict_raises_torchs_error_text(edit):
    messages = []
    for (nn_, lib), model in zip(FRAMEWORKS, both()):
        state = _edit(model.state_dict(), lib, edit)
        try:
            result = model.load_state_dict(state)
            messages.append(repr(result))
        except RuntimeError as error:
            messages.append(str(error))
    assert messages[0] == messages[1]


def test_size_mismatch_and_non_tensor_values_are_reported_as_torch_even_non_strict():
    messages = []
    for (nn_, lib), model in zip(FRAMEWORKS, both()):
        state = model.state_dict()
        state["out.weight"] = lib.zeros(3, 3)
        state["out.bias"] = "not a tensor"
        with pytest.raises(RuntimeError) as error:
            model.load_state_dict(state, strict=False)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


def test_loaded_values_match_and_torchs_state_loads_into_ours():
    ours, theirs = both()
    theirs.load_state_dict({k: torch.full_like(v, 0.5) if v.is_floating_point() else v + 3
                            for k, v in theirs.state_dict().items()})
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for (name, mine), (_, reference) in zip(ours.state_dict().items(),
                                            theirs.state_dict().items()):
        np.testing.assert_array_equal(mine.numpy(), reference.numpy(), err_msg=name)
        assert mine.dtype == reference.numpy().dtype, name


def test_load_state_dict_assign_holds_the_checkpoints_tensors():
    model, source = both()[0], both()[0]
    model.load_state_dict(source.state_dict(keep_vars=True), assign=True)
    assert model.out.weight is source.out.weight and model.out.weight.requires_grad


def test_load_state_dict_refuses_a_non_mapping_as_torch():
    for model in both():
        with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
            model.load_state_dict([("out.weight", 1)])


# ----- containers -----------------------------------------------------------------------

def _linears(nn_, n):
    return [nn_.Linear(i + 1, i + 2) for i in range(n)]


LIST_OPS = {
    "append": lambda nn_, m: m.append(nn_.ReLU()),
    "extend": lambda nn_, m: m.extend([nn_.Tanh(), nn_.SiLU()]),
    "insert": lambda nn_, m: m.insert(1, nn_.ELU()),
    "insert at end": lambda nn_, m: m.insert(len(m), nn_.ELU()),
    "pop": lambda nn_, m: m.pop(1),
    "pop negative": lambda nn_, m: m.pop(-1),
    "del": lambda nn_, m: m.__delitem__(0),
    "del slice": lambda nn_, m: m.__delitem__(slice(0, 2)),
    "setitem": lambda nn_, m: m.__setitem__(-1, nn_.GELU()),
    "iadd": lambda nn_, m: m.__iadd__([nn_.ReLU6()]),
}


@pytest.mark.parametrize("op", LIST_OPS)
@pytest.mark.parametrize("kind", ["ModuleList", "Sequential"])
def test_module_lists_change_like_torchs(op, kind):
    views = []
    for nn_, _ in FRAMEWORKS:
        layers = _linears(nn_, 3)
        model = nn_.ModuleList(layers) if kind == "ModuleList" else nn_.Sequential(*layers)
        if op == "iadd" and kind == "Sequential":
            model += nn_.Sequential(nn_.ReLU6())
        else:
            LIST_OPS[op](nn_, model)
        views.append((repr(model), [n for n, _ in model.named_parameters()],
                      [type(m).__name__ for m in model], repr(model[1:]), repr(model[-1])))
    assert views[0] == views[1]


def test_module_list_repr_groups_repeats_and_add_concatenates_as_torch():
    reprs = []
    for nn_, _ in FRAMEWORKS:
        blocks = nn_.ModuleList([nn_.Linear(2, 2), nn_.Linear(2, 2), nn_.ReLU(),
                                 nn_.Sequential(nn_.Linear(2, 2), nn_.Tanh())] * 2)
        reprs.append((repr(blocks), repr(blocks + nn_.ModuleList([nn_.ReLU()])),
                      repr(nn_.ModuleList()), repr(nn_.Sequential())))
    assert reprs[0] == reprs[1]


def test_module_dict_behaves_like_torchs():
    views = []
    for nn_, _ in FRAMEWORKS:
        d = nn_.ModuleDict([("a", nn_.ReLU()), ("b", nn_.Linear(1, 2))])
        d.update({"c": nn_.Tanh()})
        d.update(OrderedDict([("a", nn_.SiLU())]))
        d["d"] = nn_.Linear(2, 1)
        popped = d.pop("b")
        del d["c"]
        views.append((list(d.keys()), [type(v).__name__ for v in d.values()], list(d),
                      "a" in d, "b" in d, len(d), type(popped).__name__, repr(d),
                      [n for n, _ in d.named_parameters()]))
        d.clear()
        views[-1] += (len(d),)
    assert views[0] == views[1]


def test_parameter_list_registers_and_prints_like_torchs():
    views = []
    for nn_, lib in FRAMEWORKS:
        params = nn_.ParameterList([nn_.Parameter(lib.ones(2, 3)), lib.zeros(4)])
        params.append(lib.ones((), dtype=lib.float64))
        params.extend([nn_.Parameter(lib.zeros(1))])
        params[0] = lib.full((5,), 2.0)
        views.append((repr(params), [(n, tuple(p.shape)) for n, p in params.named_parameters()],
                      [type(p).__name__ for p in params], len(params), repr(params[1:3]),
                      params[-1].requires_grad, list(params.state_dict())))
    assert views[0] == views[1]


CONTAINER_ERRORS = {
    "list index": (lambda nn_, lib: nn_.ModuleList([nn_.ReLU()])[1], IndexError),
    "list negative index": (lambda nn_, lib: nn_.ModuleList([nn_.ReLU()])[-2], IndexError),
    "sequential index": (lambda nn_, lib: nn_.Sequential(nn_.ReLU())[3], IndexError),
    "list extend": (lambda nn_, lib: nn_.ModuleList().extend(nn_.ReLU()), TypeError),
    "list append": (lambda nn_, lib: nn_.ModuleList().append(3), TypeError),
    "dict update": (lambda nn_, lib: nn_.ModuleDict().update(3), TypeError),
    "dict pair": (lambda nn_, lib: nn_.ModuleDict().update([("a", nn_.ReLU(), 1)]),
                  ValueError),
    "dict key": (lambda nn_, lib: nn_.ModuleDict()["missing"], KeyError),
    "params extend": (lambda nn_, lib: nn_.ParameterList().extend(lib.ones(2)), TypeError),
    "params index": (lambda nn_, lib: nn_.ParameterList([lib.ones(1)])[2], IndexError),
    "params call": (lambda nn_, lib: nn_.ParameterList()(), RuntimeError),
    "sequential add": (lambda nn_, lib: nn_.Sequential() + nn_.ModuleList(), ValueError),
}


@pytest.mark.parametrize("name", CONTAINER_ERRORS)
def test_container_misuse_raises_torchs_class_and_message(name):
    call, error = CONTAINER_ERRORS[name]
    messages = []
    for nn_, lib in FRAMEWORKS:
        with pytest.raises(error) as caught:
            call(nn_, lib)
        messages.append(str(caught.value).replace("torch.nn.modules.container", "NN")
                        .replace("minitorch_pairs.nn.containers", "NN"))
    assert messages[0] == messages[1]


# ----- registration errors ----------------------------------------------------------------

def _bare(nn_):
    class Bare(nn_.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn_.Linear(2, 2)
            self.plain = 3

    return Bare()


REGISTRATION_ERRORS = {
    "buffer dot": (lambda nn_, lib, m: m.register_buffer("a.b", lib.ones(1)), KeyError),
    "buffer empty": (lambda nn_, lib, m: m.register_buffer("", lib.ones(1)), KeyError),
    "buffer exists": (lambda nn_, lib, m: m.register_buffer("plain", lib.ones(1)), KeyError),
    "buffer of a child's name": (lambda nn_, lib, m: m.register_buffer("layer", None),
                                 KeyError),
    "buffer name type": (lambda nn_, lib, m: m.register_buffer(3, lib.ones(1)), TypeError),
    "buffer value": (lambda nn_, lib, m: m.register_buffer("b", 3), TypeError),
    "parameter value": (lambda nn_, lib, m: m.register_parameter("w", lib.ones(1)),
                        TypeError),
    "parameter non-leaf": (lambda nn_, lib, m: m.register_parameter(
        "w", nn_.Parameter(lib.ones(1)) * 2), TypeError),
    "parameter dot": (lambda nn_, lib, m: m.register_parameter("a.b", None), KeyError),
    "assign tensor to parameter": (lambda nn_, lib, m: setattr(m.layer, "weight",
                                                               lib.ones(2, 2)), TypeError),
    "assign to child": (lambda nn_, lib, m: setattr(m, "layer", 3), TypeError),
    "assign to buffer": (lambda nn_, lib, m: setattr(nn_.BatchNorm1d(2), "running_mean", 3),
                         TypeError),
    "add_module value": (lambda nn_, lib, m: m.add_module("x", 3), TypeError),
    "add_module dot": (lambda nn_, lib, m: m.add_module("x.y", nn_.ReLU()), KeyError),
    "add_module exists": (lambda nn_, lib, m: m.add_module("plain", nn_.ReLU()), KeyError),
    "missing attribute": (lambda nn_, lib, m: m.nothing, AttributeError),
    "train mode": (lambda nn_, lib, m: m.train("yes"), ValueError),
    "to int dtype": (lambda nn_, lib, m: m.to(lib.int64), TypeError),
    "no forward": (lambda nn_, lib, m: nn_.Module()(lib.ones(1)), NotImplementedError),
}


@pytest.mark.parametrize("name", REGISTRATION_ERRORS)
def test_registration_misuse_raises_torchs_class_and_message(name):
    call, error = REGISTRATION_ERRORS[name]
    messages = []
    for nn_, lib in FRAMEWORKS:
        with pytest.raises(error) as caught:
            call(nn_, lib, _bare(nn_))
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_assigning_a_parameter_or_module_before_init_raises_torchs_error():
    messages = []
    for nn_, lib in FRAMEWORKS:
        class Early(nn_.Module):
            def __init__(self):
                self.plain = 1  # allowed, as in torch
                self.w = nn_.Parameter(lib.ones(1))

        with pytest.raises(AttributeError) as caught:
            Early()
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_registration_kinds_survive_reassignment_as_torch():
    views = []
    for nn_, lib in FRAMEWORKS:
        model = _bare(nn_)
        model.register_buffer("b", lib.ones(1), persistent=False)
        model.b = lib.zeros(2)  # stays a non-persistent buffer
        model.layer = None  # a child set to None stays registered
        model.p = nn_.Parameter(lib.ones(1))
        model.p = None
        model.register_buffer("q", lib.ones(1))
        model.q = nn_.Parameter(lib.ones(3))  # a Parameter replaces the buffer
        del model.plain
        views.append((list(model.state_dict()), [n for n, _ in model.named_buffers()],
                      [n for n, _ in model.named_parameters()], list(model._modules),
                      list(model._parameters), hasattr(model, "plain"), repr(model)))
    assert views[0] == views[1]


# ----- gradients, modes, dtypes --------------------------------------------------------------

def _backward(model, lib):
    x = lib.tensor(np.random.default_rng(0).standard_normal((2, 2, 4, 4)), dtype=lib.float32)
    model(x).sum().backward()


def test_requires_grad_and_zero_grad_as_torch():
    views = []
    for (nn_, lib), model in zip(FRAMEWORKS, both()):
        assert model.branches.requires_grad_(False) is model.branches
        _backward(model, lib)
        frozen = [n for n, p in model.named_parameters() if p.grad is None]
        model.zero_grad(set_to_none=False)
        zeroed = [n for n, p in model.named_parameters()
                  if p.grad is not None and not p.grad.numpy().any()]
        model.zero_grad()
        views.append((frozen, zeroed, [p.grad is None for p in model.parameters()],
                      [p.requires_grad for p in model.parameters()]))
    assert views[0] == views[1]


@pytest.mark.parametrize("cast", ["double", "float", "half"])
def test_casts_change_floating_state_and_gradients_as_torch(cast):
    views = []
    for (nn_, lib), model in zip(FRAMEWORKS, both()):
        _backward(model, lib)
        weight = model.out.weight
        assert getattr(model, cast)() is model and model.out.weight is weight
        views.append(([(k, str(v.dtype).replace("torch.", "")) for k, v in
                       model.state_dict().items()],
                      [str(p.grad.dtype).replace("torch.", "") for p in model.parameters()
                       if p.grad is not None],
                      [str(b.dtype).replace("torch.", "") for b in model.buffers()]))
    assert views[0] == views[1]


def test_half_model_runs_forward_and_backward():
    model = net_spec(nn, mt).half()
    x = mt.randn(2, 2, 4, 4).half()
    out = model(x)
    out.sum().backward()
    assert out.dtype == mt.float16 and model.out.weight.grad.dtype == mt.float16


@pytest.mark.skipif(not mt.cuda.is_available(), reason="no CUDA device and no simulator")
def test_moving_to_the_device_keeps_parameters_and_moves_gradients_and_buffers():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2), nn.ParameterList([mt.ones(2)]))
    model[0](mt.randn(4, 3)).sum().backward()
    weight = model[0].weight
    assert model.to("cuda") is model and model[0].weight is weight
    assert {str(t.device) for t in list(model.parameters()) + list(model.buffers())} == \
        {"cuda:0"}
    assert weight.grad.device == "cuda" and model[1].num_batches_tracked.dtype == mt.int64
    # (one entry: torch prints the extra_repr on the first line)
    assert repr(model[2]) == "ParameterList(  (0): Parameter containing: [torch.float32 of " \
        "size 2 (cuda:0)])"
    assert model.cpu()[0].weight.device == "cpu" and weight.grad.device == "cpu"


def test_to_accepts_torchs_forms():
    model = nn.Linear(2, 3)
    assert model.to(mt.float64).weight.dtype == mt.float64
    assert model.to("cpu", mt.float32).weight.dtype == mt.float32
    assert model.to(mt.zeros(1, dtype=mt.float64)).bias.dtype == mt.float64
    assert model.to(dtype=mt.float32, device="cpu").weight.dtype == mt.float32


# ----- drawn architectures -------------------------------------------------------------

LAYERS = [
    lambda nn_, d: nn_.Conv2d(d(1, 4), d(1, 4), d(1, 3), stride=d(1, 2), padding=d(0, 1),
                              bias=d(0, 1) == 1),
    lambda nn_, d: nn_.Linear(d(1, 9), d(1, 9), bias=d(0, 1) == 1),
    lambda nn_, d: nn_.BatchNorm2d(d(1, 8), momentum=[0.1, None, 0.5][d(0, 2)],
                                   affine=d(0, 1) == 1, track_running_stats=d(0, 1) == 1),
    lambda nn_, d: nn_.BatchNorm1d(d(1, 8), eps=[1e-5, 1e-3][d(0, 1)]),
    lambda nn_, d: nn_.MaxPool2d(d(1, 3), stride=[None, 1, 2][d(0, 2)]),
    lambda nn_, d: nn_.AvgPool2d(d(2, 3), padding=d(0, 1)),
    lambda nn_, d: nn_.Dropout([0.5, 0.1, 0.0][d(0, 2)], inplace=d(0, 1) == 1),
    lambda nn_, d: nn_.Flatten(d(0, 1), -1),
    lambda nn_, d: nn_.ReLU(inplace=d(0, 1) == 1),
    lambda nn_, d: nn_.LeakyReLU([0.01, 0.2][d(0, 1)], inplace=d(0, 1) == 1),
    lambda nn_, d: nn_.ELU([1.0, 0.5][d(0, 1)], inplace=d(0, 1) == 1),
    lambda nn_, d: nn_.GELU(["none", "tanh"][d(0, 1)]),
    lambda nn_, d: nn_.SiLU(inplace=d(0, 1) == 1),
    lambda nn_, d: nn_.Softplus(beta=[1.0, 2][d(0, 1)], threshold=[20.0, 5][d(0, 1)]),
    lambda nn_, d: nn_.Hardtanh([-1.0, -2][d(0, 1)], [1.0, 3.5][d(0, 1)],
                                inplace=d(0, 1) == 1),
    lambda nn_, d: nn_.ReLU6(inplace=d(0, 1) == 1),
    lambda nn_, d: nn_.Softmax(dim=[None, 1, -1][d(0, 2)]),
    lambda nn_, d: nn_.LogSoftmax(dim=d(0, 1)),
    lambda nn_, d: nn_.Tanh(), lambda nn_, d: nn_.Sigmoid(), lambda nn_, d: nn_.Identity(),
    lambda nn_, d: nn_.SELU(inplace=d(0, 1) == 1),
    lambda nn_, d: nn_.CrossEntropyLoss(), lambda nn_, d: nn_.MSELoss(reduction="sum"),
]


def _draw_architecture(choices):
    """A builder of the same drawn architecture in either framework: `choices` is a list of
    draws replayed for each."""
    def build(nn_):
        position = iter(choices)

        def d(low, high):
            return low + next(position) % (high - low + 1)

        def layers(depth):
            made = []
            for _ in range(d(1, 4)):
                kind = d(0, len(LAYERS) + 1)
                if kind == len(LAYERS) and depth < 2:
                    made.append(nn_.Sequential(*layers(depth + 1)))
                elif kind == len(LAYERS) + 1 and depth < 2:
                    made.append(nn_.ModuleList(layers(depth + 1)))
                else:
                    made.append(LAYERS[kind % len(LAYERS)](nn_, d))
            return made
        return nn_.Sequential(*layers(0))
    return build


@settings(max_examples=30)
@given(choices=st.lists(st.integers(0, 1000), min_size=400, max_size=400))
def test_drawn_architectures_print_and_name_like_torch(choices):
    build = _draw_architecture(choices)
    ours, theirs = build(mt.nn), build(torch.nn)
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
