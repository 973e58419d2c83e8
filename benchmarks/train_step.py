"""`python -m benchmarks.train_step`: milliseconds per SGD training step (forward, loss,
backward, optimizer step) of each headline study model, ours vs torch, at 1 and 2 threads;
with --device cuda, on the GPU (each timed step ends with a device synchronisation; host
thread counts then matter little, and the CPU GEMM ceiling is not measured).

Each framework runs in several variants, the same network and weights in each. Ours: the
model as the study builds it (nn.Sequential) and its functional twin (each layer written as
`F.max_pool2d(F.relu(conv(x)), 2)`); both run Conv2d, ReLU, MaxPool2d(2) as one fused op
(minitorch_pairs/ops/fusion.py; benchmarks/fusion.py measures what that buys). Torch: eager NCHW, channels_last (model and input converted with
`.to(memory_format=torch.channels_last)`), and torch.compile (inductor; forward and loss
compiled, timed after warm-up; reported as unavailable, with the reason, where it fails).
Each ours variant's ratio is against the fastest torch variant of the same run.

Both frameworks get the same weights (generated per parameter name), the same batch (the
first 100 training pairs of round 0 of the study's protocol) and the same loss
(`experiments.training.pair_loss` with the model's weights). Each (variant, model, thread
count) has its own worker process, all kept alive while they take turns (see
benchmarks/harness.py), so peak memory is that model's: the process's peak resident set
(ru_maxrss) and its growth over the resident set before the model was built (the step's
own working set).

Beside the times: the FLOPs of one step (counted by torch.utils.flop_counter on the eager
torch twin: the convolutions and matrix products, forward and backward) and the machine's
fp32 ceiling, measured as the best float32 GEMM rate NumPy's OpenBLAS reaches (2048^3) at
each thread count; `step FLOPs / ceiling` is the least time any framework could take.
"""
from __future__ import annotations

import argparse
import json
import statistics

import numpy as np

from minitorch_pairs import nn
from minitorch_pairs.nn import functional as ours_F

from . import harness
from .harness import (check_device, device_sync, markdown_table, median_ms, median_of,
                      named_weights, peak_resident_mib, resident_mib, run_worker, serve,
                      setup_torch, unavailable_reason, worker_arguments, write_results)

BATCH_PAIRS = 100
TORCH_VARIANTS = ("eager", "channels_last", "compile")
LABELS = {"ours": "ours", "sequential": "ours Sequential", "functional": "ours functional",
          "eager": "torch eager", "channels_last": "torch channels_last",
          "compile": "torch.compile"}
VARIANTS = ("sequential", "functional") + TORCH_VARIANTS


def framework_of(variant: str) -> str:
    return "torch" if variant in TORCH_VARIANTS else "ours"


# --- the networks -------------------------------------------------------------------------

class FunctionalBranch(nn.Module):
    """Report 000's branch (experiments/models/report000.py: conv_block, digit_head) as a user
    writes it without nn.Sequential; its parameters come in the same order."""

    def __init__(self, hidden: int):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 32, 3, padding=1), nn.Conv2d(32, 64, 3, padding=1)
        widths = [576, 100, 50, 10] if hidden == 1 else [576, 100, 70, 50, 10]
        self.depth = len(widths) - 1
        for i, (a, b) in enumerate(zip(widths, widths[1:])):
            setattr(self, f"fc{i}", nn.Linear(a, b))

    def forward(self, x):
        return self.head(self.features(x))

    def features(self, x):
        F = ours_F
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        return F.max_pool2d(F.relu(self.conv2(x)), 2).flatten(1)

    def head(self, x):
        F = ours_F
        for i in range(self.depth - 1):
            x = F.relu(getattr(self, f"fc{i}")(x))
        return getattr(self, f"fc{self.depth - 1}")(x)


# model: (hidden blocks of the digit head, one branch shared by both images)
FUNCTIONAL = {"r000_naive_net1": (1, False), "r000_shared_net1": (1, True),
              "r000_shared_net1_aux": (1, True), "r000_shared_net2_aux": (2, True),
              "r000_benchmark_leq": (2, True)}


