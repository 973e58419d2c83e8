"""mt.save / mt.load in the safetensors format, checked against the reference reader and
writer (the safetensors package) and torch: checkpoints cross in both directions, nested
optimizer state round-trips bit-identically, and damaged or foreign files are refused."""
from __future__ import annotations

import json
import math
import os
import pickle
import struct
import tracemalloc
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_pairs as mt
from minitorch_pairs import safetensors_format
from torch_reference import torch
from twins import make_twins

safetensors_torch = pytest.importorskip("safetensors.torch")
safetensors_numpy = pytest.importorskip("safetensors.numpy")

TORCH_OF = {np.dtype(n): getattr(torch, t) for n, t in [
    ("float64", "float64"), ("float32", "float32"), ("float16", "float16"),
    ("int64", "int64"), ("int32", "int32"), ("int16", "int16"), ("int8", "int8"),
    ("uint8", "uint8"), ("bool", "bool")]}
DTYPES = list(TORCH_OF)
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def cnn(nn):
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Flatten(), nn.Linear(4 * 5 * 5, 3))


def values_of(array_dtype, shape, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if array_dtype == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)  # (a 0-d comparison gives a scalar)
    if array_dtype.kind == "f":
        return rng.standard_normal(shape).astype(array_dtype)
    info = np.iinfo(array_dtype)
    return rng.integers(info.min, info.max, shape, dtype=array_dtype, endpoint=True)


def header_of(path):
    data = open(path, "rb").read()
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + length]), data[8 + length:]


def file_order(path) -> list:
    """The header's names, in its order (the file order mt.load keeps)."""
    return [name for name in header_of(path)[0] if name != "__metadata__"]


def reference_order(path) -> list:
    """safetensors' order (by offset) of the non-empty tensors: empty ones share an offset,
    and the reference orders those at random."""
    return [name for name, t in safetensors_numpy.load_file(str(path)).items() if t.size]


def write_raw(path, header, data=b"", length=None):
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text) if length is None else length) + text + data)


# ----- checkpoints cross between torch and us ----------------------------------------------

def test_our_cnn_checkpoint_loads_strictly_into_the_torch_twin(tmp_path):
    ours, _ = make_twins(cnn)
    for _ in range(2):  # training steps move BatchNorm's running stats and its counter
        ours(mt.randn(3, 2, 5, 5))
    path = tmp_path / "cnn.safetensors"
    mt.save(ours.state_dict(), path)
    loaded = safetensors_torch.load_file(str(path))
    fresh = cnn(torch.nn)
    fresh.load_state_dict(loaded, strict=True)
    theirs = fresh.state_dict()
    assert set(loaded) == set(theirs) == set(ours.state_dict())
    for name, value in ours.state_dict().items():
        assert theirs[name].dtype == TORCH_OF[value.dtype], name
        assert tuple(theirs[name].shape) == value.shape, name
        np.testing.assert_array_equal(theirs[name].numpy(), value.data, err_msg=name)
    assert theirs["1.num_batches_tracked"].item() == 2
    x = np.random.default_rng(1).standard_normal((2, 2, 5, 5)).astype(np.float32)
    ours.eval(), fresh.eval()
    np.testing.assert_allclose(fresh(torch.from_numpy(x)).detach().numpy(),
                               ours(mt.tensor(x)).data, rtol=1e-5, atol=1e-6)


