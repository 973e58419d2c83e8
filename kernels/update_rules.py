"""The optimizers' per-element update rules, written once as plain scalar functions and
compiled for each device (numba njit in kernels/cpu/optim.py, a CUDA device function in
kernels/cuda/optim.py). Each follows torch.optim's formulas term by term."""
from __future__ import annotations

import math


def sgd_update(param, grad, buffer, lr, momentum, dampening, weight_decay, nesterov, maximize,
               first_step):
    """One element's SGD step: (new param, new momentum buffer). On the first step the
    buffer starts as the gradient (torch's rule); without momentum it is left as it was."""
    g = -grad if maximize else grad
    g += weight_decay * param
    if momentum > 0.0:
        buffer = g if first_step else momentum * buffer + (1.0 - dampening) * g
        g = g + momentum * buffer if nesterov else buffer
    return param - lr * g, buffer


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
                weight_decay, step_size, correction2_sqrt, amsgrad, maximize):
    """One element's Adam step: (param, exp_avg, exp_avg_sq, max_exp_avg_sq), all new.
    step_size = lr / (1 - beta1^step) and correction2_sqrt = sqrt(1 - beta2^step)."""
    g = -grad if maximize else grad
    g += weight_decay * param
    m = exp_avg + (1.0 - beta1) * (g - exp_avg)  # torch's lerp form
    v = beta2 * exp_avg_sq + (1.0 - beta2) * g * g
    v_max = max(max_exp_avg_sq, v) if amsgrad else max_exp_avg_sq
    second = v_max if amsgrad else v
    return param - step_size * m / (math.sqrt(second) / correction2_sqrt + eps), m, v, v_max


def bias_corrections(lr, beta1, beta2, step):
    """Adam's per-step constants: (step_size, correction2_sqrt)."""
    return lr / (1.0 - beta1 ** step), math.sqrt(1.0 - beta2 ** step)