def functional_twin(name: str, model: nn.Module) -> nn.Module:
    """`model` (the study's build of `name`) written functionally, holding copies of its
    weights."""
    from experiments.models.base import Siamese
    from experiments.models.report000 import comparator
    hidden, shared = FUNCTIONAL[name]
    twin = Siamese(FunctionalBranch(hidden), comparator(),
                   second_branch=None if shared else FunctionalBranch(hidden))
    pairs = list(zip(model.parameters(), twin.parameters()))
    assert len(pairs) == len(list(model.parameters())) == len(list(twin.parameters()))
    for p, q in pairs:
        assert p.shape == q.shape, (p.shape, q.shape)
        q.data[...] = p.data
    return twin


def pair_batch(pairs: int):
    """The first `pairs` training pairs of round 0 of the study's protocol (at most 1000)."""
    from minitorch_pairs.data import generate_pair_sets
    from experiments.sources import load_pools
    train, _ = generate_pair_sets(load_pools("embedded"), 1000, seed=0, normalize="standardise")
    return train.subset(np.arange(pairs))


def first_batch():
    return pair_batch(BATCH_PAIRS)


def build_step(variant: str, name: str, batches: list, threads: int, device: str = "cpu"):
    """(step(i): one SGD step of model `name` in `variant` on batches[i]; loss(i): the loss
    alone; the model). torch.compile compiles forward and loss per batch shape, on first use."""
    from experiments.models import get_spec
    from experiments.training import pair_loss
    spec = get_spec(name)
    weights = (spec.comparison_weight, spec.aux_weight)
    if framework_of(variant) == "torch":
        torch = setup_torch(threads)
        import torch.nn.functional as F
        from .study_torch import build_twin
        model = build_twin(name)
        with torch.no_grad():
            for key, p in model.named_parameters():
                p.copy_(torch.from_numpy(named_weights(key, tuple(p.shape))))
        layout = torch.channels_last if variant == "channels_last" else torch.contiguous_format
        model.to(device=device, memory_format=layout)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        tensors = [(torch.from_numpy(np.ascontiguousarray(b.input, dtype=np.float32)).to(
                        device=device, memory_format=layout),
                    torch.from_numpy(b.target.astype(np.int64)).to(device),
                    torch.from_numpy(b.classes.astype(np.int64)).to(device)) for b in batches]
        forward = lambda x, t, c: pair_loss(model(x), t, c, weights, F)  # noqa: E731
        if variant == "compile":
            torch._dynamo.config.cache_size_limit = 64  # a static graph per batch shape
            forward = torch.compile(forward, dynamic=False)
    else:
        import minitorch_pairs as mt
        import minitorch_pairs.nn.functional as F
        model = spec.build()
        for key, p in model.named_parameters():
            p.data[...] = named_weights(key, p.shape)
        if variant == "functional":
            model = functional_twin(name, model)
        model.to(device)
        optimizer = mt.optim.SGD(model.parameters(), lr=0.01)
        tensors = [(mt.tensor(b.input).to(device), mt.tensor(b.target).to(device),
                    mt.tensor(b.classes).to(device)) for b in batches]
        forward = lambda x, t, c: pair_loss(model(x), t, c, weights, F)  # noqa: E731
    model.train()

    def loss(i: int = 0):
        return forward(*tensors[i])

    def step(i: int = 0):
        value = loss(i)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    return step, loss, model


# --- the workers and their turns -----------------------------------------------------------

