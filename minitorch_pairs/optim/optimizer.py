"""Optimizer base, as torch.optim.Optimizer: parameter groups holding every hyperparameter
(the defaults filled in), per-parameter state keyed by the parameter, state_dict() /
load_state_dict() in torch's layout, zero_grad and step(closure)."""
from __future__ import annotations

import warnings
from collections import defaultdict

from .. import backend
from ..tensor import Tensor
from . import state_dict as packing


class Optimizer:
    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_typename(params)}")
        self.state = defaultdict(dict)  # parameter -> {name: tensor}
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list "
                             "(expected parameters or parameter groups)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __getstate__(self) -> dict:
        """What a copy or pickle keeps (as torch): not a scheduler's wrapper of step, which
        would go on stepping the original."""
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        text = f"{type(self).__name__} ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            text += "".join(f"    {key}: {group[key]}\n" for key in sorted(group)
                            if key != "params")
        return text + ")"

    def add_param_group(self, param_group: dict) -> None:
        """Add a group (a dict with "params" and any hyperparameters); the optimizer's
        defaults fill in the rest. The dict itself becomes the group, as in torch."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names and len(names) != len(params):
            raise ValueError("all optimizer params should be with/without names. Some param "
                             "names are missing")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: optimizer can only optimize Tensors, but one of the "
                                f"params is {_typename(p)}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (expected leaf "
                                 "tensors, such as a model's parameters)")
        param_group["params"] = params
        if names:
            param_group["param_names"] = names
        for key, default in self.defaults.items():
            param_group.setdefault(key, default)
        if len(params) != len({id(p) for p in params}):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(id(p) for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.grad_fn, p.grad.requires_grad = None, False
                    p.grad._data[...] = 0

    def state_dict(self) -> dict:
        """{"state": {index: {name: tensor}}, "param_groups": [{..., "params": [index]}]}:
        the live state tensors, not copies (as torch)."""
        return packing.pack(self)

    def load_state_dict(self, state_dict: dict) -> None:
        """Take state and hyperparameters from `state_dict` (copied: the dict is not kept),
        matching its parameters to this optimizer's by position."""
        state, groups = packing.unpack(self, state_dict)
        self.state = defaultdict(dict, state)
        self.param_groups = groups

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = None if closure is None else closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = backend.contiguous(p.grad._data).reshape(-1)
                if backend.is_contiguous(p._data):
                    self._update(p, p._data.reshape(-1), grad, group)
                else:  # a user-assigned strided array: update a copy, then write it back
                    param = backend.contiguous(p._data)
                    self._update(p, param.reshape(-1), grad, group)
                    p._data[...] = param
        return loss

    def _update(self, p: Tensor, param, grad, group: dict) -> None:
        """One step for parameter `p`: `param` and `grad` are flat contiguous arrays on its
        device, `param` updated in place; the state is self.state[p]."""
        raise NotImplementedError


def _typename(value) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else \
        f"{kind.__module__}.{kind.__qualname__}"
