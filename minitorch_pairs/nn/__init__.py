"""Neural-network building blocks, as torch.nn."""
from . import functional, init
from .activation import (ELU, GELU, Hardtanh, LeakyReLU, LogSoftmax, ReLU, ReLU6, SELU, SiLU,
                         Sigmoid, Softmax, Softplus, Tanh)
from .containers import ModuleDict, ModuleList, ParameterList, Sequential
from .layers import (AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten, Identity,
                     Linear, MaxPool2d)
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, Parameter

__all__ = ["AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d",
           "CrossEntropyLoss", "Dropout", "ELU", "Flatten", "GELU", "Hardtanh", "Identity",
           "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "ModuleDict",
           "ModuleList", "NLLLoss", "Parameter", "ParameterList", "ReLU", "ReLU6", "SELU",
           "SiLU", "Sequential", "Sigmoid", "Softmax", "Softplus", "Tanh", "functional", "init"]
