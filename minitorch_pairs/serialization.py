"""save/load of state dicts in safe formats, never pickle: safetensors (the files torch
reads and writes with the safetensors package; see safetensors_format.py) for a path ending
in .safetensors, else one .npz with a JSON manifest (the format of the study's checkpoints,
which stays the default so that every name other than .safetensors means what it did).

`load` tells the formats apart by their content: a zip is read as the .npz below, a file
whose ninth byte is "{" (where the safetensors JSON header begins) or that is named
.safetensors as safetensors, and a pickle (torch.save's .pt/.pth: a raw pickle, or a zip
holding data.pkl) is refused with how to convert it. What follows describes the .npz format.

The manifest records the format version and each entry's name, dtype and shape. Writes are
atomic (temp file + rename). `load` trusts nothing in the file and reads the zip itself, so
that a small crafted file cannot make it allocate or decompress much. Before any array is
decompressed it checks that:
- the manifest member, at most MAX_MANIFEST_BYTES, is a JSON object with this format and
  version and a list of entries, each with a unique non-empty `name`, an allowed `dtype`
  name and a `shape` of at most 32 non-negative ints;
- the archive holds exactly one `<name>.npy` member per entry plus the manifest, each stored
  or deflated, none encrypted;
- the entries' declared sizes (prod(shape) * itemsize) total at most `max_bytes`
  (MAX_LOAD_BYTES unless given), and each member's uncompressed size in the zip directory is
  its declared size plus room for an .npy header.
Each member's .npy header must then give its entry's dtype and shape (object dtypes never
pass) and account for its exact size; exactly the declared bytes are read, in bounded chunks.
Big-endian data is converted to native byte order and Fortran-ordered data to C order, so
every loaded array is native and C-contiguous. Any refusal is a ValueError that names the
file; nothing in the file is ever executed.
"""
from __future__ import annotations

import json
import math
import os
import reprlib
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from . import backend, safetensors_format
from .files import atomic_write
from .tensor import Tensor

FORMAT = "minitorch_pairs.state_dict"
VERSION = 1
_MANIFEST = "__manifest__"
_ALLOWED_DTYPES = {"float32", "float64", "int64", "bool"}

MAX_LOAD_BYTES = 2 * 2 ** 30  # default `max_bytes` of `load`: total array data accepted
MAX_MANIFEST_BYTES = 4 * 2 ** 20  # JSON text; far more than any state dict's manifest needs
_HEADER_ALLOWANCE = 16 * 2 ** 10  # an .npy header (magic, length, dict) is shorter than this
_MAX_DIMS = 32  # numpy 1.x's limit, so a file loads under either numpy
_CHUNK = 2 ** 20
_KEYS = {"format", "version", "entries"}
_ENTRY_KEYS = {"name", "dtype", "shape"}
_short = reprlib.Repr()  # values from the file, cut short in messages
_short.maxstring, _short.maxlist, _short.maxother = 80, 10, 80


def _as_array(name: str, value) -> np.ndarray:
    if isinstance(value, Tensor):
        return backend.transfer(value._data, "cpu")  # a device tensor is copied to the host
    if isinstance(value, (dict, list, tuple)):
        raise TypeError(f"save: entry {name!r} is a {type(value).__name__}; the .npz format "
                        "holds only flat tensors: save nested state (an optimizer's "
                        "state_dict()) to a path ending in .safetensors")
    array = np.asarray(value)
    if array.dtype.name not in _ALLOWED_DTYPES:
        raise TypeError(f"save: entry {name!r} has dtype {array.dtype}; expected one of "
                        f"{sorted(_ALLOWED_DTYPES)}")
    return array


def save(state_dict, path) -> None:
    """Write a mapping of name -> Tensor/array to `path`, atomically: in the safetensors
    format when `path` ends in .safetensors (nested state too, e.g. an optimizer's
    state_dict()), else as .npz (flat only)."""
    if os.fspath(path).endswith(safetensors_format.SUFFIX):
        safetensors_format.save(state_dict, path)
        return
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


class _Refused(ValueError):
    """A refusal whose message already names the file."""


_PICKLE_ADVICE = ("minitorch_pairs never unpickles (a pickle can run code); where you trust "
                  "the file, convert it with torch: safetensors.torch.save_file(torch.load(p, "
                  "weights_only=True), 'x.safetensors'), then mt.load('x.safetensors')")


