"""Module and Parameter: the containers models are built from (as torch.nn.Module).

A Module registers what is assigned to it by kind, as torch's does: Parameters, buffers
(tensors saved in state_dict but not trained) and child Modules, each in its own ordered
registry; traversal, names, modes, dtype and device casts, printing and state dicts follow
torch's rules and messages. state_dict loading is in state_dict.py.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import autograd, backend, dtypes
from ..tensor import Tensor
from . import state_dict as state


class Parameter(Tensor):
    """A tensor that a Module registers as trainable; requires grad by default."""

    def __init__(self, data=None, requires_grad: bool = True):
        if not isinstance(data, Tensor):
            super().__init__(np.empty(0, dtypes.get_default_dtype()) if data is None else data,
                             requires_grad=requires_grad)
            return
        source = data.detach()  # the same storage and version counter, as torch's
        self._data, self.device = source._data, source.device
        self.grad = self.grad_fn = self._base = None
        self._version_counter, self.requires_grad = source._version_counter, False
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def typename(value) -> str:
    """torch.typename: a tensor's type name ('torch.FloatTensor'), else the dotted name of
    the object or its class, for messages that name what was passed."""
    if isinstance(value, Tensor):
        return value.type()
    module = getattr(value, "__module__", None)
    prefix = "" if module in (None, "builtins", "__builtin__") else module + "."
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    return prefix + (name if isinstance(name, str) else type(value).__name__)


def _check_new_name(module: "Module", kind: str, name, registry: dict) -> None:
    """torch's checks of a name about to be registered (its order of checks too)."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {typename(name)}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain "."')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if hasattr(module, name) and name not in registry:
        raise KeyError(f"attribute '{name}' already exists")


