"""The study's figures (STUDY.md section 7.4), as plain functions over numpy arrays and dicts.

Each plotting function checks its input, draws one figure and writes it as a PNG with
`atomic_write`, so a reader never sees a half-written image. Figures are made with
`matplotlib.figure.Figure` and an Agg canvas attached directly: nothing goes through
pyplot, so the user's backend, pyplot's figure list and rcParams are left untouched, and no
figure outlives the call.

The numbers behind the ROC/PR and digit-pair figures come from `experiments.metrics`.

Bad input raises ValueError whose message starts with the public function's name, then says
what was expected and what came.
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from minitorch_pairs.files import atomic_write

from .checks import (binary_target_and_score, describe, finite, float_array, input_error,
                     label_list, non_empty_mapping)
from .metrics import auc, average_precision, pair_error_rates, precision_recall_curve, roc_curve
from .training import HISTORY_KEYS

DPI = 150
SPLIT_STYLES = {"train": {"color": "C0", "linestyle": "-"},
                "test": {"color": "C1", "linestyle": "--"}}
JITTER_SEED = 0  # fixed: the same accuracies always give the same picture
MAX_PANEL_COLUMNS = 4  # training curves wrap after this many models per row
LONG_LABEL = 8  # tick labels longer than this are rotated so neighbours do not collide


# ---------------------------------------------------------------------------------------------
# Figure plumbing
# ---------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _figure(width: float, height: float):
    """A constrained-layout figure on its own Agg canvas, emptied when the block ends.

    The figure is never registered with pyplot, so there is nothing to close there and the
    user's backend is not consulted; clearing it drops the artists at once instead of
    leaving them to the garbage collector over hundreds of calls."""
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    try:
        yield figure
    finally:
        figure.clear()


def _save(figure: Figure, path) -> None:
    with atomic_write(path, binary=True) as file:
        figure.savefig(file, format="png", dpi=DPI)


def _tick_labels(axis, positions, labels, which: str = "x") -> None:
    """Tick labels, rotated when long so that neighbouring labels do not run together."""
    rotate = which == "x" and max(len(label) for label in labels) > LONG_LABEL
    if which == "x":
        axis.set_xticks(positions, labels, rotation=30 if rotate else 0,
                        ha="right" if rotate else "center", rotation_mode="anchor")
    else:
        axis.set_yticks(positions, labels)


def _text_color(rgba) -> str:
    """Black on light cells, white on dark ones (relative luminance of the cell colour)."""
    red, green, blue = rgba[:3]
    return "black" if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.5 else "white"


def _annotated_image(figure, axis, values, cmap: str, norm, value_text, colorbar_label):
    """`values` as coloured cells (NaN cells left blank) with their values written in."""
    # with_extremes returns a copy: the registered colormap stays as it was
    colormap = matplotlib.colormaps[cmap].with_extremes(bad="white")
    image = axis.imshow(np.ma.masked_invalid(values), cmap=colormap, norm=norm,
                        aspect="auto", interpolation="nearest")
    for (row, column), value in np.ndenumerate(values):
        if np.isfinite(value):
            axis.text(column, row, value_text(value), ha="center", va="center",
                      fontsize=8, color=_text_color(colormap(norm(value))))
    colorbar = figure.colorbar(image, ax=axis)
    colorbar.set_label(colorbar_label)
    return image


# ---------------------------------------------------------------------------------------------
# 1. Accuracy boxplots
# ---------------------------------------------------------------------------------------------

def accuracy_boxplot(accuracies: dict[str, list[float]], path,
                     title: str = "Test accuracy over rounds") -> None:
    """Write a boxplot of test accuracy (%) with one box per model, over its rounds.

    Each round is drawn as a point, spread sideways by a fixed-seed jitter so that equal
    accuracies stay visible and the picture is the same on every call; a diamond marks the
    mean (the box's line is the median). Model names go on the x-axis, rotated when long.
    `accuracies` maps model name -> test accuracy per round, in percent (0..100)."""
    function = "accuracy_boxplot"
    non_empty_mapping(function, "accuracies", accuracies)
    names = list(accuracies)
    data = [finite(function, f"accuracies[{name!r}]",
                   float_array(function, f"accuracies[{name!r}]", accuracies[name], 1))
            for name in names]
    every = np.concatenate(data)
    if every.min() < 0 or every.max() > 100:
        raise input_error(function, "accuracies in percent (0..100)",
                          f"values from {every.min()} to {every.max()}")
    if every.max() <= 1:
        # all at most 1 % is not a plausible study result, but fractions are a common slip
        raise input_error(function, "accuracies in percent (0..100)",
                          "all values <= 1 (fractions? multiply by 100)")

    positions = np.arange(1, len(names) + 1)
    width = max(4.5, 2.0 + 0.9 * len(names))
    with _figure(width, 4.5) as figure:
        axis = figure.add_subplot()
        axis.boxplot(data, positions=positions, widths=0.55, showfliers=False,
                     patch_artist=True, boxprops={"facecolor": "#dde6f0"},
                     medianprops={"color": "black"})
        rng = np.random.default_rng(JITTER_SEED)
        for position, rounds in zip(positions, data):
            jitter = rng.uniform(-0.13, 0.13, size=rounds.size)
            axis.scatter(position + jitter, rounds, s=14, color="C0", alpha=0.7,
                         zorder=3, linewidths=0)
            axis.scatter(position, rounds.mean(), marker="D", s=36, color="white",
                         edgecolors="black", zorder=4)
        _tick_labels(axis, positions, names)
        axis.set_ylabel("test accuracy (%)")
        axis.set_title(title)
        axis.yaxis.grid(True, alpha=0.3)
        handles = [Line2D([], [], marker="o", linestyle="", color="C0", alpha=0.7,
                          markersize=5, label="round"),
                   Line2D([], [], marker="D", linestyle="", markerfacecolor="white",
                          markeredgecolor="black", markersize=6, label="mean"),
                   Line2D([], [], color="black", label="median")]
        # outside the axes: a legend inside could sit on a box
        figure.legend(handles=handles, loc="outside right upper", fontsize="small")
        _save(figure, path)


# ---------------------------------------------------------------------------------------------
# 2. Training curves
# ---------------------------------------------------------------------------------------------

def _stacked_history(function: str, name: str, rounds) -> tuple[dict, int, int]:
    """The rounds of one model as {key: (rounds, epochs) array}, cut to the epochs every
    round reached; also the shortest and longest round length."""
    if isinstance(rounds, Mapping) or not isinstance(rounds, Sequence) or len(rounds) == 0:
        raise input_error(function, f"histories[{name!r}] to be a non-empty list of per-round "
                          f"history dicts", describe(rounds))
    per_key = {key: [] for key in HISTORY_KEYS}
    for index, history in enumerate(rounds):
        where = f"histories[{name!r}][{index}]"
        if not isinstance(history, Mapping) or not set(HISTORY_KEYS) <= set(history):
            raise input_error(function, f"{where} to be a dict with keys {list(HISTORY_KEYS)}",
                              describe(history))
        series = {key: finite(function, f"{where}[{key!r}]",
                              float_array(function, f"{where}[{key!r}]", history[key], 1))
                  for key in HISTORY_KEYS}
        lengths = {series[key].size for key in HISTORY_KEYS}
        if len(lengths) != 1:
            raise input_error(function, f"the lists of {where} to have one length (one entry "
                              f"per epoch)", f"lengths {sorted(lengths)}")
        for key in ("train_accuracy", "test_accuracy"):
            if series[key].min() < 0 or series[key].max() > 1:
                raise input_error(function, f"{where}[{key!r}] as a fraction in 0..1",
                                  f"values up to {series[key].max()}")
        for key in HISTORY_KEYS:
            per_key[key].append(series[key])
    lengths = [values.size for values in per_key["train_loss"]]
    shortest = min(lengths)
    stacked = {key: np.stack([values[:shortest] for values in per_key[key]])
               for key in HISTORY_KEYS}
    return stacked, shortest, max(lengths)


def _mean_and_band(axis, epochs, values: np.ndarray, style: dict, scale: float = 1.0):
    """The mean over rounds (rows) as a line, with a +-1 sample-std band when there are
    at least two rounds (one round has no spread to show)."""
    mean = values.mean(axis=0) * scale
    marker = "o" if epochs.size < 3 else None  # a one- or two-point line is hard to see
    axis.plot(epochs, mean, marker=marker, markersize=4, **style)
    if values.shape[0] >= 2:
        std = values.std(axis=0, ddof=1) * scale
        axis.fill_between(epochs, mean - std, mean + std, color=style["color"], alpha=0.2,
                          linewidth=0)


def training_curves(histories: dict[str, list[dict]], path,
                    title: str = "Training and test curves (mean ± 1 std over rounds)"
                    ) -> None:
    """Write per-epoch training curves, one panel per model: accuracy (%) in the upper
    sub-axes, loss in the lower, train solid blue and test dashed orange, each the mean
    over rounds with a shaded +-1 standard deviation band (sample std, ddof=1; no band for
    a single round). Accuracy axes are shared across models, and so are loss axes, so
    panels compare directly.

    `histories` maps model name -> one dict per round with per-epoch lists `train_loss`,
    `train_accuracy`, `test_loss`, `test_accuracy` (accuracy as a fraction 0..1). Rounds of
    different lengths (a run that diverged early) are cut to the epochs all rounds reached;
    the panel title then says so."""
    function = "training_curves"
    non_empty_mapping(function, "histories", histories)
    models = {name: _stacked_history(function, name, rounds)
              for name, rounds in histories.items()}

    columns = min(len(models), MAX_PANEL_COLUMNS)
    model_rows = math.ceil(len(models) / columns)
    with _figure(0.6 + 3.4 * columns, 0.8 + 4.6 * model_rows) as figure:
        grid = figure.add_gridspec(2 * model_rows, columns)
        first_accuracy = first_loss = None
        for index, (name, (stacked, shortest, longest)) in enumerate(models.items()):
            row, column = divmod(index, columns)
            accuracy_axis = figure.add_subplot(grid[2 * row, column], sharey=first_accuracy)
            loss_axis = figure.add_subplot(grid[2 * row + 1, column], sharex=accuracy_axis,
                                           sharey=first_loss)
            if first_accuracy is None:
                first_accuracy, first_loss = accuracy_axis, loss_axis
            epochs = np.arange(1, shortest + 1)
            for split, style in SPLIT_STYLES.items():
                _mean_and_band(accuracy_axis, epochs, stacked[f"{split}_accuracy"], style,
                               scale=100.0)
                _mean_and_band(loss_axis, epochs, stacked[f"{split}_loss"], style)
            rounds = stacked["train_loss"].shape[0]
            heading = f"{name} ({rounds} round{'s' if rounds > 1 else ''})"
            if shortest < longest:
                heading += f"\nfirst {shortest} of up to {longest} epochs"
            accuracy_axis.set_title(heading, fontsize="medium")
            accuracy_axis.tick_params(labelbottom=False)
            loss_axis.set_xlabel("epoch")
            if column == 0:
                accuracy_axis.set_ylabel("accuracy (%)")
                loss_axis.set_ylabel("loss")
            for axis in (accuracy_axis, loss_axis):
                axis.grid(True, alpha=0.3)
                # whole epochs only
                axis.xaxis.get_major_locator().set_params(integer=True)
        handles = [Line2D([], [], label=split, **style) for split, style in SPLIT_STYLES.items()]
        handles.append(Patch(color="gray", alpha=0.3, label="± 1 std over rounds"))
        figure.legend(handles=handles, loc="outside lower center", ncols=3)
        figure.suptitle(title)
        _save(figure, path)


# ---------------------------------------------------------------------------------------------
# 3. ROC and precision-recall curves
# ---------------------------------------------------------------------------------------------

def roc_pr_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], path,
                  title: str = "ROC and precision-recall curves") -> None:
    """Write ROC curves (left, AUC in the legend, chance diagonal dotted) and
    precision-recall curves (right, average precision in the legend, the positive rate as
    the dotted chance level) side by side, one curve per model.

    `curves` maps model name -> (target 0/1 array, score array), the score being the
    model's P(target = 1), e.g. averaged over seeds."""
    function = "roc_pr_curves"
    non_empty_mapping(function, "curves", curves)
    checked = {}
    for name, pair in curves.items():
        if not isinstance(pair, Sequence) or len(pair) != 2:
            raise input_error(function, f"curves[{name!r}] to be a (target, score) pair",
                              describe(pair))
        try:
            checked[name] = binary_target_and_score(function, *pair)
        except ValueError as error:
            raise ValueError(f"{error} (in curves[{name!r}])") from None

    with _figure(11.0, 5.6) as figure:
        roc_axis, pr_axis = figure.subplots(1, 2)
        positive_rates = {}
        for index, (name, (target, score)) in enumerate(checked.items()):
            color = f"C{index % 10}"
            fpr, tpr = roc_curve(target, score)
            roc_axis.plot(fpr, tpr, color=color, label=f"{name} (AUC = {auc(fpr, tpr):.3f})")
            precision, recall = precision_recall_curve(target, score)
            pr_axis.plot(recall, precision, color=color, drawstyle="steps-post",
                         label=f"{name} (AP = {average_precision(target, score):.3f})")
            positive_rates[name] = (target.mean(), color)
        roc_axis.plot([0, 1], [0, 1], color="gray", linestyle=":", label="chance (AUC = 0.5)")
        rates = {round(rate, 6) for rate, _ in positive_rates.values()}
        if len(rates) == 1:
            (rate,) = rates
            pr_axis.axhline(rate, color="gray", linestyle=":",
                            label=f"chance (positive rate {rate:.3f})")
        else:
            # test sets differ: each model's chance level in its own colour
            for rate, color in positive_rates.values():
                pr_axis.axhline(rate, color=color, linestyle=":", linewidth=1)
        roc_axis.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
        pr_axis.set(xlabel="recall", ylabel="precision", title="Precision-recall")
        for axis in (roc_axis, pr_axis):
            axis.set_xlim(-0.02, 1.02)
            axis.set_ylim(-0.02, 1.02)
            axis.set_aspect("equal")
            axis.grid(True, alpha=0.3)
            # below the axes: inside, a legend would cover the top-left corner, where a good
            # ROC curve runs, or the top-right, where a PR curve does
            axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize="small")
        figure.suptitle(title)
        _save(figure, path)


