"""Atomic file writes: a reader sees the old file or the whole new one, never a torn one.

The content goes to a temporary file in the target's directory, is flushed to disk, and
replaces the target with one rename (atomic on POSIX and Windows within one filesystem).
"""
from __future__ import annotations

import contextlib
import os
import tempfile

TEMPORARY_PREFIX = ".tmp-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_DEFAULT_MODE = 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_write(path, binary: bool = False):
    """`with atomic_write(path) as file: ...` writes `path` whole or not at all."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    suffix = os.path.splitext(path)[1]
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=TEMPORARY_PREFIX, suffix=suffix)
    try:
        os.chmod(temporary, _DEFAULT_MODE)  # mkstemp makes 0600; give what open() would
        with os.fdopen(handle, "wb" if binary else "w",
                       **({} if binary else {"encoding": "utf-8", "newline": ""})) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def remove_temporaries(directory) -> list:
    """Delete the temporaries that `atomic_write` left under `directory` when its process
    was killed mid-write (SIGKILL runs no cleanup); returns their paths. Call it only while
    no other process writes there."""
    removed = []
    for root, _, names in os.walk(os.fspath(directory)):
        for name in names:
            if name.startswith(TEMPORARY_PREFIX):
                os.unlink(os.path.join(root, name))
                removed.append(os.path.join(root, name))
    return sorted(removed)