def load(path, *, max_bytes: int | None = None):
    """Read a file written by `save`, or a safetensors file (safetensors.torch.save_file,
    safetensors.numpy.save_file); refuse anything else with a ValueError naming the file.

    Returns an OrderedDict of tensors in the file's order, or the nested state `save` wrote
    to a .safetensors file. `max_bytes` caps the total array data the file may declare
    (default MAX_LOAD_BYTES, 2 GiB); arrays come back in native byte order and C order
    whatever the file holds."""
    path = os.fspath(path)
    limit = MAX_LOAD_BYTES if max_bytes is None else max_bytes
    try:
        with open(path, "rb") as file:
            start = file.read(9)
            if start[:2] == b"PK":
                with zipfile.ZipFile(file) as archive:
                    return _read(archive, path, limit)
            pickle = start[:1] == b"\x80" and start[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
            if start[8:9] == b"{" or (path.endswith(safetensors_format.SUFFIX) and not pickle):
                file.seek(0)
                return safetensors_format.load(file, path, limit)
            if pickle:  # protocol 2 to 5, as torch.save's legacy format writes
                raise _Refused(f"load: {path} is a pickle (torch.save's format); "
                               f"{_PICKLE_ADVICE}")
            raise _Refused(f"load: {path} is not a readable state-dict file (neither an .npz "
                           "written by minitorch_pairs.save nor a safetensors file)")
    except FileNotFoundError:
        raise
    except (_Refused, safetensors_format.Refused) as error:
        raise ValueError(str(error)) from None
    # what zipfile raises on a damaged archive (ValueError: e.g. a name that is not UTF-8)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError,
            ValueError) as error:
        raise ValueError(f"load: {path} is not a readable state-dict file ({error})") from None


def _read(archive: zipfile.ZipFile, path: str, limit: int) -> "OrderedDict[str, Tensor]":
    infos = archive.infolist()
    members = {info.filename: info for info in infos}
    if len(members) != len(infos):  # a zip may repeat a name; which copy is read is unclear
        raise _Refused(f"load: {path} holds a member more than once")
    if any(name.endswith(".pkl") for name in members):  # torch.save's zip: <name>/data.pkl
        raise _Refused(f"load: {path} is a torch.save archive (it holds a pickle); "
                       f"{_PICKLE_ADVICE}")
    for info in infos:
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                              zipfile.ZIP_DEFLATED):
            raise _Refused(f"load: {path} stores {_short.repr(info.filename)} encrypted or "
                           f"with an unsupported compression (method {info.compress_type})")
    manifest = members.pop(_MANIFEST + ".npy", None)
    if manifest is None:
        raise _Refused(f"load: {path} has no manifest; it was not written by "
                       "minitorch_pairs.save")
    entries = _read_manifest(archive, manifest, path)
    listed = [entry["name"] for entry in entries]
    if {name + ".npy" for name in listed} != set(members):
        raise _Refused(f"load: {path} lists entries {_short.repr(sorted(listed))} but holds "
                       f"members {_short.repr(sorted(members))}")
    total = sum(_nbytes(entry) for entry in entries)
    if total > limit:
        raise _Refused(f"load: {path} declares {total} bytes of array data, more than "
                       f"max_bytes={limit}")
    return OrderedDict((entry["name"], Tensor._from_array(
        _read_entry(archive, members[entry["name"] + ".npy"], entry, path)))
        for entry in entries)


def _nbytes(entry: dict) -> int:
    return math.prod(entry["shape"]) * np.dtype(entry["dtype"]).itemsize


def _read_manifest(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str) -> list:
    too_large = _Refused(f"load: {path} has a manifest larger than {MAX_MANIFEST_BYTES} bytes")
    if info.file_size > MAX_MANIFEST_BYTES + _HEADER_ALLOWANCE:
        raise too_large
    with archive.open(info) as member:
        dtype, shape, _, _ = _read_header(member, path, "manifest")
        if dtype != np.uint8 or len(shape) != 1:
            raise _Refused(f"load: {path} has a corrupt manifest (not a byte string)")
        if shape[0] > MAX_MANIFEST_BYTES:
            raise too_large
        text = _read_exactly(member, np.empty(shape, np.uint8), path, "the manifest").tobytes()
    try:
        manifest = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # RecursionError: deeply nested JSON
        raise _Refused(f"load: {path} has a corrupt manifest ({error})") from None
    problem = _manifest_problem(manifest)
    if problem:
        raise _Refused(f"load: {path} has {problem}")
    return manifest["entries"]


