"""The safetensors format (the layout of safetensors.torch.save_file), read and written here.

A file is an 8-byte little-endian header length n, n bytes of JSON, then the tensors' bytes:
`{"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [...], "data_offsets": [begin,
end]}, ...}`, offsets counted from the end of the header; the tensors tile the data exactly
(no overlap, no hole, nothing after), little-endian and C-ordered.

Writing: tensors go in order of element size, largest first (each stays aligned, as the
reference writer lays them out), and within a size in the caller's order; the header lists
them in that file order and is padded with spaces to a multiple of 8 bytes. A flat mapping of
names to tensors (a module's state_dict()) is stored under its own names with metadata
{"format": "pt"}, which torch's loaders read. Anything nested (an optimizer's state_dict())
stores each tensor under its dotted path (`state.0.exp_avg`) and the rest of the structure as
JSON in `__metadata__["minitorch_pairs.structure"]`: {"version": 1, "tree": node}, where a
node is null, a bool, an int, a string, a finite float, or one of {"float": "nan"|"inf"|
"-inf"}, {"tensor": name}, {"list": [node...]}, {"tuple": [node...]}, {"dict": [[key, node]
...]} with str or int keys (JSON objects cannot hold the int keys of optimizer state).

Reading trusts nothing: the header must fit in the file and in MAX_HEADER_BYTES, be strict
JSON without repeated keys, and describe known dtypes and sizes that tile the data; the data
it declares must fit `max_bytes` before anything is allocated. Entries come back in header
order (file order). Refusals are ValueErrors that name the file; nothing is executed.
"""
from __future__ import annotations

import json
import math
import os
import reprlib
import struct
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from . import backend
from .files import atomic_write
from .tensor import Tensor

SUFFIX = ".safetensors"
STRUCTURE_KEY = "minitorch_pairs.structure"
STRUCTURE_VERSION = 1
MAX_HEADER_BYTES = 100_000_000  # the reference reader's limit
_MAX_DIMS = 32
_MAX_DEPTH = 64  # nesting of a saved structure; state dicts need 4
_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}
_CODES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
          "I8": "i1", "U8": "u1", "BOOL": "?"}
_DTYPES = {code: np.dtype(form) for code, form in _CODES.items()}
_CODE_OF = {dtype.newbyteorder("="): code for code, dtype in _DTYPES.items()}
_short = reprlib.Repr()
_short.maxstring, _short.maxlist, _short.maxother, _short.maxdict = 80, 10, 80, 6


class Refused(ValueError):
    """A refusal whose message already names the file."""


# ----- writing --------------------------------------------------------------------------------

