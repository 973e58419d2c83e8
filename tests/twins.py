"""Twin models for parity tests: one spec builds the same architecture from `mt.nn` and from
`torch.nn`, the weights are copied across by parameter/buffer name, and the helpers below
compare outputs, gradients and state between the two with a stated tolerance.

A spec is a function of the nn namespace, e.g. `lambda nn: nn.Linear(6, 4)`; because our
API mirrors torch's, one spec serves both sides.
"""
from __future__ import annotations

import numpy as np

import minitorch_pairs as mt
from torch_reference import torch

TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def torch_dtype(dtype):
    return TORCH_DTYPES[np.dtype(dtype)]


def to_numpy(value) -> np.ndarray:
    """The array behind one of our tensors, a torch tensor, or an array."""
    if isinstance(value, mt.Tensor):
        return value.data
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.asarray(value)


def copy_ours_into_torch(ours, theirs) -> None:
    """Copy every parameter and buffer of `ours` into `theirs` by name; the two state_dicts
    must list the same names in the same order."""
    our_state, their_state = ours.state_dict(), theirs.state_dict()
    assert list(our_state) == list(their_state), \
        f"state_dict keys differ: ours {list(our_state)}, torch {list(their_state)}"
    with torch.no_grad():
        for name, value in our_state.items():
            target = their_state[name]
            assert tuple(target.shape) == value.shape, \
                f"{name}: torch shape {tuple(target.shape)}, ours {value.shape}"
            target.copy_(torch.from_numpy(np.array(value.data)))


def copy_torch_into_ours(theirs, ours) -> None:
    """The other direction, through our load_state_dict (which checks names and shapes)."""
    ours.load_state_dict({name: t.detach().numpy().copy()
                          for name, t in theirs.state_dict().items()})


def make_twins(spec, dtype=np.float32, seed: int = 0):
    """(ours, theirs): `spec(mt.nn)` initialised from our seeded generator, cast to `dtype`,
    and `spec(torch.nn)` holding the same weights and buffers."""
    mt.manual_seed(seed)
    ours = spec(mt.nn).to(dtype=np.dtype(dtype))
    theirs = spec(torch.nn).to(torch_dtype(dtype))
    copy_ours_into_torch(ours, theirs)
    return ours, theirs


def assert_close(actual, expected, rtol: float, what: str) -> None:
    """|actual - expected| <= rtol * max|expected| elementwise (error relative to the tensor's
    scale, so entries near zero do not demand more than the arithmetic gives), plus equal
    shape and dtype."""
    a, e = to_numpy(actual), to_numpy(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape}, torch {e.shape}"
    assert a.dtype == e.dtype, f"{what}: dtype {a.dtype}, torch {e.dtype}"
    if a.dtype.kind in "iub":
        np.testing.assert_array_equal(a, e, err_msg=what)
        return
    scale = float(np.abs(e).max()) if e.size else 0.0
    np.testing.assert_allclose(a, e, rtol=0, atol=rtol * max(scale, np.finfo(e.dtype).tiny),
                               err_msg=f"{what} (tolerance {rtol:g} of max|torch| = {scale:g})")


def assert_grads_match(ours, theirs, rtol: float, what: str = "") -> None:
    """Each parameter's .grad equals the torch twin's, parameters paired by name."""
    theirs_by_name = dict(theirs.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert names == list(theirs_by_name), f"parameter names: ours {names}, torch " \
                                          f"{list(theirs_by_name)}"
    for name, p in ours.named_parameters():
        q = theirs_by_name[name]
        assert (p.grad is None) == (q.grad is None), \
            f"{what}grad of {name}: ours {p.grad is None and 'None'}, torch " \
            f"{q.grad is None and 'None'}"
        if p.grad is not None:
            assert_close(p.grad, q.grad, rtol, f"{what}grad of {name}")


def assert_state_matches(ours, theirs, rtol: float, what: str = "") -> None:
    """Every parameter and buffer (running stats, num_batches_tracked) equals torch's."""
    their_state = theirs.state_dict()
    assert list(ours.state_dict()) == list(their_state)
    for name, value in ours.state_dict().items():
        assert_close(value, their_state[name], rtol, f"{what}{name}")


def dropout_keep_mask(rng_state: dict, shape: tuple, p: float) -> np.ndarray:
    """The keep-mask our F.dropout draws from a generator in state `rng_state`, written
    independently of the kernels: one 63-bit seed from the generator, then SplitMix64's
    output for counters 1..n (top 53 bits as a uniform in [0, 1)); kept where u >= p."""
    rng = np.random.default_rng()
    rng.bit_generator.state = rng_state
    seed = np.uint64(rng.integers(2 ** 63))
    z = seed + np.arange(1, int(np.prod(shape)) + 1, dtype=np.uint64) * \
        np.uint64(0x9E3779B97F4A7C15)  # array arithmetic wraps modulo 2**64 silently
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return ((z >> np.uint64(11)).astype(np.float64) / 2.0 ** 53 >= p).reshape(shape)


def dropout_reference(x: np.ndarray, keep: np.ndarray, p: float) -> np.ndarray:
    """x times the inverted-dropout mask, with 1/(1-p) rounded to x's dtype as our side does."""
    scale = 0.0 if p == 1 else 1.0 / (1 - p)
    return x * (keep * scale).astype(x.dtype)


class ReplayDropout(torch.nn.Module):
    """torch-side dropout that applies the masks our generator draws: it holds a copy of our
    generator's state (`sync` before each of our forwards) and draws from it as F.dropout does,
    so our model and its torch twin drop the same units."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.rng_state = None

    def sync(self, rng_state: dict) -> None:
        self.rng_state = rng_state

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        assert self.rng_state is not None, "ReplayDropout: call sync(mt.get_rng_state()) first"
        keep = dropout_keep_mask(self.rng_state, tuple(x.shape), self.p)
        self.rng_state = None  # one state, one draw: a second forward without sync is a bug
        scale = 0.0 if self.p == 1 else 1.0 / (1 - self.p)
        return x * torch.from_numpy((keep * scale).astype(_np_dtype(x)))


def _np_dtype(t) -> np.dtype:
    return {torch.float32: np.float32, torch.float64: np.float64}[t.dtype]
