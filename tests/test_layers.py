"""nn layers against their torch twins (same weights), in train and eval mode; the Module API."""
from __future__ import annotations

import numpy as np
import pytest

import minitorch_pairs as mt
from minitorch_pairs import nn
from torch_reference import torch
from torch_twins import assert_grads_match, copy_into_torch

# float32 through one layer: a few ulps of the output scale.
RTOL32 = 1e-5

LAYERS = {
    "Linear": (lambda f: f.Linear(6, 4), (5, 6)),
    "Linear no bias": (lambda f: f.Linear(6, 4, bias=False), (2, 3, 6)),
    "Conv2d": (lambda f: f.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 7, 6)),
    "Conv2d rect": (lambda f: f.Conv2d(2, 3, (2, 3), padding=(1, 0), bias=False), (2, 2, 5, 5)),
    "MaxPool2d": (lambda f: f.MaxPool2d(2), (2, 3, 6, 6)),
    "MaxPool2d pad": (lambda f: f.MaxPool2d(3, stride=2, padding=1), (2, 3, 7, 7)),
    "AvgPool2d": (lambda f: f.AvgPool2d(2, stride=1), (2, 3, 5, 4)),
    "ReLU": (lambda f: f.ReLU(), (4, 5)),
    "Tanh": (lambda f: f.Tanh(), (4, 5)),
    "Sigmoid": (lambda f: f.Sigmoid(), (4, 5)),
    "SELU": (lambda f: f.SELU(), (4, 5)),
    "Flatten": (lambda f: f.Flatten(), (2, 3, 4, 5)),
    "Identity": (lambda f: f.Identity(), (2, 3)),
    "BatchNorm1d": (lambda f: f.BatchNorm1d(5), (8, 5)),
    "BatchNorm1d 3-D": (lambda f: f.BatchNorm1d(3, momentum=0.3), (4, 3, 6)),
    "BatchNorm2d": (lambda f: f.BatchNorm2d(3), (4, 3, 5, 5)),
    "BatchNorm2d no affine": (lambda f: f.BatchNorm2d(3, affine=False), (4, 3, 2, 2)),
    "BatchNorm2d batch stats": (lambda f: f.BatchNorm2d(3, track_running_stats=False),
                                (4, 3, 2, 2)),
    "Sequential": (lambda f: f.Sequential(f.Conv2d(2, 4, 3), f.BatchNorm2d(4), f.ReLU(),
                                          f.MaxPool2d(2), f.Flatten(), f.Linear(64, 3)),
                   (3, 2, 10, 10)),
}


def run_both(ours, theirs, shape, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(np.float32)
    xo, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=RTOL32,
                               atol=RTOL32, err_msg="forward")
    upstream = rng.standard_normal(yt.shape).astype(np.float32)
    yo.backward(mt.tensor(upstream))
    yt.backward(torch.tensor(upstream))
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=RTOL32, atol=RTOL32,
                               err_msg="grad of input")
    assert_grads_match(ours, theirs, RTOL32)
    ours.zero_grad()
    theirs.zero_grad()


@pytest.mark.parametrize("name", LAYERS)
def test_layer_matches_torch_in_train_and_eval(name):
    build, shape = LAYERS[name]
    mt.manual_seed(0)
    ours, theirs = build(nn), build(torch.nn)
    copy_into_torch(ours, theirs)
    for seed in range(3):  # several training steps move the BatchNorm running statistics
        run_both(ours.train(), theirs.train(), shape, seed)
    for (key, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=RTOL32, atol=RTOL32,
                                   err_msg=f"state {key} after training steps")
    run_both(ours.eval(), theirs.eval(), shape, seed=10)


def test_dropout_train_applies_our_mask_and_eval_is_identity():
    x = mt.ones(1000)
    layer = nn.Dropout(0.25)
    mt.manual_seed(5)
    y = layer(x).numpy()
    mt.manual_seed(5)
    keep = mt.default_generator().random(1000) >= 0.25
    np.testing.assert_array_equal(y, (keep / 0.75).astype(np.float32))
    assert 0.2 < 1 - keep.mean() < 0.3
    assert layer.eval()(x) is x


@pytest.mark.parametrize("build,fan_in", [
    (lambda: nn.Linear(400, 300), 400), (lambda: nn.Conv2d(16, 64, 5), 16 * 25)])
def test_default_init_follows_torch(build, fan_in):
    mt.manual_seed(0)
    layer = build()
    bound = 1 / np.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) reduces to U(-1/sqrt(fan_in), .)
    w, b = layer.weight.data, layer.bias.data
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.02)  # std of U(-a, a)
    assert abs(w.mean()) < 0.01 * bound * 10


def test_batch_norm_starts_at_identity():
    bn = nn.BatchNorm2d(4)
    np.testing.assert_array_equal(bn.weight.data, np.ones(4))
    np.testing.assert_array_equal(bn.bias.data, np.zeros(4))
    np.testing.assert_array_equal(bn.running_var.data, np.ones(4))
    assert bn.num_batches_tracked.item() == 0


def make_model(f):
    return f.Sequential(f.Conv2d(1, 4, 3), f.BatchNorm2d(4), f.ReLU(), f.Flatten(),
                        f.Linear(4 * 3 * 3, 2))


def test_parameter_and_state_names_equal_torchs():
    ours, theirs = make_model(nn), make_model(torch.nn)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]


def test_a_shared_module_is_listed_once():
    class Siamese(nn.Module):
        def __init__(self):
            super().__init__()
            self.left = nn.Linear(3, 2)
            self.right = self.left

    assert len(list(Siamese().parameters())) == 2


def test_train_and_eval_propagate_to_children():
    model = make_model(nn)
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_and_requires_grad():
    model = make_model(nn)
    model(mt.randn(2, 1, 5, 5)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_load_state_dict_copies_values_and_checks_names_and_shapes():
    mt.manual_seed(0)
    source, target = make_model(nn), make_model(nn)
    target.load_state_dict(source.state_dict())
    for (name, a), b in zip(source.state_dict().items(), target.state_dict().values()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    state = source.state_dict()
    del state["4.bias"]
    with pytest.raises(KeyError, match="missing keys \\['4.bias'\\]"):
        target.load_state_dict(state)
    state = source.state_dict()
    state["extra"] = mt.zeros(1)
    with pytest.raises(KeyError, match="unexpected keys \\['extra'\\]"):
        target.load_state_dict(state)
    state = source.state_dict()
    state["0.weight"] = mt.zeros(4, 1, 2, 2)
    with pytest.raises(ValueError, match="0.weight expects shape \\(4, 1, 3, 3\\), got "
                                         "\\(4, 1, 2, 2\\)"):
        target.load_state_dict(state)


def test_state_dict_roundtrip_through_save_and_load(tmp_path):
    mt.manual_seed(1)
    model = make_model(nn)
    model(mt.randn(3, 1, 5, 5))  # moves the running statistics
    mt.save(model.state_dict(), tmp_path / "model.npz")
    clone = make_model(nn)
    clone.load_state_dict(mt.load(tmp_path / "model.npz"))
    x = mt.randn(2, 1, 5, 5)
    model.eval(), clone.eval()
    np.testing.assert_array_equal(model(x).detach().numpy(), clone(x).detach().numpy())


def test_module_to_float64_casts_parameters_and_buffers():
    model = make_model(nn).double()
    assert all(t.dtype == mt.float64 for t in model.state_dict().values()
               if t.dtype.kind == "f")
    assert model(mt.randn(1, 1, 5, 5, dtype=mt.float64)).dtype == mt.float64