def save(state, path) -> None:
    """Write `state` (a mapping; see the module docstring) to `path` atomically."""
    if not isinstance(state, Mapping):
        raise TypeError(f"save: expected a mapping of names to tensors (a state_dict), got "
                        f"{type(state).__name__}")
    arrays = OrderedDict()
    if all(isinstance(k, str) and _is_array(v) for k, v in state.items()):
        for name, value in state.items():
            _add(arrays, name, value)
        metadata = {"format": "pt"}
    else:
        tree = _encode(state, [], arrays, 0)
        metadata = {"format": "pt", STRUCTURE_KEY: json.dumps(
            {"version": STRUCTURE_VERSION, "tree": tree}, allow_nan=False,
            separators=(",", ":"))}
    order = sorted(arrays, key=lambda name: -arrays[name].dtype.itemsize)  # stable
    header, offset = {"__metadata__": metadata}, 0
    for name in order:
        array = arrays[name]
        header[name] = {"dtype": _CODE_OF[array.dtype.newbyteorder("=")],
                        "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with atomic_write(path, binary=True) as file:
        file.write(struct.pack("<Q", len(text)))
        file.write(text)
        for name in order:
            file.write(arrays[name].reshape(-1).view(np.uint8))


def _is_array(value) -> bool:
    return isinstance(value, (Tensor, np.ndarray, np.generic))


def _add(arrays: OrderedDict, name: str, value) -> None:
    if not name or name == "__metadata__" or name in arrays:
        raise ValueError(f"save: invalid or repeated entry name {name!r}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"save: entry name {name!r} is not valid UTF-8") from None
    array = backend.transfer(value._data, "cpu") if isinstance(value, Tensor) \
        else np.asarray(value)
    native = array.dtype.newbyteorder("=")
    if native not in _CODE_OF:
        raise TypeError(f"save: entry {name!r} has dtype {array.dtype}; the safetensors "
                        f"format here holds {', '.join(str(d) for d in _CODE_OF)}")
    # little-endian and C order, as the format stores them; a copy only where either differs
    # (not ascontiguousarray: it makes a 0-d array 1-d)
    arrays[name] = np.asarray(array, dtype=_DTYPES[_CODE_OF[native]], order="C")


def _encode(value, path: list, arrays: OrderedDict, depth: int):
    """The JSON node of `value`; its tensors go to `arrays` under their dotted path."""
    where = ".".join(path) or "the state"
    if depth > _MAX_DEPTH:
        raise ValueError(f"save: {where} is nested deeper than {_MAX_DEPTH} levels")
    if _is_array(value):
        _add(arrays, ".".join(path), value)
        return {"tensor": ".".join(path)}
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"float": repr(value)}
    if type(value) in (list, tuple):
        return {type(value).__name__: [_encode(item, path + [str(i)], arrays, depth + 1)
                                       for i, item in enumerate(value)]}
    if isinstance(value, Mapping):
        for key in value:
            if type(key) not in (str, int):
                raise TypeError(f"save: {where} has a key {key!r} of type "
                                f"{type(key).__name__}; keys must be str or int")
        return {"dict": [[key, _encode(item, path + [str(key)], arrays, depth + 1)]
                         for key, item in value.items()]}
    raise TypeError(f"save: {where} is a {type(value).__name__}; expected tensors, arrays, "
                    "dicts, lists, tuples, None, bool, int, float or str")


# ----- reading --------------------------------------------------------------------------------

def load(file, path: str, max_bytes: int):
    """Read the open binary `file` (named `path` in messages): an OrderedDict of tensors in
    file order, or the nested structure a `save` stored, rooted in an OrderedDict."""
    size = os.fstat(file.fileno()).st_size
    if size < 8:
        raise Refused(f"load: {path} is truncated: {size} bytes, shorter than the 8-byte "
                      "safetensors header length")
    (length,) = struct.unpack("<Q", _read_exactly(file, 8, path, "the header length"))
    if length > MAX_HEADER_BYTES or 8 + length > size:
        raise Refused(f"load: {path} has a header that claims {length} bytes; the file holds "
                      f"{size - 8} after the length (and at most {MAX_HEADER_BYTES} are read)")
    header = _parse_header(_read_exactly(file, length, path, "the header"), path)
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(v, str) for v in metadata.values())):
        raise Refused(f"load: {path} has a bad header (__metadata__ must map strings to "
                      "strings)")
    entries = OrderedDict((name, _check_entry(name, entry, path))
                          for name, entry in header.items())
    _check_tiling(entries, size - 8 - length, path, max_bytes)
    tensors = OrderedDict()
    for name, (dtype, shape, (begin, _)) in entries.items():
        file.seek(8 + length + begin)
        tensors[name] = Tensor._from_array(_read_array(file, name, dtype, shape, path))
    text = (metadata or {}).get(STRUCTURE_KEY)
    return tensors if text is None else _decode_structure(text, tensors, path)


def _parse_header(raw: bytes, path: str) -> dict:
    def unique(pairs):
        keys = [key for key, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"repeated key in {_short.repr(keys)}")
        return dict(pairs)

    try:
        if not raw.startswith(b"{"):
            raise ValueError("it does not begin with '{'")
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=unique,
                            parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:  # RecursionError: deeply nested JSON
        raise Refused(f"load: {path} has a bad header ({str(error)[:200]})") from None
    return header


def _check_entry(name: str, entry, path: str) -> tuple:
    where = f"load: {path} has a bad header entry {_short.repr(name)}"
    if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
        raise Refused(f"{where} (expected an object with keys {sorted(_ENTRY_KEYS)}, got "
                      f"{_short.repr(entry)})")
    code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if code == "BF16":
        raise Refused(f"load: {path} holds {_short.repr(name)} as BF16 (bfloat16), which minitorch_pairs "
                      "does not have; convert it in torch first, e.g. safetensors.torch."
                      "save_file({k: v.float() for k, v in load_file(p).items()}, p2)")
    if not isinstance(code, str) or code not in _DTYPES:
        raise Refused(f"load: {path} holds {_short.repr(name)} with dtype {_short.repr(code)}"
                      f", which minitorch_pairs cannot hold (it reads {', '.join(_DTYPES)})")
    if not isinstance(shape, list) or len(shape) > _MAX_DIMS or not all(
            type(n) is int and n >= 0 for n in shape) or math.prod(  # bool is not a size
            n for n in shape if n) >= 2 ** 62:  # (beside a 0, so that NumPy can shape it)
        raise Refused(f"{where} (shape {_short.repr(shape)})")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(
            type(n) is int and n >= 0 for n in offsets) and offsets[0] <= offsets[1]):
        raise Refused(f"{where} (data_offsets {_short.repr(offsets)})")
    nbytes = math.prod(shape) * _DTYPES[code].itemsize
    if offsets[1] - offsets[0] != nbytes:
        raise Refused(f"{where} (data_offsets {offsets} span {offsets[1] - offsets[0]} bytes; "
                      f"{code} {shape} needs {nbytes})")
    return _DTYPES[code], tuple(shape), tuple(offsets)


