"""minitorch_pairs: a from-scratch tensor library with reverse-mode autograd, numba kernels
and a PyTorch-like API (`import minitorch_pairs as mt`)."""
from . import threads  # first: sets the thread pools' wait policy before numpy loads  # noqa
from . import memory  # keeps freed activations mapped for the next step  # noqa
from . import backends, cuda, nn, optim
from .autograd import Function, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck, gradient_errors
from .ops.elementwise import abs, exp, log, sigmoid, sqrt, tanh
from .ops.fusion import relu
from .ops.linalg import matmul
from .ops.reduction import argmax, max, mean, sum
from .ops.shape_ops import cat, flatten, permute, reshape, stack, transpose
from .random import Generator, default_generator, get_rng_state, manual_seed, set_rng_state
from .serialization import load, save
from .dtypes import (bool_, can_cast, float16, float32, float64, get_default_dtype, int8,
                     int16, int32, int64, is_floating_point, promote_types, result_type,
                     set_default_dtype, uint8)
from .dtypes import bool_ as bool, float16 as half, float32 as float, float64 as double  # noqa
from .dtypes import int16 as short, int32 as int, int64 as long  # torch's aliases  # noqa
from .errors import ShapeError
from .backend import device
from .ops.comparison import clamp, masked_fill
from .factories import (arange, empty, empty_like, eye, full, full_like, linspace, logspace,
                        ones, ones_like, rand, rand_like, randn, randn_like, randperm, zeros,
                        zeros_like)
from .tensor import Tensor, as_dtype, tensor
from .ops.pointwise import *  # noqa: F401,F403  (each area module lists its names in __all__)
from .ops.division import *  # noqa: F401,F403
from .ops.logic import *  # noqa: F401,F403
from .ops.statistics import *  # noqa: F401,F403
from .ops.reshaping import *  # noqa: F401,F403
from .ops.views import *  # noqa: F401,F403
from .ops.indexing import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.contractions import *  # noqa: F401,F403
from . import utils  # as torch.utils: mt.utils.data.DataLoader after `import minitorch_pairs`

clip = clamp

__version__ = "0.1.0"
