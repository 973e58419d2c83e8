"""The study on dask.distributed: a real LocalCluster of 2 worker processes gives exactly
the in-process numbers (files included), a worker that dies is retried once and then
reported, and a study killed with SIGKILL mid-run resumes to the same results as a run
that was never interrupted."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import minitorch_pairs as mt
from experiments import distributed, grid, siamese_aux
from minitorch_pairs.files import TEMPORARY_PREFIX

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


def test_a_task_whose_worker_dies_is_retried_once_then_reported(tmp_path):
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    args = type("Args", (), {"scheduler": None, "workers": 2, "threads_per_worker": 1})()
    with distributed.executor(args) as runner:
        once = ("die once", str(tmp_path / "died"))
        assert dict(runner.run(double_or_die, [once], 10)) == {once: "survived"}
        (task, result), = runner.run(double_or_die, ["die"], 10)
        assert isinstance(result, distributed.Failed) and "died twice" in result.error
        assert dict(runner.run(double_or_die, [1, 2], 10)) == {1: 12, 2: 14}  # workers back


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
        if not path.name.startswith(TEMPORARY_PREFIX):  # (a write the kill cut short)
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
        [(_, settings)] = list(runner.run(_thread_settings, [0], None))
    assert settings["blas"] and set(settings["blas"]) == {threads}, settings
    assert settings["numba"] == threads, settings
    assert settings["malloc_trim"] is None, settings
    assert dict(os.environ) == before
