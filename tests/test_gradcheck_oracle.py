"""mt.gradcheck, the torch-free oracle: it passes correct ops and catches broken ones."""
from __future__ import annotations

import numpy as np
import pytest

import minitorch_pairs as mt


def leaf(*shape, seed=0):
    return mt.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def broken(backward_rule):
    """A square-elementwise op whose backward is replaced by `backward_rule(a, grad)`."""
    class Square(mt.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, grad):
            return backward_rule(ctx.saved[0], grad)

    return Square.apply


def test_a_correct_op_passes():
    assert mt.gradcheck(broken(lambda a, g: 2 * a * g), (leaf(3, 4),))


def test_a_scaled_gradient_is_caught_with_the_worst_element():
    with pytest.raises(mt.GradcheckError, match=r"input 0 \(shape \(3, 4\)\).*element \(\d, \d\)"
                                                r".*numerical .* analytical"):
        mt.gradcheck(broken(lambda a, g: 2.01 * a * g), (leaf(3, 4),))


def test_one_wrong_element_is_found():
    def rule(a, g):
        out = 2 * a * g
        out[1, 2] *= 1.1  # still linear in g: only the FD comparison can catch it
        return out
    with pytest.raises(mt.GradcheckError, match=r"element \(1, 2\)"):
        mt.gradcheck(broken(rule), (leaf(3, 4),))


def test_a_transposed_gradient_is_caught():
    x = leaf(3, 3)
    with pytest.raises(mt.GradcheckError):
        mt.gradcheck(broken(lambda a, g: (2 * a * g).T.copy()), (x,))


def test_the_second_input_is_named():
    w = leaf(4, 2, seed=1)

    class MatMulWrongWeight(mt.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a @ b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved
            return grad @ b.T, a.T @ grad * 1.5

    with pytest.raises(mt.GradcheckError, match="input 1"):
        mt.gradcheck(MatMulWrongWeight.apply, (leaf(3, 4), w))


def test_a_backward_not_linear_in_the_upstream_gradient_is_caught():
    with pytest.raises(mt.GradcheckError, match="not linear"):
        mt.gradcheck(broken(lambda a, g: 2 * a * g + 0.001 * g * g), (leaf(3),))


def test_a_non_repeatable_backward_is_caught():
    calls = []

    def rule(a, g):
        calls.append(1)
        return 2 * a * g * (1 + 1e-9 * len(calls))

    with pytest.raises(mt.GradcheckError, match="not repeatable"):
        mt.gradcheck(broken(rule), (leaf(3),))


def test_float32_inputs_are_refused():
    with pytest.raises(TypeError, match="float64"):
        mt.gradcheck(lambda t: t * t, (mt.ones(2, requires_grad=True),))


def test_inputs_without_requires_grad_are_refused():
    with pytest.raises(ValueError, match="requires_grad=True"):
        mt.gradcheck(lambda t: t * t, (mt.ones(2, dtype=mt.float64),))


def test_raise_exception_false_returns_false():
    assert mt.gradcheck(broken(lambda a, g: 3 * a * g), (leaf(2),), raise_exception=False) is False


def test_gradient_errors_reports_the_size_of_the_error():
    errors = mt.gradient_errors(lambda t: (t.tanh() * t).sum(dim=0), (leaf(3, 2),))
    assert len(errors.max_abs_error) == 1 and 0 <= errors.max_abs_error[0] < 1e-8
