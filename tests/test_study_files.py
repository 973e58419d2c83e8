"""The study never loses, corrupts or invents a result: it touches only its own files, one
writer holds an output directory at a time, --resume checks every file it relies on,
expected failures end with one `error:` line and leave --out as it was, and Ctrl-C ends
with exit 130 and a resumable study."""
from __future__ import annotations

import csv
import errno
import json
import math
import os
import signal
import subprocess
import sys
import time
import tracemalloc

import pytest

from experiments import grid, results, siamese_aux

TINY = ["--epochs", "1", "--n-pairs", "40", "--quiet", "--no-plots", "--optimizer", "adam",
        "--lr", "0.001", "--workers", "0"]
MODEL = "r000_shared_net1"


def run_main(out, *extra) -> int:
    return siamese_aux.main(["--out", str(out), *TINY, *extra])


def read_rows(out) -> list:
    with open(out / "runs.csv", newline="") as file:
        return list(csv.DictReader(file))


def snapshot(directory) -> dict:
    """Every file under `directory` with its bytes."""
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def no_training(monkeypatch):
    def refuse(spec, *args, **kwargs):
        raise AssertionError(f"{spec.name} was trained although the study was refused")
    monkeypatch.setattr(siamese_aux, "train_run", refuse)
    monkeypatch.setattr(grid, "train_run", refuse)


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# ----- only its own files -----------------------------------------------------------------

def test_files_that_are_not_the_studys_survive_its_start(tmp_path):
    out = tmp_path / "out"
    (out / "nested").mkdir(parents=True)
    (out / "runs" / MODEL).mkdir(parents=True)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        foreign = [out / ".tmp-draft.txt", out / "nested" / ".tmp-in-flight.json",
                   out / "runs" / MODEL / ".tmp-x.json",
                   out / "nested" / f".runs.csv.{dead_pid()}-abc.tmp",  # another study's
                   out / f".notes.txt.{dead_pid()}-abc.tmp",  # a file the study never writes
                   out / f".runs.csv.{sleeper.pid}-abc.tmp"]  # a writer still running
        for path in foreign:
            path.write_text("keep me")
        killed = [out / f".runs.csv.{dead_pid()}-k1ll3d.tmp",
                  out / "runs" / MODEL / f".round_000.json.{dead_pid()}-k1ll3d.tmp"]
        for path in killed:
            path.write_text("{")
        assert run_main(out, "--models", MODEL, "--rounds", "1", "--resume") == 0
    finally:
        sleeper.kill()
    assert all(p.read_text() == "keep me" for p in foreign)
    assert not any(p.exists() for p in killed), "a killed writer's temporary was left"


# ----- one writer per --out ---------------------------------------------------------------

