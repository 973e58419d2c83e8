"""The study on dask.distributed: a real LocalCluster of 2 worker processes gives exactly
the in-process numbers (files included), a worker that dies is retried once and then
reported, and a study killed with SIGKILL mid-run resumes to the same results as a run
that was never interrupted. Tasks are drawn a few at a time from a lazy iterable, the shared
data are built on the workers (no large graph) and checked against this process's, an
unreachable scheduler fails within seconds, and Dask prints nothing a user has to read."""
from __future__ import annotations

import argparse
import csv
import functools
import json
import logging
import operator
import os
import signal
import socket
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import minitorch_pairs as mt
from experiments import distributed, grid, siamese_aux

STUDY = ["--models", "r000_shared_net1,r000_benchmark_leq", "--rounds", "2", "--epochs", "2",
         "--n-pairs", "40", "--quiet", "--no-plots", "--optimizer", "adam", "--lr", "0.001",
         "--threads-per-worker", "1"]  # BLAS's sums depend on its thread count


def rows(out, with_seconds: bool = False) -> list:
    """runs.csv, by default without the wall times (the only column that may differ)."""
    with open(out / "runs.csv", newline="") as file:
        return [{k: v for k, v in row.items() if with_seconds or k != "seconds"}
                for row in csv.DictReader(file)]


def same_study_files(a, b) -> None:
    assert sorted(p.relative_to(a) for p in a.rglob("*")) == \
        sorted(p.relative_to(b) for p in b.rglob("*"))  # no file missing, none left over
    assert rows(a) == rows(b)
    for path in sorted((a / "runs").rglob("*.json")):
        assert json.loads(path.read_text()) == \
            json.loads((b / path.relative_to(a)).read_text()), path
    for path in sorted((a / "best").glob("*.npz")):
        ours, theirs = mt.load(path), mt.load(b / path.relative_to(a))
        assert ours.keys() == theirs.keys()
        for name in ours:
            np.testing.assert_array_equal(ours[name].numpy(), theirs[name].numpy())


def test_a_local_cluster_gives_the_in_process_numbers(tmp_path):
    assert siamese_aux.main([*STUDY, "--out", str(tmp_path / "here"), "--workers", "0"]) == 0
    assert siamese_aux.main([*STUDY, "--out", str(tmp_path / "dask"), "--workers", "2"]) == 0
    same_study_files(tmp_path / "here", tmp_path / "dask")


