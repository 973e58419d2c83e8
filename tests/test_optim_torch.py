"""mt.optim against torch.optim: every optimizer's parameter trajectory on hypothesis-drawn
hyperparameters, state_dict layout and round trips, param_groups, zero_grad, argument
errors (exception classes from a table run in both), and the updates on the CUDA device
(a GPU, or numba's simulator: tests/conftest.py)."""
from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minitorch_pairs as mt
from torch_reference import torch

STEPS = 20
RTOL64 = 1e-12  # the same formulas, a few ulps apart per step (FMA, operation order)
RTOL32 = 1e-5  # float32 rounding, compounded over the steps
NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"]

lrs = st.sampled_from([1e-3, 0.01, 0.1])
decays = st.sampled_from([0, 0.01, 0.1])
flags = st.booleans()
OPTIONS = {
    "SGD": st.builds(dict, lr=lrs, momentum=st.sampled_from([0, 0.5, 0.9]),
                     dampening=st.sampled_from([0, 0.3]), weight_decay=decays,
                     nesterov=flags, maximize=flags).filter(
        lambda o: not o["nesterov"] or (o["momentum"] > 0 and o["dampening"] == 0)),
    "Adam": st.builds(dict, lr=lrs, betas=st.sampled_from([(0.9, 0.999), (0.3, 0.9)]),
                      eps=st.sampled_from([1e-8, 1e-3]), weight_decay=decays, amsgrad=flags,
                      maximize=flags, decoupled_weight_decay=flags),
    "AdamW": st.builds(dict, lr=lrs, betas=st.sampled_from([(0.9, 0.999), (0.6, 0.95)]),
                       eps=st.sampled_from([1e-8, 1e-3]), weight_decay=decays, amsgrad=flags,
                       maximize=flags),
    "RMSprop": st.builds(dict, lr=lrs, alpha=st.sampled_from([0.99, 0.6, 0.3]),
                         eps=st.sampled_from([1e-8, 1e-2]), weight_decay=decays,
                         momentum=st.sampled_from([0, 0.9]), centered=flags, maximize=flags),
    "Adagrad": st.builds(dict, lr=lrs, lr_decay=st.sampled_from([0, 0.05]),
                         weight_decay=decays, initial_accumulator_value=st.sampled_from([0, 0.5]),
                         eps=st.sampled_from([1e-10, 1e-3]), maximize=flags),
    "Adadelta": st.builds(dict, lr=st.sampled_from([1.0, 0.5]), rho=st.sampled_from([0.9, 0.4]),
                          eps=st.sampled_from([1e-6, 1e-3]), weight_decay=decays,
                          maximize=flags),
}


class Problem:
    """Two parameters (a matrix and a vector) of a noisy quadratic, the same in both
    frameworks: each step's gradient is 2 c p + noise, computed in float64 from each
    framework's own current parameters. The vector gets no gradient every third step (the
    optimizers must skip it and keep its state)."""

    def __init__(self, dtype=np.float64, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.dtype = dtype
        self.start = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
        self.curvature = [rng.uniform(0.5, 2.0, s.shape) for s in self.start]
        self.noise = [rng.standard_normal((STEPS * 2,) + s.shape) for s in self.start]

    def params(self, frame, device="cpu"):
        if frame is torch:
            return [torch.tensor(s.astype(self.dtype), requires_grad=True) for s in self.start]
        return [mt.tensor(s, dtype=self.dtype).to(device).requires_grad_()
                for s in self.start]

    def set_grads(self, params, step: int, frame) -> None:
        for i, (p, c, noise) in enumerate(zip(params, self.curvature, self.noise)):
            if i == 1 and step % 3 == 2:
                p.grad = None
                continue
            value = p.detach().numpy().astype(np.float64)
            g = (2 * c * value + noise[step]).astype(self.dtype)
            p.grad = torch.tensor(g) if frame is torch else mt.tensor(g).to(p.device)

    def run(self, optimizer, params, frame, steps, first: int = 0) -> np.ndarray:
        path = []
        for step in range(first, first + steps):
            self.set_grads(params, step, frame)
            optimizer.step()
            path.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
        return np.array(path)


def groups(params, split: bool):
    """One group, or two with the second's own lr (what param groups are for)."""
    return [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}] if split else params


def pair(name, options, problem, split=False):
    ours, theirs = problem.params(mt), problem.params(torch)
    return (ours, getattr(mt.optim, name)(groups(ours, split), **options),
            theirs, getattr(torch.optim, name)(groups(theirs, split), **options))


