"""`python -m experiments.grid`: K-fold cross-validated grid search over learning rate x
auxiliary-loss weight for one model, on the training pairs only (the test pairs are never
looked at). Each grid point is trained K times, once per fold (train on K-1 folds, validate
on the held-out one); the point with the highest mean validation accuracy is chosen.

Presets reproduce the reports' grids: `r000` (lr {0.0002, 0.0005, 0.0031, 0.012, 0.1} x
lambda {0, 0.115, 0.23, 0.345}, 4 folds) and `r001` (aux weight w in {0.1, 0.2, 0.3, 0.4}
with comparison weight 1 - w, 10 folds). Results go to --out: grid.json (every cell with
its fold accuracies, mean ± std, and the chosen point), grid.csv and a heat map; each
cell is saved when it finishes, and --resume skips finished cells.
"""
from __future__ import annotations

import argparse
import csv
import functools
import io
import os
import sys
import time
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from minitorch_pairs.data import generate_pair_sets, kfold_indices
from minitorch_pairs.files import atomic_write

from . import cli, distributed, outdir
from .models import get_spec, MODELS
from .sources import load_pools
from .results import StudyFilesError, read_json, write_json
from .training import Diverged, TrainConfig, train_run

PRESETS = {
    "r000": dict(lrs=[0.0002, 0.0005, 0.0031, 0.012, 0.1], aux_weights=[0, 0.115, 0.23, 0.345],
                 folds=4, convex=False),
    "r001": dict(lrs=None, aux_weights=[0.1, 0.2, 0.3, 0.4], folds=10, convex=True),
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m experiments.grid",
                                     description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", required=True, choices=list(MODELS), metavar="NAME",
                        help="the model to tune (any name of experiments.models)")
    parser.add_argument("--preset", choices=sorted(PRESETS),
                        help="a report's grid; --lrs/--aux-weights/--folds override parts")
    parser.add_argument("--lrs", type=cli.float_list(cli.positive_float),
                        help="learning rates, comma-separated (default: the model's)")
    parser.add_argument("--aux-weights", type=cli.float_list(cli.non_negative_float),
                        help="aux weights, comma-separated (default: the model's)")
    parser.add_argument("--convex", action="store_true",
                        help="comparison weight 1 - w for aux weight w (report 001)")
    parser.add_argument("--folds", type=cli.positive_int, help="K of K-fold (default 4)")
    parser.add_argument("--seed", type=cli.non_negative_int, default=0,
                        help="seed of the training pairs, the folds and the initialisations")
    parser.add_argument("--out", type=cli.out_directory, default=os.path.join("results", "grid"),
                        help="output directory")
    parser.add_argument("--resume", action="store_true", help="skip finished grid cells")
    parser.add_argument("--no-plots", action="store_true", help="skip the heat map")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    cli.add_training_options(parser)
    cli.add_data_options(parser)
    distributed.add_options(parser)
    args = parser.parse_args(argv)
    preset = PRESETS.get(args.preset, dict(lrs=None, aux_weights=None, folds=4, convex=False))
    spec = get_spec(args.model)
    args.lrs = args.lrs or preset["lrs"] or [args.lr or spec.lr]
    args.aux_weights = args.aux_weights or preset["aux_weights"] or \
        [spec.aux_weight if args.aux_weight is None else args.aux_weight]
    args.lrs, args.aux_weights = (list(dict.fromkeys(values))  # one cell per value
                                  for values in (args.lrs, args.aux_weights))
    args.folds = args.folds or preset["folds"]
    args.convex = args.convex or preset["convex"]
    if not 2 <= args.folds <= args.n_pairs:
        parser.error(f"--folds: expected 2 to --n-pairs ({args.n_pairs}) folds, got "
                     f"{args.folds}")
    if args.convex and any(w > 1 for w in args.aux_weights):
        parser.error("--convex: aux weights must be <= 1 (comparison weight 1 - w)")
    cli.check_data_and_device(parser, args)
    distributed.check_options(parser, args)
    return args


def cell_config(args, spec, lr: float, aux_weight: float) -> TrainConfig:
    overrides = cli.training_overrides(args)
    overrides.update(lr=lr, aux_weight=aux_weight)
    if args.convex:
        overrides["comparison_weight"] = 1 - aux_weight
    return TrainConfig.for_spec(spec, **overrides)


@dataclass(frozen=True)
class FoldTask:
    """Train on all folds but `fold` of the grid's training pairs, validate on `fold`."""
    model: str
    lr: float
    aux_weight: float
    fold: int
    config: TrainConfig
    seed: int
    device: str


def grid_data(data: str, data_root, n_pairs: int, seed: int, normalize: str, folds: int,
              download: bool = False) -> tuple:
    """(the training pairs, their K folds): what every fold run reads."""
    pairs, _ = generate_pair_sets(load_pools(data, data_root, download), n_pairs, seed=seed,
                                  normalize=normalize)
    return pairs, kfold_indices(len(pairs), folds, np.random.default_rng(seed))


