"""`python -m benchmarks.train_step`: milliseconds per SGD training step (forward, loss,
backward, optimizer step) of each headline study model, ours vs torch, at 1 and 2 threads;
with --device cuda, on the GPU (each timed step ends with a device synchronisation; host
thread counts then matter little, and the CPU GEMM ceiling is not measured).

Both frameworks get the same weights (generated per parameter name), the same batch (the
first 100 training pairs of round 0 of the study's protocol) and the same loss
(`experiments.training.pair_loss` with the model's weights). Each (framework, model, thread
count) has its own worker process, kept alive while ours and torch's take turns (see
benchmarks/harness.py), so peak memory is that model's: the process's peak resident set
(ru_maxrss) and its growth over the resident set before the model was built (the step's
own working set).

Beside the times: the FLOPs of one step (counted by torch.utils.flop_counter on the torch
twin: the convolutions and matrix products, forward and backward) and the machine's fp32
ceiling, measured as the best float32 GEMM rate NumPy's OpenBLAS reaches (2048^3) at each
thread count; `step FLOPs / ceiling` is the least time any framework could take.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from .harness import (alternate, check_device, device_sync, markdown_table, median_ms, median_of,
                      named_weights, paired_ratio, peak_resident_mib, resident_mib, run_worker,
                      serve, setup_torch, worker_arguments, write_results)

BATCH_PAIRS = 100


def first_batch():
    from minitorch_pairs.data import generate_pair_sets
    from experiments.sources import load_pools
    train, _ = generate_pair_sets(load_pools("embedded"), 1000, seed=0, normalize="standardise")
    return train.subset(np.arange(BATCH_PAIRS))


def prepare(framework: str, threads: int, models: list, repeats: int, device: str = "cpu"):
    """The worker's measurement: builds each model once (its peak memory and, on the torch
    twin, its FLOPs per step are recorded then) and returns a function timing one model's
    step by name, the median of `repeats` steps."""
    from experiments.models import get_spec
    from experiments.training import pair_loss
    batch = first_batch()
    steps, facts = {}, {}
    for name in models:
        spec = get_spec(name)
        weights = (spec.comparison_weight, spec.aux_weight)
        if framework == "torch":
            torch = setup_torch(threads)
            import torch.nn.functional as F
            from .study_torch import build_twin
            before = resident_mib()  # after the imports: growth = model + step working set
            model = build_twin(name)
            with torch.no_grad():
                for key, p in model.named_parameters():
                    p.copy_(torch.from_numpy(named_weights(key, tuple(p.shape))))
            model.to(device)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
            x = torch.from_numpy(np.ascontiguousarray(batch.input, dtype=np.float32)).to(device)
            target = torch.from_numpy(batch.target.astype(np.int64)).to(device)
            classes = torch.from_numpy(batch.classes.astype(np.int64)).to(device)
        else:
            import minitorch_pairs as mt
            import minitorch_pairs.nn.functional as F
            before = resident_mib()
            model = spec.build()
            for key, p in model.named_parameters():
                p.data[...] = named_weights(key, p.shape)
            model.to(device)
            optimizer = mt.optim.SGD(model.parameters(), lr=0.01)
            x, target, classes = (mt.tensor(batch.input).to(device),
                                  mt.tensor(batch.target).to(device),
                                  mt.tensor(batch.classes).to(device))
        model.train()

        def step(model=model, optimizer=optimizer, x=x, target=target, classes=classes,
                 weights=weights, F=F):
            loss = pair_loss(model(x), target, classes, weights, F)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        median_ms(step, repeats, sync=device_sync(framework, device))  # warm: compiled, cached
        facts[name] = {"peak_rss_mib": peak_resident_mib(),
                       "rss_growth_mib": peak_resident_mib() - before}
        if framework == "torch":
            from torch.utils.flop_counter import FlopCounterMode
            with FlopCounterMode(display=False) as counter:
                step()
            facts[name]["step_gflop"] = counter.get_total_flops() / 1e9
        steps[name] = step

    def measure(name: str) -> dict:
        return {"step_ms": median_ms(steps[name], repeats, sync=device_sync(framework, device)),
                **facts[name]}
    return measure


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
    parser.add_argument("--repeats", type=int, default=30, help="timed steps per model")
    parser.add_argument("--rounds", type=int, default=9,
                        help="rounds of back-to-back ours/torch windows per model (default 9)")
    parser.add_argument("--quick", action="store_true", help="3 timed steps, 1 round (CI)")
    parser.add_argument("--out", help="directory for train_step.json and train_step.md")
    parser.add_argument("--ceiling", action="store_true", help=argparse.SUPPRESS)
    worker_arguments(parser)
    args = parser.parse_args(argv)
    repeats, rounds = (3, 1) if args.quick else (args.repeats, args.rounds)
    if not args.worker:
        check_device(parser, args.device)
    if args.worker and args.ceiling:  # NumPy's BLAS, under this process's thread settings
        print(json.dumps(gemm_ceiling_gflops()))
        return {}
    if args.worker:
        serve(prepare(args.worker, args.threads, args.models, repeats, args.device))
        return {}
    results, rows, ceiling_rows = {}, [], []
    for threads in args.thread_counts:
        results[threads] = {"ceiling_gflops": run_worker("train_step", "ours", threads,
                                                         "--ceiling")
                            if args.device == "cpu" else None}
        for name in args.models:
            runs = alternate("train_step", threads, rounds, [name], "--repeats", str(repeats),
                             "--models", name, "--device", args.device)
            ours, theirs = runs["ours"], runs["torch"]
            summary = {framework: {key: median_of(runs[framework], name, key)
                                   for key in runs[framework][0][name]}
                       for framework in runs}
            summary["ratio"] = paired_ratio(ours, theirs, name, "step_ms")
            results[threads][name] = dict(summary, runs=runs)
            o, t = summary["ours"], summary["torch"]
            rows.append([name, threads, f"{o['step_ms']:.1f}", f"{t['step_ms']:.1f}",
                         f"{summary['ratio']:.2f}",
                         f"{o['peak_rss_mib']:.0f} / {t['peak_rss_mib']:.0f}",
                         f"{o['rss_growth_mib']:.0f} / {t['rss_growth_mib']:.0f}"])
            ceiling = results[threads]["ceiling_gflops"]
            if ceiling is None:  # (the GPU's: not measured here)
                continue
            ceiling_rows.append([name, threads, f"{t['step_gflop']:.3f}", f"{ceiling:.0f}",
                                 f"{1e3 * t['step_gflop'] / ceiling:.1f}",
                                 f"{o['step_ms']:.1f}", f"{t['step_ms']:.1f}"])
    table = markdown_table(["model", "threads", "ours (ms/step)", "torch (ms/step)", "ratio",
                            "peak RSS MiB ours / torch", "RSS growth MiB ours / torch"], rows)
    table += "" if not ceiling_rows else "\n\n" + markdown_table(
        ["model", "threads", "GFLOP/step", "GEMM ceiling (GFLOP/s)", "bound (ms/step)",
         "ours (ms/step)", "torch (ms/step)"], ceiling_rows)
    print(f"{args.device}; batch {BATCH_PAIRS} pairs; per window the median of {repeats} SGD "
          f"steps; medians over {rounds} rounds of back-to-back ours/torch windows; ratio = "
          f"median of the rounds' ours/torch\n{table}")
    output = {"device": args.device, "repeats": repeats, "rounds": rounds, "batch_pairs": BATCH_PAIRS,
              "results": results}
    write_results(args.out, "train_step", output, table)
    return output


if __name__ == "__main__":
    main()
