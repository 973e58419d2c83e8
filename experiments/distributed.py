"""Where the study's independent runs execute: in this process (`--workers 0`), or as tasks
on dask.distributed, on a LocalCluster of worker processes (the default, sized to the
machine) or on an existing cluster (`--scheduler ADDRESS`). Either way the same function
runs on the same arguments, so the numbers are the same; results come back as each run
finishes, for the driver to write at once. Tasks are drawn from the caller's iterable a few
at a time, so memory does not grow with the size of the study.

The data every task reads (the digit pools) are `Shared`: the value in this process, and how
to build it. The workers build it once, with one task, which checks that they got the same
data as this process. A task whose worker dies is retried once on another worker, then
reported as failed; a failed run is not recorded, so `--resume` runs it again.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import logging
import os
import signal
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

CONNECT_TIMEOUT_S = 5
# a `Shared.load` is sent in the graph: it must build the data, not carry them
LOAD_MAX_BYTES = 1 << 20


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("execution")
    group.add_argument("--workers", type=int, default=None, metavar="N",
                       help="worker processes of a local Dask cluster; 0 runs everything in "
                            "this process (default: one per core / --threads-per-worker)")
    group.add_argument("--threads-per-worker", type=int, default=None, metavar="T",
                       help="compute threads (numba, BLAS) of each worker, which runs one "
                            "training run at a time (default 1); with --workers 0, of this "
                            "process (default: as it starts). BLAS sums depend on its thread "
                            "count, so equal T gives bit-identical numbers either way")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on an existing Dask cluster (e.g. tcp://host:8786) instead "
                            "of a local one")


def check_options(parser: argparse.ArgumentParser, args) -> None:
    if args.workers is not None and args.workers < 0:
        parser.error(f"--workers: expected 0 (in process) or more, got {args.workers}")
    if args.threads_per_worker is not None and args.threads_per_worker < 1:
        parser.error(f"--threads-per-worker: expected at least 1, got "
                     f"{args.threads_per_worker}")
    if args.scheduler is not None and args.workers is not None:
        parser.error("--scheduler and --workers exclude each other (the cluster at ADDRESS "
                     "has its own workers)")
    if args.workers is None and args.scheduler is None:
        args.workers = max(1, (os.cpu_count() or 1) // (args.threads_per_worker or 1))


class SchedulerUnreachable(ConnectionError):
    """No Dask scheduler answered at --scheduler ADDRESS."""


@dataclass(frozen=True)
class Shared:
    """The data every task reads: `value`, already in this process, and `load`, a picklable
    callable of no arguments (e.g. a functools.partial of a module-level function) that
    builds an equal value anywhere, so that a worker that lost it can build it again."""
    value: object
    load: Callable[[], object]


def fingerprint(value) -> str:
    """A digest of the numpy arrays (dtype, shape, bytes) and plain scalars in `value`,
    reached through tuples, lists, dicts and dataclasses: equal data give equal digests in
    any process."""
    digest = hashlib.blake2b(digest_size=8)
    _feed(digest, value)
    return digest.hexdigest()


def _feed(digest, value) -> None:
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.ascontiguousarray(value)
        if array.dtype.hasobject:
            raise TypeError("fingerprint: arrays of Python objects have no stable bytes")
        digest.update(f"array {array.dtype.str} {array.shape}:".encode())
        digest.update(array.data)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        digest.update(f"{type(value).__qualname__} {len(fields)}:".encode())
        for field in fields:
            digest.update(f"{field.name}=".encode())
            _feed(digest, getattr(value, field.name))
    elif isinstance(value, (tuple, list)):
        digest.update(f"{type(value).__name__} {len(value)}:".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, dict):
        digest.update(f"dict {len(value)}:".encode())
        for key, item in sorted(value.items(), key=lambda pair: repr(pair[0])):
            _feed(digest, key)
            _feed(digest, item)
    elif value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        digest.update(f"{type(value).__name__} {value!r};".encode())
    else:
        raise TypeError(f"fingerprint: cannot fingerprint {type(value).__qualname__!r} (expected "
                        f"numpy arrays and scalars in tuples, lists, dicts and dataclasses)")


def _load_checked(load: Callable[[], object], expected: str):
    """`load()` on a worker, refused unless it equals this process's value: a worker that
    reads other files must not give other numbers."""
    from distributed import get_worker
    value = load()
    found = fingerprint(value)
    if found != expected:
        raise ValueError(f"the workers' data differ from this process's (fingerprint {found} "
                         f"on worker {get_worker().address}, {expected} here): every worker "
                         f"must read the same data files as this process")
    return value


def _check_shared(shared) -> None:
    if not isinstance(shared, Shared):
        raise TypeError(f"shared: expected a distributed.Shared(value, load), got "
                        f"{type(shared).__qualname__}")


@dataclass
class Failed:
    """A task that could not finish (its worker died twice, or it was cancelled): what to
    report."""
    task: object
    error: str


class InProcess:
    """Runs each task here, in order, with `threads` compute threads if given."""

    def __init__(self, threads: int | None = None):
        self.threads = threads

    def run(self, function, tasks: Iterable, shared: Shared) -> Iterator[tuple]:
        _check_shared(shared)
        if self.threads is None:
            for task in tasks:
                yield task, function(task, shared.value)
            return
        import numba
        from threadpoolctl import threadpool_limits
        before = numba.get_num_threads()
        numba.set_num_threads(min(self.threads, numba.config.NUMBA_NUM_THREADS))
        try:
            # numba's threads cut the products; BLAS stays at one thread per call and other
            # OpenMP pools at `threads` (minitorch_pairs/threads.py)
            with threadpool_limits(limits={"blas": 1, "openmp": self.threads}):
                for task in tasks:
                    yield task, function(task, shared.value)
        finally:
            numba.set_num_threads(before)


class OnDask:
    """Runs tasks on a dask.distributed cluster, yielding each result as it arrives."""

    def __init__(self, client):
        self.client = client

    def in_flight_limit(self) -> int:
        """How many tasks are submitted at a time: two per worker thread (each finds its next
        one queued as it ends), at least 2."""
        return max(2, 2 * sum(self.client.nthreads().values()))

    def run(self, function, tasks: Iterable, shared: Shared) -> Iterator[tuple]:
        from distributed import as_completed
        _check_shared(shared)
        tasks = iter(tasks)
        first = list(itertools.islice(tasks, 1))
        if not first:
            return
        data = self._load(shared)
        pending = {}
        # results are fetched as each task ends: a result left on a worker that dies later
        # would have to be computed again
        completed = as_completed(with_results=True, raise_errors=False)

        def submit(more: Iterable) -> None:
            for task in more:
                future = self.client.submit(function, task, data, pure=False)
                pending[future] = task
                completed.add(future)

        submit(itertools.chain(first, itertools.islice(tasks, self.in_flight_limit() - 1)))
        for future, result in completed:
            task = pending.pop(future)
            submit(itertools.islice(tasks, 1))  # before the caller handles this result
            yield task, self._outcome(task, future, result)
            future.release()

    def _load(self, shared: Shared):
        """A future of `shared`'s value on the workers. Built there by a task of its own (a
        fresh key per call) rather than scattered, because scattered data lost with a dead
        worker cannot be made again and take every task that needs them along ("already
        forgotten"), while a task's result is computed again; and rather than sent in the
        graph, which Dask warns of as a large graph."""
        import cloudpickle
        size = len(cloudpickle.dumps(shared.load))
        if size > LOAD_MAX_BYTES:
            raise ValueError(f"Shared.load pickles to {size} bytes: it must build the data "
                             f"(e.g. read them), not carry them")
        return self.client.submit(_load_checked, shared.load, fingerprint(shared.value),
                                  pure=False)

    def _outcome(self, task, future, result):
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker
        if future.status != "error" and not isinstance(result, BaseException):
            return result
        error = future.exception() if future.status == "error" else result
        if isinstance(error, KilledWorker):
            return Failed(task, f"its worker died twice ({type(error).__name__}: {error})"
                                f"{self._memory_note(error)}")
        if isinstance(error, FutureCancelledError):
            return Failed(task, f"it was cancelled ({type(error).__name__}: {error})")
        raise error  # a bug in the task: not a fault to survive

    def _memory_note(self, error) -> str:
        """Why the last worker died, when its nanny restarted it for memory: the quieted
        logs no longer say so, and it is the one death a user can act on."""
        address = error.last_worker.address
        for _, event in self.client.get_events("worker-restart-memory"):
            if event.get("worker") == address:
                return (f"; {address} was restarted for exceeding its memory budget "
                        f"({event['rss'] / 2**20:.0f} MiB in use): run fewer workers per machine")
        return ""


def worker_environment(threads: int) -> dict:
    """Each worker's thread pools sized to its share of the cores (set in the worker as it
    starts, before numba loads there)."""
    count = str(threads)
    return {"NUMBA_NUM_THREADS": count, "OMP_NUM_THREADS": count,
            "OPENBLAS_NUM_THREADS": count, "MKL_NUM_THREADS": count}


@contextmanager
def spawn_environment(threads: int):
    """What a worker process must have from its very start, as the nanny's `pre-spawn-
    environ`: its BLAS thread count (numpy loads before any later setting could matter) and
    no MALLOC_TRIM_THRESHOLD_ (Dask's default, 65536, hands every freed activation back to
    the OS, so that each training step page-faults its buffers in again: runs took 1.5x
    longer). A nanny copies these into this process's environment before it spawns, and
    lets values already there win, so they are set here too and all of it is undone after.
    NUMBA_NUM_THREADS stays out: numba refuses a changed value in a process (this one) whose
    threads have started."""
    saved = dict(os.environ)
    blas = {name: value for name, value in worker_environment(threads).items()
            if name != "NUMBA_NUM_THREADS"}
    os.environ.update(blas)
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    try:
        yield {**blas, "MALLOC_TRIM_THRESHOLD_": None}  # None: the nanny sets no value
    finally:
        os.environ.clear()
        os.environ.update(saved)


def dask_setup(worker) -> None:
    """Run by each local worker process as it starts (a Dask preload). Ctrl-C reaches the
    whole process group, and the driver then stops its workers itself: a worker that took
    the interrupt too would only print a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# Below CRITICAL, what Dask logs while tasks run is handled here (workers lost and restarted,
# results computed and gathered again) or said by `run` itself (a task failed: Failed or the
# error raised), so a user would read it twice or not be able to act on it.
DASK_LOG_LEVEL = logging.CRITICAL


@contextmanager
def _dask_logs_quieted():
    """Dask's log lines in this process (a LocalCluster's scheduler and nannies run here)
    at DASK_LOG_LEVEL and above only, as LocalCluster's `silence_logs` does."""
    handlers = [h for h in logging.getLogger("distributed").handlers
                if isinstance(h, logging.StreamHandler)]
    levels = [h.level for h in handlers]
    for handler in handlers:
        handler.setLevel(DASK_LOG_LEVEL)
    try:
        yield
    finally:
        for handler, level in zip(handlers, levels):
            handler.setLevel(level)


def _connect(address: str):
    from distributed import Client
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S)
    except OSError as error:
        raise SchedulerUnreachable(f"cannot reach the Dask scheduler at {address} within "
                                   f"{CONNECT_TIMEOUT_S} s ({error})") from error


@contextmanager
def executor(args):
    """InProcess for --workers 0, else a Dask client (local cluster or --scheduler); raises
    SchedulerUnreachable when no scheduler answers at --scheduler."""
    if args.scheduler is None and args.workers == 0:
        yield InProcess(args.threads_per_worker)
        return
    import dask
    from distributed import Client, LocalCluster
    # a worker that dies takes its task along: allow one retry elsewhere, then report
    # and give each worker one task at a time, so that a death takes no bystander along
    settings = {"distributed.scheduler.allowed-failures": 1,
                "distributed.scheduler.worker-saturation": 1.0,
                "distributed.worker.daemon": False}
    if args.scheduler is not None:
        with dask.config.set(settings), _dask_logs_quieted(), \
                _connect(args.scheduler) as client:
            yield OnDask(client)
        return
    threads = args.threads_per_worker or 1
    # the scheduler serves HTTP even without a dashboard: on any free port (":0"), so that
    # two studies on one machine do not contend for Dask's default one
    with spawn_environment(threads) as pre_spawn, \
            dask.config.set({**settings, "distributed.nanny.pre-spawn-environ": pre_spawn}), \
            _dask_logs_quieted(), \
            LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                         dashboard_address=":0", env=worker_environment(threads),
                         silence_logs=DASK_LOG_LEVEL, preload=[__name__]) as cluster, \
            Client(cluster) as client:
        yield OnDask(client)
