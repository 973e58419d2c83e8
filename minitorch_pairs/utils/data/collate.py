"""torch's rules for turning a list of samples into a batch (`default_collate`) and one
sample's NumPy values into tensors (`default_convert`), so a training loop written for torch
receives the same structure here: tensors stacked along a new first dim, NumPy arrays and
scalars as tensors of their dtype, Python floats float64, ints int64, bools bool, strings
left as a list, mappings and namedtuples kept, other sequences (tuples too) as lists.

The rules live in `default_collate_fn_map`, a type -> function table searched first by the
exact type, then by isinstance in insertion order, as torch's; `collate` takes a table of
one's own to extend them."""
from __future__ import annotations

import collections.abc
import copy
import re

import numpy as np

from ... import dtypes
from ...ops.shape_ops import stack
from ...tensor import Tensor

# NumPy dtypes that hold no numbers: bytes, str, void ("a" is the old bytes code), objects
_NOT_NUMBERS = re.compile(r"[SaUO]")

_UNSUPPORTED = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                "lists; found {}")


def default_convert(data):
    """One sample's NumPy arrays and scalars as tensors, inside any mapping or sequence;
    anything else unchanged (the DataLoader's collate_fn when batch_size=None)."""
    data_type = type(data)
    if isinstance(data, Tensor):
        return data
    if data_type.__module__ == "numpy" and data_type.__name__ not in ("str_", "string_"):
        if isinstance(data, np.ndarray) and _NOT_NUMBERS.search(data.dtype.str):
            return data
        return Tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(data[key]) for key in data}
        return _same_mapping(data, converted)
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return data_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # torch gives lists for tuples
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_sequence(data, [default_convert(d) for d in data])
    return data


def _same_mapping(like, values: dict):
    """`values` in `like`'s mapping type where it can be made, else a dict (torch's rule)."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _same_sequence(like, values: list):
    """`values` in `like`'s sequence type where it can be made, else a list (torch's rule)."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, value in enumerate(values):
                clone[i] = value
            return clone
        return type(like)(values)
    except TypeError:
        return values


def collate(batch, *, collate_fn_map: dict | None = None):
    """Collate `batch` (a sequence of samples of one structure): an element type found in
    `collate_fn_map` uses its function; mappings, namedtuples and sequences are collated
    field by field; anything else is a TypeError."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                    for key in elem}
        return _same_mapping(elem, collated)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map)
                           for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        # each field's samples stay a tuple, so its strings come back as a tuple (torch's)
        fields = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        return fields if isinstance(elem, tuple) else _same_sequence(elem, fields)
    raise TypeError(_UNSUPPORTED.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None) -> Tensor:
    """Stack along a new first dim (mixed dtypes promoted as torch.stack does); unequal
    shapes are torch's RuntimeError, with its message."""
    shape = batch[0].shape
    for i, tensor in enumerate(batch):
        if tensor.shape != shape:
            raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, "
                               f"but got {list(shape)} at entry 0 and {list(tensor.shape)} at "
                               f"entry {i}")
    return stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None) -> Tensor:
    elem = batch[0]
    if _NOT_NUMBERS.search(elem.dtype.str):
        raise TypeError(_UNSUPPORTED.format(elem.dtype))
    return collate([Tensor(np.asarray(b)) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None) -> Tensor:
    """One tensor of the scalars' dtypes promoted by torch's rules (float32 with int64 is
    float32, not NumPy's float64)."""
    dtype = np.asarray(batch[0]).dtype
    for scalar in batch[1:]:
        dtype = dtypes.promote_types(dtype, np.asarray(scalar).dtype)
    return Tensor(np.array(batch, dtype=dtype))


def collate_float_fn(batch, *, collate_fn_map=None) -> Tensor:
    return Tensor(batch, dtype=dtypes.float64)


def collate_int_fn(batch, *, collate_fn_map=None) -> Tensor:
    """int64 (bool where every value is a bool; the default float if a float is mixed in,
    as torch.tensor infers; an int beyond int64 is its ValueError)."""
    return Tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None) -> list:
    return batch


default_collate_fn_map: dict = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """A list of samples as one batch, by torch's rules (see the module docstring): the
    DataLoader's collate_fn when it batches."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