def run_fold(task: FoldTask, shared) -> float | None:
    """The fold's validation accuracy, or None if the run diverged."""
    pairs, folds = shared
    train_index, valid_index = folds[task.fold]
    try:
        result = train_run(get_spec(task.model), task.config, pairs.subset(train_index),
                           pairs.subset(valid_index), seed=task.seed, device=task.device)
    except Diverged:
        return None
    return result.test["accuracy"]


def cell_result(lr: float, aux_weight: float, outcomes: list) -> dict:
    """A cell's validation accuracies (fold order), their mean and sample std."""
    accuracies = [a for a in outcomes if a is not None]
    values = np.array(accuracies)
    return {"lr": lr, "aux_weight": aux_weight, "fold_accuracies": accuracies,
            "diverged": len(outcomes) - len(accuracies),
            "mean": float(values.mean()) if values.size else None,
            "std": float(values.std(ddof=1)) if values.size > 1 else None}


def choose(cells: list) -> dict | None:
    """The cell with the highest mean validation accuracy (diverged folds disqualify it)."""
    eligible = [c for c in cells if c["mean"] is not None and c["diverged"] == 0]
    return max(eligible, key=lambda c: c["mean"]) if eligible else None


def grid_settings(args) -> dict:
    return dict(format="minitorch_pairs.grid/1", model=args.model, lrs=args.lrs,
                aux_weights=args.aux_weights, folds=args.folds, convex=args.convex,
                seed=args.seed, data=args.data, n_pairs=args.n_pairs,
                normalize=args.normalize, training=cli.recorded_overrides(args))


def load_finished(path: str, settings: dict, resume: bool) -> list:
    """The cells of a stored grid made with the same settings, each checked."""
    if not os.path.exists(path):
        return []
    if not resume:
        raise StudyFilesError(f"{path} exists: pass --resume to continue it or use another "
                              "--out")
    stored = read_json(path, "resume")
    if not isinstance(stored, dict) or stored.get("settings") != settings:
        found = stored.get("settings") if isinstance(stored, dict) else stored
        raise StudyFilesError(f"resume: {path} was made with other settings ({found}); use "
                              "the same ones or another --out")
    cells, seen = stored.get("cells"), set()
    for index, cell in enumerate(cells if isinstance(cells, list) else [None]):
        problem = _cell_problem(cell, settings, seen)
        if problem is not None:
            raise StudyFilesError(f"resume: {path}: cell {index}: {problem}; delete that cell "
                                  "(it is then trained again) or use another --out")
    return cells


def _cell_problem(cell, settings: dict, seen: set) -> str | None:
    if not isinstance(cell, dict) or set(cell) != {"lr", "aux_weight", "fold_accuracies",
                                                   "diverged", "mean", "std"}:
        return f"not a grid cell: {cell!r:.80}"
    point = (cell["lr"], cell["aux_weight"])
    if cell["lr"] not in settings["lrs"] or cell["aux_weight"] not in settings["aux_weights"]:
        return f"lr {cell['lr']}, aux weight {cell['aux_weight']} is not a point of the grid"
    if point in seen:
        return f"lr {cell['lr']}, aux weight {cell['aux_weight']} appears twice"
    seen.add(point)
    accuracies = cell["fold_accuracies"]
    if not isinstance(accuracies, list) or not all(
            isinstance(a, (int, float)) and 0 <= a <= 1 for a in accuracies) or \
            cell["diverged"] != settings["folds"] - len(accuracies):
        return f"fold accuracies {accuracies!r:.80} with {cell['diverged']!r} diverged do " \
               f"not make {settings['folds']} folds of accuracies from 0 to 1"
    expected = cell_result(cell["lr"], cell["aux_weight"], accuracies)
    if (cell["mean"], cell["std"]) != (expected["mean"], expected["std"]):
        return f"mean {cell['mean']}, std {cell['std']} do not match its fold accuracies"
    return None


def write_grid(out: str, settings: dict, cells: list) -> dict:
    chosen = choose(cells)
    write_json(os.path.join(out, "grid.json"),
               {"settings": settings, "cells": cells, "chosen": chosen})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["lr", "aux_weight", "mean", "std", "diverged", "fold_accuracies"])
    for c in cells:
        writer.writerow([c["lr"], c["aux_weight"], c["mean"], c["std"], c["diverged"],
                         " ".join(f"{a:.4f}" for a in c["fold_accuracies"])])
    with atomic_write(os.path.join(out, "grid.csv")) as file:
        file.write(buffer.getvalue())
    return chosen