class Module:
    """Base class of layers and models: parameters, buffers, children, train/eval."""

    _version = 1  # written to state_dict's metadata; a layer whose keys changed raises it

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())

    # ----- registration -------------------------------------------------------------
    def __setattr__(self, name, value):
        """torch's rules: a Parameter or Module value registers (replacing any other kind
        of the name); a name already registered keeps its kind (a plain tensor assigned to
        a buffer stays a buffer; a tensor assigned to a parameter is a TypeError)."""
        state_ = self.__dict__
        params = state_.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if state_.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep="_modules")
            self._modules[name] = value
        elif name in state_.get("_modules", ()):
            if value is not None:
                raise TypeError(f"cannot assign '{typename(value)}' as child module "
                                f"'{name}' (torch.nn.Module or None expected)")
            self._modules[name] = value
        elif name in state_.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{typename(value)}' as buffer '{name}' "
                                "(torch.nn.Buffer, torch.Tensor or None expected)")
            self._buffers[name] = value  # keeps its place and persistence
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: str) -> None:
        """Drop `name` from the instance dict and every registry but `keep`."""
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            values = self.__dict__.get(registry, {})
            if name in values:
                return values[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = list(dir(type(self))) + list(self.__dict__) + list(self._parameters) + \
            list(self._modules) + list(self._buffers)
        return sorted(key for key in keys if not key[0].isdigit())

    def register_buffer(self, name: str, tensor: Tensor | None,
                        persistent: bool = True) -> None:
        """A tensor kept with the module (moved and cast with it) but not trained, e.g.
        BatchNorm's running statistics; in state_dict unless persistent=False."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_new_name(self, "buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{typename(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_new_name(self, "parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{typename(param)}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             f"parameters must be created explicitly. To express '{name}' as "
                             "a function of another Tensor, compute the value in the "
                             "forward() method.")
        self._parameters[name] = param

    def add_module(self, name: str, module: "Module | None") -> None:
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = module

    def register_module(self, name: str, module: "Module | None") -> None:
        self.add_module(name, module)

    # ----- calling ------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

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
        state_ = self.__dict__
        if "_forward_pre_hooks" not in state_ and "_forward_hooks" not in state_:
            return self.forward(*args, **kwargs)
        for hook in list(state_.get("_forward_pre_hooks", {}).values()):
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        output = self.forward(*args, **kwargs)
        for hook in list(state_.get("_forward_hooks", {}).values()):
            changed = hook(self, args, output)
            if changed is not None:
                output = changed
        return output

    # ----- traversal (torch's orders; shared modules and tensors listed once) ---------
    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True):
        """Depth first, parents before children, each named by its dotted path from here;
        `memo` holds the modules already given (ids here: modules hash by identity)."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                                remove_duplicate)

    def modules(self, remove_duplicate: bool = True):
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn) -> "Module":
        """fn(module) for every module below, children before their parent, then self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ----- modes and gradients ------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for parameter in self.parameters():
            if parameter.grad is None:
                continue
            if set_to_none:
                parameter.grad = None
                continue
            if parameter.grad.grad_fn is not None:
                parameter.grad.detach_()
            else:
                parameter.grad.requires_grad_(False)
            parameter.grad.zero_()

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    # ----- devices and dtypes ------------------------------------------------------
    def _apply(self, fn) -> "Module":
        """fn on every parameter (and its gradient) and buffer, here and below. Parameters
        keep their identity and take fn's storage (optimizers keep holding them); buffers
        become fn's result, as in torch."""
        for module in self.children():
            module._apply(fn)
        with autograd.no_grad():
            for parameter in self._parameters.values():
                if parameter is None:
                    continue
                _adopt(parameter, fn(parameter))
                if parameter.grad is not None:
                    _adopt(parameter.grad, fn(parameter.grad))
            for name, buffer in self._buffers.items():
                if buffer is not None:
                    self._buffers[name] = fn(buffer)
        return self

    def to(self, *args, **kwargs) -> "Module":
        """torch's forms: to(device), to(dtype), to(tensor), to(device, dtype), keywords too.
        The dtype applies to floating-point parameters and buffers only."""
        device, dtype = _parse_to(*args, **kwargs)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but "
                            f"got desired dtype=torch.{dtype}")
        return self._apply(lambda t: t.to(device=device,
                                          dtype=dtype if t.is_floating_point() else None))

    def cpu(self) -> "Module":
        return self._apply(lambda t: t.cpu())

    def cuda(self, device=None) -> "Module":
        return self._apply(lambda t: t.to(device="cuda" if device is None else device))

    def float(self) -> "Module":
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self) -> "Module":
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self) -> "Module":
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    # ----- state ------------------------------------------------------------------
    def state_dict(self, *, destination=None, prefix: str = "", keep_vars: bool = False):
        """Every parameter and persistent buffer by dotted name (detached, sharing storage,
        unless keep_vars), in torch's order, with torch's `_metadata` (each module's
        _version, by prefix)."""
        return state.save(self, destination, prefix, keep_vars)

    def _save_to_state_dict(self, destination, prefix: str, keep_vars: bool) -> None:
        for name, value in self._parameters.items():
            if value is not None:
                destination[prefix + name] = value if keep_vars else value.detach()
        for name, value in self._buffers.items():
            if value is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = value if keep_vars else value.detach()

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values into this module's parameters and buffers; returns torch's
        _IncompatibleKeys(missing_keys, unexpected_keys); with strict, any of those (and,
        always, a size mismatch) is torch's RuntimeError listing all of them."""
        return state.load(self, state_dict, strict, assign)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        state.load_local(self, state_dict, prefix, local_metadata, missing_keys,
                         unexpected_keys, error_msgs)

    # ----- printing ---------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        """torch's layout: the extra_repr lines, then each child as `(name): repr`."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _indent(repr(child))
                       for name, child in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


def _indent(text: str) -> str:
    """Lines after the first indented by two spaces (blank lines left empty), as torch."""
    first, *rest = text.split("\n")
    return "\n".join([first] + [("  " + line) if line.strip() else "" for line in rest])


def _adopt(tensor: Tensor, result: Tensor) -> None:
    """`tensor` takes `result`'s storage and device (torch's `param.data = result`)."""
    if result is not tensor:
        tensor._data, tensor.device = result._data, result.device


def _parse_to(*args, device=None, dtype=None, non_blocking: bool = False, copy=False):
    """(device, dtype) of Module.to's arguments, each None where not given."""
    if len(args) > 2:
        raise TypeError(f"to() received an invalid combination of arguments: {len(args)} "
                        "positional arguments")
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, (str,)) and arg in dtypes.SUPPORTED_NAMES:
            dtype = arg
        elif isinstance(arg, str) or arg is None:
            device = arg
        else:
            dtype = arg
    return (None if device is None else backend.check_device(device),
            dtypes.as_dtype(dtype))


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
