"""Parameter initialisation, as torch.nn.init: each function fills a tensor in place (outside
the graph, as under torch.no_grad) and returns it, drawing from `generator` (an mt.Generator
or a NumPy Generator) or else the default generator, with PyTorch's formulas, arguments and
errors so models start from the same distributions. Numbers are drawn on the host in
float64 and copied to the tensor's dtype and device."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import random
from ..autograd import no_grad
from ..tensor import Tensor

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")
_GAINS = {"tanh": 5.0 / 3, "relu": math.sqrt(2.0),
          "selu": 3.0 / 4}  # selu: torch's empirical value (pytorch PR 50664)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity; `param` is leaky_relu's negative slope."""
    if nonlinearity in _LINEAR:
        return 1
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity in _GAINS:
        return _GAINS[nonlinearity]
    raise ValueError(f"calculate_gain: Unsupported nonlinearity {nonlinearity}, expected one "
                     f"of {list(_LINEAR) + list(_GAINS) + ['leaky_relu']}")


# ----- writing into the tensor --------------------------------------------------------------

def _check_tensor(op: str, tensor) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(tensor).__name__}")


def _check_floating(op: str, tensor: Tensor) -> None:
    """Random fills need a floating-point tensor (torch's kernels have no integer form)."""
    _check_tensor(op, tensor)
    if tensor.dtype.kind != "f":
        raise NotImplementedError(f"{op}: random initialisation is not implemented for dtype "
                                  f"{tensor.dtype} (only floating-point tensors, as in torch)")


def _write(tensor: Tensor, values) -> Tensor:
    """`values` (host numbers) into the tensor's storage, outside the graph: a leaf that
    requires grad may be initialised, and its version counter counts the change."""
    with no_grad():
        tensor.copy_(Tensor(np.asarray(values), dtype=tensor.dtype))
    return tensor


def _rng(generator) -> np.random.Generator:
    return random.numpy_generator(generator)


