"""The optimizers' argument checks: torch's conditions, in torch's order, with torch's
exception classes and message text. Each message starts with the optimizer's name and
ends with what was expected, so it reads on its own; torch's text is in between."""
from __future__ import annotations

import numbers

from ..tensor import Tensor

# torch's implementation options that change nothing here except where they are refused
IMPLEMENTATION_OPTIONS = ("foreach", "capturable", "differentiable", "fused")


def real(owner: str, key: str, value):
    """`value` if it is a real number; a TypeError (torch's comparison fails there too)."""
    if isinstance(value, Tensor):
        raise TypeError(f"{owner}: a Tensor {key} is not supported; expected a Python number, "
                        f"got a Tensor of shape {value.shape}")
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: expected a real number for {key}, got {value!r}")
    return value


def at_least_zero(owner: str, key: str, value, text: str) -> None:
    """torch's `if not 0.0 <= value`: NaN is refused."""
    if not 0.0 <= real(owner, key, value):
        raise ValueError(f"{owner}: {text}: {value} (expected {key} >= 0)")


def not_negative(owner: str, key: str, value, text: str) -> None:
    """torch's `if value < 0.0` (SGD's form): NaN passes, as there."""
    if real(owner, key, value) < 0.0:
        raise ValueError(f"{owner}: {text}: {value} (expected {key} >= 0)")


def learning_rate(owner: str, lr, nan_passes: bool = False) -> None:
    check = not_negative if nan_passes else at_least_zero
    check(owner, "lr", lr, "Invalid learning rate")


def epsilon(owner: str, eps) -> None:
    at_least_zero(owner, "eps", eps, "Invalid epsilon value")


def weight_decay(owner: str, value, nan_passes: bool = False) -> None:
    check = not_negative if nan_passes else at_least_zero
    check(owner, "weight_decay", value, "Invalid weight_decay value")


def betas(owner: str, values) -> tuple:
    """torch's checks of Adam's betas: each in [0, 1), both floats; the first two are kept
    (torch indexes betas[0] and betas[1], so a shorter sequence is an IndexError)."""
    if not hasattr(values, "__getitem__"):
        raise TypeError(f"{owner}: expected betas as a pair of floats, got {values!r}")
    if len(values) < 2:
        raise IndexError(f"{owner}: expected betas as a pair of floats, got {values!r}")
    for index in (0, 1):
        if not 0.0 <= real(owner, f"betas[{index}]", values[index]) < 1.0:
            raise ValueError(f"{owner}: Invalid beta parameter at index {index}: "
                             f"{values[index]} (expected betas in [0, 1))")
    return values[0], values[1]


def betas_are_floats(owner: str, values) -> None:
    if not (isinstance(values[0], float) and isinstance(values[1], float)):
        raise ValueError(f"{owner}: betas must be either both floats or both Tensors "
                         f"(expected floats, got {values[0]!r} and {values[1]!r})")


def implementation(owner: str, foreach=None, capturable=False, differentiable=False,
                   fused=None) -> None:
    """torch's implementation switches. foreach picks one of torch's loops over the same
    formulas and is accepted; the others need what this library does not have (CUDA
    graphs, autograd through the step, torch's fused kernels) and are refused by name."""
    if fused and differentiable:
        raise RuntimeError(f"{owner}: `fused` does not support `differentiable`")
    if fused and foreach:
        raise RuntimeError(f"{owner}: `fused` and `foreach` cannot be `True` together.")
    for name, value in (("capturable", capturable), ("differentiable", differentiable),
                        ("fused", fused)):
        if value:
            raise NotImplementedError(f"{owner}: {name}=True is not supported (expected "
                                      f"{name}={'None' if name == 'fused' else 'False'})")
