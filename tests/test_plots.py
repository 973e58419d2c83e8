"""The study's figures (experiments/plots.py): valid PNGs written atomically, no leaked
figures or global matplotlib state, ranking metrics equal to scikit-learn's, and input
errors that name the function."""
import gc
import weakref

import matplotlib
import matplotlib.image
import numpy as np
import pytest
from matplotlib.figure import Figure

from experiments import metrics, plots

sklearn_metrics = pytest.importorskip("sklearn.metrics")  # a reference for the tests only

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------------------------
# Sample inputs
# ---------------------------------------------------------------------------------------------

def _history(rng, epochs):
    loss = 0.7 * np.exp(-np.arange(epochs) / 5) + rng.uniform(0, 0.02, epochs)
    return {"train_loss": list(loss), "test_loss": list(loss + 0.05),
            "train_accuracy": list(1 - loss), "test_accuracy": list(0.95 - loss)}


def _pairs(rng, n=300):
    classes = rng.integers(0, 10, (n, 2))
    return classes, rng.random(n) > 0.2


def _curve(rng, n=200):
    target = rng.integers(0, 2, n)
    return target, np.clip(0.5 * target + rng.uniform(0, 0.6, n), 0, 1)


def _draw_all(rng):
    """(name, callable writing the figure to a path) for every plot function."""
    classes, correct = _pairs(rng)
    return [
        ("accuracy_boxplot", lambda path: plots.accuracy_boxplot(
            {"r002_mlp": [78.0, 80.5, 79.1], "r002_cnn_ws_aux": [91.0, 92.5, 90.2],
             "benchmark": [95.0]}, path)),
        ("training_curves", lambda path: plots.training_curves(
            {"baseline": [_history(rng, 8) for _ in range(3)],
             "diverged_once": [_history(rng, 8), _history(rng, 5)],
             "single_round": [_history(rng, 1)]}, path)),
        ("roc_pr_curves", lambda path: plots.roc_pr_curves(
            {"cnn": _curve(rng), "mlp": _curve(rng, 150)}, path)),
        ("digit_pair_error_heatmap", lambda path: plots.digit_pair_error_heatmap(
            classes, correct, path)),
        ("grid_heatmap", lambda path: plots.grid_heatmap(
            np.array([[0.81, 0.85, np.nan], [0.88, 0.91, 0.87]]), ["1e-3", "1e-2"],
            [0, 0.5, 1], path, "mean CV accuracy", "aux weight", "learning rate",
            highlight=(1, 1))),
        ("weight_sweep one series", lambda path: plots.weight_sweep(
            [0, 0.5, 1, 2], [85, 88, 90, 87], [1, 0.5, 0.8, 1.2], path, "aux weight",
            "accuracy against aux weight")),
        ("weight_sweep several series", lambda path: plots.weight_sweep(
            [0, 0.5, 1], [[85, 88, 90], [80, 83, 86]], [[1, 1, 1], [2, 2, 2]], path,
            "aux weight", "accuracy against aux weight", labels=["cnn", "fc"])),
    ]


DRAWINGS = [name for name, _ in _draw_all(np.random.default_rng(0))]


def _draw(name, path):
    dict(_draw_all(np.random.default_rng(0)))[name](path)


def _assert_png(path):
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 5_000  # an empty canvas compresses to far less
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    assert 300 <= image.shape[0] <= 4000 and 300 <= image.shape[1] <= 4000
    assert image[..., :3].std() > 0.05  # something was drawn, not a blank page


