"""`python -m benchmarks.study_workers`: wall time of the main job (`python -m
experiments.siamese_aux`, default models and recipe) run in process, on 1 Dask worker and
on N Dask workers, each in a fresh process and a fresh output directory, and the speed-up.

The cores are split between the workers (--threads-per-worker = cores / workers), so every
configuration uses the whole machine: the comparison is one run at a time with all the
threads against several runs at once with fewer threads each.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from .harness import markdown_table, write_results


def time_study(workers: int, threads: int, rounds: int, extra: list) -> float:
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "experiments.siamese_aux", "--rounds", str(rounds),
                   "--workers", str(workers), "--threads-per-worker", str(threads),
                   "--no-plots", "--quiet", "--out", out, *extra]
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        return time.perf_counter() - started


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--max-workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true",
                        help="2 rounds, 1 epoch, 60 pairs (CI)")
    parser.add_argument("--out", help="directory for study_workers.json and .md")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    extra = ["--epochs", "1", "--n-pairs", "60"] if args.quick else []
    rounds = 2 if args.quick else args.rounds
    configs = [("in process", 0, cores), ("1 worker", 1, cores)] + \
        [(f"{n} workers", n, max(1, cores // n)) for n in range(2, args.max_workers + 1)]
    seconds = {label: time_study(workers, threads, rounds, extra)
               for label, workers, threads in configs}
    base = seconds["1 worker"]
    rows = [[label, workers, threads, f"{seconds[label]:.1f}", f"{base / seconds[label]:.2f}"]
            for label, workers, threads in configs]
    table = markdown_table(["execution", "workers", "threads per worker", "wall (s)",
                            "speed-up over 1 worker"], rows)
    print(f"{rounds} rounds of the default models on {cores} cores\n{table}")
    results = {"rounds": rounds, "cores": cores, "quick": args.quick, "seconds": seconds}
    write_results(args.out, "study_workers", results, table)
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
