"""`python -m experiments.reproduction DIR`: the reproduction table of a finished study
(experiments/REPRODUCTION.md's): per model its report's number beside ours, the difference in
units of the larger std, and the verdict, as Markdown on stdout."""
from __future__ import annotations

import argparse
import json
import os
import sys

from .models import get_spec
from .protocols import protocol_of
from .published import compare

HEADER = ("| id | report: name | protocol | report's number (%) | ours (%) mean ± std "
          "(rounds) | ours s.e. | difference / larger std | verdict | epochs report / ours |",
          "|---|---|---|---|---|---|---|---|---|")


def _percent(value) -> float | None:
    return None if value is None else 100 * value


def _number(mean, std=None) -> str:
    if mean is None:
        return "—"
    return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


def row(model: str, result: dict, protocol: str) -> str:
    """One Markdown row: `result` is the model's entry of summary.json."""
    spec = get_spec(model)
    mean, std = _percent(result["test_accuracy_mean"]), _percent(result["test_accuracy_std"])
    verdict = compare(mean, std, model)
    theirs = verdict["published"]
    rounds = f"{result['rounds'] - result['diverged']}" + \
        (f", {result['diverged']} diverged" if result["diverged"] else "")
    units = "—" if verdict["in_stds"] is None else f"{verdict['in_stds']:+.1f}"
    epochs = "—" if theirs is None or theirs.epochs is None else f"{theirs.epochs:g}"
    ours_epochs = result.get("epochs_mean")
    return (f"| `{model}` | {spec.report}: {spec.description} | "
            f"{protocol_of(protocol, model).name} | "
            f"{'—' if theirs is None else _number(theirs.accuracy, theirs.std)} | "
            f"{_number(mean, std)} ({rounds}) | {_number(_percent(result.get('test_accuracy_sem')))} | "
            f"{units} | {verdict['verdict']} | "
            f"{epochs} / {'—' if ours_epochs is None else f'{ours_epochs:.1f}'} |")


def table(out: str) -> str:
    """The table of the study in `out` (its summary.json and config.json)."""
    with open(os.path.join(out, "summary.json")) as file:
        summary = json.load(file)
    with open(os.path.join(out, "config.json")) as file:
        protocol = json.load(file).get("protocol", "common")
    return "\n".join([*HEADER, *(row(m, r, protocol) for m, r in summary.items())])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.reproduction",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="a finished study's directory")
    args = parser.parse_args(argv)
    try:
        print(table(args.out))
    except (OSError, ValueError, KeyError) as error:
        print(f"error: {args.out}: not a finished study ({error})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