# ---------------------------------------------------------------------------------------------
# 4. Error rate per digit pair
# ---------------------------------------------------------------------------------------------

def digit_pair_error_heatmap(classes: np.ndarray, correct: np.ndarray, path,
                             title: str = "Error rate per digit pair") -> None:
    """Write a 10x10 heat map of the misclassification rate (%) for each (digit 1, digit 2)
    cell, i.e. errors / pairs in that cell, so frequent pairs do not look worse just for
    being frequent. Digit 1 runs down the rows, digit 2 across the columns; cells with no
    pairs are left blank (no rate, not 0 %).

    `classes` is the (N, 2) integer array of the two digits of each test pair, `correct` the
    (N,) bool array saying whether the model got the pair right."""
    rates = pair_error_rates(classes, correct, caller="digit_pair_error_heatmap") * 100
    top = np.nanmax(rates)
    norm = Normalize(vmin=0.0, vmax=top if top > 0 else 1.0)
    with _figure(6.6, 5.8) as figure:
        axis = figure.add_subplot()
        _annotated_image(figure, axis, rates, "viridis", norm,
                         lambda value: f"{value:.0f}" if value >= 10 else f"{value:.1f}",
                         "error rate (%)")
        digits = np.arange(10)
        axis.set_xticks(digits)
        axis.set_yticks(digits)
        axis.set_xlabel("digit 2")
        axis.set_ylabel("digit 1")
        if np.isnan(rates).any():
            title += "\n(blank: no pairs)"
        axis.set_title(title)
        _save(figure, path)


