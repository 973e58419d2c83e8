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
import io
import os
import sys
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from minitorch_pairs.data import generate_pair_sets, kfold_indices
from minitorch_pairs.files import atomic_write, remove_temporaries

from . import cli, distributed
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
    parser.add_argument("--out", default=os.path.join("results", "grid"),
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
    args.folds = args.folds or preset["folds"]
    args.convex = args.convex or preset["convex"]
    if args.folds < 2:
        parser.error(f"--folds: expected at least 2, got {args.folds}")
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
    if not os.path.exists(path):
        return []
    if not resume:
        raise StudyFilesError(f"{path} exists: pass --resume to continue it or use another "
                              "--out")
    stored = read_json(path, "resume")
    if stored.get("settings") != settings:
        raise StudyFilesError(f"resume: {path} was made with other settings "
                              f"({stored.get('settings')}); use the same ones or another --out")
    return stored.get("cells", [])


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
    args = parse_args(argv)
    spec = get_spec(args.model)
    settings = grid_settings(args)
    try:
        cells = load_finished(os.path.join(args.out, "grid.json"), settings, args.resume)
        pools = load_pools(args.data, args.data_root, args.download)
        pairs, _ = generate_pair_sets(pools, args.n_pairs, seed=args.seed,
                                      normalize=args.normalize)
    except (StudyFilesError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)  # only once the inputs are known to be good
    remove_temporaries(args.out)  # half-written files of a killed run
    folds = kfold_indices(len(pairs), args.folds, np.random.default_rng(args.seed))
    done = {(c["lr"], c["aux_weight"]) for c in cells}
    todo = [(lr, w) for lr in args.lrs for w in args.aux_weights if (lr, w) not in done]
    tasks = [FoldTask(args.model, lr, w, k, cell_config(args, spec, lr, w),
                      args.seed * 1000 + k, args.device)
             for lr, w in todo for k in range(args.folds)]
    outcomes = {cell: {} for cell in todo}
    failed = []
    bar = tqdm(total=len(tasks), desc="grid", unit="run", disable=args.quiet, file=sys.stderr)
    with distributed.executor(args) as runner:
        for task, result in runner.run(run_fold, tasks, (pairs, folds)):
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
                write_grid(args.out, settings, cells)
    bar.close()
    chosen = choose(cells)
    print(format_grid(args, cells, chosen))
    if not args.no_plots and len(args.lrs) * len(args.aux_weights) > 1:
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
    print(f"results in {args.out}")
    if failed:
        print(f"error: {len(failed)} fold run(s) failed; their cells are not recorded "
              "(--resume runs them again)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