def follow(name, options, dtype=np.float64, split=False):
    problem = Problem(dtype)
    ours, opt_ours, theirs, opt_theirs = pair(name, options, problem, split)
    return (problem.run(opt_ours, ours, mt, STEPS),
            problem.run(opt_theirs, theirs, torch, STEPS))


# ----- trajectories ------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_each_optimizer_follows_torch_on_drawn_hyperparameters(name, data):
    options = data.draw(OPTIONS[name], label="options")
    ours, theirs = follow(name, options)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL64, atol=RTOL64)


@pytest.mark.parametrize("name", NAMES)
def test_float32_and_parameter_groups_follow_torch(name):
    options = {"lr": 0.1} if name != "Adadelta" else {}
    ours, theirs = follow(name, options, dtype=np.float32, split=True)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=RTOL32)


def test_adamw_is_adam_with_decoupled_weight_decay_and_its_defaults():
    p = [mt.zeros(2, requires_grad=True)]
    group = mt.optim.AdamW(p).param_groups[0]
    expected = torch.optim.AdamW([torch.zeros(2, requires_grad=True)]).param_groups[0]
    assert group["weight_decay"] == 1e-2 and group["decoupled_weight_decay"] is True
    assert {k: v for k, v in group.items() if k != "params"} == \
        {k: v for k, v in expected.items() if k != "params"}
    ours, _ = follow("AdamW", dict(lr=0.1, weight_decay=0.1))
    same, _ = follow("Adam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True))
    np.testing.assert_array_equal(ours, same)


def test_step_with_a_closure_returns_its_loss():
    for frame, optim in ((mt, mt.optim), (torch, torch.optim)):
        p = frame.ones(2, requires_grad=True)
        opt = optim.SGD([p], lr=0.5)

        def closure():
            opt.zero_grad()
            loss = (p * p).sum()
            loss.backward()
            return loss

        assert opt.step(closure).item() == 2.0
        assert p.detach().numpy().tolist() == [0.0, 0.0]
        assert opt.step() is None


# ----- param_groups, add_param_group, zero_grad ---------------------------------------------

def hyperparameters(optimizer) -> list:
    return [{k: v for k, v in group.items() if k != "params"} for group in
            optimizer.param_groups]


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_hold_torchs_keys_and_defaults(name):
    ours = getattr(mt.optim, name)([mt.zeros(2, requires_grad=True)])
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
    assert hyperparameters(ours) == hyperparameters(theirs)
    assert list(ours.param_groups[0]) == list(theirs.param_groups[0])
    assert ours.defaults == theirs.defaults
    ours.add_param_group({"params": mt.zeros(3, requires_grad=True), "lr": 0.5})
    theirs.add_param_group({"params": torch.zeros(3, requires_grad=True), "lr": 0.5})
    assert hyperparameters(ours) == hyperparameters(theirs)
    assert list(ours.param_groups[1]) == list(theirs.param_groups[1])
    assert isinstance(ours.param_groups[1]["params"], list)


@pytest.mark.parametrize("name", NAMES)
def test_repr_is_torchs(name):
    ours = getattr(mt.optim, name)([{"params": [mt.zeros(2, requires_grad=True)]},
                                     {"params": [mt.zeros(1, requires_grad=True)], "lr": 0.5}])
    theirs = getattr(torch.optim, name)([{"params": [torch.zeros(2, requires_grad=True)]},
                                         {"params": [torch.zeros(1, requires_grad=True)],
                                          "lr": 0.5}])
    assert repr(ours) == repr(theirs)


def test_a_group_added_later_is_optimized_as_torchs():
    problem = Problem()
    ours, theirs = problem.params(mt), problem.params(torch)
    opt_ours = mt.optim.Adagrad([ours[0]], lr=0.1)
    opt_theirs = torch.optim.Adagrad([theirs[0]], lr=0.1)
    opt_ours.add_param_group({"params": [ours[1]], "lr_decay": 0.1})
    opt_theirs.add_param_group({"params": [theirs[1]], "lr_decay": 0.1})
    np.testing.assert_allclose(problem.run(opt_ours, ours, mt, STEPS),
                               problem.run(opt_theirs, theirs, torch, STEPS), rtol=RTOL64)


def test_named_parameters_keep_their_names():
    ours = mt.optim.SGD([("w", mt.zeros(2, requires_grad=True))], lr=0.1)
    theirs = torch.optim.SGD([("w", torch.zeros(2, requires_grad=True))], lr=0.1)
    assert ours.param_groups[0]["param_names"] == theirs.param_groups[0]["param_names"]
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_as_torch(set_to_none):
    grads = {}
    for frame, optim in ((mt, mt.optim), (torch, torch.optim)):
        a, b = frame.ones(2, requires_grad=True), frame.ones(2, requires_grad=True)
        opt = optim.SGD([a, b], lr=0.1)
        (a * 3).sum().backward()
        opt.zero_grad(set_to_none=set_to_none)
        grads[frame] = [None if p.grad is None else p.grad.numpy().tolist() for p in (a, b)]
    assert grads[mt] == grads[torch]


# ----- state_dict ------------------------------------------------------------------------------

def to_mt(value):
    """A torch state dict's values as ours (tensors converted, the rest kept)."""
    if isinstance(value, torch.Tensor):
        return mt.tensor(value.numpy())
    if isinstance(value, dict):
        return {k: to_mt(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_mt(v) for v in value]
    return value


def assert_same_layout(ours: dict, theirs: dict) -> None:
    assert list(ours) == list(theirs) == ["state", "param_groups"]
    assert ours["param_groups"] == theirs["param_groups"]  # hyperparameters and indices
    assert list(ours["state"]) == list(theirs["state"])
    for index, state in theirs["state"].items():
        assert list(ours["state"][index]) == list(state), f"parameter {index}"
        for key, value in state.items():
            mine = ours["state"][index][key]
            assert isinstance(mine, mt.Tensor), key
            assert mine.shape == tuple(value.shape) and str(mine.dtype) == \
                str(value.dtype).removeprefix("torch."), key
            np.testing.assert_allclose(mine.numpy(), value.numpy(), rtol=RTOL64, err_msg=key)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_layout_equals_torchs(name):
    options = {"SGD": dict(momentum=0.9), "RMSprop": dict(momentum=0.5, centered=True),
               "Adam": dict(amsgrad=True)}.get(name, {})
    problem = Problem()
    ours, opt_ours, theirs, opt_theirs = pair(name, options, problem, split=True)
    assert_same_layout(opt_ours.state_dict(), opt_theirs.state_dict())  # before any step
    problem.run(opt_ours, ours, mt, 3)
    problem.run(opt_theirs, theirs, torch, 3)
    assert_same_layout(opt_ours.state_dict(), opt_theirs.state_dict())


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_continues_the_same_trajectory(name):
    """Save after 8 steps, load into a fresh optimizer over fresh copies of the parameters:
    the next steps are bit for bit those of the optimizer that went on; and a state dict
    of torch's, converted, continues as torch does."""
    options = {"SGD": dict(momentum=0.9, nesterov=True), "RMSprop": dict(momentum=0.5),
               "Adam": dict(amsgrad=True)}.get(name, {})
    problem = Problem()
    ours, opt_ours, theirs, opt_theirs = pair(name, options, problem, split=True)
    problem.run(opt_ours, ours, mt, 8)
    problem.run(opt_theirs, theirs, torch, 8)
    saved, saved_theirs = opt_ours.state_dict(), opt_theirs.state_dict()
    snapshot = copy.deepcopy(saved)

    fresh = [mt.tensor(p.detach().numpy()).requires_grad_() for p in ours]
    opt_fresh = getattr(mt.optim, name)(groups(fresh, True))
    opt_fresh.load_state_dict(saved)
    from_torch = [mt.tensor(p.detach().numpy()).requires_grad_() for p in theirs]
    opt_from_torch = getattr(mt.optim, name)(groups(from_torch, True))
    opt_from_torch.load_state_dict(to_mt(saved_theirs))

    went_on = problem.run(opt_ours, ours, mt, STEPS - 8, first=8)
    np.testing.assert_array_equal(problem.run(opt_fresh, fresh, mt, STEPS - 8, first=8),
                                  went_on)
    np.testing.assert_allclose(
        problem.run(opt_from_torch, from_torch, mt, STEPS - 8, first=8),
        problem.run(opt_theirs, theirs, torch, STEPS - 8, first=8), rtol=RTOL64, atol=RTOL64)
    # loading copied: the loaded optimizer shares no array with the dict it came from
    for index, state in snapshot["state"].items():
        for key, value in state.items():
            assert opt_fresh.state[fresh[index]][key] is not saved["state"][index][key]
    assert hyperparameters(opt_fresh) == hyperparameters(opt_ours)


def test_load_state_dict_moves_state_to_the_parameters_dtype_and_device():
    p64 = mt.zeros(3, dtype=mt.float64, requires_grad=True)
    source = mt.optim.Adam([p64])
    p64.grad = mt.ones(3, dtype=mt.float64)
    source.step()
    p32 = mt.zeros(3, dtype=mt.float32, requires_grad=True).to("cuda")
    target = mt.optim.Adam([p32])
    target.load_state_dict(source.state_dict())
    state = target.state[p32]
    assert state["exp_avg"].dtype == np.float32 and state["exp_avg"].device == "cuda"
    assert state["step"].dtype == np.float32 and state["step"].device == "cpu"
    assert state["step"].item() == 1.0


LOAD_ERRORS = [
    ("two groups into one", lambda opt, p: opt.load_state_dict(
        {"state": {}, "param_groups": opt.state_dict()["param_groups"] * 2})),
    ("a group of another size", lambda opt, p: opt.load_state_dict(
        {"state": {}, "param_groups": [dict(opt.state_dict()["param_groups"][0],
                                            params=[0, 1, 2])]})),
    ("no param_groups", lambda opt, p: opt.load_state_dict({"state": {}})),
    ("not a dict", lambda opt, p: opt.load_state_dict([])),
]


@pytest.mark.parametrize("case", LOAD_ERRORS, ids=[c[0] for c in LOAD_ERRORS])
def test_load_state_dict_refuses_what_torch_refuses(case):
    _, load = case
    caught = {}
    for frame, optim in ((mt, mt.optim), (torch, torch.optim)):
        params = [frame.zeros(2, requires_grad=True), frame.zeros(2, requires_grad=True)]
        with pytest.raises(Exception) as error:
            load(optim.Adam(params), params)
        caught[frame] = error.value
    assert type(caught[mt]) is type(caught[torch])
    if isinstance(caught[torch], ValueError):
        assert str(caught[torch]) in str(caught[mt])


def test_load_state_dict_refuses_state_of_another_shape():
    """torch accepts it and fails at the next step; here the load says which entry."""
    source = mt.optim.Adam([mt.zeros(2, requires_grad=True)])
    source.param_groups[0]["params"][0].grad = mt.ones(2)
    source.step()
    target = mt.optim.Adam([mt.zeros(3, requires_grad=True)])
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(2,\)"):
        target.load_state_dict(source.state_dict())


# ----- argument errors ---------------------------------------------------------------------

def _leaf(frame):
    return frame.zeros(2, requires_grad=True)


def _non_leaf(frame):
    return frame.zeros(2, requires_grad=True) * 2


BAD_ARGUMENTS = [  # (optimizer, params maker, keyword arguments)
    ("SGD", None, dict(lr=-1)),
    ("SGD", None, dict(lr="x")),
    ("SGD", None, dict(lr=None)),
    ("SGD", None, dict(momentum=-0.5)),
    ("SGD", None, dict(weight_decay=-1e-3)),
    ("SGD", None, dict(nesterov=True)),
    ("SGD", None, dict(nesterov=True, momentum=0.9, dampening=0.1)),
    ("SGD", None, dict(lr=float("nan"))),  # SGD's check lets NaN through, as torch's
    ("Adam", None, dict(lr=float("nan"))),
    ("Adam", None, dict(lr=-1e-3)),
    ("Adam", None, dict(eps=-1e-8)),
    ("Adam", None, dict(betas=(1.0, 0.999))),
    ("Adam", None, dict(betas=(0.9, -0.1))),
    ("Adam", None, dict(betas=(0, 0.999))),
    ("Adam", None, dict(betas=(0.9,))),
    ("Adam", None, dict(betas=None)),
    ("Adam", None, dict(betas=("a", 0.9))),
    ("Adam", None, dict(weight_decay=-0.1)),
    ("AdamW", None, dict(lr=-1)),
    ("AdamW", None, dict(betas=(0.9, 1.0))),
    ("AdamW", None, dict(fused=True, foreach=True)),
    ("Adam", None, dict(fused=True, differentiable=True)),
    ("RMSprop", None, dict(alpha=-0.1)),
    ("RMSprop", None, dict(momentum=-0.1)),
    ("RMSprop", None, dict(eps=-1.0)),
    ("RMSprop", None, dict(lr=-0.01)),
    ("Adagrad", None, dict(lr_decay=-0.1)),
    ("Adagrad", None, dict(initial_accumulator_value=-1.0)),
    ("Adagrad", None, dict(eps=-1.0)),
    ("Adagrad", None, dict(weight_decay=-1.0)),
    ("Adadelta", None, dict(rho=1.5)),
    ("Adadelta", None, dict(rho=-0.1)),
    ("Adadelta", None, dict(lr=-1.0)),
    ("Adadelta", None, dict(eps=-1.0)),
    ("SGD", lambda frame: [], dict(lr=0.1)),
    ("SGD", lambda frame: _leaf(frame), dict(lr=0.1)),
    ("SGD", lambda frame: [1.0], dict(lr=0.1)),
    ("SGD", lambda frame: [_non_leaf(frame)], dict(lr=0.1)),
    ("SGD", lambda frame: [{"params": {_leaf(frame)}}], dict(lr=0.1)),
    ("SGD", lambda frame: (lambda p: [{"params": [p]}, {"params": [p]}])(_leaf(frame)),
     dict(lr=0.1)),
    ("SGD", lambda frame: [("a", _leaf(frame)), _leaf(frame)], dict(lr=0.1)),
    ("SGD", lambda frame: [{"params": [("a", _leaf(frame))]}, {"params": [_leaf(frame)]}],
     dict(lr=0.1)),
    ("Adagrad", lambda frame: [{"lr": 0.1}], dict()),
]


def _outcome(frame, name, make_params, kwargs):
    optim = mt.optim if frame is mt else torch.optim
    params = make_params(frame) if make_params else [_leaf(frame)]
    try:
        getattr(optim, name)(params, **kwargs)
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return error
    return None


@pytest.mark.parametrize("name,make_params,kwargs", BAD_ARGUMENTS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_ARGUMENTS)])
def test_bad_arguments_raise_torchs_exception_class(name, make_params, kwargs):
    ours = _outcome(mt, name, make_params, kwargs)
    theirs = _outcome(torch, name, make_params, kwargs)
    assert type(ours) is type(theirs), f"ours {ours!r}, torch {theirs!r}"
    if isinstance(theirs, ValueError):  # torch's own message, inside ours
        assert str(theirs) in str(ours)


