"""Adadelta (Zeiler): steps scaled by the ratio of running RMS of past updates to running RMS
of gradients, so no learning rate is needed (lr=1.0 by default), as torch.optim.Adadelta."""
from __future__ import annotations

from . import arguments, state as states
from .arrays import addcmul, assign, sqrt
from .optimizer import Optimizer


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        arguments.learning_rate("Adadelta", lr)
        if not 0.0 <= arguments.real("Adadelta", "rho", rho) <= 1.0:
            raise ValueError(f"Adadelta: Invalid rho value: {rho} (expected rho in [0, 1])")
        arguments.epsilon("Adadelta", eps)
        arguments.weight_decay("Adadelta", weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable,
                                      foreach=foreach, differentiable=differentiable))
        arguments.implementation("Adadelta", foreach, capturable, differentiable)

    def _update(self, p, param, grad, group) -> None:
        state = self.state[p]
        if not state:
            state["step"] = states.step_counter()
            state["square_avg"] = states.zeros_like(p)
            state["acc_delta"] = states.zeros_like(p)
        states.advance(state["step"])
        lr, rho, eps, weight_decay = (float(group[key]) for key in (
            "lr", "rho", "eps", "weight_decay"))
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * param
        square_avg, acc_delta = states.flat(state["square_avg"]), states.flat(state["acc_delta"])
        assign(square_avg, addcmul(square_avg * rho, grad, grad, 1 - rho))
        std = sqrt(square_avg + eps)
        delta = sqrt(acc_delta + eps) / std * grad
        assign(acc_delta, addcmul(acc_delta * rho, delta, delta, 1 - rho))
        assign(param, param + (-lr) * delta)
