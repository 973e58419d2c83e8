"""AdamW (Loshchilov & Hutter): Adam with weight decay applied to the parameters directly
(p *= 1 - lr * weight_decay) instead of through the gradient, as torch.optim.AdamW."""
from __future__ import annotations

from .adam import Adam


class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # torch's __setstate__: AdamW's decay is decoupled
            group["decoupled_weight_decay"] = True