def test_add_param_group_refuses_a_non_dict_as_torch():
    for frame, optim in ((mt, mt.optim), (torch, torch.optim)):
        opt = optim.SGD([_leaf(frame)], lr=0.1)
        with pytest.raises(TypeError, match="param_group must be a dict"):
            opt.add_param_group([_leaf(frame)])
        with pytest.raises(ValueError, match="some parameters appear in more than one"):
            opt.add_param_group({"params": opt.param_groups[0]["params"]})


def test_duplicate_parameters_in_a_group_warn_as_torch():
    for frame, optim in ((mt, mt.optim), (torch, torch.optim)):
        p = _leaf(frame)
        with pytest.warns(UserWarning, match="duplicate parameters"):
            optim.SGD([p, p], lr=0.1)


@pytest.mark.parametrize("option", ["capturable", "differentiable", "fused"])
def test_torch_implementation_switches_we_lack_are_refused_by_name(option):
    name = "Adam"
    with pytest.raises(NotImplementedError, match=f"{option}=True is not supported"):
        getattr(mt.optim, name)([_leaf(mt)], **{option: True})
    getattr(mt.optim, name)([_leaf(mt)], foreach=True)  # same formulas: accepted


# ----- the CUDA device -------------------------------------------------------------------------

@pytest.mark.parametrize("name,options", [
    ("AdamW", dict(lr=0.1, amsgrad=True)),
    ("RMSprop", dict(momentum=0.9, centered=True, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adadelta", dict(weight_decay=0.1)),
])
def test_updates_on_the_device_equal_the_cpus(name, options):
    problem = Problem()
    paths, states = {}, {}
    for device in ("cpu", "cuda"):
        params = problem.params(mt, device)
        opt = getattr(mt.optim, name)(params, **options)
        paths[device] = problem.run(opt, params, mt, 3)
        assert all(p.device == device for p in params)
        states[device] = opt.state_dict()["state"]
    np.testing.assert_allclose(paths["cuda"], paths["cpu"], rtol=1e-13, atol=1e-15)
    for index, state in states["cpu"].items():
        for key, value in state.items():
            on_device = states["cuda"][index][key]
            assert on_device.device == ("cpu" if key == "step" else "cuda")
            np.testing.assert_allclose(on_device.numpy(), value.numpy(), rtol=1e-13)
