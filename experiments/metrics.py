"""Ranking metrics and per-digit-pair error rates of the study's predictions, with numpy.

ROC, precision-recall, AUC and average precision follow scikit-learn's conventions: one
threshold per distinct score value, so tied scores move the curve in one diagonal step.
Bad input raises ValueError naming the function, what was expected and what came.
"""
from __future__ import annotations

import numpy as np

from .checks import binary_target_and_score, describe, finite, float_array, input_error



def _counts_at_thresholds(target: np.ndarray, score: np.ndarray):
    """True and false positive counts when predicting 1 for score >= t, for each distinct
    score t from the highest down. Tied scores cross a threshold together, which is why the
    cut points are the ends of runs of equal scores rather than every sample."""
    order = np.argsort(-score, kind="stable")
    sorted_score = score[order]
    group_ends = np.r_[np.flatnonzero(np.diff(sorted_score)), sorted_score.size - 1]
    true_positives = np.cumsum(target[order])[group_ends]
    false_positives = group_ends + 1 - true_positives
    return true_positives.astype(float), false_positives.astype(float)


def roc_curve(target, score) -> tuple[np.ndarray, np.ndarray]:
    """The ROC curve of scores `score` for 0/1 labels `target`: (false positive rate, true
    positive rate), starting at (0, 0) and ending at (1, 1), one point per distinct score.
    Needs both classes present."""
    target, score = binary_target_and_score("roc_curve", target, score)
    true_positives, false_positives = _counts_at_thresholds(target, score)
    fpr = np.r_[0.0, false_positives] / false_positives[-1]
    tpr = np.r_[0.0, true_positives] / true_positives[-1]
    return fpr, tpr


def auc(x, y) -> float:
    """The area under the curve through the points (x, y) by the trapezoidal rule; x must be
    monotonic (increasing or decreasing), as for a ROC curve."""
    x = finite("auc", "x", float_array("auc", "x", x, ndim=1))
    y = finite("auc", "y", float_array("auc", "y", y, ndim=1))
    if x.shape != y.shape or x.size < 2:
        raise input_error("auc", "x and y of one length, at least 2",
                          f"{x.size} x values and {y.size} y values")
    steps = np.diff(x)
    if np.all(steps >= 0):
        direction = 1.0
    elif np.all(steps <= 0):
        direction = -1.0  # a curve traced right to left still encloses a positive area
    else:
        raise input_error("auc", "x to be monotonic", "x going both up and down")
    return float(direction * np.sum(steps * (y[1:] + y[:-1]) / 2))


def precision_recall_curve(target, score) -> tuple[np.ndarray, np.ndarray]:
    """The precision-recall curve of `score` for 0/1 labels `target`: (precision, recall),
    one point per distinct score in order of decreasing recall, ending with the point
    (precision 1, recall 0) as scikit-learn does. Needs at least one positive."""
    target, score = binary_target_and_score("precision_recall_curve", target, score,
                                            need_negative=False)
    true_positives, false_positives = _counts_at_thresholds(target, score)
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / true_positives[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0]


def average_precision(target, score) -> float:
    """Average precision: the precision at each threshold weighted by the recall gained
    there (a step-function area, no interpolation, as scikit-learn's score)."""
    binary_target_and_score("average_precision", target, score, need_negative=False)
    precision, recall = precision_recall_curve(target, score)
    # recall decreases along the curve, hence the minus; clip the -0.0 rounding can leave
    return max(0.0, float(-np.sum(np.diff(recall) * precision[:-1])))


# ---------------------------------------------------------------------------------------------
# Per-digit-pair error rates
# ---------------------------------------------------------------------------------------------

def _checked_pairs(function: str, classes, correct):
    classes = np.asarray(classes)
    if classes.ndim != 2 or classes.shape[1] != 2 or classes.shape[0] == 0:
        raise input_error(function, "classes of shape (N, 2), N >= 1", describe(classes))
    if not np.issubdtype(classes.dtype, np.integer):
        raise input_error(function, "integer digit classes", describe(classes))
    if classes.min() < 0 or classes.max() > 9:
        raise input_error(function, "digit classes in 0..9",
                          f"values from {classes.min()} to {classes.max()}")
    correct = np.asarray(correct)
    if correct.ndim != 1 or correct.dtype != np.bool_:
        raise input_error(function, "correct to be a 1-D bool array", describe(correct))
    if correct.size != classes.shape[0]:
        raise input_error(function, "one correct flag per pair",
                          f"{classes.shape[0]} pairs and {correct.size} flags")
    return classes, correct


def pair_error_rates(classes, correct, *, caller: str = "pair_error_rates") -> np.ndarray:
    """The (10, 10) error rate per digit pair: entry [d1, d2] = errors / pairs among the
    pairs whose first digit is d1 and second d2; NaN where there are no such pairs.
    `caller` is the public function named in error messages."""
    classes, correct = _checked_pairs(caller, classes, correct)
    cell = classes[:, 0] * 10 + classes[:, 1]
    pairs = np.bincount(cell, minlength=100)
    errors = np.bincount(cell, weights=~correct, minlength=100)
    rates = np.full(100, np.nan)
    # an empty cell has no error rate: NaN keeps it apart from a cell with no errors
    np.divide(errors, pairs, out=rates, where=pairs > 0)
    return rates.reshape(10, 10)
