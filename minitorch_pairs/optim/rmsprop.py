"""RMSprop (Hinton): divide the gradient by a running root mean square of past gradients,
optionally centred (minus the running mean's square) and with momentum, as
torch.optim.RMSprop."""
from __future__ import annotations

from . import arguments, state as states
from .arrays import addcdiv, addcmul, assign, lerp, sqrt
from .optimizer import Optimizer


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        arguments.learning_rate("RMSprop", lr)
        arguments.epsilon("RMSprop", eps)
        arguments.at_least_zero("RMSprop", "momentum", momentum, "Invalid momentum value")
        arguments.weight_decay("RMSprop", weight_decay)
        arguments.at_least_zero("RMSprop", "alpha", alpha, "Invalid alpha value")
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))
        arguments.implementation("RMSprop", foreach, capturable, differentiable)

    def _update(self, p, param, grad, group) -> None:
        state = self.state[p]
        if not state:
            state["step"] = states.step_counter()
            state["square_avg"] = states.zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = states.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = states.zeros_like(p)
        states.advance(state["step"])
        alpha, eps, lr, momentum, weight_decay = (float(group[key]) for key in (
            "alpha", "eps", "lr", "momentum", "weight_decay"))
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * param
        square_avg = states.flat(state["square_avg"])
        assign(square_avg, addcmul(square_avg * alpha, grad, grad, 1 - alpha))
        if group["centered"]:
            grad_avg = states.flat(state["grad_avg"])
            assign(grad_avg, lerp(grad_avg, grad, 1 - alpha))
            avg = sqrt(addcmul(square_avg, grad_avg, grad_avg, -1)) + eps
        else:
            avg = sqrt(square_avg) + eps
        if momentum > 0:
            buffer = states.flat(state["momentum_buffer"])
            assign(buffer, addcdiv(buffer * momentum, grad, avg, 1))
            assign(param, param + (-lr) * buffer)
        else:
            assign(param, addcdiv(param, grad, avg, -lr))
