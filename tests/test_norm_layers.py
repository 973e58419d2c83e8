"""LayerNorm, GroupNorm, Embedding, Dropout2d and Unflatten against torch itself: modules with
the same weights give the same outputs and gradients; parameters, state dicts and reprs as
torch's; embedding's padding_idx, scale_grad_by_freq and max_norm; dropout2d's masks and
warnings; errors of torch's classes. (Finite differences, float32 parity and the device run
of the ops are tests/op_cases_layers.py's.)"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minitorch_pairs as mt
import minitorch_pairs.nn as nn
import minitorch_pairs.nn.functional as F
from torch_reference import torch

TF = torch.nn.functional


def _copy_parameters(ours, theirs, rng) -> None:
    """Random values in both modules' parameters (the same in each)."""
    for (name, p), (other, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == other and p.shape == tuple(q.shape)
        values = rng.standard_normal(p.shape)
        p._data[...] = values
        with torch.no_grad():
            q.copy_(torch.tensor(values))


def _run_both(ours, theirs, x, rng):
    """Outputs and input/parameter gradients of both modules on x, under one upstream."""
    mine, reference = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(mine), theirs(reference)
    upstream = rng.standard_normal(tuple(expected.shape))
    out.backward(mt.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10,
                               atol=1e-10)
    np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-9, atol=1e-10)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-10,
                                   err_msg=name)


NORM_LAYERS = [
    ("LayerNorm", lambda m: m.LayerNorm(4, dtype=_dtype(m)), (3, 2, 4)),
    ("LayerNorm 2-D shape", lambda m: m.LayerNorm([3, 4], eps=1e-3, dtype=_dtype(m)), (2, 3, 4)),
    ("LayerNorm no bias", lambda m: m.LayerNorm((5,), bias=False, dtype=_dtype(m)), (2, 5)),
    ("LayerNorm no affine", lambda m: m.LayerNorm(3, elementwise_affine=False), (4, 3)),
    ("GroupNorm", lambda m: m.GroupNorm(2, 4, dtype=_dtype(m)), (2, 4, 3, 3)),
    ("GroupNorm one group", lambda m: m.GroupNorm(1, 3, eps=0.1, dtype=_dtype(m)), (2, 3, 5)),
    ("GroupNorm per channel", lambda m: m.GroupNorm(3, 3, dtype=_dtype(m)), (2, 3, 4)),
    ("GroupNorm no bias", lambda m: m.GroupNorm(2, 4, bias=False, dtype=_dtype(m)), (3, 4)),
    ("GroupNorm no affine", lambda m: m.GroupNorm(2, 2, affine=False), (2, 2, 2, 2)),
]


def _dtype(module_namespace):
    return torch.float64 if module_namespace is torch.nn else mt.float64


@pytest.mark.parametrize("name, build, shape", NORM_LAYERS, ids=[c[0] for c in NORM_LAYERS])
def test_norm_layers_match_torch(name, build, shape):
    ours, theirs = build(nn), build(torch.nn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())  # ones, zeros
    rng = np.random.default_rng(0)
    _copy_parameters(ours, theirs, rng)
    ours, theirs = ours.double(), theirs.double()
    _run_both(ours, theirs, rng.standard_normal(shape) * 3 + 1, rng)


NORM_ERRORS = [
    ("shape mismatch", lambda f, x: f.layer_norm(x, (4,))),
    ("int shape", lambda f, x: f.layer_norm(x, 5)),
    ("empty shape", lambda f, x: f.layer_norm(x, [])),
    ("weight shape", lambda f, x: f.layer_norm(x, (5,), x[0, 0, 0, :4])),
    ("weight dtype", lambda f, x: f.layer_norm(x, (5,), x[0, 0, 0].double())),
    ("integer input", lambda f, x: f.layer_norm(x.long(), (5,))),
    ("groups not dividing", lambda f, x: f.group_norm(x, 3)),
    ("zero groups", lambda f, x: f.group_norm(x, 0)),
    ("1-D input", lambda f, x: f.group_norm(x[0, 0, 0], 1)),
    ("one value per group", lambda f, x: f.group_norm(x[:1, :, 0, 0], 2)),
    ("group weight shape", lambda f, x: f.group_norm(x, 2, x[0, 0, 0, :3])),
    ("group integer input", lambda f, x: f.group_norm(x.long(), 2)),
]


