"""What every benchmark shares: each framework is measured in its own worker process (so
that neither framework's thread pools or environment touch the other's timings); the two
workers stay alive side by side and take turns, one short window each, so that each of
ours is measured next to one of torch's; timings are medians after warm-up, and the
results are written as JSON and a markdown table, atomically."""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np

from minitorch_pairs.files import atomic_write
from minitorch_pairs.threads import RUNTIME_DEFAULTS, USER_ENV

FRAMEWORKS = ("ours", "torch")


def median_ms(step, repeats: int, warmup: int = 3, sync=None) -> float:
    """Median wall time of `step()` in milliseconds, after `warmup` untimed calls. On a GPU,
    `sync` waits for the queued kernels, so a step's time is its work, not its launches."""
    sync = sync or (lambda: None)
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - started)
    return 1e3 * statistics.median(times)


def alternate_calls(calls: dict, rounds: int, repeats: int, pause: float = 0.0) -> dict:
    """{name: [window ms, one per round]} for calls timed in this process: each round one
    window (the median of `repeats` calls) of every call in turn, the order rotated each
    round, so that all of them see the same minutes; each call warmed up first."""
    for call in calls.values():
        median_ms(call, 1)  # compiled, cached, settled
    names, windows = list(calls), {name: [] for name in calls}
    for round_ in range(rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            time.sleep(pause)
            windows[name].append(median_ms(calls[name], repeats, warmup=1))
    return windows


def device_sync(framework: str, device: str):
    """A function that waits until `framework`'s queued work on `device` is done."""
    if device == "cpu":
        return None
    if framework == "torch":
        import torch
        return torch.cuda.synchronize
    from numba import cuda
    return cuda.synchronize


def worker_env(framework: str, threads: int) -> dict:
    """Environment giving a worker `threads` threads: ours in numba's pool (its kernels hold
    BLAS to one thread per call themselves, kernels/cpu/blas_threads.py), torch in its own
    pools, with torch's thread-pool defaults, not ours."""
    count = str(threads)
    env = dict(os.environ, NUMBA_NUM_THREADS=count, OMP_NUM_THREADS=count)
    if framework == "torch":
        env["MINITORCH_PAIRS_THREAD_DEFAULTS"] = "0"
        for name in RUNTIME_DEFAULTS:
            if name not in USER_ENV:
                env.pop(name, None)
        env.update(OPENBLAS_NUM_THREADS=count, MKL_NUM_THREADS=count)
    return env


def run_worker(module: str, framework: str, threads: int, *args: str) -> dict:
    """`python -m benchmarks.<module> --worker FRAMEWORK --threads N ARGS` in a fresh
    process; its last stdout line is the JSON result."""
    command = [sys.executable, "-m", f"benchmarks.{module}", "--worker", framework,
               "--threads", str(threads), *args]
    done = subprocess.run(command, env=worker_env(framework, threads), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{module} worker ({framework}, {threads} threads) failed:\n"
                           f"{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


RESULT = "RESULT "  # marks a worker's answer on its stdout
READY = "READY"  # and that it is ready to measure
PAUSE_S = 0.1  # before each window: the other framework's threads stop spinning and sleep


class _Worker:
    """A worker process kept for the whole comparison: it builds its models or inputs once,
    then measures one named item per request (`serve`); its stderr goes to a file, read
    only if it fails."""

    def __init__(self, module: str, framework: str, threads: int, args: tuple):
        self.label = f"{module} worker ({framework}, {threads} threads)"
        command = [sys.executable, "-m", f"benchmarks.{module}", "--worker", framework,
                   "--threads", str(threads), *args]
        self.errors = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(command, env=worker_env(framework, threads),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.errors, text=True)

    def wait_ready(self) -> None:
        """Until the worker has built and warmed up what it measures."""
        self._answer(READY)

    def measure(self, name: str) -> dict:
        try:
            self.process.stdin.write(name + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            self._answer(RESULT)  # reports the failure
        return json.loads(self._answer(RESULT))

    def _answer(self, prefix: str) -> str:
        """The rest of the worker's next stdout line starting with prefix."""
        for line in self.process.stdout:
            if line.startswith(prefix):
                return line[len(prefix):]
        self.process.wait()
        self.errors.seek(0)
        raise RuntimeError(f"{self.label} failed:\n{self.errors.read()[-3000:]}")

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait()
        self.errors.close()


def serve(measure) -> None:
    """A worker's loop, once `measure` is ready: the line READY, then for each name the
    driver sends one line RESULT + measure(name) as JSON (other output on stdout is
    ignored)."""
    print(READY, flush=True)
    for line in sys.stdin:
        print(RESULT + json.dumps(measure(line.strip())), flush=True)


def alternate(module: str, threads: int, rounds: int, names: list, *args: str,
              variants=None, framework_of=None, optional=()) -> dict:
    """Workers alive side by side take turns measuring each name, `rounds` times:
    {variant: [{name: result}, ...]}. The machine is shared and its speed drifts within
    seconds; measuring each worker's window of a name back to back (a fraction of a second
    apart) makes their ratio paired, where fresh workers per round put seconds of drift
    between them. All are built and warm before the first window; the order is rotated each
    round, so that no worker always follows the same one (with two, it alternates).

    By default one worker per framework (FRAMEWORKS) with `args`; with `variants`, one per
    variant with `args` and `--variant V`, in the thread settings of `framework_of(V)`. A
    variant in `optional` whose worker dies before it is ready gives {"unavailable": why}
    instead of stopping the others."""
    if variants is None:
        variants, framework_of, extra = list(FRAMEWORKS), (lambda v: v), (lambda v: ())
    else:
        variants, extra = list(variants), (lambda v: ("--variant", v))
    workers = {v: _Worker(module, framework_of(v), threads, (*args, *extra(v)))
               for v in variants}
    failed = {}
    try:
        for variant, worker in list(workers.items()):
            try:
                worker.wait_ready()
            except RuntimeError as error:
                if variant not in optional:
                    raise
                failed[variant] = {"unavailable": unavailable_reason(
                    RuntimeError(str(error).strip().splitlines()[-1]))}
                workers.pop(variant).close()
        runs = {v: [] for v in variants}
        for round_index in range(rounds):
            shift = round_index % len(variants)
            results = {v: {} for v in variants}
            for name in names:
                for variant in variants[shift:] + variants[:shift]:
                    if variant in failed:
                        results[variant][name] = failed[variant]
                        continue
                    time.sleep(PAUSE_S)
                    results[variant][name] = workers[variant].measure(name)
            for variant in variants:
                runs[variant].append(results[variant])
    finally:
        for worker in workers.values():
            worker.close()
    return runs


def unavailable_reason(error: BaseException) -> str:
    """One line saying why a variant could not run (a compiler's message can run to pages)."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0][:160] if lines else ''}".rstrip(": ")


def median_of(runs: list, *keys: str) -> float:
    """The median over rounds of runs[i][key0][key1]..."""
    values = []
    for run in runs:
        for key in keys:
            run = run[key]
        values.append(run)
    return statistics.median(values)


def paired_ratio(ours: list, theirs: list, *keys: str) -> float:
    """Median over rounds of ours/torch within the same round."""
    return statistics.median(median_of([a], *keys) / median_of([b], *keys)
                             for a, b in zip(ours, theirs))


def setup_torch(threads: int):
    import torch
    torch.set_num_threads(threads)
    return torch


def resident_mib() -> float:
    """The process's resident memory now (Linux /proc), in MiB."""
    with open("/proc/self/statm") as file:
        pages = int(file.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_resident_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def named_weights(name: str, shape: tuple) -> np.ndarray:
    """Deterministic float32 weights for a parameter, keyed by its name, so that our model and
    its torch twin (same parameter names) start from the same numbers in separate processes."""
    rng = np.random.default_rng([0, zlib.crc32(name.encode())])
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else int(shape[0])
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def markdown_table(header: list, rows: list) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_results(out: str | None, name: str, results: dict, table: str) -> None:
    if not out:
        return
    os.makedirs(out, exist_ok=True)
    with atomic_write(os.path.join(out, f"{name}.json")) as file:
        json.dump(results, file, indent=2)
    with atomic_write(os.path.join(out, f"{name}.md")) as file:
        file.write(table + "\n")


def check_device(parser: argparse.ArgumentParser, device: str) -> None:
    """A usage error unless both frameworks can run on `device` (for cuda: a GPU that numba
    sees, not its simulator, which would time Python threads, and torch's CUDA build)."""
    if device != "cuda":
        return
    from numba import config, cuda
    import torch
    if config.ENABLE_CUDASIM or not cuda.is_available() or not torch.cuda.is_available():
        parser.error(f"--device cuda: needs a CUDA GPU for both frameworks (numba sees one: "
                     f"{bool(cuda.is_available() and not config.ENABLE_CUDASIM)}; torch sees "
                     f"one: {torch.cuda.is_available()})")


def worker_arguments(parser: argparse.ArgumentParser) -> None:
    """The options a driver passes to its own workers (hidden from --help)."""
    parser.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=2,
                        help="threads for each framework (default 2; the driver sets it for "
                             "its workers)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="where both frameworks run (cuda: ours on numba-cuda, torch on "
                             "its CUDA build; default cpu)")
