"""Optimizer base: parameter groups with per-group hyperparameters, per-parameter state."""
from __future__ import annotations

import numbers

from .. import backend
from ..tensor import Tensor


class Optimizer:
    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.param_groups = []
        self.state = {}  # id(parameter) -> dict of arrays
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        name = type(self).__name__
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{name}: can only optimise tensors that require grad, got "
                                f"{type(p).__name__}")
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"{name}: unknown options {sorted(unknown)} in a parameter group; "
                             f"expected some of {sorted(self.defaults)}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: a parameter appears in more than one parameter group")
        full = {**self.defaults, **group, "params": params}
        self._check_hyperparameters(full)
        self.param_groups.append(full)

    def _check_hyperparameters(self, group: dict) -> None:
        for key in ("lr", "momentum", "dampening", "weight_decay", "eps"):
            value = group.get(key, 0.0)
            if not isinstance(value, numbers.Real) or value < 0:
                raise ValueError(f"{type(self).__name__}: expected {key} >= 0, got {value!r}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad._data[...] = 0

    def step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.setdefault(id(p), {})
                kernels = backend.kernels(p.device)
                if backend.is_contiguous(p._data):
                    self._update(kernels, p._data.reshape(-1), flat(p.grad._data), state, group)
                else:  # a user-assigned strided array: update a copy, then write it back
                    param = backend.contiguous(p._data)
                    self._update(kernels, param.reshape(-1), flat(p.grad._data), state, group)
                    p._data[...] = param

    def _update(self, kernels, param, grad, state: dict, group: dict) -> None:
        """One step for one parameter: flat contiguous arrays, updated in place by the
        device's fused kernel."""
        raise NotImplementedError


def flat(array):
    """A flat contiguous view of `array` (a copy only where it is strided)."""
    return backend.contiguous(array).reshape(-1)

