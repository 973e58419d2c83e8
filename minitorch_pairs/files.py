"""Atomic file writes: a reader sees the old file or the whole new one, never a torn one.

The content goes to a temporary file beside the target, is flushed to disk, and replaces the
target with one rename (atomic on POSIX and Windows within one filesystem). A temporary is
named after its target and its writer's process id, `.<target>.<pid>-<random>.tmp`, so a
writer that was killed (SIGKILL runs no cleanup) leaves a file that says whose it was:
`remove_temporaries` deletes only such files, of the targets its caller owns, whose writer
is no longer running.
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile

_TEMPORARY = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)-[A-Za-z0-9_]+\.tmp$")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_DEFAULT_MODE = 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_write(path, binary: bool = False):
    """`with atomic_write(path) as file: ...` writes `path` whole or not at all."""
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.{os.getpid()}-",
                                         suffix=".tmp")
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


def temporary_target(name: str) -> tuple | None:
    """(target name, writer pid) of an `atomic_write` temporary's file name, else None."""
    match = _TEMPORARY.match(name)
    return None if match is None else (match["target"], int(match["pid"]))


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: asks only whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # exists, but belongs to another user
        return True
    return True


def remove_temporaries(directory, owns) -> list:
    """Delete the temporaries that a killed `atomic_write` left in `directory` (not in its
    subfolders) for a target name for which `owns(name)` is true, if their writer is no
    longer running; returns their paths, sorted."""
    directory = os.fspath(directory)
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    removed = []
    for name in names:
        parsed = temporary_target(name)
        if parsed is not None and owns(parsed[0]) and not _running(parsed[1]):
            path = os.path.join(directory, name)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                removed.append(path)
    return sorted(removed)
