"""What `--resume` checks before it trusts a study's files: every row of runs.csv against
config.json, and every file a finished run left (its history and predictions, the model's
best checkpoint). A problem is a StudyFilesError naming the file, the line and what is
wrong, raised before anything is trained or written."""
from __future__ import annotations

import functools
import math
import os

import numpy as np

import minitorch_pairs as mt

from .cli import MAX_ROUNDS
from .models import count_parameters, get_spec, is_model
from .protocols import protocol_of
from .results import StudyFilesError, read_json, read_runs
from .training import HISTORY_KEYS

ROUNDING = 1e-6  # what a float32 softmax's rounding may put a probability beyond [0, 1]
_FIX = "correct or delete that line (its run is then trained again), or use another --out"


def stored_rounds(stored: dict, path: str) -> int:
    rounds = stored.get("rounds")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or \
            not 1 <= rounds <= MAX_ROUNDS:
        raise StudyFilesError(f"resume: {path}: rounds {rounds!r}, expected an integer "
                              f"from 1 to {MAX_ROUNDS}")
    return rounds


def checked_rows(store, path: str, rounds: int) -> list:
    """The rows of `path` (runs.csv of `store`, a study of `rounds` rounds so far), each
    checked, with the files they need."""
    rows = read_runs(path) if os.path.exists(path) else []
    seen = {}
    for row in rows:
        problem = _row_problem(row, store.config["seed"], rounds,
                               store.config.get("protocol", "common"))
        if problem is None and (row["model"], row["round"]) in seen:
            problem = f"repeats model {row['model']} round {row['round']} of line " \
                      f"{seen[(row['model'], row['round'])]}"
        if problem is not None:
            raise StudyFilesError(f"resume: {path} line {row['line']}: {problem}; {_FIX}")
        seen[(row["model"], row["round"])] = row["line"]
    for row in rows:
        if row["status"] == "ok":
            _check_details(store, row, path)
    for model in sorted({row["model"] for row in rows if row["status"] == "ok"}):
        _check_best(store, model)
    return rows


@functools.cache
def _fresh(model: str):
    """A freshly built `model`, for its parameter count and state dict (once per model)."""
    return get_spec(model).build()


def _row_problem(row: dict, seed: int, rounds: int, protocol: str) -> str | None:
    model = row["model"]
    if not is_model(model):
        return f"unknown model {model!r}"
    if not 0 <= row["round"] < rounds:
        return f"round {row['round']}, expected 0 to {rounds - 1}"
    expected = protocol_of(protocol, model).seed(seed, row["round"])
    if row["seed"] != expected:
        return f"seed {row['seed']}, expected {expected} (the study's seed {seed}, round " \
               f"{row['round']}, protocol {protocol})"
    if row["epochs"] < 1:
        return f"epochs {row['epochs']}, expected at least 1"
    parameters = count_parameters(_fresh(model))
    if row["parameters"] != parameters:
        return f"parameters {row['parameters']}, but {model} has {parameters}"
    if row["status"] == "diverged":
        return None if row["error"] else "a diverged run without its reason (error)"
    if row["error"]:
        return f"status ok with an error {row['error']!r:.60}"
    for key in ("test_accuracy", "train_accuracy"):
        if not 0 <= row[key] <= 1:  # NaN fails too
            return f"{key} {row[key]}, expected a number from 0 to 1"
    for key in ("test_loss", "train_loss", "seconds"):
        if not (math.isfinite(row[key]) and row[key] >= 0):
            return f"{key} {row[key]}, expected a finite number >= 0"
    return None


def _check_details(store, row: dict, path: str) -> None:
    """The run's history and test predictions exist and agree with its row."""
    details_path = store.run_path(row["model"], row["round"])
    where = f"resume: {details_path} (of {path} line {row['line']})"
    details = read_json(details_path, where)
    try:
        history, test = details["history"], details["test"]
        lengths = {key: len(history[key]) for key in HISTORY_KEYS}
        target, predictions, scores = (np.asarray(test[key], dtype=float)
                                       for key in ("target", "predictions", "scores"))
        classes = np.asarray(test["classes"], dtype=float)
    except (KeyError, TypeError, ValueError) as error:
        raise StudyFilesError(f"{where}: not the details of a finished run ({error!r})") \
            from None
    if set(lengths.values()) != {row["epochs"]}:
        raise StudyFilesError(f"{where}: history lengths {lengths}, expected {row['epochs']} "
                              "epochs each")
    n_pairs = protocol_of(store.config.get("protocol", "common"), row["model"]).test_pairs(
        store.config["n_pairs"])
    if any(a.shape != (n_pairs,) for a in (target, predictions, scores)) or \
            classes.shape != (n_pairs, 2):
        raise StudyFilesError(f"{where}: test predictions of shapes {target.shape}, "
                              f"{predictions.shape}, {scores.shape}, classes {classes.shape}; "
                              f"expected {n_pairs} pairs")
    if not (np.isin(classes, np.arange(10)).all() and np.isin(predictions, (0, 1)).all()
            and np.array_equal(target, classes[:, 0] <= classes[:, 1])):
        raise StudyFilesError(f"{where}: its digit classes do not give its targets (target = "
                              "first class <= second), or a class or prediction is invalid")
    # NaN fails too; studies written before scores were clamped overshoot 1 by float32 rounding
    if not ((scores >= -ROUNDING) & (scores <= 1 + ROUNDING)).all():
        raise StudyFilesError(f"{where}: its scores must be finite numbers from 0 to 1")
    accuracy = float((predictions == target).mean())
    if abs(accuracy - row["test_accuracy"]) > 1e-9:
        raise StudyFilesError(f"{where}: its predictions give test accuracy {accuracy}, the "
                              f"row says {row['test_accuracy']}")
    last = {key: history[key][-1] for key in HISTORY_KEYS}
    if any(last[key] != row[key] for key in HISTORY_KEYS):  # both written from one result
        raise StudyFilesError(f"{where}: the last epoch's {last} differ from the row's "
                              f"{ {key: row[key] for key in HISTORY_KEYS} }")


def _check_best(store, model: str) -> None:
    """best/<model>.npz loads (mt.load's checks) and fits the model's state dict."""
    path = store.best_path(model)
    try:
        state = mt.load(path)
    except (OSError, ValueError) as error:
        raise StudyFilesError(f"resume: {path}: the best checkpoint of {model} cannot be "
                              f"loaded ({error}); restore it or use another --out") from None
    expected = {k: tuple(v.shape) for k, v in _fresh(model).state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if found != expected:
        raise StudyFilesError(f"resume: {path}: entries {sorted(found)} do not fit {model}'s "
                              f"state dict; restore it or use another --out")
