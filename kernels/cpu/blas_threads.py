"""BLAS held to one thread per call while our kernels run, and only then.

The kernels cut matrix products over numba's threads, each piece a single-threaded BLAS
call (products.py, conv_images.py, the Winograd blocks); a BLAS pool of its own would wait
for the same cores and slow them down. So while one of our ops runs, every BLAS loaded in
the process (NumPy's, and SciPy's, which numba's np.dot calls) runs one thread per call,
and after it each gets back the thread count it had: importing minitorch_pairs changes no
other library's threads (torch's and NumPy's stay as the user set them).

`SINGLE` is the scope (`with SINGLE: ...`), and `@single_threaded_blas` runs a kernel's
entry point inside it; scopes nest, and only the outermost one sets and restores. It is
process-wide, as BLAS's thread count is.
"""
from __future__ import annotations

import functools

_libraries = None  # (get, set) thread-count functions of each BLAS library, found once


def _blas() -> list:
    global _libraries
    if _libraries is None:
        import scipy.linalg.cython_blas  # noqa: F401 -- loads numba's BLAS, so it is found
        from threadpoolctl import ThreadpoolController
        _libraries = [_functions(lib) for lib in ThreadpoolController().lib_controllers
                      if lib.user_api == "blas"]
    return _libraries


def _functions(lib) -> tuple:
    """(get, set) of `lib`'s thread count: OpenBLAS's own C functions where they are the
    ones to call (cheaper per scope than threadpoolctl's methods, and every op opens one),
    else threadpoolctl's."""
    try:
        if lib.internal_api == "openblas" and lib.threading_layer != "openmp":
            prefix, suffix = lib._find_affixes()
            return (getattr(lib.dynlib, f"{prefix}openblas_get_num_threads{suffix}"),
                    getattr(lib.dynlib, f"{prefix}openblas_set_num_threads{suffix}"))
    except (AttributeError, TypeError):  # another threadpoolctl: its public methods
        pass
    return lib.get_num_threads, lib.set_num_threads


class _SingleThreaded:
    """The scope: BLAS at one thread per call inside, as it was outside."""

    def __init__(self):
        self.depth = 0
        self.saved = []

    def __enter__(self):
        if self.depth == 0:
            for get, set_ in _blas():
                threads = get()
                if threads != 1:
                    set_(1)
                    self.saved.append((set_, threads))
        self.depth += 1
        return self

    def __exit__(self, *exc_info):
        self.depth -= 1
        if self.depth == 0:
            for set_, threads in self.saved:
                set_(threads)
            self.saved.clear()
        return False


SINGLE = _SingleThreaded()


def single_threaded_blas(function):
    """`function`, run with BLAS at one thread per call (inside SINGLE)."""
    @functools.wraps(function)
    def inside(*args, **kwargs):
        with SINGLE:
            return function(*args, **kwargs)
    return inside


def blas_single_threaded() -> bool:
    """Whether BLAS runs one thread per call now (inside SINGLE, or set so by the user), so
    that numba's threads may each call it at once."""
    return SINGLE.depth > 0 or all(get() == 1 for get, _ in _blas())
