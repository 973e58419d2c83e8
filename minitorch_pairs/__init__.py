"""minitorch_pairs: a from-scratch tensor library with reverse-mode autograd, numba kernels
and a PyTorch-like API (`import minitorch_pairs as mt`)."""
from . import threads  # first: sets the thread pools' wait policy before numpy loads  # noqa
from . import memory  # keeps freed activations mapped for the next step  # noqa
from . import cuda, nn, optim
from .autograd import Function, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck, gradient_errors
from .ops.elementwise import abs, exp, log, relu, sigmoid, sqrt, tanh
from .ops.linalg import matmul
from .ops.reduction import argmax, max, mean, sum
from .ops.shape_ops import cat, flatten, permute, reshape, stack, transpose
from .random import default_generator, get_rng_state, manual_seed, set_rng_state
from .serialization import load, save
from .tensor import (Tensor, arange, as_dtype, bool_, float32, float64, full, int64, ones,
                     ones_like, rand, randn, tensor, zeros, zeros_like)

__version__ = "0.1.0"
