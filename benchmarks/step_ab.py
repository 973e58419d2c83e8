"""`python -m benchmarks.step_ab --before DIR`: our training step, this checkout against
another checkout of the project (DIR, e.g. a `git worktree` of an older commit), in
alternating fresh processes, so that both see the same minutes of a noisy machine.

Each process builds each model once (study weights, seed 0), warms it up, and reports the
least time of `--repeats` windows of 20 SGD steps on the first `--pairs` training pairs.
With few pairs the step is mostly Python, so this measures a change's fixed per-step cost;
with the study's 100 pairs, its share of a real step. Prints each round and, per model, the
median over rounds of new / old.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

MODELS = ["r000_naive_net1", "r000_shared_net1", "r000_shared_net1_aux", "r000_benchmark_leq"]
HERE = pathlib.Path(__file__).resolve().parent.parent

# run in a fresh process whose PYTHONPATH is the checkout being timed
TIMER = """
import json, sys, timeit
import numpy as np
import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from experiments.models import get_spec
from experiments.sources import load_pools
from experiments.training import pair_loss
from minitorch_pairs.data import generate_pair_sets
pairs, repeats, models = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(",")
train, _ = generate_pair_sets(load_pools("embedded"), 1000, seed=0, normalize="standardise")
batch = train.subset(np.arange(pairs))
x, t, c = mt.tensor(batch.input), mt.tensor(batch.target), mt.tensor(batch.classes)
times = {}
for name in models:
    spec = get_spec(name)
    mt.manual_seed(0)
    model = spec.build().train()
    optimizer = mt.optim.SGD(model.parameters(), lr=0.01)
    weights = (spec.comparison_weight, spec.aux_weight)
    def step():
        loss = pair_loss(model(x), t, c, weights, F)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    for _ in range(20):
        step()
    times[name] = min(timeit.repeat(step, number=20, repeat=repeats)) / 20 * 1e3
print(json.dumps(times))
"""


def time_checkout(checkout: pathlib.Path, args) -> dict:
    env = dict(os.environ, PYTHONPATH=str(checkout), NUMBA_NUM_THREADS=str(args.threads))
    done = subprocess.run([sys.executable, "-c", TIMER, str(args.pairs), str(args.repeats),
                           ",".join(args.models)], cwd=checkout, env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=pathlib.Path, required=True,
                        help="the other checkout (the 'old' side)")
    parser.add_argument("--pairs", type=int, default=2, help="training pairs per step")
    parser.add_argument("--rounds", type=int, default=3, help="alternating old/new rounds")
    parser.add_argument("--repeats", type=int, default=25, help="windows of 20 steps")
    parser.add_argument("--threads", type=int, default=2, help="numba threads")
    parser.add_argument("--models", nargs="+", default=MODELS)
    args = parser.parse_args(argv)
    ratios = {name: [] for name in args.models}
    for round_ in range(args.rounds):
        old, new = time_checkout(args.before.resolve(), args), time_checkout(HERE, args)
        for name in args.models:
            ratios[name].append(new[name] / old[name])
            print(f"round {round_} {name:22s} old {old[name]:7.3f} ms  new {new[name]:7.3f} ms",
                  flush=True)
    for name, values in ratios.items():
        print(f"{name:22s} new/old median {statistics.median(values):.3f} "
              f"(rounds {', '.join(f'{v:.3f}' for v in values)})")


if __name__ == "__main__":
    main()