# ---------------------------------------------------------------------------------------------
# 5. Grid-search heat map
# ---------------------------------------------------------------------------------------------

def grid_heatmap(values: np.ndarray, row_labels, col_labels, path, title: str,
                 xlabel: str, ylabel: str, highlight: tuple[int, int] | None = None, *,
                 value_format: str = "{:.3g}", colorbar_label: str = "") -> None:
    """Write a heat map of a grid search: cell [i, j] is the score (e.g. mean
    cross-validated accuracy) at the i-th row setting and j-th column setting, with its
    value written in (`value_format`); NaN cells (points not run) are blank. `highlight`,
    a (row, column) index, outlines the chosen point in red."""
    function = "grid_heatmap"
    values = float_array(function, "values", values, ndim=2)
    if np.isinf(values).any() or np.isnan(values).all():
        raise input_error(function, "values finite or NaN (not run), at least one finite",
                          "infinite entries" if np.isinf(values).any() else "only NaN")
    row_labels = label_list(function, "row_labels", row_labels, values.shape[0])
    col_labels = label_list(function, "col_labels", col_labels, values.shape[1])
    if highlight is not None:
        if (not isinstance(highlight, Sequence) or len(highlight) != 2
                or not all(isinstance(index, int | np.integer) for index in highlight)
                or not (0 <= highlight[0] < values.shape[0]
                        and 0 <= highlight[1] < values.shape[1])):
            raise input_error(function, f"highlight as a (row, column) index into a grid of "
                              f"shape {values.shape}, or None", describe(highlight))
    try:
        value_format.format(1.0)
    except (ValueError, IndexError, KeyError, AttributeError):
        raise input_error(function, "value_format like '{:.3g}'", describe(value_format)) from None

    rows, columns = values.shape
    norm = Normalize(vmin=np.nanmin(values), vmax=np.nanmax(values))
    with _figure(max(5.0, 2.8 + 0.85 * columns), max(4.0, 2.0 + 0.55 * rows)) as figure:
        axis = figure.add_subplot()
        _annotated_image(figure, axis, values, "viridis", norm, value_format.format,
                         colorbar_label)
        _tick_labels(axis, np.arange(columns), col_labels, "x")
        _tick_labels(axis, np.arange(rows), row_labels, "y")
        axis.set(xlabel=xlabel, ylabel=ylabel, title=title)
        if highlight is not None:
            row, column = highlight
            outline = Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="red",
                                linewidth=2.5, label="chosen", clip_on=False)
            axis.add_patch(outline)
            figure.legend(handles=[outline], loc="outside lower center", fontsize="small")
        _save(figure, path)


