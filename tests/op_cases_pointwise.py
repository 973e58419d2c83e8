"""Op cases of ops/pointwise and ops/logic (see op_cases.py for what a Case is): every
differentiable pointwise op, its inputs drawn away from its kinks, jumps and ties so that central
differences are valid there."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minitorch_pairs as mt
from op_cases import Case, _normal, away_from, dims

CPU_ONLY = ("cpu_only",)


def away_from_grid(x: np.ndarray, step: float, offset: float = 0.0,
                   margin: float = 0.02) -> np.ndarray:
    """Values at least `margin * step` from every point offset + k * step (the jumps of
    floor, round, remainder, ...)."""
    position = (x - offset) / step
    nearest = np.round(position)
    close = np.abs(position - nearest) < margin
    pushed = nearest + np.where(position >= nearest, margin, -margin)
    return np.where(close, pushed, position) * step + offset


def unary_of(transform=lambda x: x):
    """One input of any shape (0-d included): standard normals through `transform`."""
    def draw(data):
        x = _normal(data, data.draw(dims(0, 3), label="shape"))
        return [np.asarray(transform(x), dtype=np.float64)], {}
    return draw


def full_and_broadcast_shapes(data):
    """A shape and a second shape that broadcasts to it without growing it."""
    shape = data.draw(dims(1, 3), label="shape")
    kept = shape[data.draw(st.integers(0, len(shape)), label="drop leading"):]
    other = tuple(1 if data.draw(st.booleans(), label=f"size 1 at {i}") else n
                  for i, n in enumerate(kept))
    return shape, other


def draw_divisions(data):
    """(dividend, divisor) with |divisor| >= 0.5 and every quotient at least 0.05 from an
    integer (where floor, trunc, remainder and fmod jump); the divisor broadcasts."""
    shape, divisor_shape = full_and_broadcast_shapes(data)
    divisor = _normal(data, divisor_shape)
    divisor = np.sign(divisor) * (np.abs(divisor) + 0.5) + (divisor == 0)
    quotient = away_from_grid(_normal(data, shape) * 3, 1.0, margin=0.05)
    return [quotient * divisor, divisor], {}


def draw_untied(data):
    """Two broadcasting inputs no two of whose paired values are within 0.05 (the first on
    multiples of 0.1, the second halfway between), so minimum/maximum never tie."""
    shape, other = full_and_broadcast_shapes(data)
    if data.draw(st.booleans(), label="swap"):
        shape, other = other, shape
    a = np.round(_normal(data, shape) * 10) / 10
    b = np.round(_normal(data, other) * 10) / 10 + 0.05
    return [a, b], {}


def draw_atan2(data):
    """Broadcasting (y, x) with x at least 0.5 from 0 and y at least 0.05 from 0: off the
    origin and off the jump of the angle along the negative x axis."""
    shape, other = full_and_broadcast_shapes(data)
    y = away_from(_normal(data, shape), (0.0,))
    x = _normal(data, other)
    return [y, np.sign(x) * (np.abs(x) + 0.5) + (x == 0)], {}


def draw_where(data):
    """x, y and a bool condition, the three shapes broadcasting together."""
    shape, other = full_and_broadcast_shapes(data)
    condition_shape = data.draw(st.sampled_from([shape, other, shape[-1:]]), label="cond")
    seed = data.draw(st.integers(0, 2 ** 32 - 1), label="condition seed")
    condition = np.random.default_rng(seed).random(condition_shape) < 0.5
    x, y = _normal(data, shape), _normal(data, other)
    if data.draw(st.booleans(), label="swap"):
        x, y = y, x
    return [x, y], {"condition": condition}


def draw_round_decimals(data):
    decimals = data.draw(st.sampled_from([-1, 1, 2]), label="decimals")
    step = 10.0 ** -decimals
    x = _normal(data, data.draw(dims(0, 3), label="shape")) * 3 * max(step, 1.0)
    return [away_from_grid(x, step, offset=step / 2)], {"decimals": decimals}


def _condition(condition, like):
    return mt.tensor(condition).to(like.device)


def _integers_away(x):
    return away_from_grid(x * 3, 1.0)


CASES = [
    # ---- float functions
    Case("neg function", unary_of(), mt.neg, lambda t, a: t.neg(a)),
    Case("reciprocal", unary_of(lambda x: away_from(x, (0.0,), margin=0.2)),
         mt.reciprocal, lambda t, a: t.reciprocal(a)),
    Case("expm1", unary_of(), mt.expm1, lambda t, a: t.expm1(a)),
    Case("log1p", unary_of(lambda x: np.abs(x) - 0.5), mt.log1p, lambda t, a: t.log1p(a)),
    Case("log2", unary_of(lambda x: np.abs(x) + 0.2), mt.log2, lambda t, a: t.log2(a)),
    Case("log10", unary_of(lambda x: np.abs(x) + 0.2), lambda a: a.log10(),
         lambda t, a: a.log10()),
    Case("rsqrt", unary_of(lambda x: np.abs(x) + 0.2), mt.rsqrt, lambda t, a: t.rsqrt(a)),
    Case("square", unary_of(), mt.square, lambda t, a: t.square(a)),
    Case("sin", unary_of(lambda x: x * 2), mt.sin, lambda t, a: t.sin(a), tags=CPU_ONLY),
    Case("cos", unary_of(lambda x: x * 2), lambda a: a.cos(), lambda t, a: a.cos(),
         tags=CPU_ONLY),
    # kept within (-1.3, 1.3): tan's poles are at +-pi/2
    Case("tan", unary_of(lambda x: 1.3 * np.tanh(x)), mt.tan, lambda t, a: t.tan(a),
         tags=CPU_ONLY),
    Case("asin", unary_of(lambda x: 0.9 * np.tanh(x)), mt.asin, lambda t, a: t.asin(a),
         tags=CPU_ONLY),
    Case("acos", unary_of(lambda x: 0.9 * np.tanh(x)), mt.acos, lambda t, a: t.acos(a),
         tags=CPU_ONLY),
    Case("atan", unary_of(lambda x: x * 2), mt.atan, lambda t, a: t.atan(a), tags=CPU_ONLY),
    # ---- rounding (gradient 0) and frac (gradient 1), off their jumps
    Case("sign", unary_of(lambda x: away_from(x, (0.0,))), mt.sign,
         lambda t, a: t.sign(a)),
    Case("floor", unary_of(_integers_away), mt.floor, lambda t, a: t.floor(a), tags=CPU_ONLY),
    Case("ceil", unary_of(_integers_away), lambda a: a.ceil(), lambda t, a: a.ceil(),
         tags=CPU_ONLY),
    Case("trunc", unary_of(_integers_away), mt.trunc, lambda t, a: t.trunc(a), tags=CPU_ONLY),
    Case("frac", unary_of(_integers_away), mt.frac, lambda t, a: t.frac(a), tags=CPU_ONLY),
    Case("round", unary_of(lambda x: away_from_grid(x * 3, 1.0, offset=0.5)), mt.round,
         lambda t, a: t.round(a), tags=CPU_ONLY),
    Case("round decimals", draw_round_decimals,
         lambda a, decimals: mt.round(a, decimals=decimals),
         lambda t, a, decimals: t.round(a, decimals=decimals), tags=CPU_ONLY),
    # ---- binary
    Case("pow function", draw_divisions, lambda a, b: mt.pow(a.abs() + 0.5, b),
         lambda t, a, b: t.pow(a.abs() + 0.5, b)),
    Case("pow function scalar base", unary_of(), lambda a: mt.pow(2.5, a),
         lambda t, a: t.pow(2.5, a)),
    Case("pow method", unary_of(lambda x: np.abs(x) + 0.5), lambda a: a.pow(3),
         lambda t, a: a.pow(3)),
    Case("atan2", draw_atan2, mt.atan2, lambda t, a, b: t.atan2(a, b), tags=CPU_ONLY),
    Case("maximum", draw_untied, mt.maximum, lambda t, a, b: t.maximum(a, b)),
    Case("minimum", draw_untied, mt.minimum, lambda t, a, b: t.minimum(a, b)),
    Case("fmax", draw_untied, mt.fmax, lambda t, a, b: t.fmax(a, b)),
    Case("fmin", draw_untied, lambda a, b: a.fmin(b), lambda t, a, b: a.fmin(b)),
    Case("remainder", draw_divisions, mt.remainder, lambda t, a, b: t.remainder(a, b),
         tags=CPU_ONLY),
    Case("% operator", draw_divisions, lambda a, b: a % b, lambda t, a, b: a % b,
         tags=CPU_ONLY),
    Case("remainder scalar divisor", unary_of(lambda x: away_from_grid(x * 4, 1.5)),
         lambda a: a % 1.5, lambda t, a: a % 1.5, tags=CPU_ONLY),
    Case("fmod", draw_divisions, mt.fmod, lambda t, a, b: t.fmod(a, b), tags=CPU_ONLY),
    Case("div floor", draw_divisions, lambda a, b: mt.div(a, b, rounding_mode="floor"),
         lambda t, a, b: t.div(a, b, rounding_mode="floor"), tags=CPU_ONLY),
    Case("div trunc", draw_divisions, lambda a, b: a.div(b, rounding_mode="trunc"),
         lambda t, a, b: a.div(b, rounding_mode="trunc"), tags=CPU_ONLY),
    Case("true_divide", draw_divisions, mt.true_divide, lambda t, a, b: t.true_divide(a, b)),
    # ---- where: the gradient goes to the side chosen
    Case("where", draw_where,
         lambda x, y, condition: mt.where(_condition(condition, x), x, y),
         lambda t, x, y, condition: t.where(t.tensor(condition), x, y)),
    Case("where scalar other", draw_where,
         lambda x, y, condition: mt.where(_condition(condition, x), x * y, 0.5),
         lambda t, x, y, condition: t.where(t.tensor(condition), x * y, 0.5)),
    Case("Tensor.where", draw_where,
         lambda x, y, condition: x.where(_condition(condition, x), y),
         lambda t, x, y, condition: x.where(t.tensor(condition), y)),
]
