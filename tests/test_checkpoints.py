"""mt.save / mt.load: a safe, validated, atomic state-dict format (npz + JSON manifest)."""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

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


def test_remove_temporaries_deletes_only_what_atomic_write_leaves(tmp_path):
    (tmp_path / "runs").mkdir()
    left = [tmp_path / ".tmp-a1.npz", tmp_path / "runs" / ".tmp-b2.json"]
    kept = [tmp_path / "best.npz", tmp_path / ".hidden", tmp_path / "runs" / "x.tmp-c3"]
    for path in left + kept:
        path.write_bytes(b"x")
    assert remove_temporaries(tmp_path) == sorted(str(p) for p in left)
    assert all(p.exists() for p in kept) and not any(p.exists() for p in left)


def test_bad_entries_are_refused_before_writing(tmp_path):
    with pytest.raises(TypeError, match="entry 'x' has dtype complex128"):
        mt.save({"x": np.ones(2, complex)}, tmp_path / "a.npz")
    with pytest.raises(ValueError, match="invalid entry name"):
        mt.save({"": mt.ones(1)}, tmp_path / "a.npz")
    with pytest.raises(TypeError, match="expected a mapping"):
        mt.save([mt.ones(1)], tmp_path / "a.npz")
    assert os.listdir(tmp_path) == []
