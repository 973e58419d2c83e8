"""Loss modules, as in torch.nn: thin wrappers over the functional losses."""
from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class _Loss(Module):
    function = None

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return type(self).function(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    function = staticmethod(F.cross_entropy)


class NLLLoss(_Loss):
    function = staticmethod(F.nll_loss)


class BCEWithLogitsLoss(_Loss):
    function = staticmethod(F.binary_cross_entropy_with_logits)


class MSELoss(_Loss):
    function = staticmethod(F.mse_loss)
