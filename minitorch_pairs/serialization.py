"""save/load of state dicts in a safe format: one .npz (no pickle) with a JSON manifest.

The manifest records the format version and each entry's name, dtype and shape; `load`
checks the arrays against it, so a truncated or tampered file is refused with a clear
error, and nothing in the file is ever executed. Writes are atomic (temp file + rename).
"""
from __future__ import annotations

import json
import os
import zipfile
from collections import OrderedDict

import numpy as np

from . import backend
from .files import atomic_write
from .tensor import Tensor

FORMAT = "minitorch_pairs.state_dict"
VERSION = 1
_MANIFEST = "__manifest__"
_ALLOWED_DTYPES = {"float32", "float64", "int64", "bool"}


def _as_array(name: str, value) -> np.ndarray:
    if isinstance(value, Tensor):
        return backend.transfer(value._data, "cpu")  # a device tensor is copied to the host
    array = np.asarray(value)
    if array.dtype.name not in _ALLOWED_DTYPES:
        raise TypeError(f"save: entry {name!r} has dtype {array.dtype}; expected one of "
                        f"{sorted(_ALLOWED_DTYPES)}")
    return array


def save(state_dict, path) -> None:
    """Write a mapping of name -> Tensor/array to `path` (.npz), atomically."""
    if not hasattr(state_dict, "items"):
        raise TypeError(f"save: expected a mapping of names to tensors (a state_dict), got "
                        f"{type(state_dict).__name__}")
    arrays = OrderedDict()
    for name, value in state_dict.items():
        if not isinstance(name, str) or not name or name == _MANIFEST:
            raise ValueError(f"save: invalid entry name {name!r}")
        arrays[name] = _as_array(name, value)
    manifest = {"format": FORMAT, "version": VERSION,
                "entries": [{"name": n, "dtype": a.dtype.name, "shape": list(a.shape)}
                            for n, a in arrays.items()]}
    encoded = np.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=np.uint8)
    with atomic_write(path, binary=True) as file:
        np.savez(file, **{_MANIFEST: encoded}, **arrays)


def load(path) -> "OrderedDict[str, Tensor]":
    """Read a file written by `save`; refuse anything else with a ValueError."""
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            contents = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as error:
        raise ValueError(f"load: {path} is not a readable state-dict file ({error})") from None
    if _MANIFEST not in contents:
        raise ValueError(f"load: {path} has no manifest; it was not written by "
                         "minitorch_pairs.save")
    try:
        manifest = json.loads(contents.pop(_MANIFEST).tobytes().decode("utf-8"))
        entries = manifest["entries"]
        ok = manifest.get("format") == FORMAT and manifest.get("version") == VERSION
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ValueError(f"load: {path} has a corrupt manifest") from None
    if not ok:
        raise ValueError(f"load: {path} is format {manifest.get('format')!r} version "
                         f"{manifest.get('version')!r}; expected {FORMAT!r} version {VERSION}")
    names = [e.get("name") for e in entries]
    if sorted(names) != sorted(contents):
        raise ValueError(f"load: {path} lists entries {sorted(names)} but holds "
                         f"{sorted(contents)}")
    state = OrderedDict()
    for entry in entries:
        array = contents[entry["name"]]
        if array.dtype.name != entry["dtype"] or list(array.shape) != entry["shape"] \
                or array.dtype.name not in _ALLOWED_DTYPES:
            raise ValueError(f"load: entry {entry['name']!r} in {path} is {array.dtype} "
                             f"{list(array.shape)}, the manifest says {entry['dtype']} "
                             f"{entry['shape']}")
        state[entry["name"]] = Tensor._from_array(array)
    return state
