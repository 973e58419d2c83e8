"""mt.save / mt.load: a safe, validated, atomic state-dict format (npz + JSON manifest)."""
from __future__ import annotations

import io
import json
import os
import struct
import tracemalloc
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_pairs as mt
from minitorch_pairs import serialization
from minitorch_pairs.files import remove_temporaries

STATE = {
    "w32": mt.tensor(np.arange(6.0).reshape(2, 3), dtype=mt.float32),
    "w64": mt.tensor(np.linspace(0, 1, 4), dtype=mt.float64),
    "count": mt.tensor(np.array(7)),
    "mask": mt.tensor(np.array([True, False])),
    "scalar": mt.tensor(np.array(2.5, np.float32)),
}


def test_roundtrip_keeps_names_order_dtypes_shapes_and_values(tmp_path):
    path = tmp_path / "state.npz"
    mt.save(STATE, path)
    loaded = mt.load(path)
    assert list(loaded) == list(STATE)
    for name, value in STATE.items():
        assert loaded[name].dtype == value.dtype and loaded[name].shape == value.shape, name
        np.testing.assert_array_equal(loaded[name].data, value.data)


def test_the_file_is_a_plain_npz_without_pickles(tmp_path):
    path = tmp_path / "state.npz"
    mt.save(STATE, path)
    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == set(STATE) | {"__manifest__"}


def rewrite_manifest(path, change):
    with np.load(path, allow_pickle=False) as archive:
        contents = {k: archive[k] for k in archive.files}
    manifest = json.loads(contents["__manifest__"].tobytes())
    change(manifest)
    contents["__manifest__"] = np.frombuffer(json.dumps(manifest).encode(), np.uint8)
    np.savez(path, **contents)


@pytest.mark.parametrize("change,pattern", [
    (lambda m: m["entries"][0].update(dtype="float64"), "entry 'w32' .* the manifest says float64"),
    (lambda m: m["entries"][1].update(shape=[5]), "entry 'w64' .* the manifest says float64 \\[5\\]"),
    (lambda m: m["entries"][0].update(name="other"), "lists entries"),
    (lambda m: m.update(version=99), "version 99"),
    (lambda m: m.update(format="pickle"), "format 'pickle'"),
])
def test_a_tampered_manifest_is_refused(tmp_path, change, pattern):
    path = tmp_path / "state.npz"
    mt.save(STATE, path)
    rewrite_manifest(path, change)
    with pytest.raises(ValueError, match=pattern):
        mt.load(path)


