"""CPU kernels (numba, `@njit(cache=True)`): plain contiguous arrays in, preallocated outputs
written. The CUDA kernel module exposes the same names."""
from .activation import relu_backward, relu_forward
from .batchnorm import batch_norm_backward, batch_norm_eval_forward, batch_norm_train_forward
from .conv import (conv2d_backward, conv2d_forward, conv2d_plan,
                   conv2d_relu_pool_backward, conv2d_relu_pool_forward)
from .dropout import dropout_mask
from .optim import adam_step, sgd_step
from .products import linear_backward, linear_forward, matmul, matmul_pair
from .pool import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward
from .softmax import (cross_entropy_backward, cross_entropy_forward, log_softmax_backward,
                      log_softmax_forward)

__all__ = ["avg_pool2d_backward", "avg_pool2d_forward", "batch_norm_backward",
           "batch_norm_eval_forward", "batch_norm_train_forward", "conv2d_backward",
           "conv2d_forward", "conv2d_plan", "conv2d_relu_pool_backward",
           "conv2d_relu_pool_forward",
           "cross_entropy_backward", "dropout_mask",
           "cross_entropy_forward", "log_softmax_backward", "log_softmax_forward",
           "linear_backward", "linear_forward", "matmul", "matmul_pair",
           "max_pool2d_backward", "max_pool2d_forward", "relu_backward", "relu_forward",
           "adam_step", "sgd_step"]
