"""Where the study's independent runs execute: in this process (`--workers 0`), or as tasks
on dask.distributed, on a LocalCluster of worker processes (the default, sized to the
machine) or on an existing cluster (`--scheduler ADDRESS`). Either way the same function
runs on the same arguments, so the numbers are the same; results come back as each run
finishes, for the driver to write at once.

The data every task reads (the digit pools) are sent to the workers once, not read again
per task. A task whose worker dies is retried once on another worker, then
reported as failed; a failed run is not recorded, so `--resume` runs it again.
"""
from __future__ import annotations

import argparse
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass


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


def _identity(value):
    return value


@dataclass
class Failed:
    """A task that could not finish (its worker died twice): what to report."""
    task: object
    error: str


class InProcess:
    """Runs each task here, in order, with `threads` compute threads if given."""

    def __init__(self, threads: int | None = None):
        self.threads = threads

    def run(self, function, tasks: list, shared):
        if self.threads is None:
            for task in tasks:
                yield task, function(task, shared)
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
                    yield task, function(task, shared)
        finally:
            numba.set_num_threads(before)


class OnDask:
    """Runs tasks on a dask.distributed cluster, yielding each result as it arrives."""

    def __init__(self, client):
        self.client = client

    def run(self, function, tasks: list, shared):
        from distributed import as_completed
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker
        if not tasks:
            return
        # sent once, not per task: as the result of a task of its own (a fresh key per call)
        # rather than scattered, because scattered data lost with a dead worker cannot be
        # made again and takes every task that needs it along ("already forgotten"), while
        # a task's result is computed again
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Large object", category=UserWarning)
            shared = self.client.submit(_identity, shared, pure=False)
        futures = {self.client.submit(function, task, shared, pure=False): task
                   for task in tasks}
        # results are fetched as each task ends: a result left on a worker that dies later
        # would have to be computed again
        completed = as_completed(futures, with_results=True, raise_errors=False)
        for future, result in completed:
            task = futures.pop(future)
            if future.status == "error" or isinstance(result, BaseException):
                error = future.exception() if future.status == "error" else result
                if not isinstance(error, (KilledWorker, FutureCancelledError)):
                    raise error  # a bug in the task: not a fault to survive
                yield task, Failed(task, f"its worker died twice ({type(error).__name__}: "
                                         f"{error})")
            else:
                yield task, result
            future.release()


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


@contextmanager
def executor(args):
    """InProcess for --workers 0, else a Dask client (local cluster or --scheduler)."""
    if args.scheduler is None and args.workers == 0:
        yield InProcess(args.threads_per_worker)
        return
    import dask
    from distributed import Client, LocalCluster
    # a worker that dies takes its task along: allow one retry elsewhere, then report
    # and give each worker one task at a time, so that a death takes no bystander along
    settings = {"distributed.scheduler.allowed-failures": 1,
                "distributed.scheduler.worker-saturation": 1.0,
                "distributed.worker.daemon": False,
                "distributed.logging.distributed": "error"}
    if args.scheduler is not None:
        with dask.config.set(settings), Client(args.scheduler) as client:
            yield OnDask(client)
        return
    threads = args.threads_per_worker or 1
    with spawn_environment(threads) as pre_spawn, \
            dask.config.set({**settings, "distributed.nanny.pre-spawn-environ": pre_spawn}), \
            LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                         dashboard_address=None, env=worker_environment(threads)) as cluster, \
            Client(cluster) as client:
        yield OnDask(client)
