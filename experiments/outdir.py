"""One writer per output directory, and only its own files touched.

A study, grid or ablation claims its --out before it writes there: it takes an advisory
lock (flock on `.lock` in --out; the operating system releases it when the process ends,
however it ends), so a second writer is refused at once with the holder's PID, and it
removes the temporaries that a killed writer of its own files left (`minitorch_pairs.files`).
If it stops with an error before it has results to keep, --out is left as it was.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os

from minitorch_pairs.files import remove_temporaries

LOCK = ".lock"


class OutputBusy(RuntimeError):
    """Another process is writing to the same output directory."""


class Claim:
    """A held output directory. A writer calls `new(path)` before it creates a file or
    folder there, and `keep()` once results worth keeping are written; a claim that ends
    with an error before `keep()` removes what was new."""

    def __init__(self, path: str):
        self.path = path
        self.kept = False
        self._new = []

    def new(self, path) -> None:
        if not self.kept and not os.path.lexists(path):
            self._new.append(os.fspath(path))

    def keep(self) -> None:
        self.kept = True

    def _undo(self) -> None:
        for path in reversed(self._new):
            with contextlib.suppress(OSError):
                os.rmdir(path) if os.path.isdir(path) else os.unlink(path)


@contextlib.contextmanager
def claim(path, owned: dict):
    """Create `path` if needed, lock it, and remove the temporaries left there by killed
    writers of the files `owned` names: {subfolder ('' for `path` itself): name -> bool}."""
    path = os.fspath(path)
    created = not os.path.isdir(path)
    if created and os.path.lexists(path):
        raise NotADirectoryError(errno.ENOTDIR, "exists and is not a directory", path)
    os.makedirs(path, exist_ok=True)  # no permission, a full disk: OSError
    lock_path = os.path.join(path, LOCK)
    lock_created = not os.path.exists(lock_path)
    handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(handle, 32).decode("ascii", "replace").strip() or "unknown"
            raise OutputBusy(f"{path} is in use by another process (PID {holder}): wait for "
                             "it to finish, or use another --out") from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
        for folder, owns in owned.items():
            remove_temporaries(os.path.join(path, folder), owns)
        held = Claim(path)
        try:
            yield held
        except BaseException:
            if not held.kept:
                held._undo()
                _release(path, created, lock_created)
            raise
    finally:
        os.close(handle)  # releases the lock


def _release(path: str, created: bool, lock_created: bool) -> None:
    """Leave `path` as it was before the claim (what was new in it is gone). A process
    that opened the lock file just before this unlink gets a lock on a removed file; it
    then fails to write into the removed directory, with an error, losing nothing."""
    with contextlib.suppress(OSError):
        if lock_created:
            os.unlink(os.path.join(path, LOCK))
        if created:
            os.rmdir(path)