# ---------------------------------------------------------------------------------------------
# 6. Accuracy against a weight
# ---------------------------------------------------------------------------------------------

def weight_sweep(x: list[float], means, stds, path, xlabel: str, title: str,
                 labels: list[str] | None = None, *,
                 ylabel: str = "test accuracy (%)") -> None:
    """Write accuracy against a weight (e.g. the aux weight lambda): mean with +-1 std
    error bars at each weight, joined by a line.

    One series: `means` and `stds` are lists of len(x) numbers and `labels` is None.
    Several: `means` and `stds` are lists of such lists, one per series, named by `labels`.
    Series are nudged sideways by a small fraction of the smallest x spacing so their
    error bars do not hide each other; the ticks stay at the true x values."""
    function = "weight_sweep"
    x = finite(function, "x", float_array(function, "x", x, ndim=1))
    if x.size > 1 and np.any(np.diff(x) <= 0):
        raise input_error(function, "x strictly increasing", f"{x.tolist()}")
    series_ndim = 1 if labels is None else 2
    how = ("a list of numbers (one series; pass labels for several)" if labels is None
           else "a list of lists (one per label)")
    means = finite(function, "means", float_array(function, f"means as {how}", means,
                                                  ndim=series_ndim))
    stds = finite(function, "stds", float_array(function, f"stds as {how}", stds,
                                                ndim=series_ndim))
    means, stds = np.atleast_2d(means), np.atleast_2d(stds)
    names = [None] if labels is None else label_list(function, "labels", labels, len(means))
    for name, array in (("means", means), ("stds", stds)):
        if array.shape != (len(names), x.size):
            raise input_error(function, f"{name} of shape {(len(names), x.size)} "
                              f"(series x weights)", f"shape {array.shape}")
    if (stds < 0).any():
        raise input_error(function, "stds >= 0", f"minimum {stds.min()}")

    spacing = np.diff(x).min() if x.size > 1 else 1.0
    offsets = (np.arange(len(names)) - (len(names) - 1) / 2) * 0.25 * spacing / len(names)
    with _figure(6.5 if labels is None else 8.0, 4.5) as figure:
        axis = figure.add_subplot()
        for index, (name, mean, std) in enumerate(zip(names, means, stds)):
            axis.errorbar(x + offsets[index], mean, yerr=std, marker="o", markersize=4,
                          capsize=3, color=f"C{index % 10}", label=name)
        if x.size <= 12:
            axis.set_xticks(x, [f"{value:g}" for value in x])
        axis.set(xlabel=xlabel, ylabel=ylabel, title=title)
        axis.grid(True, alpha=0.3)
        if labels is not None:
            figure.legend(loc="outside right upper", fontsize="small")
        _save(figure, path)