HOLD = """
import sys, time
from experiments import outdir
with outdir.claim(sys.argv[1], {}):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_writer_is_refused_at_once_naming_the_holder(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert run_main(out, "--models", MODEL, "--rounds", "1") == 0
    before = snapshot(out)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        no_training(monkeypatch)
        started = time.monotonic()
        assert run_main(out, "--models", MODEL, "--rounds", "2", "--resume") == 2
        assert time.monotonic() - started < 10  # not waiting for the holder (60 s)
        line = one_error_line(capsys.readouterr().err)
        assert f"in use by another process (PID {holder.pid})" in line
        assert grid.main(["--model", MODEL, "--folds", "2", "--out", str(out), *TINY]) == 2
        assert f"(PID {holder.pid})" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    assert {k: v for k, v in snapshot(out).items() if k != ".lock"} == \
        {k: v for k, v in before.items() if k != ".lock"}


def test_two_concurrent_resumes_never_lose_a_finished_run(tmp_path):
    """Two --resume runs split the models by hand: each run a process reports finished
    (exit 0) is in runs.csv; a writer that finds --out busy is refused, not merged."""
    out = tmp_path / "out"
    assert run_main(out, "--models", MODEL, "--rounds", "1") == 0
    models = ["r000_shared_net1", "r000_benchmark_leq"]
    processes = [subprocess.Popen(
        [sys.executable, "-m", "experiments.siamese_aux", "--out", str(out), *TINY,
         "--models", model, "--rounds", "4", "--resume"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for model in models]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in processes]
    recorded = {(r["model"], int(r["round"])) for r in read_rows(out)}
    for model, (code, err) in zip(models, outcomes):
        assert code in (0, 2), err
        if code == 0:
            assert {(model, r) for r in range(4)} <= recorded, (model, recorded)
        else:
            assert "in use by another process" in err
    assert any(code == 0 for code, _ in outcomes)


# ----- --resume trusts nothing it has not checked -------------------------------------------

def _edit_rows(out, change) -> None:
    path = out / "runs.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(change(lines)))


def _set_field(field: str, value: str, line: int = 1):
    def change(lines):
        header = lines[0].rstrip("\n").split(",")
        cells = next(csv.reader([lines[line]]))
        cells[header.index(field)] = value
        lines[line] = ",".join(cells) + "\n"
        return lines
    return change


def _rewrite_json(relative: str, change):
    def damage(out):
        path = out / relative
        value = json.loads(path.read_text())
        change(value)
        path.write_text(json.dumps(value))
    return damage


DAMAGES = {
    "duplicate row": (lambda out: _edit_rows(out, lambda ls: ls + [ls[1]]),
                      "runs.csv line 4: repeats model r000_shared_net1 round 0 of line 2"),
    "round out of range": (lambda out: _edit_rows(out, _set_field("round", "7")),
                           "runs.csv line 2: round 7, expected 0 to 1"),
    "negative round": (lambda out: _edit_rows(out, _set_field("round", "-1")),
                       "runs.csv line 2: round -1"),
    "seed mismatch": (lambda out: _edit_rows(out, _set_field("seed", "5")),
                      "runs.csv line 2: seed 5, expected 0"),
    "accuracy above 1": (lambda out: _edit_rows(out, _set_field("test_accuracy", "7.5")),
                         "runs.csv line 2: test_accuracy 7.5"),
    "NaN accuracy": (lambda out: _edit_rows(out, _set_field("train_accuracy", "nan", 2)),
                     "runs.csv line 3: train_accuracy nan"),
    "extra field": (lambda out: _edit_rows(out, lambda ls: ls[:1] + [ls[1].rstrip("\n") +
                                                                     ",extra\n"] + ls[2:]),
                    "runs.csv line 2: 13 fields, expected 12"),
    "missing field": (lambda out: _edit_rows(out, lambda ls: ls[:1] + [
        ls[1].rsplit(",", 2)[0] + "\n"] + ls[2:]), "runs.csv line 2: 10 fields, expected 12"),
    "unknown model": (lambda out: _edit_rows(out, _set_field("model", "nope")),
                      "runs.csv line 2: unknown model 'nope'"),
    "unknown status": (lambda out: _edit_rows(out, _set_field("status", "maybe")),
                       "runs.csv line 2: status 'maybe'"),
    "wrong parameter count": (lambda out: _edit_rows(out, _set_field("parameters", "3")),
                              "runs.csv line 2: parameters 3, but r000_shared_net1 has"),
    "missing history": (lambda out: (out / "runs" / MODEL / "round_001.json").unlink(),
                        "round_001.json (of"),
    "torn history": (lambda out: (out / "runs" / MODEL / "round_000.json").write_text('{"hi'),
                     "round_000.json (of"),
    "edited predictions": (_rewrite_json(f"runs/{MODEL}/round_000.json", lambda d: d["test"]
                                         .update(predictions=[1 - p for p in
                                                              d["test"]["predictions"]])),
                           "its predictions give test accuracy"),
    "edited classes": (_rewrite_json(f"runs/{MODEL}/round_000.json", lambda d: d["test"]
                                     .update(classes=[[b, a] for a, b in d["test"]["classes"]])),
                       "its digit classes do not give its targets"),
    "score out of range": (_rewrite_json(f"runs/{MODEL}/round_001.json", lambda d: d["test"]
                                         ["scores"].__setitem__(3, 1.5)),
                           "scores must be finite numbers from 0 to 1"),
    "short history": (_rewrite_json(f"runs/{MODEL}/round_001.json",
                                    lambda d: d["history"]["test_loss"].clear()),
                      "history lengths"),
    "missing checkpoint": (lambda out: (out / "best" / f"{MODEL}.npz").unlink(),
                           "the best checkpoint of r000_shared_net1 cannot be loaded"),
    "corrupt checkpoint": (lambda out: (out / "best" / f"{MODEL}.npz").write_bytes(b"PK\x03"),
                           "the best checkpoint of r000_shared_net1 cannot be loaded"),
    "config not an object": (lambda out: (out / "config.json").write_text("[1, 2]"),
                             "is not a study config"),
    "config rounds": (_rewrite_json("config.json", lambda c: c.update(rounds="x")),
                      "config.json: rounds 'x', expected an integer"),
}


@pytest.mark.parametrize("damage,message", DAMAGES.values(), ids=DAMAGES.keys())
def test_resume_refuses_a_damaged_study_before_training_anything(tmp_path, capsys, monkeypatch,
                                                                  damage, message):
    out = tmp_path / "out"
    assert run_main(out, "--models", MODEL, "--rounds", "2") == 0
    damage(out)
    before = snapshot(out)
    capsys.readouterr()
    no_training(monkeypatch)
    assert run_main(out, "--models", MODEL, "--rounds", "3", "--resume") == 2
    line = one_error_line(capsys.readouterr().err)
    assert message in line, line
    assert snapshot(out) == before, "a refused resume changed --out"


def test_a_grid_resume_refuses_damaged_cells(tmp_path, capsys, monkeypatch):
    argv = ["--model", MODEL, "--lrs", "0.001,0.002", "--folds", "2", "--out",
            str(tmp_path), *TINY]
    assert grid.main(argv) == 0
    path = tmp_path / "grid.json"
    stored = json.loads(path.read_text())
    stored["cells"].append(dict(stored["cells"][0]))
    path.write_text(json.dumps(stored))
    no_training(monkeypatch)
    capsys.readouterr()
    assert grid.main(argv + ["--resume"]) == 2
    assert "cell 2: lr 0.001, aux weight" in one_error_line(capsys.readouterr().err)


# ----- bounded --rounds, lazy tasks ----------------------------------------------------------

def test_rounds_has_an_upper_bound(capsys):
    with pytest.raises(SystemExit) as exit_info:
        siamese_aux.parse_args(["--rounds", "10001"])
    assert exit_info.value.code == 2
    assert "at most 10000 rounds" in capsys.readouterr().err


class _Counting:
    """A runner that takes every task and trains none."""

    def run(self, function, tasks, shared):
        self.count = sum(1 for _ in tasks)
        return iter(())


def test_the_tasks_take_no_memory_that_grows_with_the_rounds(tmp_path):
    args = siamese_aux.parse_args(["--out", str(tmp_path), *TINY, "--rounds", "10000",
                                   "--models", "r000_shared_net1,r000_benchmark_leq"])
    store = results.StudyStore(tmp_path, siamese_aux.study_config(args))
    runner = _Counting()
    tracemalloc.start()
    try:
        siamese_aux.run_study(args, store, runner, None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert runner.count == 20_000
    assert peak < 2_000_000, f"{peak} bytes for 20,000 tasks"


# ----- strict JSON ----------------------------------------------------------------------------

def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                            "ignore:invalid value encountered:RuntimeWarning")
def test_the_summary_is_strict_json_with_null_for_missing_numbers(tmp_path):
    assert siamese_aux.main(["--out", str(tmp_path), *TINY, "--models", MODEL, "--rounds",
                             "1", "--optimizer", "sgd", "--lr", "1e12"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text(),
                         parse_constant=_refuse_constant)[MODEL]
    assert summary["diverged"] == 1 and summary["test_accuracy_mean"] is None
    assert summary["seconds_mean"] is None


# ----- expected failures: one line, a documented status, --out as it was ---------------------

def test_an_out_that_is_a_file_is_one_error_line(tmp_path, capsys):
    path = tmp_path / "out"
    path.write_text("mine")
    assert run_main(path, "--models", MODEL, "--rounds", "1") == 2
    assert "exists and is not a directory" in one_error_line(capsys.readouterr().err)
    assert path.read_text() == "mine"


def test_an_unwritable_out_is_one_error_line(tmp_path, capsys, monkeypatch):
    def refused(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", path)
    monkeypatch.setattr(os, "makedirs", refused)
    out = tmp_path / "out"
    assert run_main(out, "--models", MODEL, "--rounds", "1") == 2
    assert f"{out}: Permission denied" in one_error_line(capsys.readouterr().err)
    assert not out.exists()


@pytest.mark.parametrize("fail_on", ["config.json", "round_000.json", f"{MODEL}.npz"])
def test_a_full_disk_before_the_first_run_is_recorded_leaves_out_as_it_was(
        tmp_path, capsys, monkeypatch, fail_on):
    real = results.atomic_write
    from minitorch_pairs import serialization

    def full(path, *args, **kwargs):
        if os.path.basename(path) == fail_on:
            raise OSError(errno.ENOSPC, "No space left on device", os.fspath(path))
        return real(path, *args, **kwargs)
    monkeypatch.setattr(results, "atomic_write", full)
    monkeypatch.setattr(serialization, "atomic_write", full)
    out = tmp_path / "out"
    assert run_main(out, "--models", MODEL, "--rounds", "1") == 2
    assert "No space left on device" in one_error_line(capsys.readouterr().err)
    assert not out.exists(), sorted(out.rglob("*"))
    monkeypatch.undo()
    assert run_main(out, "--models", MODEL, "--rounds", "1") == 0  # the rerun is not blocked


def test_a_full_disk_later_keeps_the_recorded_runs(tmp_path, capsys, monkeypatch):
    real = results.atomic_write

    def full(path, *args, **kwargs):
        if os.path.basename(path) == "round_001.json":
            raise OSError(errno.ENOSPC, "No space left on device", os.fspath(path))
        return real(path, *args, **kwargs)
    monkeypatch.setattr(results, "atomic_write", full)
    out = tmp_path / "out"
    assert run_main(out, "--models", MODEL, "--rounds", "3") == 2
    assert "No space left on device" in one_error_line(capsys.readouterr().err)
    assert [r["round"] for r in read_rows(out)] == ["0"]
    monkeypatch.undo()
    assert run_main(out, "--models", MODEL, "--rounds", "3", "--resume") == 0
    assert [r["round"] for r in read_rows(out)] == ["0", "1", "2"]


def test_an_unreachable_scheduler_fails_fast_and_leaves_no_out(tmp_path, capsys):
    import socket
    with socket.socket() as probe:  # a port on which nothing listens
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    out = tmp_path / "out"
    started = time.monotonic()
    assert siamese_aux.main(["--out", str(out), *TINY[:-2], "--models", MODEL, "--rounds",
                             "1", "--scheduler", address]) == 2
    assert time.monotonic() - started < 15
    assert address in one_error_line(capsys.readouterr().err)
    assert not out.exists()


def test_grid_values_are_deduplicated_and_folds_checked_before_writing(tmp_path, capsys):
    args = grid.parse_args(["--model", MODEL, "--lrs", "0.001,0.001,1e-3,0.002",
                            "--aux-weights", "0.5,0.5", "--folds", "2", "--out",
                            str(tmp_path)])
    assert (args.lrs, args.aux_weights) == ([0.001, 0.002], [0.5])
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        grid.main(["--model", MODEL, "--folds", "50", "--out", str(out), *TINY])
    assert exit_info.value.code == 2
    assert "--folds: expected 2 to --n-pairs (40) folds, got 50" in capsys.readouterr().err
    assert not out.exists()


# ----- Ctrl-C -------------------------------------------------------------------------------

@pytest.mark.parametrize("workers", ["0", "2"])
def test_ctrl_c_ends_with_one_line_exit_130_and_a_resumable_study(tmp_path, workers):
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "experiments.siamese_aux", "--out", str(out),
            *TINY[:-2], "--workers", workers, "--models", MODEL, "--rounds", "40"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    deadline = time.monotonic() + 600  # a cold numba cache on a busy machine is slow
    while not ((out / "runs.csv").exists() and read_rows(out)):
        assert process.poll() is None and time.monotonic() < deadline, "no run recorded"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends: the whole group
    code, err = process.wait(timeout=60), process.stderr.read()
    assert code == 130, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), err
    recorded = read_rows(out)
    assert 1 <= len(recorded) < 40
    subprocess.run([*argv[:-2], "--rounds", "3", "--resume"], check=True,
                   capture_output=True, timeout=300)
    resumed = read_rows(out)
    assert all(row in resumed for row in recorded), "a recorded run was lost or redone"
    assert {0, 1, 2} <= {int(r["round"]) for r in resumed}  # (workers finish out of order)
    assert all(math.isfinite(float(r["test_accuracy"])) for r in resumed)


def test_an_interrupt_right_after_a_run_is_recorded_keeps_the_run(tmp_path, monkeypatch):
    """Ctrl-C may land between any two lines: once runs.csv holds the row that marks a run
    done, the output directory's claim keeps it (the files are not removed as unfinished)."""
    from experiments import outdir
    out = tmp_path / "out"
    write_rows = results.StudyStore._write_rows

    def write_then_interrupt(store):
        write_rows(store)
        if store.rows:
            raise KeyboardInterrupt
    monkeypatch.setattr(results.StudyStore, "_write_rows", write_then_interrupt)
    row = dict(model=MODEL, round=0, seed=0, status="ok", test_accuracy=0.8,
               train_accuracy=0.9, test_loss=0.5, train_loss=0.4, epochs=1, seconds=1.0,
               parameters=1, error="")
    with pytest.raises(KeyboardInterrupt):
        with outdir.claim(out, results.StudyStore.owned_files(out)) as held:
            results.StudyStore(out, {"x": 1}, claim=held).record(row, {"round": 0})
    assert [(r["model"], r["round"]) for r in read_rows(out)] == [(MODEL, "0")]
    assert (out / "runs" / MODEL / "round_000.json").exists()


@pytest.mark.parametrize("entry,argv", [(siamese_aux, []), (grid, ["--model", MODEL])])
def test_an_empty_out_is_a_usage_error(entry, argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        entry.parse_args([*argv, "--out", ""])
    assert exit_info.value.code == 2
    assert "--out: expected a directory path, got ''" in capsys.readouterr().err


def test_a_study_whose_scores_overshoot_1_by_rounding_still_resumes(tmp_path):
    """Digit-decision scores written before they were clamped exceed 1 by float32 rounding
    (1 + 1e-7); resume accepts them, and still refuses a score of 1.5 (other test)."""
    out = tmp_path / "study"
    assert siamese_aux.main(["--out", str(out), "--models", "r000_benchmark_leq", "--rounds",
                             "1", *TINY]) == 0
    path = out / "runs" / "r000_benchmark_leq" / "round_000.json"
    details = json.loads(path.read_text())
    details["test"]["scores"][0] = 1.0000001
    path.write_text(json.dumps(details))
    assert siamese_aux.main(["--out", str(out), "--models", "r000_benchmark_leq", "--rounds",
                             "2", "--resume", *TINY]) == 0