def format_grid(args, cells: list, chosen) -> str:
    by_point = {(c["lr"], c["aux_weight"]): c for c in cells}
    corner = "lr | aux"
    head = f"{corner:>10s} " + " ".join(f"{w:>15g}" for w in args.aux_weights)
    lines = [f"{args.model}: {args.folds}-fold validation accuracy (%), mean ± std", head]
    for lr in args.lrs:
        row = []
        for w in args.aux_weights:
            c = by_point.get((lr, w))
            text = "-" if c is None or c["mean"] is None else \
                f"{100 * c['mean']:.1f} ± {100 * (c['std'] or 0):.1f}" + \
                ("*" if c is chosen else "") + (f" {c['diverged']}d" if c["diverged"] else "")
            row.append(f"{text:>15s}")
        lines.append(f"{lr:>10g} " + " ".join(row))
    if chosen is not None:
        lines.append(f"chosen (*): lr {chosen['lr']:g}, aux weight {chosen['aux_weight']:g}")
    return "\n".join(lines)


def main(argv=None) -> int:
    """Exit status as the main job's (experiments.siamese_aux.main): 0, 1 (fold runs failed),
    2 (refused; --out as it was if no cell was written), 130 (interrupted)."""
    started = time.perf_counter()
    args = parse_args(argv)
    try:
        with outdir.claim(args.out, {"": {"grid.json", "grid.csv", "grid.png"}.__contains__}) \
                as claim:
            cells = load_finished(os.path.join(args.out, "grid.json"), grid_settings(args),
                                  args.resume)
            load = functools.partial(grid_data, args.data, args.data_root, args.n_pairs,
                                     args.seed, args.normalize, args.folds)
            shared = distributed.Shared(load(download=args.download), load)
            with distributed.executor(args) as runner:
                failed = search(args, cells, runner, shared, claim)
            chosen = choose(cells)
            print(format_grid(args, cells, chosen))
            if not args.no_plots and len(args.lrs) * len(args.aux_weights) > 1:
                plot_grid(args, cells, chosen)
    except KeyboardInterrupt:
        print(f"interrupted: the finished cells are in {args.out}; --resume continues the "
              "grid", file=sys.stderr)
        return 130
    except cli.EXPECTED_FAILURES as error:
        print(f"error: {cli.describe_failure(error)}", file=sys.stderr)
        return 2
    print(f"results in {args.out}")
    print(f"wall time: {time.perf_counter() - started:.1f} s")
    if failed:
        print(f"error: {len(failed)} fold run(s) failed; their cells are not recorded "
              "(--resume runs them again)", file=sys.stderr)
        return 1
    return 0


def search(args, cells: list, runner, shared, claim) -> list:
    """Train the folds of every cell not in `cells`, saving each cell as its folds are
    all in; returns the fold runs that failed (their workers died)."""
    spec, settings = get_spec(args.model), grid_settings(args)
    done = {(c["lr"], c["aux_weight"]) for c in cells}
    todo = [(lr, w) for lr in args.lrs for w in args.aux_weights if (lr, w) not in done]
    tasks = (FoldTask(args.model, lr, w, k, cell_config(args, spec, lr, w),
                      args.seed * 1000 + k, args.device)
             for lr, w in todo for k in range(args.folds))
    outcomes = {cell: {} for cell in todo}
    failed = []
    bar = tqdm(total=len(todo) * args.folds, desc="grid", unit="run", disable=args.quiet,
               file=sys.stderr)
    for task, result in runner.run(run_fold, tasks, shared):
        bar.update()
        if isinstance(result, distributed.Failed):
            failed.append(result)
            print(f"warning: lr {task.lr:g}, aux weight {task.aux_weight:g}, fold "
                  f"{task.fold} failed: {result.error}", file=sys.stderr)
            continue
        cell = outcomes[(task.lr, task.aux_weight)]
        cell[task.fold] = result
        if len(cell) == args.folds:  # each cell saved as soon as all its folds are in
            cells.append(cell_result(task.lr, task.aux_weight,
                                     [cell[k] for k in range(args.folds)]))
            cells.sort(key=lambda c: (args.lrs.index(c["lr"]),  # grid order, not arrival
                                      args.aux_weights.index(c["aux_weight"])))
            for name in ("grid.json", "grid.csv"):
                claim.new(os.path.join(args.out, name))
            claim.keep()  # before the files: an interrupt between the two must not undo them
            write_grid(args.out, settings, cells)
    bar.close()
    return failed


def plot_grid(args, cells: list, chosen) -> None:
    from . import plots
    values = np.full((len(args.lrs), len(args.aux_weights)), np.nan)
    for c in cells:
        if c["mean"] is not None:
            values[args.lrs.index(c["lr"]), args.aux_weights.index(c["aux_weight"])] = \
                100 * c["mean"]
    highlight = None if chosen is None else (args.lrs.index(chosen["lr"]),
                                             args.aux_weights.index(chosen["aux_weight"]))
    plots.grid_heatmap(values, [f"{x:g}" for x in args.lrs],
                       [f"{x:g}" for x in args.aux_weights],
                       os.path.join(args.out, "grid.png"),
                       title=f"{args.model}: {args.folds}-fold validation accuracy (%)",
                       xlabel="aux weight", ylabel="learning rate", highlight=highlight)


if __name__ == "__main__":
    sys.exit(main())
