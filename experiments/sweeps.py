"""`python -m experiments.sweeps NAME`: the reports' own one-variable studies, beside their
numbers.

    r001_aux_weight   report 001 Table IV: aux weight w in {0.1, 0.2, 0.3, 0.4} (comparison
                      weight 1 - w) for the CNN and FC aux networks, each capped at the
                      epochs Table IV gives for that w
    r003_activation   report 003 Fig. 4: ReLU, Tanh, Sigmoid (lr 0.01), SELU; MLP and ConvNet
    r003_dropout      report 003 Fig. 5: MLP dropout p in {0, 0.2, 0.5, 0.8}
    r003_batchnorm    report 003 Fig. 5: ConvNet with and without BatchNorm
    r003_sharing      report 003 Fig. 6: with and without weight sharing, MLP and ConvNet
    r003_lambda       report 003 Fig. 7: weight of the binary term lambda in 0.5..1.5
    r004_eta          report 004: each model at the learning rates 0.01, 0.1 and 1 (the report
                      chose 0.1, 1 and 0.1)

Each point is a study of the main job (its own folder under --out/NAME, made with the
options its row names, so it can be rerun alone; --resume continues them) under the
report's protocol. The sweep writes NAME.md (the table), NAME.json and NAME.png (accuracy
against the swept value, mean ± std, the report's numbers as crosses). Report 000's
learning-rate x aux-weight grid is `python -m experiments.grid --preset r000`.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

import numpy as np

from minitorch_pairs.files import atomic_write

from . import cli, outdir, plots, siamese_aux
from .results import read_runs, write_json


@dataclass(frozen=True)
class Point:
    series: str  # one line of the figure, e.g. "ConvNet"
    value: str  # the swept value as shown
    model: str  # the main job's model name
    options: tuple = ()  # the main job's options besides --models
    published: tuple | None = None  # the report's (accuracy %, std or None) at this point
    note: str = ""


@dataclass(frozen=True)
class Sweep:
    name: str
    title: str
    axis: str
    protocol: str
    points: tuple
    finding: str  # what the report says the sweep shows


# Report 001 Table IV: (w, epochs, mean error) per network; w = 0.3 repeats Table III.
TABLE_IV = {"r001_cnn_ws_aux": ((0.4, 42.8, 0.0996), (0.3, 44.5, 0.1016), (0.2, 49.0, 0.1012),
                                (0.1, 57.7, 0.1064)),
            "r001_fc_aux": ((0.4, 98.1, 0.1745), (0.3, 95.5, 0.2135), (0.2, 131.4, 0.2144),
                            (0.1, 173.9, 0.222))}
TABLE_IV_NAMES = {"r001_cnn_ws_aux": "CNN weight sharing & Aux",
                  "r001_fc_aux": "FC Network with Aux"}


def _r001_aux_weight() -> tuple:
    return tuple(
        Point(TABLE_IV_NAMES[model], f"{w:g}", model,
              ("--aux-weight", f"{w:g}", "--comparison-weight", f"{1 - w:g}",
               "--epochs", str(int(np.ceil(epochs)))),
              (100 * (1 - error), None), f"at most {int(np.ceil(epochs))} epochs")
        for model, rows in TABLE_IV.items() for w, epochs, error in sorted(rows))


def _r003(series_models: dict, key: str, values: list, shown=str, published=None) -> tuple:
    published = published or {}
    return tuple(Point(series, shown(v), f"{model}[{key}={v}]",
                       published=published.get((model, v)))
                 for series, model in series_models.items() for v in values)


FAMILIES = {"MLP": "r003_mlp", "ConvNet": "r003_cnn"}
FAMILIES_AUX = {"MLP": "r003_mlp_ws_aux", "ConvNet": "r003_cnn_ws_aux"}
LAMBDAS = [round(0.5 + 0.1 * i, 1) for i in range(11)]
R004_RATES = (0.01, 0.1, 1.0)
R004_CHOSEN = {"r004_baseline_cnn": (0.1, "Baseline", (83.23, 1.17)),
               "r004_siamese2": (1.0, "Siamese2", (91.50, 1.65)),
               "r004_siamese10": (0.1, "Siamese10", (97.23, 0.57))}

SWEEPS = {sweep.name: sweep for sweep in (
    Sweep("r001_aux_weight", "Report 001 Table IV: the aux weight w (loss (1 - w) L_cmp + w L_aux)",
          "aux weight w", "p001", _r001_aux_weight(),
          "w = 0.4 is best for both networks (and the largest value tried)"),
    Sweep("r003_activation", "Report 003 Fig. 4: the activation", "activation", "p003",
          _r003(FAMILIES, "activation", ["relu", "tanh", "sigmoid", "selu"]),
          "ReLU is best for both models; Sigmoid needs lr 0.01 to train"),
    Sweep("r003_dropout", "Report 003 Fig. 5: dropout in the MLP", "dropout p", "p003",
          _r003({"MLP": "r003_mlp"}, "dropout", [0.0, 0.2, 0.5, 0.8], shown="{:g}".format),
          "dropout makes the MLP worse"),
    Sweep("r003_batchnorm", "Report 003 Fig. 5: BatchNorm in the ConvNet", "BatchNorm", "p003",
          _r003({"ConvNet": "r003_cnn"}, "batchnorm", [False, True],
                shown=lambda v: "on" if v else "off"),
          "BatchNorm gives the ConvNet no gain"),
    Sweep("r003_sharing", "Report 003 Fig. 6: weight sharing", "weight sharing", "p003",
          tuple(Point(series, shown, model) for series, family in FAMILIES.items()
                for shown, model in (("off", family), ("on", f"{family}_ws"))),
          "weight sharing improves both models a lot"),
    Sweep("r003_lambda", "Report 003 Fig. 7: the weight lambda of the binary term "
          "(L = L_dig1 + L_dig2 + lambda L_bin)", "lambda", "p003",
          _r003(FAMILIES_AUX, "lam", LAMBDAS, shown="{:g}".format,
                published={("r003_cnn_ws_aux", 0.8): (91.36, 0.6275)}),
          "best lambda 0.9 for the MLP and 0.8 for the ConvNet (91.36 ± 0.63 %, the only "
          "number the report prints)"),
    Sweep("r004_eta", "Report 004: the learning rate", "learning rate", "p004",
          tuple(Point(series, f"{rate:g}", model, ("--lr", f"{rate:g}"),
                      published if rate == chosen else None,
                      "the report's choice" if rate == chosen else "")
                for model, (chosen, series, published) in R004_CHOSEN.items()
                for rate in R004_RATES),
          "chosen by 10-fold CV: 0.1 for the baseline and Siamese10, 1 for Siamese2"),
)}


def study_folder(out: str, sweep: Sweep, options: tuple) -> str:
    """Points with the same options share one study: --out/NAME/<options or 'models'>."""
    name = "_".join("".join(c if c.isalnum() or c == "." else " " for c in " ".join(options))
                    .split())
    return os.path.join(out, sweep.name, name or "models")


def studies(out: str, sweep: Sweep) -> dict:
    """folder -> (options, models) of the main-job studies the sweep runs."""
    plan = {}
    for point in sweep.points:
        folder = study_folder(out, sweep, point.options)
        plan.setdefault(folder, (point.options, []))[1].append(point.model)
    return plan


def point_row(sweep: Sweep, point: Point, folder: str) -> dict:
    runs = [r for r in read_runs(os.path.join(folder, "runs.csv"), "sweep")
            if r["model"] == point.model] if os.path.exists(os.path.join(folder, "runs.csv")) \
        else []
    values = np.array([r["test_accuracy"] for r in runs], dtype=float)
    ok = values[np.isfinite(values)]
    mean = float(100 * ok.mean()) if ok.size else None
    std = float(100 * ok.std(ddof=1)) if ok.size > 1 else None
    report, report_std = point.published or (None, None)
    scale = max(s for s in (std, report_std) if s is not None) \
        if (std is not None or report_std is not None) else None
    return dict(series=point.series, value=point.value, model=point.model,
                options=" ".join(point.options), rounds=int(ok.size),
                diverged=int(values.size - ok.size), mean=mean, std=std,
                epochs=float(np.mean([r["epochs"] for r in runs])) if runs else None,
                report=report, report_std=report_std,
                difference_in_std=(mean - report) / scale
                if report is not None and mean is not None and scale else None,
                note=point.note)


def table_rows(out: str, sweep: Sweep) -> list:
    return [point_row(sweep, p, study_folder(out, sweep, p.options)) for p in sweep.points]


def _number(value, digits=2, signed=False) -> str:
    if value is None:
        return "—"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def markdown(sweep: Sweep, rows: list) -> str:
    lines = [f"**{sweep.title}** (protocol {sweep.protocol}). The report: {sweep.finding}.", "",
             f"| series | {sweep.axis} | ours (%) mean ± std (rounds) | epochs (mean) | "
             f"report's number (%) | difference / larger std | main-job model and options |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        ours = f"{_number(r['mean'])} ± {_number(r['std'])} ({r['rounds']}" + \
            (f", +{r['diverged']} diverged)" if r["diverged"] else ")")
        report = "—" if r["report"] is None else _number(r["report"]) + \
            ("" if r["report_std"] is None else f" ± {_number(r['report_std'])}")
        note = f" ({r['note']})" if r["note"] else ""
        lines.append(f"| {r['series']} | {r['value']} | {ours} | {_number(r['epochs'], 1)} | "
                     f"{report} | {_number(r['difference_in_std'], 1, True)} | "
                     f"`{r['model']}`" + (f" `{r['options']}`" if r["options"] else "") +
                     f"{note} |")
    return "\n".join(lines)


def figure(sweep: Sweep, rows: list, path: str) -> None:
    series = {}
    for r in rows:
        series.setdefault(r["series"], []).append(
            (r["value"], r["mean"], r["std"], r["report"], r["report_std"]))
    plots.sweep_with_report(series, path, sweep.axis, sweep.title)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m experiments.sweeps",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("sweeps", nargs="+", choices=sorted(SWEEPS), metavar="NAME",
                        help=f"one or more of {', '.join(SWEEPS)}")
    parser.add_argument("--rounds", type=cli.positive_int, default=None,
                        help="rounds per point (default: the protocol's)")
    parser.add_argument("--out", type=cli.out_directory, default=os.path.join("results", "sweeps"))
    parser.add_argument("--resume", action="store_true", help="continue the points' studies")
    parser.add_argument("--no-plots", action="store_true", help="skip the figures")
    args, passed_on = parser.parse_known_args(argv)
    # everything else (--workers, --n-pairs, --data ...) goes to each main job
    return args, passed_on


def run(sweep: Sweep, args, passed_on: list) -> int:
    for folder, (options, models) in studies(args.out, sweep).items():
        status = siamese_aux.main([
            "--models", ",".join(models), "--protocol", sweep.protocol, "--out", folder,
            *(["--rounds", str(args.rounds)] if args.rounds else []), *options, *passed_on,
            "--no-plots", *(["--resume"] if args.resume and os.path.exists(folder) else [])])
        if status != 0:
            return status
    rows = table_rows(args.out, sweep)
    base = os.path.join(args.out, sweep.name)
    write_json(base + ".json", rows)
    with atomic_write(base + ".md") as file:
        file.write(markdown(sweep, rows) + "\n")
    if not args.no_plots:
        figure(sweep, rows, base + ".png")
    print(markdown(sweep, rows))
    return 0


def main(argv=None) -> int:
    args, passed_on = parse_args(argv)
    try:
        with outdir.claim(args.out, {"": lambda name: name.endswith((".md", ".json", ".png"))}):
            for name in dict.fromkeys(args.sweeps):
                status = run(SWEEPS[name], args, passed_on)
                if status != 0:
                    return status
    except KeyboardInterrupt:
        print(f"interrupted: --resume continues the sweeps in {args.out}", file=sys.stderr)
        return 130
    except cli.EXPECTED_FAILURES as error:
        print(f"error: {cli.describe_failure(error)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
