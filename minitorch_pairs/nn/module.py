"""Module and Parameter: the containers models are built from (as torch.nn.Module)."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import backend

from ..errors import ShapeError
from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that a Module registers as trainable; requires grad by default."""

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(data._data if isinstance(data, Tensor) else data,
                         dtype=data.dtype if isinstance(data, Tensor) else None,
                         requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and models: parameters, buffers, children, train/eval."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before "
                               "assigning attributes")
        if name in self._buffers and not isinstance(value, (Parameter, Module)) and \
                (value is None or isinstance(value, Tensor)):
            self._buffers[name] = value  # assigning to a buffer keeps it a buffer, as in torch
            return
        target = (self._parameters if isinstance(value, Parameter) else
                  self._modules if isinstance(value, Module) else None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not target:  # replacing keeps the entry's place in state_dict order
                registry.pop(name, None)
        if target is not None:
            target[name] = value
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            values = self.__dict__.get(registry, {})
            if name in values:
                return values[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """A tensor saved in state_dict but not trained (e.g. BatchNorm running stats)."""
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor

    def register_parameter(self, name: str, parameter: Parameter | None) -> None:
        self.__dict__.pop(name, None)
        self._parameters[name] = parameter

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def register_forward_pre_hook(self, hook) -> "RemovableHandle":
        """hook(module, args) runs before forward; a result other than None replaces args
        (a non-tuple becomes the one argument), as in torch."""
        return RemovableHandle(self._hooks("_forward_pre_hooks"), hook)

    def register_forward_hook(self, hook) -> "RemovableHandle":
        """hook(module, args, output) runs after forward; a result other than None replaces
        the output, as in torch."""
        return RemovableHandle(self._hooks("_forward_hooks"), hook)

    def _hooks(self, kind: str) -> OrderedDict:
        if kind not in self.__dict__:
            object.__setattr__(self, kind, OrderedDict())
        return self.__dict__[kind]

    def __call__(self, *args, **kwargs):
        state = self.__dict__
        if "_forward_pre_hooks" not in state and "_forward_hooks" not in state:
            return self.forward(*args, **kwargs)
        for hook in list(state.get("_forward_pre_hooks", {}).values()):
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        output = self.forward(*args, **kwargs)
        for hook in list(state.get("_forward_hooks", {}).values()):
            changed = hook(self, args, output)
            if changed is not None:
                output = changed
        return output

    # ----- traversal --------------------------------------------------------------
    def named_children(self):
        yield from self._modules.items()

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = ""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def _named_members(self, registry: str):
        seen = set()
        for prefix, module in self.named_modules():
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue  # a shared parameter is listed once, as in torch
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self):
        yield from self._named_members("_parameters")

    def parameters(self):
        for _, parameter in self.named_parameters():
            yield parameter

    def named_buffers(self):
        yield from self._named_members("_buffers")

    def buffers(self):
        for _, buffer in self.named_buffers():
            yield buffer

    # ----- modes and gradients ----------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for parameter in self.parameters():
            if set_to_none:
                parameter.grad = None
            elif parameter.grad is not None:
                parameter.grad._data[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    def apply(self, fn) -> "Module":
        for module in self.modules():
            fn(module)
        return self

    def to(self, device=None, dtype=None) -> "Module":
        """Move parameters and buffers to `device` and cast the floating ones to `dtype`, in
        place (the same Parameter objects, as in torch; their gradients are dropped)."""
        if device is not None:
            device = backend.check_device(device)
        for tensor in list(self.parameters()) + list(self.buffers()):
            if dtype is not None and tensor.dtype.kind == "f":
                tensor._data = tensor._data.astype(dtype)
            if device is not None and device != tensor.device:
                tensor._data, tensor.device, tensor.grad = \
                    backend.transfer(tensor._data, device), device, None
        return self

    def double(self) -> "Module":
        return self.to(dtype=np.float64)

    def float(self) -> "Module":
        return self.to(dtype=np.float32)

    # ----- state ------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, Tensor]":
        """Every parameter and buffer by dotted name (the tensors themselves, detached)."""
        state = OrderedDict()
        for prefix, module in self.named_modules():
            for registry in (module._parameters, module._buffers):
                for name, value in registry.items():
                    if value is not None:
                        state[f"{prefix}.{name}" if prefix else name] = value.detach()
        return state

    def load_state_dict(self, state_dict, strict: bool = True) -> None:
        """Copy values into this module's tensors, checking names and shapes first."""
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict for {type(self).__name__}: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        for name, target in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            array = value._data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != target.shape:
                raise ShapeError(f"load_state_dict: {name} expects shape {target.shape}, "
                                 f"got {array.shape}")
            target._data[...] = array

    # ----- printing ---------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ")
                 for name, child in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


class RemovableHandle:
    """What registering a hook returns: remove() unregisters it (twice is harmless)."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict, hook):
        RemovableHandle._next_id += 1
        self.hooks, self.id = hooks, RemovableHandle._next_id
        hooks[self.id] = hook

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()
