"""The functional interface, as `torch.nn.functional`: `import minitorch_pairs.nn.functional as F`.

Each name is the checked entry point of one op in `minitorch_pairs.ops`.
"""
from ..ops.activations import (elu, elu_, gelu, hardtanh, hardtanh_, leaky_relu, leaky_relu_,
                               relu6, silu, softplus)
from ..ops.conv_pool import avg_pool2d, conv2d_relu_max_pool2d, relu_max_pool2d
from ..ops.conv_general import conv1d, conv_transpose1d, conv_transpose2d
from ..ops.elementwise import sigmoid, tanh
from ..ops.fusion import conv2d, max_pool2d  # conv, ReLU, 2x2 pool fused when chained
from ..ops.inplace_forms import dropout, relu, relu_, selu, selu_
from ..ops.indexing import one_hot
from ..ops.linalg import linear
from ..ops.binary_losses import (binary_cross_entropy, binary_cross_entropy_with_logits,
                                 cosine_embedding_loss, hinge_embedding_loss,
                                 margin_ranking_loss, soft_margin_loss)
from ..ops.losses import cross_entropy, nll_loss
from ..ops.regression_losses import (huber_loss, kl_div, l1_loss, mse_loss, poisson_nll_loss,
                                     smooth_l1_loss)
from ..ops.normalization import batch_norm
from ..ops.padding import pad
from ..ops.softmax import log_softmax, softmax
from ..ops.channel_dropout import dropout2d
from ..ops.embedding import embedding
from ..ops.layer_norms import group_norm, layer_norm
from ..ops.pooling_general import adaptive_avg_pool2d, adaptive_max_pool2d, max_unpool2d
from ..ops.resampling import interpolate

__all__ = ["avg_pool2d", "batch_norm", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "conv1d", "conv2d",
           "conv_transpose1d", "conv_transpose2d",
           "conv2d_relu_max_pool2d",
           "cosine_embedding_loss", "hinge_embedding_loss", "huber_loss", "kl_div", "l1_loss",
           "margin_ranking_loss", "poisson_nll_loss", "smooth_l1_loss", "soft_margin_loss",
           "cross_entropy", "dropout", "elu", "elu_", "gelu", "hardtanh", "hardtanh_",
           "leaky_relu", "leaky_relu_", "linear", "log_softmax", "max_pool2d", "mse_loss",
           "nll_loss", "relu", "relu6", "relu_", "relu_max_pool2d", "selu", "selu_", "sigmoid",
           "silu", "softmax", "softplus", "tanh"]
__all__ += ["pad"]
__all__ += ["one_hot"]
__all__ += ["adaptive_avg_pool2d", "adaptive_max_pool2d", "dropout2d", "embedding",
            "group_norm", "interpolate", "layer_norm", "max_unpool2d"]