def test_truncated_foreign_and_non_zip_files_are_refused(tmp_path):
    path = tmp_path / "state.npz"
    mt.save(STATE, path)
    data = path.read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable state-dict file"):
        mt.load(tmp_path / "truncated.npz")
    np.savez(tmp_path / "foreign.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="has no manifest"):
        mt.load(tmp_path / "foreign.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="not a readable state-dict file"):
        mt.load(tmp_path / "text.npz")
    with pytest.raises(FileNotFoundError):
        mt.load(tmp_path / "missing.npz")


def test_an_object_array_inside_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    mt.save(STATE, path)
    with zipfile.ZipFile(path, "a") as archive:  # smuggle in a pickled object array
        with archive.open("evil.npy", "w") as member:
            np.save(member, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        mt.load(path)


def test_a_failed_save_leaves_the_previous_file_and_no_temporaries(tmp_path, monkeypatch):
    path = tmp_path / "state.npz"
    mt.save(STATE, path)
    before = path.read_bytes()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(serialization.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        mt.save({"new": mt.ones(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["state.npz"]


def test_remove_temporaries_deletes_only_what_a_dead_writer_left_of_owned_targets(tmp_path):
    import subprocess
    import sys
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    dead = finished.pid
    (tmp_path / "runs").mkdir()
    left = [tmp_path / f".best.npz.{dead}-a1b2.tmp", tmp_path / f".runs.csv.{dead}-x_9.tmp"]
    kept = [tmp_path / "best.npz", tmp_path / ".hidden", tmp_path / ".tmp-draft.npz",
            tmp_path / f".notes.txt.{dead}-a1b2.tmp",  # a target the caller does not own
            tmp_path / f".best.npz.{os.getpid()}-a1b2.tmp",  # its writer is running
            tmp_path / "runs" / f".x.json.{dead}-a1b2.tmp"]  # a subfolder: not walked
    for path in left + kept:
        path.write_bytes(b"x")
    owns = {"best.npz", "runs.csv", "x.json"}.__contains__
    assert remove_temporaries(tmp_path, owns) == sorted(str(p) for p in left)
    assert all(p.exists() for p in kept) and not any(p.exists() for p in left)


def test_atomic_write_names_its_temporary_after_the_target_and_its_process(tmp_path):
    from minitorch_pairs.files import atomic_write, temporary_target
    with atomic_write(tmp_path / "state.npz", binary=True) as file:
        (name,) = [p.name for p in tmp_path.iterdir()]
        file.write(b"x")
    assert temporary_target(name) == ("state.npz", os.getpid())
    assert [p.name for p in tmp_path.iterdir()] == ["state.npz"]


def test_bad_entries_are_refused_before_writing(tmp_path):
    with pytest.raises(TypeError, match="entry 'x' has dtype complex128"):
        mt.save({"x": np.ones(2, complex)}, tmp_path / "a.npz")
    with pytest.raises(ValueError, match="invalid entry name"):
        mt.save({"": mt.ones(1)}, tmp_path / "a.npz")
    with pytest.raises(TypeError, match="expected a mapping"):
        mt.save([mt.ones(1)], tmp_path / "a.npz")
    assert os.listdir(tmp_path) == []


# ----- crafted archives: what `load` must refuse without trusting the file -------------------

def manifest_of(*entries):
    return {"format": serialization.FORMAT, "version": serialization.VERSION,
            "entries": [{"name": n, "dtype": d, "shape": list(s)} for n, d, s in entries]}


def write_archive(path, manifest, members=None, compression=zipfile.ZIP_STORED):
    """A zip holding `manifest` (a JSON value, or str/bytes written as is) as save writes it,
    and `members`: member name -> array (np.save'd) or raw bytes."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        if manifest is not None:
            text = manifest if isinstance(manifest, (str, bytes)) else json.dumps(manifest)
            raw = text.encode() if isinstance(text, str) else text
            with archive.open("__manifest__.npy", "w") as member:
                np.save(member, np.frombuffer(raw, np.uint8))
        for name, value in (members or {}).items():
            with archive.open(name, "w") as member:
                if isinstance(value, bytes):
                    member.write(value)
                else:
                    np.save(member, value)


def npy_header(descr, shape, fortran_order=False):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "shape": tuple(shape), "fortran_order": fortran_order})
    return buffer.getvalue()


def set_directory_size(path, member, size):
    """Make the zip's central directory claim `size` uncompressed bytes for `member`."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46: at + 46 + length] == member.encode():
            struct.pack_into("<I", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 1)
    path.write_bytes(bytes(data))


def peak_bytes_of(call):
    tracemalloc.start()
    try:
        call()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


FEW_MB = 4 * 2 ** 20


@pytest.mark.parametrize("max_bytes,pattern", [(None, "max_bytes=2147483648"),
                                               (10 ** 12, "entry 'big' in 128 bytes")])
def test_a_huge_declared_entry_is_refused_without_allocating_it(tmp_path, max_bytes, pattern):
    path = tmp_path / "huge.npz"
    write_archive(path, manifest_of(("big", "float32", [10 ** 10])),
                  {"big.npy": npy_header("<f4", [10 ** 10])})
    kwargs = {} if max_bytes is None else {"max_bytes": max_bytes}

    def load():
        with pytest.raises(ValueError, match=f"load: {path} .*{pattern}"):
            mt.load(path, **kwargs)

    assert peak_bytes_of(load) < FEW_MB


def test_max_bytes_caps_the_total_declared_size(tmp_path, monkeypatch):
    path = tmp_path / "state.npz"
    mt.save({"a": np.ones(10, np.float32), "b": np.ones(5, np.float64)}, path)
    assert list(mt.load(path, max_bytes=80)) == ["a", "b"]
    with pytest.raises(ValueError, match="80 bytes .* max_bytes=79"):
        mt.load(path, max_bytes=79)
    monkeypatch.setattr(serialization, "MAX_LOAD_BYTES", 79)  # the default is read per call
    with pytest.raises(ValueError, match="max_bytes=79"):
        mt.load(path)


def test_an_unlisted_member_is_refused_before_any_decompression(tmp_path):
    path = tmp_path / "bomb.npz"
    write_archive(path, manifest_of(("a", "float32", [2])), {"a.npy": np.ones(2, np.float32)})
    count, chunk = 50 * 2 ** 20, bytes(2 ** 20)  # 200 MB of float32 zeros, written in chunks
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb.npy", "w") as member:
            member.write(npy_header("<f4", [count]))
            for _ in range(count * 4 // len(chunk)):
                member.write(chunk)
    assert path.stat().st_size < 2 ** 20

    def load():
        with pytest.raises(ValueError, match=r"lists entries \['a'\] but holds members "
                                             r"\['a.npy', 'bomb.npy'\]"):
            mt.load(path)

    assert peak_bytes_of(load) < FEW_MB


def test_a_member_larger_than_its_entry_is_refused_before_decompression(tmp_path):
    path = tmp_path / "big.npz"
    write_archive(path, manifest_of(("a", "float32", [2])),
                  {"a.npy": np.zeros(50 * 2 ** 20, np.float32)}, zipfile.ZIP_DEFLATED)

    def load():
        with pytest.raises(ValueError, match="entry 'a' in 209715328 bytes"):
            mt.load(path)

    assert peak_bytes_of(load) < FEW_MB


def test_a_zip_directory_claiming_a_huge_size_is_refused(tmp_path):
    path = tmp_path / "lying.npz"
    write_archive(path, manifest_of(("a", "float32", [2])), {"a.npy": np.ones(2, np.float32)})
    set_directory_size(path, "a.npy", 2 ** 31 - 1)
    with pytest.raises(ValueError, match="entry 'a' in 2147483647 bytes"):
        mt.load(path)


def test_a_short_member_is_refused(tmp_path):
    path = tmp_path / "short.npz"
    header = npy_header("<f4", [4])
    write_archive(path, manifest_of(("a", "float32", [4])), {"a.npy": header + bytes(8)})
    with pytest.raises(ValueError, match="entry 'a' in 136 bytes; .* 16 bytes of data"):
        mt.load(path)
    set_directory_size(path, "a.npy", len(header) + 16)  # the directory lies; the data ends
    with pytest.raises(ValueError, match=f"load: {path} holds entry 'a' cut short "
                                         r"\(8 of 16 bytes\)"):
        mt.load(path)


def test_a_missing_or_repeated_member_is_refused(tmp_path):
    path = tmp_path / "missing.npz"
    write_archive(path, manifest_of(("a", "float32", [2]), ("b", "int64", [])),
                  {"a.npy": np.ones(2, np.float32)})
    with pytest.raises(ValueError,
                       match=r"lists entries \['a', 'b'\] but holds members \['a.npy'\]"):
        mt.load(path)
    path = tmp_path / "twice.npz"
    with pytest.warns(UserWarning, match="Duplicate name"):
        write_archive(path, manifest_of(("a", "float32", [2])),
                      {"a.npy": np.ones(2, np.float32)})
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("a.npy", b"x")
    with pytest.raises(ValueError, match="more than once"):
        mt.load(path)


def test_an_oversized_or_mistyped_manifest_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "state.npz"
    write_archive(path, manifest_of(*[(f"a{i}", "float32", [2]) for i in range(100)]),
                  {f"a{i}.npy": np.ones(2, np.float32) for i in range(100)})
    assert len(mt.load(path)) == 100
    monkeypatch.setattr(serialization, "MAX_MANIFEST_BYTES", 1000)
    with pytest.raises(ValueError, match="has a manifest larger than 1000 bytes"):
        mt.load(path)
    write_archive(path, None, {"__manifest__.npy": np.arange(3.0)})
    with pytest.raises(ValueError, match="corrupt manifest"):
        mt.load(path)


def test_an_unsupported_compression_is_refused(tmp_path):
    path = tmp_path / "bz2.npz"
    write_archive(path, manifest_of(("a", "float32", [2])), {"a.npy": np.ones(2, np.float32)},
                  zipfile.ZIP_BZIP2)
    with pytest.raises(ValueError, match="compression"):
        mt.load(path)


def test_a_compressed_npz_loads(tmp_path):
    path = tmp_path / "state.npz"
    mt.save(STATE, path)
    with np.load(path) as archive:
        np.savez_compressed(path, **{k: archive[k] for k in archive.files})
    loaded = mt.load(path)
    for name, value in STATE.items():
        np.testing.assert_array_equal(loaded[name].data, value.data)


def test_empty_and_zero_sized_entries_roundtrip(tmp_path):
    path = tmp_path / "state.npz"
    mt.save({}, path)
    assert mt.load(path) == OrderedDict()
    mt.save({"e": np.zeros((0, 3), np.float32)}, path)
    assert mt.load(path)["e"].shape == (0, 3)


VALID = {"format": serialization.FORMAT, "version": 1,
         "entries": [{"name": "a", "dtype": "float32", "shape": [2]}]}


def with_entry(**change):
    return {**VALID, "entries": [{**VALID["entries"][0], **change}]}


def without(key):
    return {k: v for k, v in VALID["entries"][0].items() if k != key}


@pytest.mark.parametrize("manifest", [
    [], "x", 1, None, {}, {"format": serialization.FORMAT, "version": 1},
    {**VALID, "version": True}, {**VALID, "version": "1"}, {**VALID, "version": 1.0},
    {**VALID, "entries": {}}, {**VALID, "entries": "a"}, {**VALID, "entries": [1]},
    {**VALID, "entries": [["a", "float32", [2]]]}, {**VALID, "extra": 1},
    {**VALID, "entries": [without("name")]}, {**VALID, "entries": [without("shape")]},
    {**VALID, "entries": [without("dtype")]}, with_entry(extra=1),
    with_entry(name=1), with_entry(name=""), with_entry(name=None), with_entry(name="__manifest__"),
    {**VALID, "entries": VALID["entries"] * 2},
    with_entry(shape=[-1]), with_entry(shape=[2.0]), with_entry(shape=[True]),
    with_entry(shape=["2"]), with_entry(shape=2), with_entry(shape=None),
    with_entry(shape=[1] * 100), with_entry(dtype="complex128"), with_entry(dtype="object"),
    with_entry(dtype=3), with_entry(dtype=None),
])
def test_a_malformed_manifest_is_refused(tmp_path, manifest):
    path = tmp_path / "bad.npz"
    write_archive(path, manifest, {"a.npy": np.ones(2, np.float32)})
    with pytest.raises(ValueError, match=f"load: {path} .*manifest"):
        mt.load(path)


@pytest.mark.parametrize("text", ["[" * 100000, '{"a": ' * 100000, "{", "", b"\xff\xfe",
                                  "NaN", '{"format": 1e999}', "1" * 5000],
                         ids=["deep-list", "deep-object", "unclosed", "empty", "not-utf8",
                              "nan", "infinity", "huge-int"])
def test_an_unparsable_manifest_is_refused(tmp_path, text):
    path = tmp_path / "bad.npz"
    write_archive(path, text, {"a.npy": np.ones(2, np.float32)})
    with pytest.raises(ValueError, match=f"load: {path} .*manifest"):
        mt.load(path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=4),
    max_leaves=12)
entries = st.fixed_dictionaries({
    "name": st.sampled_from(["a", "b", "", "__manifest__"]) | json_values,
    "dtype": st.sampled_from(["float32", "int64", "bool", "float16"]) | json_values,
    "shape": st.lists(st.integers(-1, 3) | json_values, max_size=3) | json_values})
manifests = json_values | st.fixed_dictionaries({
    "format": st.just(serialization.FORMAT) | json_values,
    "version": st.just(1) | json_values,
    "entries": st.lists(entries, max_size=3) | json_values})


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(manifest=manifests)
def test_any_json_manifest_loads_or_is_refused_with_value_error(tmp_path, manifest):
    path = tmp_path / "fuzz.npz"
    write_archive(path, manifest, {"a.npy": np.ones(2, np.float32),
                                   "b.npy": np.array(3, np.int64)})
    try:
        loaded = mt.load(path)
    except ValueError as error:
        assert str(error).startswith(f"load: {path} ")
    else:
        assert set(loaded) == {"a", "b"}


def test_big_endian_entries_load_in_native_byte_order(tmp_path):
    path = tmp_path / "big_endian.npz"
    values = np.array([1.5, -2.0, 3.25], np.float32)
    write_archive(path, manifest_of(("x", "float32", [3])), {"x.npy": values.astype(">f4")})
    loaded = mt.load(path)["x"].data._data
    assert loaded.dtype == np.float32 and loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, values)


def test_fortran_order_entries_load_with_their_values(tmp_path):
    path = tmp_path / "fortran.npz"
    values = np.arange(6.0).reshape(2, 3)
    write_archive(path, manifest_of(("x", "float64", [2, 3])),
                  {"x.npy": np.asfortranarray(values)})
    loaded = mt.load(path)["x"]._data
    assert loaded.flags.c_contiguous
    np.testing.assert_array_equal(loaded, values)


def test_an_object_member_listed_in_the_manifest_is_refused(tmp_path):
    path = tmp_path / "object.npz"
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open("__manifest__.npy", "w") as member:
            np.save(member, np.frombuffer(json.dumps(manifest_of(("x", "bool", [1]))).encode(),
                                          np.uint8))
        with archive.open("x.npy", "w") as member:
            np.save(member, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="holds entry 'x' as object \\[1\\]"):
        mt.load(path)
