"""Neural-network building blocks, as torch.nn."""
from . import functional, init
from .layers import (AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten, Identity,
                     Linear, MaxPool2d, ReLU, SELU, Sequential, Sigmoid, Tanh)
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, Parameter

__all__ = ["AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d",
           "CrossEntropyLoss", "Dropout", "Flatten", "Identity", "Linear", "MSELoss",
           "MaxPool2d", "Module", "NLLLoss", "Parameter", "ReLU", "SELU", "Sequential",
           "Sigmoid", "Tanh", "functional", "init"]
