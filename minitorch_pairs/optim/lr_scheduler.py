"""Learning-rate schedules, as torch.optim.lr_scheduler, with torch's semantics step for step
(the same recursive formulas, so the same floating-point learning rates), get_last_lr(),
last_epoch and state_dict() keys. Call `scheduler.step()` after `optimizer.step()`: once per
epoch, or once per batch for OneCycleLR and CyclicLR; ReduceLROnPlateau.step(metric)."""
from .schedulers.base import LRScheduler
from .schedulers.cosine import CosineAnnealingLR
from .schedulers.cyclic import CyclicLR
from .schedulers.decay import ConstantLR, ExponentialLR, LinearLR, MultiStepLR, StepLR
from .schedulers.lambdas import LambdaLR, MultiplicativeLR
from .schedulers.one_cycle import OneCycleLR
from .schedulers.plateau import ReduceLROnPlateau
from .schedulers.sequential import SequentialLR

__all__ = ["ConstantLR", "CosineAnnealingLR", "CyclicLR", "ExponentialLR", "LRScheduler",
           "LambdaLR", "LinearLR", "MultiStepLR", "MultiplicativeLR", "OneCycleLR",
           "ReduceLROnPlateau", "SequentialLR", "StepLR"]