def sweep_with_report(series: dict, path, xlabel: str, title: str) -> None:
    """Write test accuracy against a swept setting (numbers or names, one tick each): per
    series the mean with ±1 std bars joined by a line, and the report's numbers where it gives
    them as crosses (with their std bars). `series` maps a name to a list of points
    (tick label, mean or None, std or None, report's value or None, report's std or None)."""
    with _figure(7.0, 4.5) as figure:
        axis = figure.add_subplot()
        for index, (name, points) in enumerate(series.items()):
            x = np.arange(len(points))
            means = [np.nan if p[1] is None else p[1] for p in points]
            stds = [0.0 if p[2] is None else p[2] for p in points]
            axis.errorbar(x, means, yerr=stds, marker="o", markersize=4, capsize=3,
                          color=f"C{index % 10}", label=f"{name} (ours)")
            published = [(i, p[3], p[4] or 0.0) for i, p in enumerate(points)
                         if p[3] is not None]
            if published:
                i, value, spread = zip(*published)
                axis.errorbar(i, value, yerr=spread, fmt="x", markersize=9, capsize=3,
                              color=f"C{index % 10}", label=f"{name} (report)")
            _tick_labels(axis, x, [p[0] for p in points])
        axis.set(xlabel=xlabel, ylabel="test accuracy (%)", title=title)
        axis.title.set_fontsize(9)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
        _save(figure, path)
