"""Input checks shared by the study's metrics and figures: each failure is a ValueError whose
message starts with the public function's name, then says what was expected and what came."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np



def describe(value) -> str:
    """A short account of what was passed, for error messages."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def input_error(function: str, expected: str, got) -> ValueError:
    return ValueError(f"{function}: expected {expected}, got {got}")


def float_array(function: str, name: str, values, ndim: int) -> np.ndarray:
    """`values` as a non-empty float array with `ndim` dimensions and finite entries."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise input_error(function, f"{name} to be a {ndim}-D array of numbers",
                          describe(values)) from None
    if array.ndim != ndim or array.size == 0:
        raise input_error(function, f"{name} to be a non-empty {ndim}-D array of numbers",
                          describe(array))
    return array


def finite(function: str, name: str, array: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(array)):
        raise input_error(function, f"{name} to be finite",
                          f"{int(np.sum(~np.isfinite(array)))} NaN or infinite entries")
    return array


def non_empty_mapping(function: str, name: str, value) -> Mapping:
    if not isinstance(value, Mapping) or len(value) == 0:
        raise input_error(function, f"{name} to be a non-empty dict of model name -> data",
                          describe(value))
    for key in value:
        if not isinstance(key, str):
            raise input_error(function, f"the keys of {name} to be model names (str)",
                              describe(key))
    return value


def label_list(function: str, name: str, labels, count: int) -> list[str]:
    if isinstance(labels, str) or not isinstance(labels, Sequence | np.ndarray):
        raise input_error(function, f"{name} to be a list of {count} labels", describe(labels))
    if len(labels) != count:
        raise input_error(function, f"{count} {name} (one per value)", f"{len(labels)}")
    return [str(label) for label in labels]


def binary_target_and_score(function: str, target, score, need_negative: bool = True):
    """The 0/1 target as ints and the score as floats, both 1-D and of one length."""
    target_array = float_array(function, "target", target, ndim=1)
    score_array = finite(function, "score",
                         float_array(function, "score", score, ndim=1))
    if target_array.shape != score_array.shape:
        raise input_error(function, "target and score of the same length",
                          f"{target_array.size} targets and {score_array.size} scores")
    if not np.all((target_array == 0) | (target_array == 1)):
        strange = np.unique(target_array[(target_array != 0) & (target_array != 1)])
        raise input_error(function, "target values 0 or 1", f"also {strange[:5].tolist()}")
    target_array = target_array.astype(np.int64)
    positives = int(target_array.sum())
    if positives == 0:
        raise input_error(function, "at least one positive (target 1)", "none")
    if need_negative and positives == target_array.size:
        raise input_error(function, "at least one negative (target 0)", "none")
    return target_array, score_array
