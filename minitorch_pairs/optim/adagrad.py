"""Adagrad (Duchi et al.): per-element steps scaled by the root of the summed squared
gradients, with lr decay, as torch.optim.Adagrad (whose state exists from construction)."""
from __future__ import annotations

from . import arguments, state as states
from .arrays import addcdiv, addcmul, assign, sqrt
from .optimizer import Optimizer


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        arguments.learning_rate("Adagrad", lr)
        arguments.at_least_zero("Adagrad", "lr_decay", lr_decay, "Invalid lr_decay value")
        arguments.weight_decay("Adagrad", weight_decay)
        arguments.at_least_zero("Adagrad", "initial_accumulator_value",
                                initial_accumulator_value,
                                "Invalid initial_accumulator_value value")
        arguments.epsilon("Adagrad", eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        arguments.implementation("Adagrad", foreach=foreach, differentiable=differentiable,
                                 fused=fused)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p) -> dict:
        state = self.state[p]
        state["step"] = states.step_counter()
        state["sum"] = states.full_like(p, self.defaults["initial_accumulator_value"])
        return state

    def _update(self, p, param, grad, group) -> None:
        state = self.state[p] or self._init_state(p)  # a group added after construction
        step = states.advance(state["step"])
        if group["maximize"]:
            grad = -grad
        lr, lr_decay, weight_decay, eps = (float(group[key]) for key in (
            "lr", "lr_decay", "weight_decay", "eps"))
        if weight_decay != 0:
            grad = grad + weight_decay * param
        clr = lr / (1 + (step - 1) * lr_decay)
        total = states.flat(state["sum"])
        assign(total, addcmul(total, grad, grad, 1))
        assign(param, addcdiv(param, grad, sqrt(total) + eps, -clr))
