"""Adam (Kingma & Ba) with L2 weight decay and AMSGrad, following torch.optim.Adam's update."""
from __future__ import annotations

import numbers

import numpy as np

from .optimizer import Optimizer


class Adam(Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False):
        if not isinstance(betas, (tuple, list)) or len(betas) != 2 or \
                not all(isinstance(b, numbers.Real) and 0 <= b < 1 for b in betas):
            raise ValueError(f"Adam: expected betas to be two numbers in [0, 1), got {betas!r}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _update(self, kernels, param, grad, state, group) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        kernels.adam_step(param, grad, state["exp_avg"], state["exp_avg_sq"],
                          state.get("max_exp_avg_sq", state["exp_avg_sq"]), group["lr"], beta1,
                          beta2, group["eps"], group["weight_decay"], state["step"],
                          group["amsgrad"], group["maximize"])