def _manifest_problem(manifest) -> str | None:
    """What is wrong with a parsed manifest, or None; values are shown cut short."""
    if not isinstance(manifest, dict):
        return "a corrupt manifest (not a JSON object)"
    form, version = manifest.get("format"), manifest.get("version")
    if form != FORMAT or type(version) is not int or version != VERSION:
        return (f"a manifest of format {_short.repr(form)} version {_short.repr(version)}; "
                f"expected {FORMAT!r} version {VERSION}")
    if set(manifest) != _KEYS or not isinstance(manifest["entries"], list):
        return f"a corrupt manifest (expected keys {sorted(_KEYS)}, entries a list)"
    seen = set()
    for index, entry in enumerate(manifest["entries"]):
        if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
            return (f"a corrupt manifest (entry {index} is not an object with keys "
                    f"{sorted(_ENTRY_KEYS)})")
        name, dtype, shape = entry["name"], entry["dtype"], entry["shape"]
        if not isinstance(name, str) or not name or name == _MANIFEST or name in seen:
            return (f"a corrupt manifest (entry {index}: invalid or repeated name "
                    f"{_short.repr(name)})")
        seen.add(name)
        if not isinstance(dtype, str) or dtype not in _ALLOWED_DTYPES:
            return (f"a corrupt manifest (entry {name!r}: dtype {_short.repr(dtype)}, expected "
                    f"one of {sorted(_ALLOWED_DTYPES)})")
        if not isinstance(shape, list) or len(shape) > _MAX_DIMS or not all(
                type(size) is int and size >= 0 for size in shape):  # bool is not a size
            return f"a corrupt manifest (entry {name!r}: invalid shape {_short.repr(shape)})"
    return None


class _Bounded:
    """Reads from `stream`, but refuses to go past `limit` bytes in all."""

    def __init__(self, stream, limit: int):
        self.stream, self.left = stream, limit

    def read(self, size: int) -> bytes:
        if size > self.left:
            raise ValueError("the .npy header is too long")
        data = self.stream.read(size)
        self.left -= len(data)
        return data


def _read_header(member, path: str, what: str):
    """(dtype, shape, fortran_order, header length) of the .npy stream `member`."""
    header = _Bounded(member, _HEADER_ALLOWANCE)
    try:
        version = np.lib.format.read_magic(header)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(header)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(header)
        else:
            raise ValueError(f".npy version {version} is not supported")
    except (ValueError, TypeError, SyntaxError, RecursionError) as error:
        raise _Refused(f"load: {path} has a corrupt {what} ({str(error)[:200]})") from None
    return dtype, shape, fortran, _HEADER_ALLOWANCE - header.left


def _read_exactly(member, array: np.ndarray, path: str, what: str) -> np.ndarray:
    """Fill `array`'s memory from `member` in bounded reads, or refuse a short member."""
    buffer, done = array.reshape(-1, order="A").view(np.uint8), 0  # a view: no copy
    while done < buffer.size:
        chunk = member.read(min(_CHUNK, buffer.size - done))
        if not chunk:
            raise _Refused(f"load: {path} holds {what} cut short ({done} of {buffer.size} "
                           "bytes)")
        buffer[done:done + len(chunk)] = np.frombuffer(chunk, np.uint8)
        done += len(chunk)
    return array


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, entry: dict,
                path: str) -> np.ndarray:
    name, shape, nbytes = entry["name"], tuple(entry["shape"]), _nbytes(entry)
    wrong_size = _Refused(f"load: {path} stores entry {name!r} in {info.file_size} bytes; the "
                          f"manifest says {entry['dtype']} {entry['shape']}, {nbytes} bytes "
                          "of data")
    if not 0 <= info.file_size - nbytes <= _HEADER_ALLOWANCE:  # from the zip directory
        raise wrong_size
    with archive.open(info) as member:
        dtype, held_shape, fortran, header = _read_header(member, path, f"entry {name!r}")
        if dtype.name != entry["dtype"] or held_shape != shape:  # object dtypes end here
            raise _Refused(f"load: {path} holds entry {name!r} as {dtype.name} "
                           f"{list(held_shape)}, the manifest says {entry['dtype']} "
                           f"{entry['shape']}")
        if info.file_size != header + nbytes:
            raise wrong_size
        array = np.empty(shape, dtype, order="F" if fortran else "C")
        _read_exactly(member, array, path, f"entry {name!r}")
    # native byte order and C order, as the kernels expect; a copy only where either differs
    return np.asarray(array, dtype=np.dtype(entry["dtype"]), order="C")
