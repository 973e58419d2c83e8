"""`python -m benchmarks.scaling`: ms per SGD step against the batch size, ours vs torch.

One study model, 1 to 1000 pairs, ours (nn.Sequential and its functional twin) against
torch (eager, channels_last and, with --compile, torch.compile), on the CPU.

Each variant runs in its own worker process, as in benchmarks/train_step.py (same weights,
batches and loss; the batch of P pairs is the first P training pairs of round 0 of the
study's protocol); the workers take turns, one window (the median of --repeats steps) each
per batch size, --rounds times. Writes scaling.json, scaling.csv, scaling.md and scaling.png
(log-log: ms per step against pairs) to --out.
"""
from __future__ import annotations

import argparse
import csv
import os

from .harness import (markdown_table, median_ms, serve, setup_torch, unavailable_reason,
                      worker_arguments, write_results)
from .train_step import (LABELS, VARIANTS, alternate_variants, build_step, cells, compare,
                         framework_of, header, pair_batch, unavailable_note)

PAIRS = (1, 4, 16, 64, 100, 256, 1000)
QUICK_PAIRS = (1, 4, 16)


def prepare(variant: str, threads: int, model: str, pairs: list, repeats: int):
    """The worker's measurement: the model built once in `variant`, warmed up on every batch
    size (torch.compile: a static graph each), and a function timing the step on one size."""
    if framework_of(variant) == "torch":
        setup_torch(threads)
    step, _, _ = build_step(variant, model, [pair_batch(p) for p in pairs], threads)
    unavailable = {}
    for i, p in enumerate(pairs):
        try:
            median_ms(lambda: step(i), 1, warmup=2)
        except Exception as error:  # torch.compile needs a working compiler toolchain
            if variant != "compile":
                raise
            unavailable[str(p)] = {"unavailable": unavailable_reason(error)}

    def measure(name: str) -> dict:
        if name in unavailable:
            return unavailable[name]
        i = pairs.index(int(name))
        return {"step_ms": median_ms(lambda: step(i), repeats)}
    return measure


def plot(path: str, summaries: dict, variants: list, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(6.4, 4.4))
    sizes = sorted(summaries, key=int)
    for variant in variants:
        points = [(int(p), summaries[p]["ms"][variant]) for p in sizes
                  if summaries[p]["ms"][variant] is not None]
        if points:
            style = "-" if framework_of(variant) == "ours" else "--"
            axes.plot(*zip(*points), style, marker="o", markersize=4, label=LABELS[variant])
    axes.set(xscale="log", yscale="log", xlabel="batch (pairs)", ylabel="ms per SGD step",
             title=title)
    axes.set_xticks([int(p) for p in sizes], labels=sizes)  # the sizes measured, not 10^k
    axes.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="r000_shared_net1_aux", help="a study model name")
    parser.add_argument("--pairs", type=int, nargs="+", default=list(PAIRS),
                        help="batch sizes in pairs, at most 1000 (default: 1 4 16 64 100 256 "
                             "1000)")
    parser.add_argument("--compile", action="store_true",
                        help="time torch.compile too (a compile per batch size: minutes)")
    parser.add_argument("--repeats", type=int, default=10, help="timed steps per window")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of back-to-back windows per batch size (default 5)")
    parser.add_argument("--quick", action="store_true",
                        help="1, 4 and 16 pairs, 3 timed steps, 1 round (CI)")
    parser.add_argument("--out", help="directory for scaling.json, .csv, .md and .png")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    worker_arguments(parser)
    args = parser.parse_args(argv)
    pairs = list(QUICK_PAIRS) if args.quick else args.pairs
    repeats, rounds = (3, 1) if args.quick else (args.repeats, args.rounds)
    if args.worker:
        serve(prepare(args.variant, args.threads, args.model, pairs, repeats))
        return {}
    if args.device != "cpu" or not all(1 <= p <= 1000 for p in pairs):
        parser.error("scaling: CPU only, and --pairs between 1 and 1000")
    variants = [v for v in VARIANTS if v != "compile" or args.compile]
    names = [str(p) for p in pairs]
    runs = alternate_variants("scaling", args.threads, rounds, names, variants, "--model",
                              args.model, "--repeats", str(repeats), "--pairs", *names)
    summaries = {name: compare(runs, name, "step_ms") for name in names}
    table = markdown_table(["pairs"] + header(variants, "ms/step"),
                           [[name] + cells(summaries[name], variants) for name in names])
    table += unavailable_note(list(summaries.values()))
    print(f"{args.model}, {args.threads} threads; per window the median of {repeats} SGD "
          f"steps; medians over {rounds} rounds of back-to-back windows, one per variant; "
          f"ratio = median of the rounds' ours / fastest torch variant\n{table}")
    results = {"model": args.model, "threads": args.threads, "repeats": repeats,
               "rounds": rounds, "variants": variants, "summaries": summaries, "runs": runs}
    write_results(args.out, "scaling", results, table)
    if args.out:
        with open(os.path.join(args.out, "scaling.csv"), "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["pairs", "variant", "ms_per_step", "ratio_to_fastest_torch"])
            for name, summary in summaries.items():
                for v in variants:
                    ms, ratio = summary["ms"][v], summary["ratio"].get(v)
                    writer.writerow([name, v, "" if ms is None else f"{ms:.3f}",
                                     "" if ratio is None else f"{ratio:.3f}"])
        plot(os.path.join(args.out, "scaling.png"), summaries, variants,
             f"{args.model}, SGD step, {args.threads} threads")
    return results


if __name__ == "__main__":
    main()
