"""Atomic file writes: a reader sees the old file or the whole new one, never a torn one.

The content goes to a temporary file in the target's directory, is flushed to disk, and
replaces the target with one rename (atomic on POSIX and Windows within one filesystem).
"""
from __future__ import annotations

import contextlib
import os
import tempfile


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
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
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
