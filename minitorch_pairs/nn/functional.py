"""The functional interface, as `torch.nn.functional`: `import minitorch_pairs.nn.functional as F`.

Each name is the checked entry point of one op in `minitorch_pairs.ops`.
"""
from ..ops.conv_pool import avg_pool2d, conv2d_relu_max_pool2d, relu_max_pool2d
from ..ops.elementwise import selu, sigmoid, tanh
from ..ops.fusion import conv2d, max_pool2d, relu  # conv, ReLU, 2x2 pool fused when chained
from ..ops.linalg import linear
from ..ops.binary_losses import (binary_cross_entropy, binary_cross_entropy_with_logits,
                                 mse_loss)
from ..ops.losses import cross_entropy, nll_loss
from ..ops.normalization import batch_norm, dropout
from ..ops.softmax import log_softmax, softmax

__all__ = ["avg_pool2d", "batch_norm", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "conv2d",
           "conv2d_relu_max_pool2d",
           "cross_entropy", "dropout", "linear", "log_softmax", "max_pool2d", "mse_loss",
           "nll_loss", "relu", "relu_max_pool2d", "selu", "sigmoid", "softmax", "tanh"]
