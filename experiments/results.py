"""The files of one study in its output directory, written so that nothing is lost:

    config.json            the settings that determine the numbers (checked on --resume)
    runs.csv               one row per finished run (model, round, seed, accuracies, ...)
    runs/<model>/round_<r>.json   per-epoch history and the test predictions of that run
    best/<model>.npz       state dict of the model's best round (highest test accuracy)
    summary.json           mean ± std per model (diverged runs counted, not averaged)

Every file is replaced atomically (`minitorch_pairs.files.atomic_write`), so a study killed
at any moment leaves whole files, and `--resume` continues from the finished runs, once
`experiments.resume` has checked every file it relies on. JSON files are strict JSON: a
missing number is null, never NaN.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os

import numpy as np

import minitorch_pairs as mt
from minitorch_pairs.files import atomic_write

from .models import MODELS, is_model

RUN_FIELDS = ("model", "round", "seed", "status", "test_accuracy", "train_accuracy",
              "test_loss", "train_loss", "epochs", "seconds", "parameters", "error")
FORMAT = "minitorch_pairs.study/1"


class StudyFilesError(ValueError):
    """The output directory holds files this study cannot continue from."""


def write_json(path, value) -> None:
    with atomic_write(path) as file:
        json.dump(value, file, indent=2, allow_nan=False)
        file.write("\n")


def read_json(path, what: str):
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StudyFilesError(f"{what}: cannot read {path} ({error}); it is torn or not "
                              "written by this study: move it away or use another --out") \
            from None


class StudyStore:
    """Reads and writes one study's directory (claimed by `experiments.outdir.claim`).
    `resume=False` refuses a directory that already holds results unless `overwrite`;
    `resume=True` requires the same config and checks the stored files. Nothing is written
    before the first run is recorded (or the summary written), so a study that stops
    before that leaves the directory as it was."""

    def __init__(self, out, config: dict, resume: bool = False, overwrite: bool = False,
                 claim=None):
        from . import resume as checks
        self.out = os.fspath(out)
        self.config = {"format": FORMAT, **config}
        self.rows = []
        self._claim = claim
        self._started = False
        config_path = self._path("config.json")
        if resume and (os.path.exists(config_path) or os.path.exists(self._path("runs.csv"))):
            stored = read_json(config_path, "resume")
            self._check_config(stored)
            rounds = checks.stored_rounds(stored, config_path)  # what the rows were made for
            self.rows = checks.checked_rows(self, self._path("runs.csv"), rounds)
            # the rows of rounds beyond this run's --rounds stay valid in later resumes
            self.config["rounds"] = max(self.config["rounds"], rounds)
        elif not overwrite and self._holds_runs():
            raise StudyFilesError(f"results already exist in {self.out}: pass --resume to "
                                  "continue them, --overwrite to start again, or another --out")

    @staticmethod
    def owned_files(out) -> dict:
        """The names this study writes, per folder of `out` (for `outdir.claim`)."""
        owned = {"": {"config.json", "runs.csv", "summary.json", "report.html",
                      "report.md"}.__contains__,
                 "best": lambda name: name.endswith(".npz") and is_model(name[:-4]),
                 "figures": lambda name: name.endswith(".png")}
        for model in MODELS:
            owned[os.path.join("runs", model)] = lambda name: name.startswith("round_") \
                and name.endswith(".json")
        return owned

    def _holds_runs(self) -> bool:
        """runs.csv records a run, or cannot be read (so may): results not to overwrite."""
        try:
            return bool(read_runs(self._path("runs.csv")))
        except StudyFilesError:
            return os.path.exists(self._path("runs.csv"))

    def _new(self, path: str) -> str:
        """`path`, noted as new to the claim if it does not exist yet."""
        if self._claim is not None:
            self._claim.new(path)
        return path

    def _start_writing(self) -> None:
        """The first write: the config, and the rows (so far none, unless resumed)."""
        if not self._started:
            os.makedirs(self._new(self.out), exist_ok=True)
            write_json(self._new(self._path("config.json")), self.config)
            self._new(self._path("runs.csv"))
            self._write_rows()
            self._started = True

    def _path(self, *parts) -> str:
        return os.path.join(self.out, *parts)

    def _check_config(self, stored) -> None:
        found = stored.get("format") if isinstance(stored, dict) else stored
        if found != FORMAT:
            raise StudyFilesError(f"resume: {self._path('config.json')} is not a study "
                                  f"config of format {FORMAT} (got {found!r})")
        ignored = ("rounds", "models", "plots", "format")  # may change between runs
        changed = sorted(k for k in set(stored) | set(self.config) if k not in ignored and
                         stored.get(k) != self.config.get(k))
        if changed:
            detail = ", ".join(f"{k}: stored {stored.get(k)!r}, now {self.config.get(k)!r}"
                               for k in changed)
            raise StudyFilesError(f"resume: the settings differ from the stored study "
                                  f"({detail}); rerun with the same settings or another --out")

    def _write_rows(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=RUN_FIELDS, lineterminator="\n",
                                extrasaction="ignore")  # a read row's "line"
        writer.writeheader()
        for row in sorted(self.rows, key=lambda r: (r["model"], r["round"])):
            writer.writerow(row)
        with atomic_write(self._path("runs.csv")) as file:
            file.write(buffer.getvalue())

    def finished(self) -> set:
        """(model, round) of every recorded run, diverged ones included."""
        return {(row["model"], row["round"]) for row in self.rows}

    def record(self, row: dict, details: dict | None = None, state_dict=None) -> None:
        """Add one finished run: its details first, then the row that marks it done."""
        missing = set(RUN_FIELDS) - set(row)
        assert not missing, f"run row lacks {sorted(missing)}"
        self._start_writing()
        if details is not None:
            self._new(self._path("runs"))
            os.makedirs(self._new(self._path("runs", row["model"])), exist_ok=True)
            write_json(self._new(self.run_path(row["model"], row["round"])), details)
        if state_dict is not None and self._is_best(row):
            os.makedirs(self._new(self._path("best")), exist_ok=True)
            mt.save(state_dict, self._new(self.best_path(row["model"])))
        self.rows = [r for r in self.rows if (r["model"], r["round"]) !=
                     (row["model"], row["round"])] + [row]
        if self._claim is not None:
            # before the row: an interrupt between the two must not undo a recorded run
            self._claim.keep()
        self._write_rows()

    def _is_best(self, row: dict) -> bool:
        """Highest test accuracy so far; a tie goes to the earlier round, so the choice does
        not depend on the order in which distributed runs arrive."""
        if row["status"] != "ok":
            return False
        rank = (row["test_accuracy"], -row["round"])
        return all(rank > (r["test_accuracy"], -r["round"]) for r in self.rows
                   if r["model"] == row["model"] and r["status"] == "ok"
                   and r["round"] != row["round"])

    def run_path(self, model: str, round_: int) -> str:
        return self._path("runs", model, f"round_{round_:03d}.json")

    def best_path(self, model: str) -> str:
        return self._path("best", f"{model}.npz")

    def run_details(self, model: str, round_: int) -> dict:
        return read_json(self.run_path(model, round_), f"run {model} round {round_}")

    def write_summary(self, summary: dict) -> None:
        self._start_writing()
        write_json(self._new(self._path("summary.json")), summary)


def read_runs(path, what: str = "resume") -> list:
    """The rows of a study's runs.csv, parsed, each with its line number under "line"; a
    StudyFilesError, its message starting with `what`, names a torn or foreign file and the
    line."""
    try:
        with open(path, encoding="utf-8", newline="") as file:
            reader = csv.DictReader(file)
            if tuple(reader.fieldnames or ()) != RUN_FIELDS:
                raise StudyFilesError(f"{what}: {path} has columns {reader.fieldnames}, "
                                      f"expected {list(RUN_FIELDS)}")
            return [_parse_row(row, f"{what}: {path} line {reader.line_num}", reader.line_num)
                    for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise StudyFilesError(f"{what}: cannot read {path} ({error})") from None


def _parse_row(row: dict, where: str, line: int) -> dict:
    if None in row or None in row.values():  # DictReader's marks of extra or missing fields
        count = len(RUN_FIELDS) + len(row.get(None, ())) - list(row.values()).count(None)
        raise StudyFilesError(f"{where}: {count} fields, expected {len(RUN_FIELDS)}")
    try:
        parsed = dict(row, line=line)
        for key in ("round", "seed", "epochs", "parameters"):
            parsed[key] = int(row[key])
        for key in ("test_accuracy", "train_accuracy", "test_loss", "train_loss", "seconds"):
            parsed[key] = float(row[key])
    except ValueError as error:
        raise StudyFilesError(f"{where}: malformed row ({error})") from None
    if parsed["status"] not in ("ok", "diverged"):
        raise StudyFilesError(f"{where}: status {row['status']!r}, expected 'ok' or "
                              "'diverged'")
    return parsed


def summarise(rows: list, models: list, rounds: int | dict | None = None) -> dict:
    """Per model: rounds, diverged count, test/train accuracy mean, sample std (ddof=1) and
    the test accuracy's standard error (std / sqrt(rounds)) over the finished, non-diverged
    rounds (the first `rounds`, or `rounds[model]`, if given), parameters, mean epochs and
    seconds per run; None where there is no number (JSON's null)."""
    summary = {}
    for model in models:
        limit = rounds.get(model) if isinstance(rounds, dict) else rounds
        mine = [r for r in rows if r["model"] == model and (limit is None or
                                                             r["round"] < limit)]
        ok = [r for r in mine if r["status"] == "ok"]
        test = np.array([r["test_accuracy"] for r in ok])
        train = np.array([r["train_accuracy"] for r in ok])
        summary[model] = {
            "rounds": len(mine), "diverged": len(mine) - len(ok),
            "test_accuracy_mean": _mean(test), "test_accuracy_std": _std(test),
            "test_accuracy_sem": None if test.size < 2 else _std(test) / math.sqrt(test.size),
            "train_accuracy_mean": _mean(train), "train_accuracy_std": _std(train),
            "parameters": mine[0]["parameters"] if mine else None,
            "epochs_mean": _mean(np.array([r["epochs"] for r in ok])),
            "seconds_mean": _mean(np.array([r["seconds"] for r in ok])),
        }
    return summary


def percent(mean, std=None) -> str:
    """'mean ± std' in percent; 'n/a' without a finite mean, the mean alone without a std."""
    if mean is None or not math.isfinite(mean):
        return "n/a"
    if std is None or not math.isfinite(std):
        return f"{100 * mean:.2f}"
    return f"{100 * mean:.2f} ± {100 * std:.2f}"


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


def _std(values: np.ndarray) -> float | None:
    return float(values.std(ddof=1)) if values.size > 1 else None
