"""`python -m benchmarks.study_torch`: the study protocol of `experiments.siamese_aux`, trained
with PyTorch, so that our accuracies can be set beside torch's.

Torch twins of the headline models (same layers, torch's own default initialisation) are
trained with torch.optim.Adam at each spec's lr, on exactly the pair sets our study draws for
each round (seed = --seed + round, `minitorch_pairs.data.generate_pair_sets` on the embedded
digits, standardised), with the same loss (weights[0] * CE(comparison) + weights[1] * mean
digit CE over the 2N digits), the same decision rules and the same evaluation (after every
epoch, eval mode). Initialisation from torch.manual_seed(seed); batch order from
numpy.random.default_rng([seed, 1]), as in `experiments.training.train_run`.

--ours DIR reads the summary.json of one of our study runs and prints it alongside.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from minitorch_pairs.data import generate_pair_sets
from minitorch_pairs.files import atomic_write

from experiments.models import HEADLINE, PairOutput, count_parameters, get_spec
from experiments.models.report000 import branch, comparator
from experiments.results import percent, summarise
from experiments.sources import load_pools
from experiments.training import HISTORY_KEYS, pair_loss


# --- torch twins of experiments/models/report000.py -------------------------------------

class Siamese(nn.Module):
    """As experiments.models.base.Siamese: a shared branch runs both images as one batch of
    2N; the comparator sees cat([f1, f2], 1); the digits are stack([f1, f2], 1).
    forward returns a PairOutput: comparison (N, 2), digits (N, 2, 10)."""

    def __init__(self, branch: nn.Module, comparator: nn.Module,
                 second_branch: nn.Module | None = None):
        super().__init__()
        self.branch = branch
        self.second_branch = second_branch
        self.comparator = comparator

    def forward(self, x: torch.Tensor):
        first, second = x[:, 0:1], x[:, 1:2]
        if self.second_branch is not None:
            f1, f2 = self.branch(first), self.second_branch(second)
        else:
            both = self.branch(torch.cat([first, second], dim=0))
            n = x.shape[0]
            f1, f2 = both[:n], both[n:]
        return PairOutput(self.comparator(torch.cat([f1, f2], 1)), torch.stack([f1, f2], dim=1))


TWINS = {
    "r000_naive_net1": lambda: Siamese(branch(1, nn), comparator(nn),
                                       second_branch=branch(1, nn)),
    "r000_shared_net1": lambda: Siamese(branch(1, nn), comparator(nn)),
    "r000_shared_net1_aux": lambda: Siamese(branch(1, nn), comparator(nn)),
    "r000_shared_net2_aux": lambda: Siamese(branch(2, nn), comparator(nn)),
    "r000_benchmark_leq": lambda: Siamese(branch(2, nn), comparator(nn)),
}


def build_twin(name: str) -> nn.Module:
    if name not in TWINS:
        raise ValueError(f"model: no torch twin for {name!r}; expected one of {sorted(TWINS)}")
    return TWINS[name]()


# --- training, as experiments/training.py ------------------------------------------------

def decide(decision: str, output: PairOutput) -> torch.Tensor:
    if decision == "digits":
        return (output.digits[:, 0].argmax(dim=1) <= output.digits[:, 1].argmax(dim=1)).long()
    return output.comparison.argmax(dim=1)


def _tensors(pairs, device: str = "cpu"):
    return (torch.from_numpy(np.ascontiguousarray(pairs.input, dtype=np.float32)).to(device),
            torch.from_numpy(pairs.target.astype(np.int64)).to(device),
            torch.from_numpy(pairs.classes.astype(np.int64)).to(device))


@torch.no_grad()
def evaluate(model, decision, data, weights, batch_size: int = 500) -> dict:
    was_training = model.training
    model.eval()
    x, target, classes = data
    correct, loss_sum = 0, 0.0
    for start in range(0, len(x), batch_size):
        sl = slice(start, start + batch_size)
        output = model(x[sl])
        loss_sum += pair_loss(output, target[sl], classes[sl], weights, F).item() * len(x[sl])
        correct += int((decide(decision, output) == target[sl]).sum())
    model.train(was_training)
    return {"accuracy": correct / len(x), "loss": loss_sum / len(x)}


def train_run(name: str, train, test, seed: int, epochs: int, device: str = "cpu") -> dict:
    """One run of model `name` (its spec's recipe, `epochs` epochs) on (train, test); the
    loss reaches the host once per epoch, as in ours."""
    spec = get_spec(name)
    if spec.optimizer != "adam" or spec.aux_schedule != "fixed" or spec.stop_loss_change:
        raise ValueError(f"{name}: only fixed-weight Adam recipes are mirrored here")
    weights = (spec.comparison_weight, spec.aux_weight)
    torch.manual_seed(seed)
    model = build_twin(name).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=spec.lr)
    order_rng = np.random.default_rng([seed, 1])
    train_data, test_data = _tensors(train, device), _tensors(test, device)
    x, target, classes = train_data
    history = {key: [] for key in HISTORY_KEYS}
    started = time.perf_counter()
    for _ in range(epochs):
        model.train()
        order = torch.from_numpy(order_rng.permutation(len(x))).to(device)
        loss_sum = 0.0
        for start in range(0, len(x), spec.batch_size):
            index = order[start:start + spec.batch_size]
            loss = pair_loss(model(x[index]), target[index], classes[index], weights, F)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum = loss_sum + loss.detach().double() * len(index)
        if not math.isfinite(float(loss_sum)):
            raise FloatingPointError(f"{name}: the training loss became {float(loss_sum)}")
        final = {}
        for split, data in (("train", train_data), ("test", test_data)):
            final[split] = evaluate(model, spec.decision, data, weights)
            history[f"{split}_loss"].append(final[split]["loss"])
            history[f"{split}_accuracy"].append(final[split]["accuracy"])
    seconds = time.perf_counter() - started
    return {"test_accuracy": final["test"]["accuracy"],
            "train_accuracy": final["train"]["accuracy"], "test_loss": final["test"]["loss"],
            "seconds": seconds, "history": history}


# --- the study ---------------------------------------------------------------------------

def run_study(models, rounds: int, n_pairs: int, seed: int, epochs: int | None,
              log=print, device: str = "cpu") -> dict:
    pools = load_pools("embedded")
    parameters = {name: count_parameters(build_twin(name)) for name in models}
    runs = {name: [] for name in models}
    for round_ in range(rounds):
        round_seed = seed + round_
        train, test = generate_pair_sets(pools, n_pairs, seed=round_seed,
                                         normalize="standardise")
        for name in models:
            n_epochs = epochs if epochs is not None else get_spec(name).epochs
            result = train_run(name, train, test, round_seed, n_epochs, device)
            result.update(round=round_, seed=round_seed, epochs=n_epochs)
            runs[name].append(result)
            log(f"{name} round {round_}: test {100 * result['test_accuracy']:.2f} % "
                f"({result['seconds']:.1f} s)")
    rows = [dict(r, model=name, status="ok", parameters=parameters[name])
            for name, results in runs.items() for r in results]
    summary = summarise(rows, list(models))  # the same statistics as our study's summary
    for name, results in runs.items():
        summary[name]["runs"] = [{k: r[k] for k in ("round", "seed", "epochs", "test_accuracy",
                                                    "train_accuracy", "test_loss", "seconds")}
                                 for r in results]
    return summary


def compare(torch_summary: dict, ours: dict | None) -> dict:
    """Per model: |difference of means| in units of the larger std, and whether <= 2."""
    out = {}
    for name, t in torch_summary.items():
        o = (ours or {}).get(name)
        if not o or t["test_accuracy_mean"] is None or o.get("test_accuracy_mean") is None:
            continue  # a side without a finished, non-diverged run
        diff = abs(t["test_accuracy_mean"] - o["test_accuracy_mean"])
        stds = [s for s in (t["test_accuracy_std"], o.get("test_accuracy_std"))
                if s is not None and math.isfinite(s)]
        scale = max(stds) if stds else math.nan
        units = diff / scale if scale and math.isfinite(scale) else math.nan
        out[name] = {"difference": diff, "difference_in_std": units,
                     "within_2_std": bool(units <= 2) if math.isfinite(units) else None}
    return out


def format_table(torch_summary: dict, ours: dict | None, comparison: dict) -> str:
    header = ["model", "torch test acc mean ± std (%)", "s/run"]
    if ours is not None:
        header += ["ours mean ± std (%)", "ours s/run", "abs diff / larger std", "within 2 std"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, t in torch_summary.items():
        row = [name, percent(t["test_accuracy_mean"], t["test_accuracy_std"]),
               f"{t['seconds_mean']:.1f}"]
        if ours is not None:
            o, c = ours.get(name), comparison.get(name)
            if o:
                units = c["difference_in_std"]
                row += [percent(o.get("test_accuracy_mean"), o.get("test_accuracy_std")),
                        f"{o['seconds_mean']:.1f}" if o.get("seconds_mean") is not None
                        else "n/a",
                        f"{units:.2f}" if math.isfinite(units) else "n/a",
                        {True: "yes", False: "no", None: "n/a"}[c["within_2_std"]]]
            else:
                row += ["n/a"] * 4
        lines.append("| " + " | ".join(row) + " |")
    rounds = {t["rounds"] for t in torch_summary.values()}
    note = f"mean ± sample std (ddof=1) over {'/'.join(map(str, sorted(rounds)))} round(s)"
    if ours is not None:
        note += "; ours rounds: " + ", ".join(
            f"{n} {ours[n].get('rounds', '?')}" for n in torch_summary if n in ours)
    return "\n".join(lines) + "\n\n" + note + "\n"


def _finite(value):
    """`value` with NaN/inf floats as None (null), so the JSON file is strict JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.study_torch",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(HEADLINE),
                        help="model names separated by commas (default: the headline four)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per run (default: each spec's)")
    parser.add_argument("--n-pairs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="where torch trains (cuda: its CUDA build on a GPU)")
    parser.add_argument("--ours", default=None,
                        help="a results directory of our study (reads its summary.json)")
    parser.add_argument("--out", default=None,
                        help="write study_torch.json and study_torch.md here")
    parser.add_argument("--quick", action="store_true",
                        help="1 round, 1 epoch, 100 pairs (a smoke run for CI)")
    parser.add_argument("--reuse", default=None, metavar="DIR",
                        help="take torch's results from an earlier run's study_torch.json in "
                             "DIR instead of training again (to set a new run of ours beside "
                             "them)")
    args = parser.parse_args(argv)
    args.models = [m.strip() for m in args.models.replace(" ", ",").split(",") if m.strip()]
    for name in args.models:
        if name not in TWINS:
            parser.error(f"--models: no torch twin for {name!r}; expected one of "
                         f"{sorted(TWINS)}")
    if args.quick:
        args.rounds, args.epochs, args.n_pairs = 1, 1, 100
    for key in ("rounds", "n_pairs", "threads"):
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')}: expected a positive integer")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs: expected a positive integer")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA GPU (torch.cuda.is_available() is "
                     "False)")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    ours = None
    if args.ours is not None:
        path = os.path.join(args.ours, "summary.json")
        try:
            with open(path) as f:
                ours = json.load(f)
        except (OSError, ValueError) as error:
            print(f"error: --ours: cannot read {path}: {error}", file=sys.stderr)
            return 2
    if args.reuse is not None:
        path = os.path.join(args.reuse, "study_torch.json")
        try:
            with open(path) as f:
                summary = json.load(f)["models"]
        except (OSError, ValueError, KeyError) as error:
            print(f"error: --reuse: cannot read {path}: {error}", file=sys.stderr)
            return 2
    else:
        summary = run_study(args.models, args.rounds, args.n_pairs, args.seed, args.epochs,
                            log=lambda line: print(line, file=sys.stderr, flush=True),
                            device=args.device)
    comparison = compare(summary, ours)
    table = format_table(summary, ours, comparison)
    print(table)
    if args.out is not None:
        os.makedirs(args.out, exist_ok=True)
        settings = dict(models=args.models, rounds=args.rounds, epochs=args.epochs,
                        n_pairs=args.n_pairs, seed=args.seed, threads=args.threads,
                        device=args.device,
                        ours=args.ours, torch=torch.__version__)
        with atomic_write(os.path.join(args.out, "study_torch.json")) as f:
            json.dump(_finite({"settings": settings, "models": summary,
                               "comparison": comparison}), f, indent=2, allow_nan=False)
        with atomic_write(os.path.join(args.out, "study_torch.md")) as f:
            f.write("# The study trained with PyTorch\n\n`python -m benchmarks.study_torch "
                    + " ".join(sys.argv[1:] if argv is None else argv) + "`\n\n" + table)
        print(f"results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
