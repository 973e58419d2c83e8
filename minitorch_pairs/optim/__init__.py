"""Optimizers, as torch.optim."""
from . import lr_scheduler
from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Adam", "Optimizer", "SGD", "lr_scheduler"]
