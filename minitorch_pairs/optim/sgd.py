"""Stochastic gradient descent with momentum, dampening, Nesterov, weight decay and maximize
(torch.optim.SGD's rule), one fused kernel per parameter on its device."""
from __future__ import annotations

from .. import backend
from . import arguments, state as states
from .optimizer import Optimizer


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        arguments.learning_rate("SGD", lr, nan_passes=True)
        arguments.not_negative("SGD", "momentum", momentum, "Invalid momentum value")
        arguments.weight_decay("SGD", weight_decay, nan_passes=True)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening "
                             f"(expected momentum > 0 and dampening 0, got {momentum} and "
                             f"{dampening})")
        super().__init__(params, defaults)
        arguments.implementation("SGD", foreach=foreach, differentiable=differentiable,
                                 fused=fused)

    def _update(self, p, param, grad, group) -> None:
        momentum = float(group["momentum"])
        # state only with momentum, as torch's (whose buffer starts as the first gradient)
        state = self.state[p] if momentum != 0 else {}
        first_step = "momentum_buffer" not in state
        if momentum != 0 and first_step:
            state["momentum_buffer"] = states.zeros_like(p)
        buffer = states.flat(state["momentum_buffer"]) if momentum != 0 else param
        backend.kernels(p.device).sgd_step(
            param, grad, buffer, float(group["lr"]), momentum, float(group["dampening"]),
            float(group["weight_decay"]), bool(group["nesterov"]), bool(group["maximize"]),
            first_step)