# ---------------------------------------------------------------------------------------------
# Files and figures
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", DRAWINGS)
def test_writes_one_valid_png_and_leaves_nothing_else(tmp_path, name):
    from matplotlib import pyplot  # only to check that plots never registers a figure
    target = tmp_path / "figure.png"
    target.write_bytes(b"an older version")  # the write replaces it
    _draw(name, target)
    _assert_png(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.png"]
    assert pyplot.get_fignums() == []


def test_figures_are_not_kept_alive(tmp_path, monkeypatch):
    made = []

    class TrackedFigure(Figure):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(weakref.ref(self))

    monkeypatch.setattr(plots, "Figure", TrackedFigure)
    for index in range(5):
        plots.accuracy_boxplot({"a": [80.0, 81.0 + index]}, tmp_path / "box.png")
    gc.collect()
    assert len(made) == 5
    assert all(reference() is None for reference in made)


def test_global_matplotlib_state_is_untouched(tmp_path):
    rc_before = matplotlib.rcParams.copy()
    backend_before = matplotlib.rcParams._get("backend")
    _draw("grid_heatmap", tmp_path / "grid.png")
    assert matplotlib.rcParams._get("backend") == backend_before
    assert matplotlib.rcParams.copy() == rc_before


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "box.png"
    target.write_bytes(b"old")

    def broken_savefig(self, file, **kwargs):
        file.write(b"\x89PNG half an image")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        plots.accuracy_boxplot({"a": [80.0, 81.0]}, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["box.png"]


def test_jitter_is_deterministic(tmp_path):
    accuracies = {"a": [80.0, 80.0, 81.0, 79.5], "b": [90.0, 91.0]}
    plots.accuracy_boxplot(accuracies, tmp_path / "one.png")
    plots.accuracy_boxplot(accuracies, tmp_path / "two.png")
    assert (tmp_path / "one.png").read_bytes() == (tmp_path / "two.png").read_bytes()


# ---------------------------------------------------------------------------------------------
# Ranking metrics against scikit-learn
# ---------------------------------------------------------------------------------------------

def _random_case(seed, ties):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    target = rng.integers(0, 2, n)
    target[:2] = [0, 1]  # both classes present
    score = rng.random(n) + 0.3 * target
    if ties:
        score = np.round(score * 4) / 4  # a handful of distinct values, many ties
    return target, score


CASES = [(seed, ties) for seed in range(6) for ties in (False, True)]


@pytest.mark.parametrize("seed,ties", CASES)
def test_roc_curve_and_auc_match_sklearn(seed, ties):
    target, score = _random_case(seed, ties)
    fpr, tpr = metrics.roc_curve(target, score)
    expected_fpr, expected_tpr, _ = sklearn_metrics.roc_curve(target, score,
                                                              drop_intermediate=False)
    np.testing.assert_allclose(fpr, expected_fpr)
    np.testing.assert_allclose(tpr, expected_tpr)
    assert metrics.auc(fpr, tpr) == pytest.approx(sklearn_metrics.roc_auc_score(target, score))


@pytest.mark.parametrize("seed,ties", CASES)
def test_precision_recall_and_average_precision_match_sklearn(seed, ties):
    target, score = _random_case(seed, ties)
    precision, recall = metrics.precision_recall_curve(target, score)
    expected_precision, expected_recall, _ = sklearn_metrics.precision_recall_curve(
        target, score)
    np.testing.assert_allclose(precision, expected_precision)
    np.testing.assert_allclose(recall, expected_recall)
    assert metrics.average_precision(target, score) == pytest.approx(
        sklearn_metrics.average_precision_score(target, score))


def test_perfect_reversed_and_constant_scores():
    target = np.array([0, 0, 1, 1, 1])
    perfect = np.array([0.1, 0.2, 0.7, 0.8, 0.9])
    assert metrics.auc(*metrics.roc_curve(target, perfect)) == 1.0
    assert metrics.average_precision(target, perfect) == 1.0
    assert metrics.auc(*metrics.roc_curve(target, -perfect)) == 0.0

    constant = np.full(5, 0.5)
    fpr, tpr = metrics.roc_curve(target, constant)
    np.testing.assert_array_equal(fpr, [0, 1])  # one threshold: all predicted 1 at once
    np.testing.assert_array_equal(tpr, [0, 1])
    assert metrics.auc(fpr, tpr) == 0.5
    assert metrics.average_precision(target, constant) == pytest.approx(3 / 5)  # positive rate


def test_hand_computed_tiny_case():
    target = [0, 0, 1, 1]
    score = [0.1, 0.4, 0.35, 0.8]
    # ranked: 0.8 (+), 0.4 (-), 0.35 (+), 0.1 (-); 3 of the 4 (+, -) pairs are ordered right
    assert metrics.auc(*metrics.roc_curve(target, score)) == pytest.approx(0.75)
    precision, recall = metrics.precision_recall_curve(target, score)
    np.testing.assert_allclose(precision, [0.5, 2 / 3, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(recall, [1.0, 1.0, 0.5, 0.5, 0.0])
    # precision 1 at recall 1/2, then 2/3 at recall 1
    assert metrics.average_precision(target, score) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_a_tie_between_classes_is_one_diagonal_step():
    fpr, tpr = metrics.roc_curve([0, 1], [0.5, 0.5])
    np.testing.assert_array_equal(fpr, [0, 1])
    np.testing.assert_array_equal(tpr, [0, 1])


def test_auc_accepts_decreasing_x():
    assert metrics.auc([1, 0.5, 0], [1, 1, 0]) == pytest.approx(0.75)
    assert metrics.auc([0, 0.5, 1], [0, 1, 1]) == pytest.approx(0.75)


# ---------------------------------------------------------------------------------------------
# Error rate per digit pair
# ---------------------------------------------------------------------------------------------

def test_pair_error_rates_on_a_hand_made_example():
    classes = np.array([[1, 2], [1, 2], [1, 2], [1, 2], [3, 3], [9, 0], [9, 0]])
    correct = np.array([True, False, True, False, True, False, False])
    rates = metrics.pair_error_rates(classes, correct)
    assert rates.shape == (10, 10)
    assert rates[1, 2] == 0.5
    assert rates[3, 3] == 0.0  # pairs but no errors: 0, not blank
    assert rates[9, 0] == 1.0
    assert np.isnan(rates[2, 1])  # the reversed pair is another cell, and empty
    assert np.isnan(rates).sum() == 97


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------

def _history_with(**changes):
    history = _history(np.random.default_rng(0), 4)
    history.update(changes)
    return history


GOOD_TARGET, GOOD_SCORE = [0, 1, 1, 0], [0.1, 0.8, 0.6, 0.3]
BAD_INPUTS = [
    ("accuracy_boxplot", lambda p: plots.accuracy_boxplot({}, p)),
    ("accuracy_boxplot", lambda p: plots.accuracy_boxplot({"a": []}, p)),
    ("accuracy_boxplot", lambda p: plots.accuracy_boxplot({"a": [0.8, 0.9]}, p)),
    ("accuracy_boxplot", lambda p: plots.accuracy_boxplot({"a": [80, 101]}, p)),
    ("accuracy_boxplot", lambda p: plots.accuracy_boxplot({"a": [80, float("nan")]}, p)),
    ("training_curves", lambda p: plots.training_curves({}, p)),
    ("training_curves", lambda p: plots.training_curves({"a": []}, p)),
    ("training_curves", lambda p: plots.training_curves(
        {"a": [{"train_loss": [0.5]}]}, p)),
    ("training_curves", lambda p: plots.training_curves(
        {"a": [_history_with(test_loss=[0.5, 0.4])]}, p)),
    ("training_curves", lambda p: plots.training_curves(
        {"a": [_history_with(test_accuracy=[80.0, 85.0, 86.0, 87.0])]}, p)),
    ("roc_pr_curves", lambda p: plots.roc_pr_curves({}, p)),
    ("roc_pr_curves", lambda p: plots.roc_pr_curves({"a": (GOOD_TARGET,)}, p)),
    ("roc_pr_curves", lambda p: plots.roc_pr_curves(
        {"a": (GOOD_TARGET, np.ones((4, 2)))}, p)),
    ("roc_pr_curves", lambda p: plots.roc_pr_curves({"a": ([0, 2, 1, 0], GOOD_SCORE)}, p)),
    ("roc_pr_curves", lambda p: plots.roc_pr_curves({"a": (GOOD_TARGET, [0.1, 0.2])}, p)),
    ("roc_pr_curves", lambda p: plots.roc_pr_curves({"a": ([1, 1, 1, 1], GOOD_SCORE)}, p)),
    ("roc_curve", lambda p: metrics.roc_curve([0, 0, 0], [0.1, 0.2, 0.3])),
    ("roc_curve", lambda p: metrics.roc_curve([0, 1], [0.1, np.nan])),
    ("precision_recall_curve", lambda p: metrics.precision_recall_curve([0, 0], [0.1, 0.2])),
    ("average_precision", lambda p: metrics.average_precision([0.5, 1], [0.1, 0.2])),
    ("auc", lambda p: metrics.auc([0, 1, 0.5], [0, 1, 1])),
    ("auc", lambda p: metrics.auc([0], [1])),
    ("pair_error_rates", lambda p: metrics.pair_error_rates(np.zeros((3, 3), int),
                                                          np.ones(3, bool))),
    ("pair_error_rates", lambda p: metrics.pair_error_rates([[1, 10]], [True])),
    ("pair_error_rates", lambda p: metrics.pair_error_rates([[1.0, 2.0]], [True])),
    ("pair_error_rates", lambda p: metrics.pair_error_rates([[1, 2]], [1])),
    ("pair_error_rates", lambda p: metrics.pair_error_rates([[1, 2]], [True, False])),
    ("digit_pair_error_heatmap", lambda p: plots.digit_pair_error_heatmap(
        np.zeros((0, 2), int), np.zeros(0, bool), p)),
    ("grid_heatmap", lambda p: plots.grid_heatmap([1, 2], ["a"], ["b", "c"], p, "t", "x",
                                                  "y")),
    ("grid_heatmap", lambda p: plots.grid_heatmap(np.ones((2, 2)), ["a"], ["b", "c"], p,
                                                  "t", "x", "y")),
    ("grid_heatmap", lambda p: plots.grid_heatmap(np.ones((2, 2)), ["a", "b"], ["c", "d"],
                                                  p, "t", "x", "y", highlight=(2, 0))),
    ("grid_heatmap", lambda p: plots.grid_heatmap(np.full((2, 2), np.nan), ["a", "b"],
                                                  ["c", "d"], p, "t", "x", "y")),
    ("weight_sweep", lambda p: plots.weight_sweep([0, 1], [80, 81, 82], [1, 1], p, "w", "t")),
    ("weight_sweep", lambda p: plots.weight_sweep([0, 1], [[80, 81]], [[1, 1]], p, "w", "t")),
    ("weight_sweep", lambda p: plots.weight_sweep([0, 1], [[80, 81]], [[1, 1]], p, "w", "t",
                                                  labels=["a", "b"])),
    ("weight_sweep", lambda p: plots.weight_sweep([0, 1], [80, 81], [1, -1], p, "w", "t")),
    ("weight_sweep", lambda p: plots.weight_sweep([1, 0], [80, 81], [1, 1], p, "w", "t")),
]


@pytest.mark.parametrize("function,call", BAD_INPUTS,
                         ids=[f"{name}-{i}" for i, (name, _) in enumerate(BAD_INPUTS)])
def test_bad_input_raises_value_error_naming_the_function(tmp_path, function, call):
    with pytest.raises(ValueError, match=rf"^{function}: expected .+, got .+") as caught:
        call(tmp_path / "figure.png")
    assert "\n" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # checked before any file is opened