def prepare(variant: str, threads: int, models: list, repeats: int, device: str = "cpu"):
    """The worker's measurement: builds each model once in `variant` (its peak memory and, on
    eager torch, its FLOPs per step are recorded then) and returns a function timing one
    model's step by name, the median of `repeats` steps, or saying why it cannot run."""
    batch, steps, facts = first_batch(), {}, {}
    sync = device_sync(framework_of(variant), device)
    for name in models:
        if framework_of(variant) == "torch":
            setup_torch(threads)  # imports torch before `before`: growth = model + step
        before = resident_mib()
        try:
            step, _, _ = build_step(variant, name, [batch], threads, device)
            median_ms(step, repeats, sync=sync)  # warm: compiled, cached
        except Exception as error:  # torch.compile needs a working compiler toolchain
            if variant != "compile":
                raise
            facts[name] = {"unavailable": unavailable_reason(error)}
            continue
        facts[name] = {"peak_rss_mib": peak_resident_mib(),
                       "rss_growth_mib": peak_resident_mib() - before}
        if variant == "eager":
            from torch.utils.flop_counter import FlopCounterMode
            with FlopCounterMode(display=False) as counter:
                step()
            facts[name]["step_gflop"] = counter.get_total_flops() / 1e9
        steps[name] = step

    def measure(name: str) -> dict:
        if name not in steps:
            return facts[name]
        return {"step_ms": median_ms(steps[name], repeats, sync=sync), **facts[name]}
    return measure


def alternate_variants(module: str, threads: int, rounds: int, names: list, variants: list,
                       *args: str) -> dict:
    """harness.alternate over `variants`, each in its own worker with its framework's thread
    settings; a torch.compile worker that cannot start is reported unavailable."""
    return harness.alternate(module, threads, rounds, names, *args, variants=variants,
                             framework_of=framework_of, optional=("compile",))


def compare(runs: dict, name: str, key: str) -> dict:
    """Medians over rounds of each variant's `key` for `name` (None where unavailable), the
    fastest torch variant, and each ours variant's ratio to it: the median over rounds of
    ours / that variant in the same round."""
    medians = {v: None if "unavailable" in rounds[0][name] else median_of(rounds, name, key)
               for v, rounds in runs.items()}
    timed = [v for v in runs if framework_of(v) == "torch" and medians[v] is not None]
    fastest = min(timed, key=medians.get)
    ratios = {v: statistics.median(a[name][key] / b[name][key]
                                   for a, b in zip(runs[v], runs[fastest]))
              for v in runs if framework_of(v) == "ours"}
    reasons = {v: rounds[0][name]["unavailable"] for v, rounds in runs.items()
               if medians[v] is None}
    return {"ms": medians, "fastest_torch": fastest, "ratio": ratios, "unavailable": reasons}


def cells(summary: dict, variants: list, digits: int = 1) -> list:
    """The table's cells: each variant's ms (or 'unavailable'), then the fastest torch
    variant and each ours variant's ratio to it."""
    ms = [f"{summary['ms'][v]:.{digits}f}" if summary["ms"][v] is not None else "unavailable"
          for v in variants]
    ratios = [f"{summary['ratio'][v]:.2f}" for v in variants if framework_of(v) == "ours"]
    return ms + [LABELS[summary["fastest_torch"]]] + ratios


def header(variants: list, unit: str) -> list:
    return ([f"{LABELS[v]} ({unit})" for v in variants] + ["fastest torch"]
            + [f"{LABELS[v]} / fastest" for v in variants if framework_of(v) == "ours"])


def unavailable_note(summaries: list) -> str:
    reasons = sorted({f"{LABELS[v]}: {why}" for s in summaries
                      for v, why in s["unavailable"].items()})
    return "".join(f"\n\nunavailable, {reason}" for reason in reasons)


def gemm_ceiling_gflops(size: int = 2048, repeats: int = 5) -> float:
    """The best float32 GEMM rate NumPy's OpenBLAS reaches on this process's thread count
    (NUMBA_NUM_THREADS): a practical fp32 peak."""
    import numba
    from threadpoolctl import threadpool_limits
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size)).astype(np.float32) for _ in range(2))
    with threadpool_limits(numba.config.NUMBA_NUM_THREADS, user_api="blas"):
        return 2 * size**3 / median_ms(lambda: a @ b, repeats, warmup=1) / 1e6