def test_a_torch_cnn_checkpoint_loads_strictly_into_our_twin(tmp_path):
    torch.manual_seed(0)
    theirs = cnn(torch.nn)
    with torch.no_grad():
        for _ in range(3):
            theirs(torch.randn(4, 2, 5, 5))
    path = tmp_path / "torch.safetensors"
    safetensors_torch.save_file(theirs.state_dict(), str(path))
    state = mt.load(path)
    assert isinstance(state, OrderedDict)
    assert list(state) == file_order(path) == reference_order(path)
    ours, direct = cnn(mt.nn), cnn(mt.nn)
    ours.load_state_dict(state, strict=True)
    direct.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert ours.state_dict()["1.num_batches_tracked"].item() == 3
    x = np.random.default_rng(2).standard_normal((2, 2, 5, 5)).astype(np.float32)
    ours.eval(), direct.eval(), theirs.eval()
    ours_out = ours(mt.tensor(x)).data
    np.testing.assert_array_equal(ours_out, direct(mt.tensor(x)).data)  # identical weights
    np.testing.assert_allclose(ours_out, theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


shapes = st.lists(st.integers(0, 3), max_size=3).map(tuple)


@FAST
@given(entries=st.dictionaries(st.text(min_size=1, max_size=6).filter(
    lambda s: s != "__metadata__"), st.tuples(st.sampled_from(DTYPES), shapes), max_size=5),
    writer=st.sampled_from(["torch", "numpy"]))
def test_reference_files_of_every_dtype_load_exactly(tmp_path, entries, writer):
    arrays = {name: values_of(dtype, shape, i)
              for i, (name, (dtype, shape)) in enumerate(entries.items())}
    path = str(tmp_path / "reference.safetensors")
    if writer == "torch":
        safetensors_torch.save_file({k: torch.from_numpy(v) for k, v in arrays.items()}, path)
    else:
        safetensors_numpy.save_file(arrays, path)
    loaded = mt.load(path)
    assert list(loaded) == file_order(path)
    assert [name for name in loaded if loaded[name].numel()] == reference_order(path)
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        np.testing.assert_array_equal(loaded[name].data, array)


@FAST
@given(entries=st.lists(st.tuples(st.sampled_from(DTYPES), shapes), max_size=6))
def test_our_files_of_every_dtype_load_exactly_in_the_reference(tmp_path, entries):
    state = OrderedDict((f"t{i}", mt.tensor(values_of(dtype, shape, i)))
                        for i, (dtype, shape) in enumerate(entries))
    path = str(tmp_path / "ours.safetensors")
    mt.save(state, path)
    theirs, arrays = safetensors_torch.load_file(path), safetensors_numpy.load_file(path)
    loaded = mt.load(path)
    assert list(loaded) == file_order(path)
    assert [name for name in loaded if loaded[name].numel()] == reference_order(path)
    header, _ = header_of(path)
    assert header["__metadata__"] == {"format": "pt"}
    for name, value in state.items():
        assert theirs[name].dtype == TORCH_OF[value.dtype]
        assert tuple(theirs[name].shape) == value.shape
        np.testing.assert_array_equal(theirs[name].numpy(), value.data)
        np.testing.assert_array_equal(arrays[name], value.data)
        assert arrays[name].dtype == value.dtype


def test_tensors_are_laid_out_aligned_and_listed_in_file_order(tmp_path):
    state = OrderedDict([("a", mt.ones(3, dtype=mt.uint8)), ("b", mt.ones(2, dtype=mt.float64)),
                         ("c", mt.ones(1, dtype=mt.float16)), ("d", mt.ones(2))])
    path = tmp_path / "order.safetensors"
    mt.save(state, path)
    header, _ = header_of(path)
    length = struct.unpack("<Q", path.read_bytes()[:8])[0]
    assert length % 8 == 0
    names = [k for k in header if k != "__metadata__"]
    assert names == ["b", "d", "c", "a"]  # largest elements first, else the caller's order
    for name in names:
        begin = header[name]["data_offsets"][0]
        assert begin % np.dtype(state[name].dtype).itemsize == 0, name
    assert list(mt.load(path)) == names


def test_device_and_non_contiguous_tensors_are_written_by_value(tmp_path):
    base = mt.tensor(np.arange(12.0).reshape(3, 4))
    path = tmp_path / "views.safetensors"
    mt.save({"t": base.transpose(0, 1), "s": base[:, 1]}, path)
    loaded = safetensors_numpy.load_file(str(path))
    np.testing.assert_array_equal(loaded["t"], np.arange(12.0).reshape(3, 4).T)
    np.testing.assert_array_equal(loaded["s"], [1.0, 5.0, 9.0])


# ----- nested state: optimizers ---------------------------------------------------------------

def train(model, optimizer, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = mt.tensor(rng.standard_normal((4, 2, 5, 5)).astype(np.float32))
        y = mt.tensor(rng.integers(0, 3, 4))
        loss = mt.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


@pytest.mark.parametrize("make", [
    lambda p: mt.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda p: mt.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), amsgrad=True),
], ids=["sgd-momentum", "adam"])
def test_optimizer_state_round_trips_and_training_continues_bit_identically(tmp_path, make):
    mt.manual_seed(0)
    model = cnn(mt.nn)
    optimizer = make(model.parameters())
    train(model, optimizer, 3, seed=1)
    mt.save(model.state_dict(), tmp_path / "model.safetensors")
    mt.save(optimizer.state_dict(), tmp_path / "optimizer.safetensors")
    train(model, optimizer, 2, seed=2)

    mt.manual_seed(5)  # other initial weights: everything must come from the files
    resumed = cnn(mt.nn)
    resumed.load_state_dict(mt.load(tmp_path / "model.safetensors"), strict=True)
    resumed_optimizer = make(resumed.parameters())
    state = mt.load(tmp_path / "optimizer.safetensors")
    assert state["param_groups"] == optimizer.state_dict()["param_groups"]  # betas a tuple
    resumed_optimizer.load_state_dict(state)
    train(resumed, resumed_optimizer, 2, seed=2)
    for (name, ours), theirs in zip(model.state_dict().items(),
                                    resumed.state_dict().values()):
        np.testing.assert_array_equal(theirs.data, ours.data, err_msg=name)
    for index, values in optimizer.state_dict()["state"].items():
        for key, value in values.items():
            again = resumed_optimizer.state_dict()["state"][index][key]
            assert again.dtype == value.dtype and again.shape == value.shape
            np.testing.assert_array_equal(again.data, value.data)


