"""Fused optimizer updates: one pass over a parameter and its state per step, instead of a
NumPy expression per term (Adam's took ~8 passes and as many temporaries). Every update
follows torch.optim's formulas term by term; intermediate values are computed in float64
and stored in the parameter's dtype."""
from __future__ import annotations

import math

from numba import njit, prange


@njit(cache=True, parallel=True)
def sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
             maximize, first_step):
    """Flat arrays. momentum_buffer is written only when momentum > 0; on the first step it
    is initialised to the gradient (torch's rule)."""
    for k in prange(param.size):
        g = -grad[k] if maximize else grad[k]
        g += weight_decay * param[k]
        if momentum > 0.0:
            if first_step:
                buffer = g
            else:
                buffer = momentum * momentum_buffer[k] + (1.0 - dampening) * g
            momentum_buffer[k] = buffer
            g = g + momentum * buffer if nesterov else buffer
        param[k] -= lr * g


@njit(cache=True, parallel=True)
def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
              weight_decay, step, amsgrad, maximize):
    """Flat arrays; max_exp_avg_sq is used only with amsgrad. `step` counts from 1."""
    step_size = lr / (1.0 - beta1 ** step)
    correction2_sqrt = math.sqrt(1.0 - beta2 ** step)
    for k in prange(param.size):
        g = -grad[k] if maximize else grad[k]
        g += weight_decay * param[k]
        m = exp_avg[k] + (1.0 - beta1) * (g - exp_avg[k])  # torch's lerp form
        v = beta2 * exp_avg_sq[k] + (1.0 - beta2) * g * g
        exp_avg[k], exp_avg_sq[k] = m, v
        if amsgrad:
            v = max(max_exp_avg_sq[k], v)
            max_exp_avg_sq[k] = v
        param[k] -= step_size * m / (math.sqrt(v) / correction2_sqrt + eps)