@pytest.mark.parametrize("name, call", NORM_ERRORS, ids=[c[0] for c in NORM_ERRORS])
def test_norm_errors_have_torchs_class(name, call):
    x = np.random.default_rng(1).standard_normal((1, 2, 5, 5)).astype(np.float32)
    with pytest.raises(Exception) as theirs:
        call(TF, torch.tensor(x))
    with pytest.raises(theirs.type):
        call(F, mt.tensor(x))


def test_group_norm_construction_checks_as_torch():
    with pytest.raises(ValueError, match="must be divisible by num_groups"):
        nn.GroupNorm(3, 4)
    assert nn.GroupNorm(2, 4).weight.shape == (4,)


def test_layer_norm_of_float16_and_empty_batches():
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float16)
    ours = F.layer_norm(mt.tensor(x), [4])
    assert ours.dtype == mt.float16
    np.testing.assert_allclose(ours.numpy(), TF.layer_norm(torch.tensor(x), [4]).numpy(),
                               rtol=2e-3, atol=2e-3)
    assert F.layer_norm(mt.zeros(0, 3), [3]).shape == (0, 3)
    assert F.group_norm(mt.zeros(0, 4, 2), 2).shape == (0, 4, 2)


# ----- embedding -----------------------------------------------------------------------------

@settings(max_examples=30)
@given(st.integers(2, 6), st.integers(1, 4), st.sampled_from([None, 0, 2, -1]), st.booleans(),
       st.sampled_from([np.int64, np.int32]), st.integers(0, 2 ** 16))
def test_embedding_matches_torch_with_padding_and_frequency_scaling(rows, dim, padding_idx,
                                                                    scale_grad_by_freq,
                                                                    index_dtype, seed):
    """Indices repeat and hit the padding row: its gradient is zero, the others add up (and
    are divided by their counts with scale_grad_by_freq)."""
    rng = np.random.default_rng(seed)
    padding_idx = None if padding_idx is not None and padding_idx >= rows else padding_idx
    weight = rng.standard_normal((rows, dim))
    indices = rng.integers(0, rows, (3, 4)).astype(index_dtype)
    indices[0, :2] = padding_idx % rows if padding_idx is not None else 0
    mine, reference = mt.tensor(weight, requires_grad=True), torch.tensor(weight,
                                                                         requires_grad=True)
    options = dict(padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq)
    out = F.embedding(mt.tensor(indices), mine, **options)
    expected = TF.embedding(torch.tensor(indices), reference, **options)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    upstream = rng.standard_normal(tuple(expected.shape))
    out.backward(mt.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_embedding_max_norm_renormalises_the_picked_rows_in_place_as_torch(norm_type):
    weight = np.random.default_rng(4).standard_normal((6, 3)) * 2
    indices = np.array([[0, 2, 2], [5, 0, 1]])
    mine, reference = mt.tensor(weight, requires_grad=True), torch.tensor(weight,
                                                                         requires_grad=True)
    out = F.embedding(mt.tensor(indices), mine, max_norm=1.0, norm_type=norm_type)
    expected = TF.embedding(torch.tensor(indices), reference, max_norm=1.0, norm_type=norm_type)
    np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    assert mine._version == reference._version == 1
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy())


def test_embedding_module_init_from_pretrained_and_repr():
    mt.manual_seed(0)
    layer = nn.Embedding(5, 3, padding_idx=-2)
    values = layer.weight.detach().numpy()
    assert layer.padding_idx == 3 and not np.any(values[3])
    assert np.all(values[[0, 1, 2, 4]] != 0)
    assert repr(layer) == repr(torch.nn.Embedding(5, 3, padding_idx=-2))
    kwargs = dict(max_norm=2.0, norm_type=1.0, scale_grad_by_freq=True, sparse=True)
    assert repr(nn.Embedding(4, 2, **kwargs)) == repr(torch.nn.Embedding(4, 2, **kwargs))
    vectors = mt.tensor(np.arange(6.0).reshape(3, 2))
    frozen = nn.Embedding.from_pretrained(vectors)
    assert not frozen.weight.requires_grad and frozen.weight.shape == (3, 2)
    np.testing.assert_array_equal(frozen(mt.tensor([2, 0])).numpy(), [[4, 5], [0, 1]])
    assert nn.Embedding.from_pretrained(vectors, freeze=False).weight.requires_grad
    assert list(frozen.state_dict()) == ["weight"]


