"""Fused optimizer updates: one pass over a parameter and its state per step, instead of a
NumPy expression per term (Adam's took ~8 passes and as many temporaries). The per-element
rules are kernels/update_rules.py, shared with the CUDA kernels; intermediate values are
computed in float64 and stored in the parameter's dtype."""
from __future__ import annotations

from numba import njit, prange

from ..update_rules import adam_update, bias_corrections, sgd_update
from .parallel import by_size

_sgd = njit(cache=True)(sgd_update)
_adam = njit(cache=True)(adam_update)


# Each update is written once (inline) and compiled twice: on numba's threads, and on the
# calling thread for parameters under the policy's parallel_from elements (kernels/cpu/parallel.py).


@njit(cache=True, inline="always")
def _sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
              maximize, first_step):
    for k in prange(param.size):
        param[k], buffer = _sgd(param[k], grad[k], momentum_buffer[k], lr, momentum, dampening,
                                weight_decay, nesterov, maximize, first_step)
        if momentum > 0.0:
            momentum_buffer[k] = buffer


@njit(cache=True, inline="always")
def _adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
               weight_decay, step_size, correction2_sqrt, amsgrad, maximize):
    for k in prange(param.size):
        param[k], exp_avg[k], exp_avg_sq[k], v_max = _adam(
            param[k], grad[k], exp_avg[k], exp_avg_sq[k], max_exp_avg_sq[k], lr, beta1, beta2,
            eps, weight_decay, step_size, correction2_sqrt, amsgrad, maximize)
        if amsgrad:
            max_exp_avg_sq[k] = v_max


@njit(cache=True, parallel=True)
def _sgd_parallel(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
                  maximize, first_step):
    _sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
              maximize, first_step)


@njit(cache=True)
def _sgd_serial(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
                maximize, first_step):
    _sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
              maximize, first_step)


@njit(cache=True, parallel=True)
def _adam_parallel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
                   weight_decay, step_size, correction2_sqrt, amsgrad, maximize):
    _adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
               weight_decay, step_size, correction2_sqrt, amsgrad, maximize)


@njit(cache=True)
def _adam_serial(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
                 weight_decay, step_size, correction2_sqrt, amsgrad, maximize):
    _adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
               weight_decay, step_size, correction2_sqrt, amsgrad, maximize)


def sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
             maximize, first_step):
    """Flat arrays. momentum_buffer is written only when momentum > 0."""
    update = by_size(param.size, _sgd_parallel, _sgd_serial)
    update(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
           maximize, first_step)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
              weight_decay, step, amsgrad, maximize):
    """Flat arrays; max_exp_avg_sq is used only with amsgrad. `step` counts from 1."""
    update = by_size(param.size, _adam_parallel, _adam_serial)
    update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
           weight_decay, *bias_corrections(lr, beta1, beta2, step), amsgrad, maximize)
