"""Module.state_dict and load_state_dict, with torch's keys, order, metadata, results and
error messages (torch.nn.Module's algorithm: each module saves or loads its own parameters
and persistent buffers, then its children's under `prefix + name + "."`)."""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from .. import autograd
from ..tensor import Tensor


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns (torch's NamedTuple, with its repr)."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def save(module, destination, prefix: str, keep_vars: bool):
    if destination is None:
        destination = OrderedDict()
        destination._metadata = OrderedDict()
    if hasattr(destination, "_metadata"):
        destination._metadata[prefix[:-1]] = {"version": module._version}
    module._save_to_state_dict(destination, prefix, keep_vars)
    for name, child in module._modules.items():
        if child is not None:
            save(child, destination, prefix + name + ".", keep_vars)
    return destination


def load(module, state_dict, strict: bool, assign: bool) -> _IncompatibleKeys:
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
    missing, unexpected, errors = [], [], []
    metadata = getattr(state_dict, "_metadata", None)
    state_dict = OrderedDict(state_dict)  # a copy: modules may add keys (BatchNorm's counter)

    def load_module(target, local_state, prefix=""):
        local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
        if assign:
            local_metadata["assign_to_params_buffers"] = True
        target._load_from_state_dict(local_state, prefix, local_metadata, True, missing,
                                     unexpected, errors)
        for name, child in target._modules.items():
            if child is not None:
                child_prefix = prefix + name + "."
                load_module(child, {k: v for k, v in local_state.items()
                                    if k.startswith(child_prefix)}, child_prefix)

    load_module(module, state_dict)
    if strict:
        if unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                ", ".join(f'"{k}"' for k in unexpected)))
        if missing:
            errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                ", ".join(f'"{k}"' for k in missing)))
    if errors:
        raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
            type(module).__name__, "\n\t".join(errors)))
    return _IncompatibleKeys(missing, unexpected)


def _size(shape) -> str:
    """A shape as torch prints it in these messages."""
    return f"torch.Size([{', '.join(str(n) for n in shape)}])"


def load_local(module, state_dict, prefix, local_metadata, missing, unexpected, errors):
    """One module's own parameters and persistent buffers from `state_dict`; the keys it
    lacks go to `missing`, keys under `prefix` it cannot place to `unexpected`, copy
    problems to `errors` (torch's _load_from_state_dict, without the extra-state hook).
    Values may be our tensors or NumPy arrays."""
    persistent = ((name, value) for name, value in module._buffers.items()
                  if name not in module._non_persistent_buffers_set)
    local_state = {name: value for name, value in
                   list(module._parameters.items()) + list(persistent) if value is not None}
    assign = local_metadata.get("assign_to_params_buffers", False)
    for name, target in local_state.items():
        key = prefix + name
        if key not in state_dict:
            missing.append(key)
            continue
        value = state_dict[key]
        if not isinstance(value, (Tensor, np.ndarray, np.generic)):
            errors.append(f'While copying the parameter named "{key}", expected torch.Tensor '
                          f"or Tensor-like object from checkpoint but received {type(value)}")
            continue
        shape = tuple(np.shape(value)) if not isinstance(value, Tensor) else value.shape
        if len(target.shape) == 0 and shape == (1,):  # torch's compatibility with 0.3 files
            value, shape = value[0], ()
        if shape != target.shape:
            errors.append(f"size mismatch for {key}: copying a param with shape "
                          f"{_size(shape)} from checkpoint, the shape in current model is "
                          f"{_size(target.shape)}.")
            continue
        try:
            with autograd.no_grad():
                if assign:
                    _assign(module, name, target, value)
                else:
                    target.copy_(value)
        except Exception as error:  # torch reports it with the others
            errors.append(f'While copying the parameter named "{key}", whose dimensions in '
                          f"the model are {_size(target.shape)} and whose dimensions in the "
                          f"checkpoint are {_size(shape)}, an exception occurred : "
                          f"{error.args}.")
    for key in state_dict:
        if not key.startswith(prefix):
            continue
        name = key[len(prefix):].split(".", 1)
        if len(name) > 1:  # a dotted rest names a child's entry
            if name[0] not in module._modules:
                unexpected.append(key)
        elif name[0] not in local_state:
            unexpected.append(key)


def _assign(module, name: str, target: Tensor, value) -> None:
    """load_state_dict(assign=True): the module holds the checkpoint's tensor itself (a
    parameter wrapped as one, keeping the module's requires_grad)."""
    from .module import Parameter
    value = value if isinstance(value, Tensor) else Tensor(value)
    if isinstance(target, Parameter):
        requires_grad = target.requires_grad
        value = value if isinstance(value, Parameter) else Parameter(value, requires_grad)
        value.requires_grad_(requires_grad)
    setattr(module, name, value)