EMBEDDING_ERRORS = [
    ("index out of range", lambda f, w: f.embedding(_ints(f, [1, 5]), w)),
    ("negative index", lambda f, w: f.embedding(_ints(f, [1, -1]), w)),
    ("float indices", lambda f, w: f.embedding(_ints(f, [1, 2]).double(), w)),
    ("int16 indices", lambda f, w: f.embedding(_ints(f, [1, 2]).short(), w)),
    ("1-D weight", lambda f, w: f.embedding(_ints(f, [1, 2]), w[0])),
    ("padding_idx too large", lambda f, w: f.embedding(_ints(f, [1]), w, padding_idx=5)),
    ("padding_idx too small", lambda f, w: f.embedding(_ints(f, [1]), w, padding_idx=-6)),
    ("list indices", lambda f, w: f.embedding([1, 2], w)),
]


def _ints(f, values):
    return torch.tensor(values) if f is TF else mt.tensor(values)


@pytest.mark.parametrize("name, call", EMBEDDING_ERRORS, ids=[c[0] for c in EMBEDDING_ERRORS])
def test_embedding_errors_have_torchs_class(name, call):
    weight = np.random.default_rng(5).standard_normal((5, 3))
    with pytest.raises(Exception) as theirs:
        call(TF, torch.tensor(weight))
    with pytest.raises(theirs.type):
        call(F, mt.tensor(weight))


def test_sparse_embedding_gradients_are_refused_by_name():
    with pytest.raises(NotImplementedError, match="sparse=True"):
        F.embedding(mt.tensor([0]), mt.randn(2, 2), sparse=True)


# ----- dropout2d -----------------------------------------------------------------------------

def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    x = mt.ones(8, 16, 3, 5)
    out = F.dropout2d(x, 0.25).numpy()
    per_channel = out.reshape(8, 16, -1)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # whole channels
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert 0.1 < np.mean(per_channel[:, :, 0] == 0) < 0.4
    layer = nn.Dropout2d(0.25)
    assert repr(layer) == repr(torch.nn.Dropout2d(0.25))
    layer.eval()
    assert layer(x) is x
    assert F.dropout2d(x, 1.0).numpy().max() == 0


def _warnings_of(call) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4), (2, 3, 4, 5), (2, 3, 2, 2, 2)])
def test_dropout2d_warns_as_torch_and_draws_per_first_two_dims(shape):
    """A 3-D input is taken as (N, C, L), as torch still takes it (one draw per (N, C))."""
    assert _warnings_of(lambda: F.dropout2d(mt.ones(*shape))) == \
        _warnings_of(lambda: TF.dropout2d(torch.ones(shape)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = F.dropout2d(mt.ones(*shape), 0.5).numpy().reshape(shape[0], shape[1], -1)
    assert np.all(out.min(axis=2) == out.max(axis=2))


@pytest.mark.filterwarnings("ignore:dropout2d")
def test_dropout2d_errors_and_in_place_form():
    for call in [lambda f, x: f.dropout2d(x, 1.5), lambda f, x: f.dropout2d(x[0, 0, 0])]:
        with pytest.raises(Exception) as theirs:
            call(TF, torch.ones(2, 3, 4, 4))
        with pytest.raises(theirs.type):
            call(F, mt.ones(2, 3, 4, 4))
    x = mt.randn(2, 3, 4, 4)
    base = x * 1
    result = F.dropout2d(base, 0.5, inplace=True)
    assert result is base and base._version == 1
    kept = base.numpy() != 0
    np.testing.assert_allclose(base.numpy()[kept], x.numpy()[kept] * 2, rtol=1e-6)


# ----- unflatten -----------------------------------------------------------------------------

@pytest.mark.parametrize("dim, sizes", [(1, (2, 3)), (1, [2, -1]), (-1, (3, 2)), (0, (1, 2)),
                                        (1, (6,)), (1, (4, -1)), (2, (2, 3)), (1, ()),
                                        (1, (2, 2))])
def test_unflatten_matches_torch(dim, sizes):
    ours, theirs = nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
    assert repr(ours) == repr(theirs)
    x = np.arange(12.0).reshape(2, 6)
    try:
        expected = theirs(torch.tensor(x))
    except Exception as error:
        with pytest.raises(type(error)):
            ours(mt.tensor(x))
        return
    np.testing.assert_array_equal(ours(mt.tensor(x)).numpy(), expected.numpy())


def test_unflatten_checks_its_sizes_as_torch():
    for sizes in [6, (6.0,)]:
        with pytest.raises(TypeError):
            torch.nn.Unflatten(1, sizes)
        with pytest.raises(TypeError):
            nn.Unflatten(1, sizes)
