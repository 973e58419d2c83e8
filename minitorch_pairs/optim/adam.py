"""Adam (Kingma & Ba) with L2 or decoupled weight decay, AMSGrad and maximize, following
torch.optim.Adam's update; one fused kernel per parameter on its device."""
from __future__ import annotations

from .. import backend
from . import arguments, state as states
from .optimizer import Optimizer


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        name = type(self).__name__
        arguments.learning_rate(name, lr)
        arguments.epsilon(name, eps)
        betas = arguments.betas(name, betas)
        arguments.weight_decay(name, weight_decay)
        arguments.betas_are_floats(name, betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable,
                                      fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))
        arguments.implementation(name, foreach, capturable, differentiable, fused)

    def _update(self, p, param, grad, group) -> None:
        state = self.state[p]
        if not state:
            state["step"] = states.step_counter()
            state["exp_avg"] = states.zeros_like(p)
            state["exp_avg_sq"] = states.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = states.zeros_like(p)
        step = states.advance(state["step"])
        lr, weight_decay = float(group["lr"]), float(group["weight_decay"])
        if weight_decay != 0 and group["decoupled_weight_decay"]:
            param[...] = param * (1 - lr * weight_decay)  # AdamW: decay apart from the moments
            weight_decay = 0.0
        beta1, beta2 = group["betas"]
        exp_avg_sq = states.flat(state["exp_avg_sq"])
        backend.kernels(p.device).adam_step(
            param, grad, states.flat(state["exp_avg"]), exp_avg_sq,
            states.flat(state["max_exp_avg_sq"]) if group["amsgrad"] else exp_avg_sq,
            lr, float(beta1), float(beta2), float(group["eps"]), weight_decay, step,
            bool(group["amsgrad"]), bool(group["maximize"]))
