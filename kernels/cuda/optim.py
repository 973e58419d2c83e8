"""Fused optimizer updates on the GPU: one thread per element, the same formulas and
arguments as kernels/cpu/optim.py, launched without a host synchronisation."""
from __future__ import annotations

import math

from numba import cuda

from .launch import THREADS, blocks


@cuda.jit
def _sgd(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
         maximize, first_step):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, param.size, stride):
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


@cuda.jit
def _adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
          weight_decay, step_size, correction2_sqrt, amsgrad, maximize):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, param.size, stride):
        g = -grad[k] if maximize else grad[k]
        g += weight_decay * param[k]
        m = exp_avg[k] + (1.0 - beta1) * (g - exp_avg[k])
        v = beta2 * exp_avg_sq[k] + (1.0 - beta2) * g * g
        exp_avg[k] = m
        exp_avg_sq[k] = v
        if amsgrad:
            v = max(max_exp_avg_sq[k], v)
            max_exp_avg_sq[k] = v
        param[k] -= step_size * m / (math.sqrt(v) / correction2_sqrt + eps)


def sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
             maximize, first_step):
    _sgd[blocks(param.size), THREADS](param, grad, momentum_buffer, lr, momentum, dampening,
                                      weight_decay, nesterov, maximize, first_step)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
              weight_decay, step, amsgrad, maximize):
    # the bias corrections are per step, not per element: computed once, on the host
    step_size = lr / (1.0 - beta1 ** step)
    correction2_sqrt = math.sqrt(1.0 - beta2 ** step)
    _adam[blocks(param.size), THREADS](param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr,
                                       beta1, beta2, eps, weight_decay, step_size,
                                       correction2_sqrt, amsgrad, maximize)
