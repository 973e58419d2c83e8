"""Fused optimizer updates on the GPU: one thread per element, the same arguments as
kernels/cpu/optim.py and the same per-element rules (kernels/update_rules.py), launched
without a host synchronisation."""
from __future__ import annotations

from numba import cuda

from ..update_rules import adam_update, bias_corrections, sgd_update
from .launch import THREADS, blocks

_sgd = cuda.jit(device=True)(sgd_update)
_adam = cuda.jit(device=True)(adam_update)


@cuda.jit
def _sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
              maximize, first_step):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, param.size, stride):
        new_param, buffer = _sgd(param[k], grad[k], momentum_buffer[k], lr, momentum,
                                 dampening, weight_decay, nesterov, maximize, first_step)
        param[k] = new_param
        if momentum > 0.0:
            momentum_buffer[k] = buffer


@cuda.jit
def _adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
               weight_decay, step_size, correction2_sqrt, amsgrad, maximize):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, param.size, stride):
        new_param, m, v, v_max = _adam(param[k], grad[k], exp_avg[k], exp_avg_sq[k],
                                       max_exp_avg_sq[k], lr, beta1, beta2, eps, weight_decay,
                                       step_size, correction2_sqrt, amsgrad, maximize)
        param[k], exp_avg[k], exp_avg_sq[k] = new_param, m, v
        if amsgrad:
            max_exp_avg_sq[k] = v_max


def sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
             maximize, first_step):
    _sgd_step[blocks(param.size), THREADS](param, grad, momentum_buffer, lr, momentum,
                                           dampening, weight_decay, nesterov, maximize,
                                           first_step)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
              weight_decay, step, amsgrad, maximize):
    # the bias corrections are per step, not per element: computed once, on the host
    _adam_step[blocks(param.size), THREADS](param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq,
                                            lr, beta1, beta2, eps, weight_decay,
                                            *bias_corrections(lr, beta1, beta2, step), amsgrad,
                                            maximize)
