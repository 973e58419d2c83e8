"""Optimizer state dicts in torch's layout: {"state": {parameter index: {name: value}},
"param_groups": [{hyperparameters..., "params": [parameter indices]}]}, the indices counting
the parameters group by group. Packing hands out the live state tensors (as torch does);
loading copies, so that the loaded optimizer and the dict never share an array."""
from __future__ import annotations

import copy

import numpy as np

from ..tensor import Tensor
from . import state as states


def pack(optimizer) -> dict:
    indices = {}  # id(parameter) -> its index
    groups = []
    for group in optimizer.param_groups:
        packed = {k: v for k, v in group.items() if k != "params"}
        for p in group["params"]:
            indices.setdefault(id(p), len(indices))
        packed["params"] = [indices[id(p)] for p in group["params"]]
        groups.append(packed)
    packed_state = {(indices[id(k)] if isinstance(k, Tensor) else k): v
                    for k, v in optimizer.state.items()}
    return {"state": packed_state, "param_groups": groups}


def unpack(optimizer, state_dict: dict) -> tuple:
    """(state keyed by parameter, param_groups) for `optimizer` from a packed dict, after
    torch's checks (number of groups, parameters per group) and one more: each state
    tensor must have its parameter's shape, which torch finds out only at the next step."""
    name = type(optimizer).__name__
    if not isinstance(state_dict, dict):
        raise TypeError(f"{name}.load_state_dict: expected a dict (an optimizer's "
                        f"state_dict()), got {type(state_dict).__name__}")
    for key in ("param_groups", "state"):
        if key not in state_dict:
            raise KeyError(f"{name}.load_state_dict: the dict has no {key!r} (expected an "
                           f"optimizer's state_dict())")
    groups = optimizer.param_groups
    saved_groups = copy.deepcopy(state_dict["param_groups"])
    if len(groups) != len(saved_groups):
        raise ValueError(f"{name}: loaded state dict has a different number of parameter "
                         f"groups (expected {len(groups)}, got {len(saved_groups)})")
    if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
        raise ValueError(f"{name}: loaded state dict contains a parameter group that doesn't "
                         f"match the size of optimizer's group (expected sizes "
                         f"{[len(g['params']) for g in groups]}, got "
                         f"{[len(s['params']) for s in saved_groups]})")
    by_index = dict(zip((i for s in saved_groups for i in s["params"]),
                        (p for g in groups for p in g["params"])))
    state = {}
    for index, values in state_dict["state"].items():
        param = by_index.get(index)
        state[index if param is None else param] = copy.deepcopy(values) if param is None \
            else _cast(name, index, param, values)
    for group, saved in zip(groups, saved_groups):
        saved["params"] = group["params"]
        if "param_names" in group and "param_names" not in saved:
            saved["param_names"] = group["param_names"]
    return state, saved_groups


def _cast(name: str, index, param: Tensor, values: dict) -> dict:
    cast = {}
    for key, value in values.items():
        if isinstance(value, Tensor):
            if key != "step" and value.shape != param.shape:
                raise ValueError(f"{name}: loaded state {key!r} of parameter {index} has shape "
                                 f"{tuple(value.shape)}; expected the parameter's shape "
                                 f"{tuple(param.shape)}")
            cast[key] = states.loaded(value, param, key)
        elif key == "step" and isinstance(value, (int, float, np.number)):
            counter = states.step_counter()  # an old-style number, as torch's __setstate__
            counter._data[...] = value
            cast[key] = counter
        else:
            cast[key] = copy.deepcopy(value)
    return cast
