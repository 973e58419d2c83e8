"""The reports' own numbers for each model, as STUDY.md gives them: test accuracy in percent,
its spread over the report's repetitions where printed, and report 001's mean epochs."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Published:
    accuracy: float  # test accuracy, percent
    std: float | None = None  # over the report's rounds, percent; None where not printed
    epochs: float | None = None  # report 001: mean epochs to its stopping rule
    note: str = ""


PUBLISHED = {
    "r000_naive_net1": Published(73.90, 4.01),
    "r000_shared_net1": Published(80.44, 1.82),
    "r000_shared_net1_aux": Published(86.40, 1.50),
    "r000_shared_net2_aux": Published(90.57, 0.98),
    "r000_benchmark_leq": Published(96.84, 0.84),
    # Table III prints error rates; accuracy = 1 - error, its "std error" column in points
    "r001_cnn_basic": Published(81.92, 0.7786, 21.4),
    "r001_cnn_ws": Published(87.14, 0.5168, 23.0),
    "r001_cnn_ws_aux": Published(89.84, 0.7763, 44.5),
    "r001_fc": Published(74.17, 1.721885, 51.6),
    "r001_fc_aux": Published(78.65, 9.2483, 95.5),
    # report 002 prints means only (0.8 and 0.9 with one decimal)
    "r002_mlp": Published(81.0),
    "r002_cnn": Published(80.0),
    "r002_cnn_ws": Published(85.0),
    "r002_cnn_ws_aux": Published(90.0),
    "r002_transfer": Published(94.0, note="94.5 in the text"),
    "r002_digit_classifier": Published(96.0),
    # report 003 gives one number; the others were only in its lost figures
    "r003_cnn_ws_aux": Published(91.36, 0.6275),
    "r004_baseline_cnn": Published(83.23, 1.17),
    "r004_siamese2": Published(91.50, 1.65),
    "r004_siamese10": Published(97.23, 0.57),
}


def published(model: str) -> Published | None:
    """The report's number for `model`, or None where the report printed none."""
    return PUBLISHED.get(model)


def compare(ours_mean: float | None, ours_std: float | None, model: str) -> dict:
    """Ours (percent) against the report's number: the difference in units of the larger of
    the two stds (the report's where it printed one), and the verdict: "reproduces" within 2
    of those units, "does not" beyond, "no published number", "no result" (nothing of ours)
    or "no spread" (neither side has a std to measure the difference by)."""
    theirs = published(model)
    result = {"published": theirs, "difference": None, "in_stds": None}
    if theirs is None:
        return {**result, "verdict": "no published number"}
    if ours_mean is None:
        return {**result, "verdict": "no result"}
    difference = ours_mean - theirs.accuracy
    spreads = [s for s in (ours_std, theirs.std) if s is not None and s > 0]
    if not spreads:
        return {**result, "difference": difference, "verdict": "no spread"}
    in_stds = difference / max(spreads)
    return {**result, "difference": difference, "in_stds": in_stds,
            "verdict": "reproduces" if abs(in_stds) <= 2 else "does not"}
