"""`python -m benchmarks.startup`: what the first training step costs, with a cold and a warm
numba cache.

Each measurement is a fresh Python process that imports minitorch_pairs, builds a
report-000-shaped Siamese CNN (conv 1->32 pad 1, pool, conv 32->64 pad 1, pool,
linear 576->100->10, comparator 20->10->2) on a batch of 100 pairs and runs one
SGD step. "cold" points NUMBA_CACHE_DIR at an empty directory, so every kernel
compiles; "warm" reuses the cache the cold run filled. Reported: medians over
--repeats processes, wall time from process start to the end of the step.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

_CHILD = r"""
import time
start = time.perf_counter()
import numpy as np
import minitorch_pairs as mt
from minitorch_pairs import nn
import minitorch_pairs.nn.functional as F
imported = time.perf_counter()

mt.manual_seed(0)
branch = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    nn.Linear(576, 100), nn.ReLU(), nn.Linear(100, 10))
comparator = nn.Sequential(nn.Linear(20, 10), nn.ReLU(), nn.Linear(10, 2))
params = list(branch.parameters()) + list(comparator.parameters())
optimizer = mt.optim.SGD(params, lr=0.01)
x = mt.randn(100, 2, 14, 14)
target = mt.tensor(np.arange(100) % 2)
digits = mt.tensor(np.arange(200) % 10)
out1, out2 = branch(x[:, 0:1]), branch(x[:, 1:2])
loss = F.cross_entropy(comparator(mt.cat([out1, out2], dim=1)), target) \
    + F.cross_entropy(mt.cat([out1, out2], dim=0), digits)
optimizer.zero_grad()
loss.backward()
optimizer.step()
done = time.perf_counter()
print(f"{imported - start:.4f} {done - start:.4f}")
"""


def run_child(cache_dir: str) -> tuple:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                            text=True, check=True)
    wall = time.perf_counter() - started
    import_s, step_s = map(float, result.stdout.split())
    return import_s, step_s, wall


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="processes per measurement")
    parser.add_argument("--quick", action="store_true", help="one process each (for CI)")
    parser.add_argument("--out", help="directory for startup.json and startup.md")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats

    cold, warm = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(run_child(cache))
            warm.append(run_child(cache))
    results = {
        name: {"import_s": statistics.median(r[0] for r in runs),
               "import_and_first_step_s": statistics.median(r[1] for r in runs),
               "process_wall_s": statistics.median(r[2] for r in runs), "runs": len(runs)}
        for name, runs in (("cold", cold), ("warm", warm))}
    table = ["| numba cache | import (s) | import + first step (s) | process wall (s) |",
             "|---|---|---|---|"]
    table += [f"| {name} | {r['import_s']:.2f} | {r['import_and_first_step_s']:.2f} | "
              f"{r['process_wall_s']:.2f} |" for name, r in results.items()]
    print("\n".join(table))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "startup.json"), "w") as file:
            json.dump(results, file, indent=2)
        with open(os.path.join(args.out, "startup.md"), "w") as file:
            file.write("\n".join(table) + "\n")
    return results


if __name__ == "__main__":
    main()