def main(argv=None) -> dict:
    from experiments.models import HEADLINE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(HEADLINE),
                        help="study model names (default: the headline set)")
    parser.add_argument("--thread-counts", type=int, nargs="+", default=[1, 2],
                        help="thread counts to measure (default: 1 2)")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS),
                        help="what to time (default: all; at least one of ours and of torch)")
    parser.add_argument("--repeats", type=int, default=30, help="timed steps per model")
    parser.add_argument("--rounds", type=int, default=9,
                        help="rounds of back-to-back windows per model (default 9)")
    parser.add_argument("--quick", action="store_true", help="3 timed steps, 1 round (CI)")
    parser.add_argument("--out", help="directory for train_step.json and train_step.md")
    parser.add_argument("--ceiling", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    worker_arguments(parser)
    args = parser.parse_args(argv)
    repeats, rounds = (3, 1) if args.quick else (args.repeats, args.rounds)
    variants = [v for v in VARIANTS if v in args.variants]
    if not args.worker:
        check_device(parser, args.device)
        if {framework_of(v) for v in variants} != {"ours", "torch"}:
            parser.error("--variants: name at least one of ours and one of torch")
    if args.worker and args.ceiling:  # NumPy's BLAS, under this process's thread settings
        print(json.dumps(gemm_ceiling_gflops()))
        return {}
    if args.worker:
        serve(prepare(args.variant, args.threads, args.models, repeats, args.device))
        return {}
    results, rows, memory_rows, ceiling_rows, summaries = {}, [], [], [], []
    for threads in args.thread_counts:
        results[threads] = {"ceiling_gflops": run_worker("train_step", "ours", threads,
                                                         "--ceiling")
                            if args.device == "cpu" else None}
        for name in args.models:
            runs = alternate_variants("train_step", threads, rounds, [name], variants,
                                      "--repeats", str(repeats), "--models", name,
                                      "--device", args.device)
            summary = compare(runs, name, "step_ms")
            summaries.append(summary)
            results[threads][name] = dict(summary, runs=runs)
            rows.append([name, threads] + cells(summary, variants))
            first = {v: runs[v][0][name] for v in variants}
            memory_rows.append([name, threads] + [
                "-" if "unavailable" in first[v] else
                f"{first[v]['peak_rss_mib']:.0f} / {first[v]['rss_growth_mib']:.0f}"
                for v in variants])
            ceiling = results[threads]["ceiling_gflops"]
            if ceiling is None or "eager" not in variants:  # (the GPU's: not measured here)
                continue
            gflop = first["eager"]["step_gflop"]
            fastest = lambda group: min(summary["ms"][v] for v in variants  # noqa: E731
                                        if framework_of(v) == group and summary["ms"][v])
            ceiling_rows.append([name, threads, f"{gflop:.3f}", f"{ceiling:.0f}",
                                 f"{1e3 * gflop / ceiling:.1f}", f"{fastest('ours'):.1f}",
                                 f"{fastest('torch'):.1f}"])
    table = markdown_table(["model", "threads"] + header(variants, "ms/step"), rows)
    table += unavailable_note(summaries)
    table += "\n\n" + markdown_table(
        ["model", "threads"] + [f"{LABELS[v]} peak / growth (MiB)" for v in variants],
        memory_rows)
    table += "" if not ceiling_rows else "\n\n" + markdown_table(
        ["model", "threads", "GFLOP/step", "GEMM ceiling (GFLOP/s)", "bound (ms/step)",
         "fastest ours (ms/step)", "fastest torch (ms/step)"], ceiling_rows)
    print(f"{args.device}; batch {BATCH_PAIRS} pairs; per window the median of {repeats} SGD "
          f"steps; medians over {rounds} rounds of back-to-back windows, one per variant; "
          f"ratio = median of the rounds' ours / fastest torch variant\n{table}")
    output = {"device": args.device, "repeats": repeats, "rounds": rounds,
              "batch_pairs": BATCH_PAIRS, "variants": variants, "results": results}
    write_results(args.out, "train_step", output, table)
    return output


if __name__ == "__main__":
    main()