def test_two_studies_at_once_do_not_contend_for_a_port(tmp_path):
    """A local cluster's scheduler serves HTTP (health, metrics) even without a dashboard;
    on a fixed port a second study on the machine warned that the port was in use."""
    with socket.socket() as busy:
        try:
            busy.bind(("", 8787))
            busy.listen()
        except OSError:  # busy already: another cluster holds it
            pass
        done = subprocess.run([sys.executable, "-m", "experiments.siamese_aux", *STUDY,
                               "--rounds", "1", "--out", str(tmp_path / "study"),
                               "--workers", "1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "in use" not in done.stderr and "Warning" not in done.stderr, done.stderr


def test_an_existing_cluster_by_address_gives_the_same_numbers(tmp_path):
    from distributed import LocalCluster
    assert siamese_aux.main([*STUDY, "--out", str(tmp_path / "here"), "--workers", "0"]) == 0
    # (spawn_environment undoes what the nanny copies into this process's environment)
    with distributed.spawn_environment(1), \
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None,
                         env=distributed.worker_environment(1)) as cluster:
        assert siamese_aux.main([*STUDY, "--out", str(tmp_path / "remote"), "--scheduler",
                                 cluster.scheduler_address]) == 0
    same_study_files(tmp_path / "here", tmp_path / "remote")


def test_the_grid_on_a_local_cluster_gives_the_in_process_cells(tmp_path):
    argv = ["--model", "r000_shared_net1_aux", "--lrs", "0.001,0.01", "--aux-weights",
            "0.5", "--folds", "2", "--epochs", "1", "--n-pairs", "40", "--optimizer", "adam",
            "--quiet", "--no-plots", "--threads-per-worker", "1"]
    assert grid.main([*argv, "--out", str(tmp_path / "here"), "--workers", "0"]) == 0
    assert grid.main([*argv, "--out", str(tmp_path / "dask"), "--workers", "2"]) == 0
    here, dask = (json.loads((tmp_path / d / "grid.json").read_text()) for d in ("here", "dask"))
    assert here == dask and len(here["cells"]) == 2


def double_or_die(task, shared):
    """2 * task + shared; "die" kills its worker every time, ("die once", path) the first
    time only (it leaves a marker file)."""
    if task == "die":
        os._exit(1)
    if isinstance(task, tuple):
        if not os.path.exists(task[1]):
            open(task[1], "w").close()
            os._exit(1)
        return "survived"
    return 2 * task + shared


def number(value: int) -> distributed.Shared:
    return distributed.Shared(value, functools.partial(int, value))


def send_by_value() -> None:
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests


LOCAL = argparse.Namespace(scheduler=None, workers=2, threads_per_worker=1)


def test_a_task_whose_worker_dies_is_retried_once_then_reported(tmp_path):
    send_by_value()
    with distributed.executor(LOCAL) as runner:
        once = ("die once", str(tmp_path / "died"))
        assert dict(runner.run(double_or_die, [once], number(10))) == {once: "survived"}
        (task, result), = runner.run(double_or_die, ["die"], number(10))
        assert isinstance(result, distributed.Failed) and "died twice" in result.error
        assert dict(runner.run(double_or_die, [1, 2], number(10))) == {1: 12, 2: 14}


@pytest.mark.slow
def test_a_study_killed_mid_run_resumes_to_the_uninterrupted_results(tmp_path):
    """SIGKILL the whole process group (driver and Dask workers) once the first run is
    recorded; every file left is whole, and --resume ends where a clean run ends."""
    argv = [sys.executable, "-m", "experiments.siamese_aux", "--models", "r000_shared_net1",
            "--rounds", "6", "--epochs", "3", "--n-pairs", "100", "--quiet", "--no-plots",
            "--workers", "2", "--threads-per-worker", "1"]
    killed = tmp_path / "killed"
    process = subprocess.Popen([*argv, "--out", str(killed)], start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if (killed / "runs.csv").exists() and len(rows(killed)) >= 1:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the study finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = rows(killed, with_seconds=True)
    assert 1 <= len(finished) < 6
    for path in (killed / "runs").rglob("*.json"):  # whole files only, never torn ones
        if not path.name.startswith("."):  # (the temporary of a write the kill cut short)
            json.loads(path.read_text())
    json.loads((killed / "config.json").read_text())
    subprocess.run([*argv, "--out", str(killed), "--resume"], check=True,
                   capture_output=True, timeout=600)
    subprocess.run([*argv, "--out", str(tmp_path / "clean")], check=True,
                   capture_output=True, timeout=600)
    resumed = rows(killed, with_seconds=True)
    assert all(row in resumed for row in finished), "a finished run was trained again"
    same_study_files(killed, tmp_path / "clean")


def _thread_settings(task, shared):
    import threadpoolctl
    import numba
    blas = [p["num_threads"] for p in threadpoolctl.threadpool_info()
            if p["user_api"] == "blas"]
    return dict(blas=blas, numba=numba.get_num_threads(),
                malloc_trim=os.environ.get("MALLOC_TRIM_THRESHOLD_"))


@pytest.mark.parametrize("threads", [1, 2])
def test_workers_get_their_thread_counts_before_numpy_loads(threads, monkeypatch):
    """A Dask nanny sets 1 BLAS thread and MALLOC_TRIM_THRESHOLD_=65536 before it spawns a
    worker (too early for any later env to matter), and lets values already in this process
    win (an earlier cluster leaves its own here); both slowed every run 1.5x. This process's
    environment is left as it was."""
    import argparse
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")  # as an earlier cluster leaves it
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    before = dict(os.environ)
    args = argparse.Namespace(scheduler=None, workers=1, threads_per_worker=threads)
    with distributed.executor(args) as runner:
        [(_, settings)] = list(runner.run(_thread_settings, [0], number(0)))
    assert settings["blas"] and set(settings["blas"]) == {threads}, settings
    assert settings["numba"] == threads, settings
    assert settings["malloc_trim"] is None, settings
    assert dict(os.environ) == before


class Counted:
    """`count` tasks 0, 1, ...; `drawn` says how many were taken so far."""

    def __init__(self, count: int):
        self.count, self.drawn = count, 0

    def __iter__(self):
        for task in range(self.count):
            self.drawn += 1
            yield task


@pytest.fixture
def in_process_cluster():
    """OnDask on a LocalCluster of 2 one-thread workers in this process (quick to start)."""
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield distributed.OnDask(client)


def test_tasks_are_drawn_a_few_at_a_time_from_a_lazy_iterable(in_process_cluster):
    """At most in_flight_limit() tasks are submitted at any time, however many there are."""
    runner = in_process_cluster
    limit = runner.in_flight_limit()
    assert limit == 4  # two per worker thread
    tasks, results, most = Counted(200), {}, 0
    for task, result in runner.run(operator.add, tasks, number(1000)):
        results[task] = result
        most = max(most, tasks.drawn - len(results))
    assert results == {task: task + 1000 for task in range(200)}
    assert 1 <= most <= limit
    assert dict(runner.run(operator.add, iter([]), number(0))) == {}


def test_in_process_tasks_are_drawn_one_at_a_time():
    tasks, seen = Counted(5), []
    for task, result in distributed.InProcess().run(operator.add, tasks, number(1)):
        seen.append(result)
        assert tasks.drawn == len(seen)
    assert seen == [1, 2, 3, 4, 5]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_scheduler_fails_within_seconds():
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    args = argparse.Namespace(scheduler=address, workers=None, threads_per_worker=1)
    start = time.monotonic()
    with pytest.raises(distributed.SchedulerUnreachable,
                       match=f"cannot reach the Dask scheduler at {address} within 5 s"):
        with distributed.executor(args):
            pass
    assert time.monotonic() - start < 10


def total(task, data) -> float:
    return task + float(data.sum())


class DaskLog(logging.Handler):
    """Every record Dask logs in this process, whatever the levels of its own handlers."""

    def __enter__(self):
        self.records = []
        logging.getLogger("distributed").addHandler(self)
        return self.records

    def __exit__(self, *exc):
        logging.getLogger("distributed").removeHandler(self)

    def emit(self, record):
        self.records.append(record)


def test_large_shared_data_are_built_on_the_workers_without_a_large_graph():
    """15 MiB of shared data, as the digit pools: no "Sending large graph" warning (neither
    a Python warning nor a log line), and the tasks read the workers' copy."""
    send_by_value()
    shape = (1920, 1024)  # 15 MiB of float64
    shared = distributed.Shared(np.full(shape, 0.5),
                                functools.partial(np.full, shape, 0.5))
    with warnings.catch_warnings(record=True) as caught, DaskLog() as logged:
        warnings.simplefilter("always")
        with distributed.executor(LOCAL) as runner:
            results = dict(runner.run(total, range(3), shared))
    assert results == {task: task + 0.5 * shape[0] * shape[1] for task in range(3)}
    assert not [w for w in caught if "large graph" in str(w.message).lower()], \
        [str(w.message) for w in caught]
    assert not [r for r in logged if r.levelno >= logging.WARNING
                and "large graph" in r.getMessage().lower()]


def test_workers_that_load_other_data_are_refused(in_process_cluster):
    shared = distributed.Shared(np.zeros(3), functools.partial(np.ones, 3))
    with pytest.raises(ValueError, match="the workers' data differ from this process's"):
        list(in_process_cluster.run(operator.add, [1, 2], shared))
    same = distributed.Shared(np.ones(3), functools.partial(np.ones, 3))
    assert dict(in_process_cluster.run(operator.add, [1], same))[1].tolist() == [2, 2, 2]


def test_shared_data_must_be_a_shared_whose_load_builds_them(in_process_cluster):
    big = np.zeros(1 << 18)  # 2 MiB
    with pytest.raises(TypeError, match=r"expected a distributed.Shared\(value, load\)"):
        list(in_process_cluster.run(operator.add, [1], 10))
    with pytest.raises(TypeError, match=r"expected a distributed.Shared\(value, load\)"):
        list(distributed.InProcess().run(operator.add, [1], 10))
    with pytest.raises(ValueError, match="it must build the data"):
        list(in_process_cluster.run(operator.add, [1],
                                    distributed.Shared(big, functools.partial(np.array, big))))


def test_a_fingerprint_is_of_the_data_not_of_their_objects():
    from minitorch_pairs.data import DigitPool
    images, labels = np.arange(2 * 28 * 28, dtype=np.float32).reshape(2, 28, 28), np.arange(2)
    pools = (DigitPool(images, labels), {"b": [1, 2.5, None], "a": "x"})
    again = (DigitPool(images.copy(), labels.copy()), {"a": "x", "b": [1, 2.5, None]})
    assert distributed.fingerprint(pools) == distributed.fingerprint(again)
    other_pixel, other_dtype = images.copy(), images.astype(np.float64)
    other_pixel[1, 2, 3] += 1
    for changed in [(DigitPool(other_pixel, labels), pools[1]),
                    (DigitPool(other_dtype, labels), pools[1]),
                    (DigitPool(images, labels), {"b": [1, 2.5], "a": "x"}),
                    [DigitPool(images, labels), pools[1]]]:
        assert distributed.fingerprint(changed) != distributed.fingerprint(pools)
    assert distributed.fingerprint(images[:, ::2]) == \
        distributed.fingerprint(np.ascontiguousarray(images[:, ::2]))
    with pytest.raises(TypeError, match="cannot fingerprint 'object'"):
        distributed.fingerprint([object()])


QUIET_SCRIPT = """
import argparse, functools, os, signal, sys, time
from experiments import distributed

def work(task, shared):
    if task == "die" or (task == "die once" and not os.path.exists(sys.argv[1])):
        open(sys.argv[1], "w").close()
        os._exit(1)
    if task == "sleep":
        open(sys.argv[1], "w").close()
        time.sleep(60)
    return shared

if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
    args = argparse.Namespace(scheduler=None, workers=2, threads_per_worker=1)
    try:
        with distributed.executor(args) as runner:
            shared = distributed.Shared(7, functools.partial(int, 7))
            for task, result in runner.run(work, sys.argv[2:], shared):
                print(task, "failed" if isinstance(result, distributed.Failed) else result)
    except KeyboardInterrupt:
        print("interrupted")
"""


def quiet_script(tmp_path, *tasks) -> subprocess.Popen:
    script = tmp_path / "quiet.py"
    script.write_text(QUIET_SCRIPT)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return subprocess.Popen([sys.executable, str(script), str(tmp_path / "marker"), *tasks],
                            cwd=root, env={**os.environ, "PYTHONPATH": root},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def test_dask_prints_nothing_the_study_reports_or_handles_itself(tmp_path):
    """A worker that dies once (retried) and one that dies twice (reported as Failed by
    `run`): Dask's own lines about them (workers removed and restarted, results gathered
    again, task failed) stay unprinted, from this process and from the workers alike."""
    process = quiet_script(tmp_path, "die once", "die", "1", "2")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert sorted(out.splitlines()) == ["1 7", "2 7", "die failed", "die once 7"]
    assert err == ""


def test_ctrl_c_stops_the_workers_without_their_tracebacks(tmp_path):
    """Ctrl-C reaches the whole process group: the driver stops, closing its cluster; the
    workers leave it to the driver instead of each printing a KeyboardInterrupt."""
    process = quiet_script(tmp_path, "sleep", "sleep")
    deadline = time.monotonic() + 300  # a busy machine starts workers slowly
    while not (tmp_path / "marker").exists():
        assert process.poll() is None and time.monotonic() < deadline, "no task started"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert (process.returncode, out, err) == (0, "interrupted\n", "")


def hold_memory(task, shared):
    hoard = np.ones(1 << 28, dtype=np.uint8)  # 256 MiB, touched
    time.sleep(30)
    return int(hoard[0])


@pytest.mark.slow
def test_a_worker_restarted_for_memory_says_so(tmp_path):
    """The nanny's line saying it restarted a worker for memory is quieted; the failure says
    it instead."""
    import dask
    from distributed import Client, LocalCluster
    send_by_value()
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                         memory_limit="200MiB", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        (task, result), = distributed.OnDask(client).run(hold_memory, [0], number(0))
    assert isinstance(result, distributed.Failed)
    assert "died twice" in result.error and "exceeding its memory budget" in result.error
