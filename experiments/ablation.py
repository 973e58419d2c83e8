"""`python -m experiments.ablation`: what each training ingredient of our own models buys.

Runs the main job (`experiments.siamese_aux`) on the models of our own with their full
recipes, then once per ablation with one ingredient removed, on the same rounds (the same
pairs and initialisations, so every difference is paired round by round), and prints and
writes a table: mean ± std of test accuracy per variant, and its paired difference from the
full recipe. Each variant is an ordinary study in its own folder of --out (with the main
job's files; --resume continues all of them), and each row says which main-job options
made it, so any row can be rerun alone.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from minitorch_pairs.files import atomic_write

from . import cli, outdir, siamese_aux
from .results import read_runs, write_json

FULL = "full recipe"
# (model, variant, the main job's options that remove the ingredient)
ABLATIONS = (
    ("beyond_digits", "no augmentation (shifts, rotations)", ["--augment", "none"]),
    ("beyond_digits", "constant learning rate (no one-cycle)", ["--schedule", "constant"]),
    ("beyond_end_to_end", "no re-pairing", ["--augment", "shift=2,rotate=12,swap"]),
    ("beyond_end_to_end", "no shifts, rotations", ["--augment", "swap,repair"]),
)
# Not ablated: the pair swap of beyond_end_to_end, which re-pairing makes redundant (a random
# re-pairing is already symmetric in the two images); "no re-pairing" keeps the swap. Its
# schedule and digit loss are not ablated yet (2-core time): run the main job with
# `--models beyond_end_to_end --schedule constant` or `--aux-weight 0` to see them.
MODELS = tuple(dict.fromkeys(model for model, _, _ in ABLATIONS))


def variant_folder(out: str, models: list, variant: str) -> str:
    """--out/full_recipe for the full recipes, --out/<model>/<variant> for an ablation."""
    name = "_".join("".join(c if c.isalnum() else " " for c in variant).split())
    return os.path.join(out, name) if variant == FULL else os.path.join(out, *models, name)


def test_accuracies(out: str, model: str) -> dict:
    """round -> test accuracy of the finished runs (NaN for a diverged one)."""
    return {row["round"]: row["test_accuracy"]
            for row in read_runs(os.path.join(out, "runs.csv"), "ablation")
            if row["model"] == model}


def row_for(model: str, variant: str, options: list, accuracies: dict, full: dict) -> dict:
    values = np.array([accuracies[r] for r in sorted(accuracies)])
    ok = values[np.isfinite(values)]
    paired = np.array([accuracies[r] - full[r] for r in sorted(accuracies)
                       if r in full and np.isfinite(accuracies[r] - full[r])])
    return dict(model=model, variant=variant, options=" ".join(options), rounds=len(values),
                diverged=int(len(values) - len(ok)),
                mean=float(ok.mean()) if ok.size else None,
                std=float(ok.std(ddof=1)) if ok.size > 1 else None,
                paired_difference=float(paired.mean()) if paired.size else None,
                paired_difference_std=float(paired.std(ddof=1)) if paired.size > 1 else None)


def _points(value, signed=False) -> str:
    if value is None:
        return "-"
    return f"{100 * value:+.2f}" if signed else f"{100 * value:.2f}"


def markdown(rows: list) -> str:
    lines = ["| model | variant | main-job options | test accuracy (%) | vs full recipe "
             "(points, paired) | rounds |", "|---|---|---|---|---|---|"]
    for r in rows:
        accuracy = f"{_points(r['mean'])} ± {_points(r['std'])}"
        difference = "" if r["variant"] == FULL else \
            f"{_points(r['paired_difference'], True)} ± {_points(r['paired_difference_std'])}"
        rounds = f"{r['rounds'] - r['diverged']}" + (f" (+{r['diverged']} diverged)"
                                                    if r["diverged"] else "")
        lines.append(f"| {r['model']} | {r['variant']} | `{r['options'] or '(none)'}` | "
                     f"{accuracy} | {difference} | {rounds} |")
    return "\n".join(lines)


def table_rows(out: str, models: list) -> list:
    """Each model's full recipe, then its ablations, read from their studies in `out`."""
    full = {m: test_accuracies(variant_folder(out, models, FULL), m) for m in models}
    rows = []
    for model in models:
        rows.append(row_for(model, FULL, [], full[model], full[model]))
        for m, variant, options in ABLATIONS:
            if m == model:
                rows.append(row_for(model, variant, options, test_accuracies(
                    variant_folder(out, [model], variant), model), full[model]))
    return rows


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m experiments.ablation",
                                     description=__doc__.split("\n\n")[1])
    parser.add_argument("--rounds", type=cli.positive_int, default=10)
    parser.add_argument("--out", type=cli.out_directory, default=os.path.join("results", "ablation"))
    parser.add_argument("--resume", action="store_true",
                        help="continue the variants' studies in --out")
    parser.add_argument("--only", type=cli.model_names,
                        help=f"ablate only these of {', '.join(MODELS)}")
    args, passed_on = parser.parse_known_args(argv)
    # everything else (--workers, --epochs, --n-pairs, --data ...) goes to each main job
    return args, passed_on


def main(argv=None) -> int:
    args, passed_on = parse_args(argv)
    models = args.only or list(MODELS)
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        print(f"error: --only: no ablations for {unknown}; expected some of {MODELS}",
              file=sys.stderr)
        return 2
    plan = [(models, FULL, [])] + [([m], v, o) for m, v, o in ABLATIONS if m in models]
    try:
        with outdir.claim(args.out, {"": {"ablation.json", "ablation.md"}.__contains__}):
            for plan_models, variant, options in plan:
                out = variant_folder(args.out, plan_models, variant)
                status = siamese_aux.main([
                    "--models", ",".join(plan_models), "--rounds", str(args.rounds),
                    "--out", out, *options, *passed_on,
                    *(["--resume"] if args.resume and os.path.exists(out) else []),
                    *([] if variant == FULL else ["--no-plots"])])
                if status != 0:
                    return status
            rows = table_rows(args.out, models)
            table = markdown(rows)
            write_json(os.path.join(args.out, "ablation.json"), rows)
            with atomic_write(os.path.join(args.out, "ablation.md")) as file:
                file.write(table + "\n")
    except KeyboardInterrupt:
        print(f"interrupted: --resume continues the ablation in {args.out}", file=sys.stderr)
        return 130
    except cli.EXPECTED_FAILURES as error:
        print(f"error: {cli.describe_failure(error)}", file=sys.stderr)
        return 2
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
