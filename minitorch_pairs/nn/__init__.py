"""Neural-network building blocks, as torch.nn."""
from . import functional, init
from .activation import (ELU, GELU, Hardtanh, LeakyReLU, LogSoftmax, ReLU, ReLU6, SELU, SiLU,
                         Sigmoid, Softmax, Softplus, Tanh)
from .containers import ModuleDict, ModuleList, ParameterList, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .embedding import Embedding
from .layers import (BatchNorm1d, BatchNorm2d, Dropout, Dropout2d, Flatten, Identity, Linear,
                     Unflatten)
from .normalization import GroupNorm, LayerNorm
from .pooling import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d, MaxUnpool2d,
                      Upsample)
from .loss import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss,
                   HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss,
                   MSELoss, NLLLoss, PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss)
from .module import Module, Parameter

__all__ = ["AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv1d",
           "Conv2d", "ConvTranspose1d", "ConvTranspose2d",
           "CrossEntropyLoss", "Dropout", "ELU", "Flatten", "GELU", "Hardtanh", "Identity",
           "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "ModuleDict",
           "ModuleList", "NLLLoss", "Parameter", "ParameterList", "ReLU", "ReLU6", "SELU",
           "SiLU", "Sequential", "Sigmoid", "Softmax", "Softplus", "Tanh", "functional", "init"]
__all__ += ["CosineEmbeddingLoss", "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss", "L1Loss",
            "MarginRankingLoss", "PoissonNLLLoss", "SmoothL1Loss", "SoftMarginLoss"]
__all__ += ["AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Dropout2d", "Embedding", "GroupNorm",
            "LayerNorm", "MaxUnpool2d", "Unflatten", "Upsample"]
