"""Finite-difference gradient checking, a public API for checking any op, ours or a user's.

For a random upstream gradient v, backward gives the analytical vector-Jacobian
product v^T J for every input; central differences of the scalar v . fn(x),
taken over every element of every input, give the numerical one. Each element
must agree within atol + rtol * |numerical|. Backward must also be linear in
the upstream gradient (2v gives twice the gradient) and give the same result
twice. On failure the report names the input, the worst element, and both
values side by side.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .autograd import no_grad
from .tensor import Tensor, float64


class GradcheckError(AssertionError):
    """A gradient disagreed with its finite-difference estimate."""


@dataclass
class GradientErrors:
    """Per checked input: the largest absolute error and error relative to the tolerance."""

    max_abs_error: list
    max_tolerance_ratio: list  # max |analytical - numerical| / (atol + rtol |numerical|)


def _outputs(fn, inputs) -> list:
    result = fn(*inputs)
    outputs = list(result) if isinstance(result, (tuple, list)) else [result]
    outputs = [o for o in outputs if isinstance(o, Tensor) and o.dtype.kind == "f"]
    if not outputs:
        raise ValueError("gradcheck: fn must return a floating-point Tensor or a tuple of them")
    return outputs


def _projection(fn, inputs, vectors) -> float:
    with no_grad():
        outputs = _outputs(fn, inputs)
    return float(sum(np.sum(o._data * v) for o, v in zip(outputs, vectors)))


def _analytical(fn, inputs, vectors) -> list:
    for t in inputs:
        if isinstance(t, Tensor):
            t.grad = None
    outputs = _outputs(fn, inputs)
    total = None
    for output, vector in zip(outputs, vectors):
        if output.requires_grad:
            term = (output * Tensor._from_array(vector)).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    return [t.grad._data.copy() if isinstance(t, Tensor) and t.grad is not None
            else np.zeros(np.shape(t)) for t in inputs]


def _check_inputs(inputs) -> list:
    inputs = list(inputs) if isinstance(inputs, (tuple, list)) else [inputs]
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: expected at least one input Tensor with requires_grad=True")
    for i, t in enumerate(checked):
        if t.dtype != float64:
            raise TypeError(f"gradcheck: input {i} has dtype {t.dtype}; finite differences "
                            "need float64 inputs (use .double())")
    return inputs


def gradient_errors(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                    seed: int = 0) -> GradientErrors:
    """Compare backward with central differences; raise GradcheckError naming the worst element."""
    inputs = _check_inputs(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    rng = np.random.default_rng(seed)
    with no_grad():
        shapes = [o.shape for o in _outputs(fn, inputs)]
    vectors = [rng.standard_normal(s) for s in shapes]
    analytical = _analytical(fn, inputs, vectors)
    _check_linear_and_repeatable(fn, inputs, vectors, analytical, checked)
    numerical = _numerical(fn, inputs, checked, vectors, eps)
    abs_errors, ratios = [], []
    for k, i in enumerate(checked):
        diff = np.abs(analytical[i] - numerical[k])
        allowed = atol + rtol * np.abs(numerical[k])
        ratio = diff / allowed
        abs_errors.append(float(diff.max(initial=0.0)))
        ratios.append(float(ratio.max(initial=0.0)))
        if not np.all(ratio <= 1):  # also catches NaN
            worst = np.unravel_index(np.nanargmax(np.where(np.isnan(ratio), np.inf, ratio)),
                                     ratio.shape) if ratio.size else ()
            raise GradcheckError(
                f"gradcheck: gradient of input {i} (shape {inputs[i].shape}) disagrees with "
                f"central differences (eps={eps}) at element {tuple(int(w) for w in worst)}: "
                f"numerical {numerical[k][worst]:.10g}, analytical {analytical[i][worst]:.10g}, "
                f"|diff| {diff[worst]:.3g} > atol + rtol*|numerical| = {allowed[worst]:.3g}\n"
                f"numerical:\n{numerical[k]}\nanalytical:\n{analytical[i]}")
    return GradientErrors(abs_errors, ratios)


def _numerical(fn, inputs, checked, vectors, eps) -> list:
    """Central differences for the checked inputs, the others held fixed."""
    grads = []
    for i in checked:
        t = inputs[i]
        grad = np.zeros(t.shape)
        flat, flat_grad = t._data.reshape(-1), grad.reshape(-1)
        for j in range(flat.size):
            original = flat[j]
            flat[j] = original + eps
            plus = _projection(fn, inputs, vectors)
            flat[j] = original - eps
            minus = _projection(fn, inputs, vectors)
            flat[j] = original
            flat_grad[j] = (plus - minus) / (2 * eps)
        grads.append(grad)
    return grads


def _check_linear_and_repeatable(fn, inputs, vectors, analytical, checked) -> None:
    again = _analytical(fn, inputs, vectors)
    doubled = _analytical(fn, inputs, [2 * v for v in vectors])
    for i in checked:
        if not np.array_equal(again[i], analytical[i], equal_nan=True):
            raise GradcheckError(f"gradcheck: backward is not repeatable: input {i} got a "
                                 f"different gradient on a second run (max change "
                                 f"{np.nanmax(np.abs(again[i] - analytical[i])):.3g})")
        scale_error = np.abs(doubled[i] - 2 * analytical[i])
        if not np.all(scale_error <= 1e-12 * (1 + np.abs(doubled[i]))):
            raise GradcheckError(f"gradcheck: backward is not linear in the upstream gradient: "
                                 f"input {i}, doubling it changed the gradient by a factor "
                                 f"other than 2 (max error {np.nanmax(scale_error):.3g})")
    for t in inputs:
        if isinstance(t, Tensor):
            t.grad = None


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """True if fn's backward matches central differences on every element of every input."""
    try:
        gradient_errors(fn, inputs, eps=eps, atol=atol, rtol=rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True