def _check_tiling(entries: OrderedDict, data_size: int, path: str, max_bytes: int) -> None:
    """The entries cover the data exactly once, and fit `max_bytes`, or the file is refused."""
    end, last = 0, None
    for name, (_, _, (begin, stop)) in sorted(entries.items(), key=lambda item: item[1][2]):
        if begin < end:
            raise Refused(f"load: {path} has overlapping offsets: {name!r} starts at {begin}, "
                          f"inside {last!r} (which ends at {end})")
        if begin > end:
            raise Refused(f"load: {path} has a hole in its data: {begin - end} bytes before "
                          f"{name!r} belong to no tensor")
        end, last = stop, name
    if end > data_size:
        raise Refused(f"load: {path} is truncated: its tensors need {end} bytes of data, the "
                      f"file holds {data_size}")
    if end < data_size:
        raise Refused(f"load: {path} has {data_size - end} bytes after its last tensor")
    if end > max_bytes:
        raise Refused(f"load: {path} declares {end} bytes of tensor data, more than "
                      f"max_bytes={max_bytes}")


def _read_exactly(file, count: int, path: str, what: str) -> bytearray:
    buffer = bytearray(count)
    view, done = memoryview(buffer), 0
    while done < count:
        got = file.readinto(view[done:])
        if not got:
            raise Refused(f"load: {path} holds {what} cut short ({done} of {count} bytes)")
        done += got
    return buffer


def _read_array(file, name: str, dtype: np.dtype, shape: tuple, path: str) -> np.ndarray:
    raw = _read_exactly(file, math.prod(shape) * dtype.itemsize, path, f"tensor {name!r}")
    if dtype == np.bool_ and raw and np.frombuffer(raw, np.uint8).max() > 1:
        raise Refused(f"load: {path} holds BOOL tensor {name!r} with bytes other than 0 and 1")
    # native byte order, as the kernels expect (a no-op on little-endian machines)
    return np.frombuffer(raw, dtype).astype(dtype.newbyteorder("="), copy=False).reshape(shape)


def _decode_structure(text: str, tensors: OrderedDict, path: str):
    try:
        structure = json.loads(text, parse_constant=_no_constant)
        if not (isinstance(structure, dict) and set(structure) == {"version", "tree"}
                and type(structure["version"]) is int):
            raise ValueError("expected an object with keys 'version' and 'tree'")
        if structure["version"] != STRUCTURE_VERSION:
            raise ValueError(f"version {_short.repr(structure['version'])}; this reader "
                             f"knows version {STRUCTURE_VERSION}")
        used = set()
        root = _decode(structure["tree"], tensors, used, 0)
        if not isinstance(root, dict):
            raise ValueError("its root is not a dict")
        if used != set(tensors):
            raise ValueError(f"tensors {_short.repr(sorted(set(tensors) - used))} are not in it")
    except (ValueError, RecursionError) as error:
        raise Refused(f"load: {path} has a bad {STRUCTURE_KEY} in its __metadata__ "
                      f"({str(error)[:200]})") from None
    return OrderedDict(root)


def _no_constant(name):
    raise ValueError(f"{name} is not strict JSON")


def _decode(node, tensors: OrderedDict, used: set, depth: int):
    if depth > _MAX_DEPTH:
        raise ValueError(f"nested deeper than {_MAX_DEPTH} levels")
    if node is None or type(node) in (bool, int, str):
        return node
    if type(node) is float and math.isfinite(node):
        return node
    if type(node) is dict and len(node) == 1:
        ((tag, body),) = node.items()
        if tag == "tensor" and type(body) is str and body in tensors and body not in used:
            used.add(body)
            return tensors[body]
        if tag == "float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag in ("list", "tuple") and type(body) is list:
            items = [_decode(item, tensors, used, depth + 1) for item in body]
            return items if tag == "list" else tuple(items)
        if tag == "dict" and type(body) is list and all(
                type(pair) is list and len(pair) == 2 and type(pair[0]) in (str, int)
                for pair in body):
            result = {key: _decode(item, tensors, used, depth + 1) for key, item in body}
            if len(result) != len(body):
                raise ValueError("a dict repeats a key")
            return result
    raise ValueError(f"unexpected node {_short.repr(node)}")