def _check_number(op: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: expected {name} to be a number, got {value!r}")
    return float(value)


def _uniform_values(op: str, shape: tuple, a, b, generator) -> np.ndarray:
    a, b = _check_number(op, "a", a), _check_number(op, "b", b)
    if a > b:
        raise RuntimeError(f"{op}: uniform_ expects to return a [from, to) range, but found "
                           f"from={a} > to={b}")
    return _rng(generator).uniform(a, b, shape)


def _normal_values(op: str, shape: tuple, mean, std, generator) -> np.ndarray:
    mean, std = _check_number(op, "mean", mean), _check_number(op, "std", std)
    if std < 0:
        raise RuntimeError(f"{op}: normal expects std >= 0.0, but found std {std}")
    return _rng(generator).normal(mean, std, shape)


# ----- the initialisers ---------------------------------------------------------------------

def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Values drawn from U(a, b)."""
    _check_floating("uniform_", tensor)
    return _write(tensor, _uniform_values("uniform_", tensor.shape, a, b, generator))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Values drawn from N(mean, std^2)."""
    _check_floating("normal_", tensor)
    return _write(tensor, _normal_values("normal_", tensor.shape, mean, std, generator))


def _normal_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Values drawn from N(mean, std^2) truncated to [a, b], by torch's rejection sampling:
    normal draws redrawn while outside [a, b] when that interval holds over 30% of the
    mass, else uniform draws on [a, b] accepted with probability pdf / pdf's peak."""
    op = "trunc_normal_"
    _check_floating(op, tensor)
    mean, std, a, b = (_check_number(op, name, value) for name, value in
                       (("mean", mean), ("std", std), ("a", a), ("b", b)))
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", UserWarning, stacklevel=2)
    rng, shape, dtype = _rng(generator), tensor.shape, tensor.dtype
    # bounds and draws compared in the tensor's dtype, so rounding cannot leave [a, b]
    low, high = dtype.type(a), dtype.type(b)
    mass = _normal_cdf((b - mean) / std) - _normal_cdf((a - mean) / std)
    if mass > 0.3:
        values = (rng.standard_normal(shape) * std + mean).astype(dtype)
        outside = (values < low) | (values > high)
        while outside.any():
            values[outside] = rng.standard_normal(int(outside.sum())) * std + mean
            outside = (values < low) | (values > high)
        return _write(tensor, values)
    values = _uniform_values(op, shape, a, b, generator).astype(dtype).reshape(-1)
    log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2
    pending = np.arange(values.size)  # the draws not accepted yet
    while pending.size:  # accept each with probability exp(log pdf - log peak)
        log_density = -0.5 * ((values[pending].astype(np.float64) - mean) / std) ** 2
        accepted = np.log(rng.uniform(size=pending.size)) <= log_density - log_peak
        pending = pending[~accepted]
        values[pending] = rng.uniform(a, b, pending.size).astype(dtype)
    return _write(tensor, values.reshape(shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Every element `val` (any dtype, as torch's fill_)."""
    _check_tensor("constant_", tensor)
    with no_grad():
        tensor.fill_(val)
    return tensor


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (ones on the diagonal) of a 2-D tensor's shape."""
    _check_tensor("eye_", tensor)
    if tensor.ndim != 2:
        raise ValueError(f"eye_: Only tensors with 2 dimensions are supported, got shape "
                         f"{tensor.shape}")
    return _write(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """The Dirac delta of a 3-, 4- or 5-D convolution weight: each output channel of each
    group passes its input channel through unchanged (as far as there are input channels)."""
    _check_tensor("dirac_", tensor)
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: Only tensors with 3, 4, or 5 dimensions are supported, got "
                         f"shape {tensor.shape}")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"dirac_: expected groups to be a positive int, got {groups!r}")
    if tensor.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 must be divisible by groups ({tensor.shape[0]} "
                         f"output channels, {groups} groups)")
    per_group = tensor.shape[0] // groups
    centre = tuple(side // 2 for side in tensor.shape[2:])
    values = np.zeros(tensor.shape)
    for group in range(groups):
        for channel in range(min(per_group, tensor.shape[1])):
            values[(group * per_group + channel, channel) + centre] = 1
    return _write(tensor, values)


def fan_in_and_fan_out(tensor: Tensor) -> tuple:
    """(fan_in, fan_out): dims 1 and 0 times the receptive field (the dims after them)."""
    _check_tensor("init", tensor)
    if tensor.ndim < 2:
        raise ValueError(f"init: Fan in and fan out can not be computed for tensor with fewer "
                         f"than 2 dimensions (got shape {tensor.shape})")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


_calculate_fan_in_and_fan_out = fan_in_and_fan_out  # torch's (private) name, used widely


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower() if isinstance(mode, str) else mode
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: Mode {mode} not supported, please use one of "
                         f"['fan_in', 'fan_out']")
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot: U(-bound, bound), bound = gain sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot: N(0, std^2), std = gain sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_gain_and_fan(op: str, tensor: Tensor, a, mode: str,
                          nonlinearity: str) -> tuple | None:
    """He's gain and fan; None (with torch's warning) for a tensor with no elements."""
    _check_tensor(op, tensor)
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", UserWarning, stacklevel=3)
        return None
    return calculate_gain(nonlinearity, a), _calculate_correct_fan(tensor, mode)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He: U(-bound, bound), bound = gain sqrt(3 / fan); `a` is leaky_relu's slope."""
    gain_and_fan = _kaiming_gain_and_fan("kaiming_uniform_", tensor, a, mode, nonlinearity)
    if gain_and_fan is None:
        return tensor
    gain, fan = gain_and_fan
    bound = gain * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He: N(0, std^2), std = gain / sqrt(fan); `a` is leaky_relu's slope."""
    gain_and_fan = _kaiming_gain_and_fan("kaiming_normal_", tensor, a, mode, nonlinearity)
    if gain_and_fan is None:
        return tensor
    gain, fan = gain_and_fan
    return normal_(tensor, 0.0, gain / math.sqrt(fan), generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix over dim 0 and the rest flattened, times `gain`: Q of the
    QR factorisation of a normal matrix, its columns' signs fixed by R's diagonal so Q is
    uniform (Haar) on the orthogonal group."""
    _check_tensor("orthogonal_", tensor)
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: Only tensors with 2 or more dimensions are supported, "
                         f"got shape {tensor.shape}")
    if tensor.numel() == 0:
        return tensor
    _check_floating("orthogonal_", tensor)
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flattened = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tensor.shape))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """A 2-D matrix of N(0, std^2) values with ceil(sparsity * rows) zeros in each column, at
    rows drawn at random."""
    _check_tensor("sparse_", tensor)
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: Only tensors with 2 dimensions are supported, got shape "
                         f"{tensor.shape}")
    _check_floating("sparse_", tensor)
    rows, cols = tensor.shape
    zeros = math.ceil(_check_number("sparse_", "sparsity", sparsity) * rows)
    values = _normal_values("sparse_", tensor.shape, 0.0, std, generator)
    rng = _rng(generator)
    for col in range(cols):
        values[rng.permutation(rows)[:zeros], col] = 0
    return _write(tensor, values)


def default_layer_init_(weight: Tensor, bias: Tensor | None) -> None:
    """torch's reset_parameters of Linear and Conv2d: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1 / math.sqrt(fan_in_and_fan_out(weight)[0])
        uniform_(bias, -bound, bound)


# ----- torch's deprecated names without the trailing underscore ------------------------------

def _deprecated(function):
    old_name = function.__name__[:-1]

    def deprecated(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of "
                      f"`nn.init.{function.__name__}`.", FutureWarning, stacklevel=2)
        return function(*args, **kwargs)

    deprecated.__name__ = deprecated.__qualname__ = old_name
    deprecated.__doc__ = f"Deprecated: use {function.__name__}."
    return deprecated


uniform, normal, constant, eye, dirac = (_deprecated(f) for f in (uniform_, normal_, constant_,
                                                                   eye_, dirac_))
xavier_uniform, xavier_normal = _deprecated(xavier_uniform_), _deprecated(xavier_normal_)
kaiming_uniform, kaiming_normal = _deprecated(kaiming_uniform_), _deprecated(kaiming_normal_)
orthogonal, sparse = _deprecated(orthogonal_), _deprecated(sparse_)

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_", "uniform", "normal", "constant", "eye",
           "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
           "orthogonal", "sparse"]
