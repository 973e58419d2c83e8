"""The functional interface, as `torch.nn.functional`: `import minitorch_pairs.nn.functional as F`.

Each name is the checked entry point of one op in `minitorch_pairs.ops`.
"""
from ..ops.activations import (elu, elu_, gelu, hardtanh, hardtanh_, leaky_relu, leaky_relu_,
                               relu6, silu, softplus)
from ..ops.conv_pool import avg_pool2d, conv2d_relu_max_pool2d, relu_max_pool2d
from ..ops.elementwise import sigmoid, tanh
from ..ops.fusion import conv2d, max_pool2d  # conv, ReLU, 2x2 pool fused when chained
from ..ops.inplace_forms import dropout, relu, relu_, selu, selu_
from ..ops.linalg import linear
from ..ops.binary_losses import (binary_cross_entropy, binary_cross_entropy_with_logits,
                                 mse_loss)
from ..ops.losses import cross_entropy, nll_loss
from ..ops.normalization import batch_norm
from ..ops.softmax import log_softmax, softmax

__all__ = ["avg_pool2d", "batch_norm", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "conv2d",
           "conv2d_relu_max_pool2d",
           "cross_entropy", "dropout", "elu", "elu_", "gelu", "hardtanh", "hardtanh_",
           "leaky_relu", "leaky_relu_", "linear", "log_softmax", "max_pool2d", "mse_loss",
           "nll_loss", "relu", "relu6", "relu_", "relu_max_pool2d", "selu", "selu_", "sigmoid",
           "silu", "softmax", "softplus", "tanh"]