def test_nested_state_uses_flat_tensor_names_and_json_structure(tmp_path):
    model = mt.nn.Linear(3, 2)
    optimizer = mt.optim.Adam(model.parameters())
    model(mt.randn(4, 3)).sum().backward()
    optimizer.step()
    path = str(tmp_path / "adam.safetensors")
    mt.save(optimizer.state_dict(), path)
    tensors = safetensors_torch.load_file(path)  # torch reads the tensors of a nested file
    assert sorted(tensors) == sorted(f"state.{i}.{k}" for i in (0, 1)
                                     for k in ("step", "exp_avg", "exp_avg_sq"))
    assert tensors["state.0.step"].shape == () and tensors["state.0.step"].item() == 1
    header, _ = header_of(path)
    structure = json.loads(header["__metadata__"][safetensors_format.STRUCTURE_KEY])
    assert structure["version"] == 1
    state, groups = structure["tree"]["dict"]
    assert state[0] == "state" and state[1]["dict"][0][0] == 0  # int keys stay ints
    assert groups[0] == "param_groups"
    assert {"tensor": "state.1.exp_avg"} in [v for _, v in state[1]["dict"][1][1]["dict"]]


PLAIN = {"none": None, "flag": True, "count": 3, "big": 2 ** 70, "neg": -0.0, "x": 0.1,
         "nan": math.nan, "inf": -math.inf, "text": "é\u2603", "tuple": (1, (2.5, "a")),
         "list": [], "keys": {0: "zero", "0": "string zero", -7: None}, "empty": {}}


def test_python_values_keep_their_types_through_a_round_trip(tmp_path):
    path = tmp_path / "plain.safetensors"
    state = {**PLAIN, "nested": {"t": mt.arange(3), "deeper": [mt.ones(2, 2), {"u": None}]}}
    mt.save(state, path)
    loaded = mt.load(path)
    assert type(loaded) is OrderedDict and list(loaded) == list(state)
    for key, value in PLAIN.items():
        assert repr(loaded[key]) == repr(value), key
    assert type(loaded["tuple"][1]) is tuple and type(loaded["big"]) is int
    assert math.copysign(1, loaded["neg"]) == -1
    np.testing.assert_array_equal(loaded["nested"]["t"].data, np.arange(3))
    np.testing.assert_array_equal(loaded["nested"]["deeper"][0].data, np.ones((2, 2)))
    assert loaded["nested"]["deeper"][1] == {"u": None}


leaves = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
          | st.sampled_from(DTYPES).map(lambda d: mt.tensor(values_of(d, (2,)))))
trees = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3)
                     | st.lists(inner, max_size=3).map(tuple)
                     | st.dictionaries(st.integers(0, 5) | st.text("ab", min_size=1,
                                                                   max_size=2), inner,
                                       max_size=3), max_leaves=10)


