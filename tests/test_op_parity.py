"""Every differentiable op (tests/op_cases.py), on hypothesis-drawn shapes and arguments:

- float64: `mt.gradcheck` against central differences over every input element;
- float32: forward and every input's gradient equal torch's under a random upstream
  gradient (not `.sum()`, whose all-ones gradient hides transposition bugs).

The largest errors seen per op are printed in the terminal summary.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minitorch_pairs as mt
from all_op_cases import CASES
from torch_reference import torch

# The worst error seen per op this run: {op: {"fd": ..., "forward": ..., "backward": ...}}.
WORST_ERRORS: dict = {}


def _record(case: str, kind: str, error: float) -> None:
    slot = WORST_ERRORS.setdefault(case, {})
    slot[kind] = max(slot.get(kind, 0.0), float(error))


def _close(label: str, ours: np.ndarray, theirs: np.ndarray, rtol: float) -> float:
    """Compare with an absolute floor scaled to the magnitude of the values; return the
    error in units of that scale."""
    assert ours.shape == theirs.shape, f"{label}: shape {ours.shape} != torch {theirs.shape}"
    scale = max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale, err_msg=label)
    return float(np.max(np.abs(ours - theirs), initial=0.0)) / scale


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@given(data=st.data())
def test_matches_finite_differences_float64(case, data):
    arrays, kwargs = case.draw(data)
    inputs = [mt.tensor(a, dtype=mt.float64, requires_grad=True) for a in arrays]
    errors = mt.gradient_errors(lambda *t: case.ours(*t, **kwargs), inputs)
    _record(case.name, "fd", max(errors.max_abs_error, default=0.0))
    _record(case.name, "fd/tol", max(errors.max_tolerance_ratio, default=0.0))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@given(data=st.data())
def test_matches_torch_float32(case, data):
    arrays, kwargs = case.draw(data)
    arrays = [np.asarray(a, dtype=np.float32) for a in arrays]
    ours_in = [mt.tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours, theirs = case.ours(*ours_in, **kwargs), case.theirs(torch, *theirs_in, **kwargs)
    assert ours.dtype == mt.float32, f"forward: dtype {ours.dtype}, expected float32"
    _record(case.name, "forward",
            _close("forward", ours.detach().numpy(), theirs.detach().numpy(), case.rtol32))

    upstream = np.random.default_rng(0).standard_normal(theirs.shape).astype(np.float32)
    ours.backward(mt.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    for i, (o, t) in enumerate(zip(ours_in, theirs_in)):
        if t.grad is None:  # torch: input unused -> we must agree it gets no gradient
            assert o.grad is None or not np.any(o.grad.numpy()), f"grad of input {i}"
            continue
        assert o.grad is not None, f"grad of input {i}: missing, torch has one"
        _record(case.name, "backward", _close(f"grad of input {i}", o.grad.data,
                                              t.grad.numpy(), case.rtol32))


def summary_lines() -> list:
    if not WORST_ERRORS:
        return []
    lines = ["worst error per op (fd: float64 |analytic - central difference|; fd/tol: the same "
             "over its allowance atol + rtol |numerical|, must be <= 1; forward/backward: "
             "float32 |ours - torch| / max(1, max|torch|)):",
             f"{'op':34s} {'fd':>9s} {'fd/tol':>9s} {'forward':>9s} {'backward':>9s}"]
    for name, errors in sorted(WORST_ERRORS.items()):
        cells = [f"{errors[k]:9.1e}" if k in errors else f"{'-':>9s}"
                 for k in ("fd", "fd/tol", "forward", "backward")]
        lines.append(f"{name:34s} " + " ".join(cells))
    return lines
