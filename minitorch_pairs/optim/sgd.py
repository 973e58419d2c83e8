"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch's rule)."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, kernels, param, grad, state, group) -> None:
        momentum = group["momentum"]
        first_step = "momentum_buffer" not in state
        if momentum and first_step:
            state["momentum_buffer"] = np.empty_like(param)
        buffer = state.get("momentum_buffer", param)  # not touched without momentum
        kernels.sgd_step(param, grad, buffer, group["lr"], momentum, group["dampening"],
                         group["weight_decay"], group["nesterov"], group["maximize"],
                         first_step)