def same(a, b) -> bool:
    if isinstance(a, mt.Tensor):
        return (isinstance(b, mt.Tensor) and a.dtype == b.dtype and a.shape == b.shape
                and np.array_equal(a.data, b.data))
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and (a == b or (a != a and b != b))


@FAST
@given(state=st.dictionaries(st.text("xy.", min_size=1, max_size=3), trees, max_size=4))
def test_any_nested_state_round_trips_or_is_refused_for_clashing_names(tmp_path, state):
    path = tmp_path / "tree.safetensors"
    try:
        mt.save(state, path)
    except ValueError as error:  # two tensors whose dotted paths coincide, e.g. 'x.0' twice
        assert "repeated entry name" in str(error) or "invalid" in str(error)
        return
    assert same(state, mt.load(path))


# ----- what save refuses ----------------------------------------------------------------------

@pytest.mark.parametrize("state,error,pattern", [
    ([mt.ones(1)], TypeError, "expected a mapping"),
    ({"x": np.ones(2, complex)}, TypeError, "entry 'x' has dtype complex128"),
    ({"a": {"b": object()}}, TypeError, "a.b is a object"),
    ({"a": {1.5: mt.ones(1)}}, TypeError, "key 1.5 of type float"),
    ({"a": np.float32(1), "b": {"c": np.int64}}, TypeError, "b.c is a type"),
    ({"a.b": mt.ones(1), "a": {"b": mt.ones(1)}}, ValueError, "repeated entry name 'a.b'"),
    ({"__metadata__": mt.ones(1)}, ValueError, "invalid or repeated entry name"),
    ({"": mt.ones(1)}, ValueError, "invalid or repeated entry name ''"),
    ({"\ud800": mt.ones(1)}, ValueError, "not valid UTF-8"),
])
def test_bad_state_is_refused_before_anything_is_written(tmp_path, state, error, pattern):
    with pytest.raises(error, match=pattern):
        mt.save(state, tmp_path / "bad.safetensors")
    assert os.listdir(tmp_path) == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "state.safetensors"
    mt.save({"a": mt.ones(2)}, path)
    before = path.read_bytes()

    def full_disk(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="disk full"):
        mt.save({"b": mt.zeros(3)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["state.safetensors"]


def test_other_suffixes_still_write_npz_which_refuses_nested_state(tmp_path):
    mt.save({"a": mt.ones(2)}, tmp_path / "state.npz")
    assert (tmp_path / "state.npz").read_bytes()[:2] == b"PK"
    with pytest.raises(TypeError, match="path ending in .safetensors"):
        mt.save({"state": {0: {"x": mt.ones(1)}}}, tmp_path / "nested.npz")
    renamed = tmp_path / "state.bin"  # load goes by content, not by name
    mt.save({"a": mt.ones(2)}, tmp_path / "s.safetensors")
    os.replace(tmp_path / "s.safetensors", renamed)
    np.testing.assert_array_equal(mt.load(renamed)["a"].data, np.ones(2, np.float32))


# ----- what load refuses ----------------------------------------------------------------------

class Trap:
    """Unpickling this would create the file `marker`."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("how", ["zip", "legacy", "raw", "raw-named-safetensors"])
def test_pickles_are_refused_with_how_to_convert_them_and_never_run(tmp_path, how):
    marker = tmp_path / "ran"
    path = tmp_path / ("x.safetensors" if how == "raw-named-safetensors" else "x.pt")
    if how == "zip":
        torch.save({"w": torch.ones(2), "trap": Trap(marker)}, path)
    elif how == "legacy":
        torch.save({"w": torch.ones(2), "trap": Trap(marker)}, path,
                   _use_new_zipfile_serialization=False)
    else:
        path.write_bytes(pickle.dumps({"trap": Trap(marker)}, protocol=4))
    with pytest.raises(ValueError, match=f"load: {path} is a (torch.save archive|pickle).*"
                                         r"safetensors.torch.save_file\(torch.load"):
        mt.load(path)
    assert not marker.exists()


def test_bfloat16_is_refused_naming_the_entry_and_the_way_out(tmp_path):
    path = tmp_path / "bf16.safetensors"
    safetensors_torch.save_file({"w": torch.ones(2, dtype=torch.bfloat16)}, str(path))
    with pytest.raises(ValueError, match=f"load: {path} holds 'w' as BF16 .*v.float()"):
        mt.load(path)


ENTRY = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


@pytest.mark.parametrize("header,data,pattern", [
    ({"a": {**ENTRY, "dtype": "U16"}}, bytes(8), "'a' with dtype 'U16', which minitorch_pairs "
                                                 "cannot hold"),
    ({"a": {**ENTRY, "dtype": 3}}, bytes(8), "dtype 3"),
    ({"a": {**ENTRY, "shape": [-2]}}, bytes(8), r"entry 'a' \(shape \[-2\]\)"),
    ({"a": {**ENTRY, "shape": [True, 2]}}, bytes(8), "shape"),
    ({"a": {**ENTRY, "shape": [0, 2 ** 62, 2]}}, b"", "shape"),
    ({"a": {**ENTRY, "data_offsets": [0, 12]}}, bytes(12), "span 12 bytes; F32 \\[2\\] needs 8"),
    ({"a": {**ENTRY, "data_offsets": [8, 0]}}, bytes(8), "data_offsets"),
    ({"a": {**ENTRY, "extra": 1}}, bytes(8), "expected an object with keys"),
    ({"a": [1]}, bytes(8), "expected an object with keys"),
    ({"a": ENTRY, "b": {**ENTRY, "data_offsets": [4, 12]}}, bytes(12),
     "overlapping offsets: 'b' starts at 4, inside 'a'"),
    ({"a": {**ENTRY, "data_offsets": [4, 12]}}, bytes(12), "hole in its data: 4 bytes"),
    ({"a": ENTRY}, bytes(4), "truncated: its tensors need 8 bytes of data, the file holds 4"),
    ({"a": ENTRY}, bytes(9), "1 bytes after its last tensor"),
    ({"__metadata__": {"k": 1}, "a": ENTRY}, bytes(8), "__metadata__ must map strings"),
    ({"__metadata__": [], "a": ENTRY}, bytes(8), "__metadata__ must map strings"),
    ({"a": {**ENTRY, "dtype": "BOOL", "data_offsets": [0, 2]}}, b"\x01\x02",
     "bytes other than 0 and 1"),
    (b'{"a": 1, "a": 2}', b"", "bad header .*repeated key"),
    (b'{"a": NaN}', b"", "bad header .*NaN is not strict JSON"),
    (b'[1]', b"", "bad header .*begin with"),
    (b'{"a": ', b"", "bad header"),
    (b'{' * 100000, b"", "bad header"),
    (b'{"\xff": 1}', b"", "bad header"),
])
def test_a_malformed_file_is_refused_naming_the_file(tmp_path, header, data, pattern):
    path = tmp_path / "bad.safetensors"
    write_raw(path, header, data)
    with pytest.raises(ValueError, match=f"load: {path} .*{pattern}"):
        mt.load(path)


def structured(tree, tensors=(("t", b"\0" * 4),), version=1):
    header, offset = {}, 0
    for name, raw in tensors:
        header[name] = {"dtype": "F32", "shape": [len(raw) // 4],
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    text = json.dumps({"version": version, "tree": tree}).replace("1e+300", "1e999")
    header["__metadata__"] = {safetensors_format.STRUCTURE_KEY: text}
    return header, b"".join(raw for _, raw in tensors)


@pytest.mark.parametrize("tree,version,pattern", [
    ({"dict": [["a", {"tensor": "t"}]]}, 2, "version 2"),
    ({"dict": [["a", 1]]}, 1, r"tensors \['t'\] are not in it"),
    ({"dict": [["a", {"tensor": "t"}], ["b", {"tensor": "t"}]]}, 1, "unexpected node"),
    ({"dict": [["a", {"tensor": "missing"}]]}, 1, "unexpected node"),
    ({"dict": [["a", {"tensor": ["t"]}]]}, 1, "unexpected node"),
    ({"dict": [["a", {"tensor": "t"}], ["a", 1]]}, 1, "repeats a key"),
    ({"dict": [[1.5, {"tensor": "t"}]]}, 1, "unexpected node"),
    ({"list": [{"tensor": "t"}]}, 1, "root is not a dict"),
    ({"dict": [["a", {"tensor": "t"}], ["b", {"float": "1e9"}]]}, 1, "unexpected node"),
    ({"dict": [["a", {"tensor": "t"}], ["b", {"set": []}]]}, 1, "unexpected node"),
    ({"dict": [["a", {"tensor": "t"}], ["b", {"list": [], "tuple": []}]]}, 1,
     "unexpected node"),
    ({"dict": [["a", {"tensor": "t"}], ["d", {"list": [[]] * 1}]]}, 1, "unexpected node"),
    ({"dict": [["a", {"tensor": "t"}], ["d", math.inf]]}, 1, "Infinity is not strict JSON"),
    ({"dict": [["a", {"tensor": "t"}], ["d", 1e300]]}, 1, "unexpected node"),  # as 1e999
])
def test_a_malformed_structure_is_refused(tmp_path, tree, version, pattern):
    path = tmp_path / "bad.safetensors"
    write_raw(path, *structured(tree, version=version))
    key = safetensors_format.STRUCTURE_KEY
    with pytest.raises(ValueError, match=f"load: {path} has a bad {key} .*{pattern}"):
        mt.load(path)


def test_a_deeply_nested_structure_is_refused(tmp_path):
    tree = {"tensor": "t"}
    for _ in range(200):
        tree = {"list": [tree]}
    path = tmp_path / "deep.safetensors"
    write_raw(path, *structured({"dict": [["a", tree]]}))
    with pytest.raises(ValueError, match="nested deeper than 64"):
        mt.load(path)


def peak_bytes_of(call):
    tracemalloc.start()
    try:
        call()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_sizes_the_file_cannot_hold_are_refused_without_allocating(tmp_path, monkeypatch):
    path = tmp_path / "huge.safetensors"
    write_raw(path, {"a": ENTRY}, bytes(8), length=2 ** 40)  # the header length lies

    def load(pattern, **kwargs):
        with pytest.raises(ValueError, match=f"load: {path} .*{pattern}"):
            mt.load(path, **kwargs)

    assert peak_bytes_of(lambda: load("header that claims 1099511627776 bytes")) < 2 ** 20
    write_raw(path, {"a": {**ENTRY, "shape": [2 ** 40], "data_offsets": [0, 2 ** 42]}})
    assert peak_bytes_of(lambda: load("truncated: its tensors need 4398046511104")) < 2 ** 20
    write_raw(path, {"a": ENTRY}, bytes(8))
    assert list(mt.load(path, max_bytes=8)) == ["a"]
    load("declares 8 bytes of tensor data, more than max_bytes=7", max_bytes=7)
    monkeypatch.setattr(safetensors_format, "MAX_HEADER_BYTES", 16)
    load("at most 16 are read")


@FAST
@given(cut=st.integers(0, 10 ** 6))
def test_every_truncation_of_a_file_is_refused(tmp_path, cut):
    path = tmp_path / "state.safetensors"
    mt.save({"a": mt.ones(3), "b": {"c": mt.arange(4)}}, path)
    data = path.read_bytes()
    path.write_bytes(data[:cut % len(data)])
    with pytest.raises(ValueError, match=f"^load: {path} "):
        mt.load(path)


@FAST
@given(flips=st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255)), min_size=1,
                      max_size=4))
def test_corrupted_bytes_load_or_are_refused_with_value_error(tmp_path, flips):
    path = tmp_path / "state.safetensors"
    mt.save({"a": mt.ones(3), "b": {"c": mt.arange(4), "d": (1.5, None)}}, path)
    data = bytearray(path.read_bytes())
    for at, byte in flips:
        data[at % len(data)] = byte
    path.write_bytes(bytes(data))
    try:
        mt.load(path)
    except ValueError as error:
        assert str(error).startswith(f"load: {path} ")


def test_an_empty_state_and_empty_tensors_round_trip(tmp_path):
    path = tmp_path / "empty.safetensors"
    mt.save({}, path)
    assert mt.load(path) == OrderedDict() and safetensors_numpy.load_file(str(path)) == {}
    mt.save({"e": mt.zeros(0, 3), "f": mt.zeros(0, dtype=mt.int8), "s": mt.tensor(2.5)}, path)
    loaded = mt.load(path)
    assert loaded["e"].shape == (0, 3) and loaded["f"].dtype == mt.int8
    assert loaded["s"].shape == () and loaded["s"].item() == 2.5
