"""The main job's figures, from the files of a finished study (experiments.results):
accuracy boxplots per model, per-epoch curves with ±1 std bands, ROC and precision-recall
(all of a model's rounds pooled), and the test error of the best model by digit pair."""
from __future__ import annotations

import os

import numpy as np

from . import plots


def study_figures(store, models: list, summary: dict) -> list:
    """Write the figures into <out>/figures; return their paths."""
    directory = os.path.join(store.out, "figures")
    os.makedirs(directory, exist_ok=True)
    done = [m for m in models if summary[m]["test_accuracy_mean"] is not None]
    if not done:
        return []
    runs = {m: [store.run_details(r["model"], r["round"]) for r in store.rows
                if r["model"] == m and r["status"] == "ok"] for m in done}
    path = lambda name: os.path.join(directory, name)  # noqa: E731
    written = []

    accuracies = {m: [100 * r["test_accuracy"] for r in store.rows
                      if r["model"] == m and r["status"] == "ok"] for m in done}
    plots.accuracy_boxplot(accuracies, path("accuracy_boxplot.png"),
                           title="test accuracy over rounds")
    written.append(path("accuracy_boxplot.png"))

    plots.training_curves({m: [d["history"] for d in runs[m]] for m in done},
                          path("training_curves.png"))
    written.append(path("training_curves.png"))

    pooled = {m: (np.concatenate([d["test"]["target"] for d in runs[m]]),
                  np.concatenate([d["test"]["scores"] for d in runs[m]])) for m in done}
    plots.roc_pr_curves(pooled, path("roc_pr.png"))
    written.append(path("roc_pr.png"))

    best = max(done, key=lambda m: summary[m]["test_accuracy_mean"])
    classes = np.concatenate([d["test"]["classes"] for d in runs[best]])
    correct = np.concatenate([np.asarray(d["test"]["predictions"]) ==
                              np.asarray(d["test"]["target"]) for d in runs[best]])
    plots.digit_pair_error_heatmap(classes, correct, path("pair_errors.png"),
                                   title=f"{best}: test error by digit pair "
                                         f"({len(runs[best])} rounds pooled)")
    written.append(path("pair_errors.png"))
    return written
