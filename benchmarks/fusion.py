"""`python -m benchmarks.fusion`: what the deferred convolution (minitorch_pairs/ops/fusion.py)
buys and what it costs. Ours only, in one process; every variant takes one window per round,
the order rotated each round, so that all of them see the same minutes of a noisy machine.

Per layer of report 000's branch, forward+backward at the study's shapes (a batch of 100
pairs = 200 images), the same weights and inputs in each variant:
  one call     F.conv2d_relu_max_pool2d(x, w, b, padding=1): the fused op, called directly
  functional   F.max_pool2d(F.relu(F.conv2d(x, w, b, padding=1)), 2): deferred, then fused
  unfused      the same code under mt.backends.flags(fuse_conv_relu_pool=False): three ops
The first layer's input is the batch of images (a leaf: the deferred call copies it); the
second's, as in the network, an op's output (kept by reference).

Per SGD step (batch 100 pairs) of each model: the study's nn.Sequential build and its
functional twin (benchmarks/train_step.py), each with fusion on and off, and the twin calling
the fused op by name ("one call": no deferral).

Each ratio is the median over the rounds of a variant's window / its group's first variant's
window in the same round.
"""
from __future__ import annotations

import argparse
import statistics

import numpy as np

from minitorch_pairs.nn import functional as ours_F

from .harness import alternate_calls, markdown_table, write_results
from .train_step import FunctionalBranch, build_step, first_batch

LAYERS = {  # name: (input shape, weight shape, whether the input is an op's output)
    "conv1 1->32 k3 p1 (200x1x14x14)": ((200, 1, 14, 14), (32, 1, 3, 3), False),
    "conv2 32->64 k3 p1 (200x32x7x7)": ((200, 32, 7, 7), (64, 32, 3, 3), True),
}
LAYER_VARIANTS = ("one call", "functional", "unfused")
STEP_VARIANTS = ("one call", "Sequential", "functional", "Sequential unfused",
                 "functional unfused")
MODELS = ("r000_shared_net1_aux",)


def layer_calls(shape, weight_shape, from_op: bool) -> tuple:
    """({variant: one forward+backward of the layer, returning its output}, the leaves:
    the images, weight and bias)."""
    import minitorch_pairs as mt
    import minitorch_pairs.nn.functional as F
    rng = np.random.default_rng(0)
    w = mt.tensor(rng.uniform(-0.1, 0.1, weight_shape).astype(np.float32), requires_grad=True)
    b = mt.tensor(np.zeros(weight_shape[0], np.float32), requires_grad=True)
    images = mt.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=from_op)
    x = images * 1.0 if from_op else images  # an op's output, as the network's second layer's
    upstream = None

    def composed():
        return F.max_pool2d(F.relu(F.conv2d(x, w, b, padding=1)), 2)

    def unfused():
        with mt.backends.flags(fuse_conv_relu_pool=False):
            return composed()

    def backward(out):
        nonlocal upstream
        if upstream is None:
            upstream = mt.tensor(rng.standard_normal(out.shape).astype(np.float32))
        out.backward(upstream, retain_graph=True)  # keeps the x = images * 1.0 node
        return out

    return ({"one call": lambda: backward(F.conv2d_relu_max_pool2d(x, w, b, padding=1)),
             "functional": lambda: backward(composed()),
             "unfused": lambda: backward(unfused())}, (images, w, b))


class OneCallBranch(FunctionalBranch):
    """The functional twin's branch calling the fused op by name."""

    def features(self, x):
        for conv in (self.conv1, self.conv2):
            x = ours_F.conv2d_relu_max_pool2d(x, conv.weight, conv.bias, padding=1)
        return x.flatten(1)


def step_calls(name: str, threads: int) -> dict:
    """{variant: one SGD step of model `name`}."""
    import minitorch_pairs as mt
    batch = first_batch()
    calls = {}
    for spelling in ("sequential", "functional"):
        step, _, _ = build_step(spelling, name, [batch], threads)
        label = "Sequential" if spelling == "sequential" else "functional"
        calls[label] = step
        calls[f"{label} unfused"] = lambda step=step: _unfused(mt, step)
    step, _, model = build_step("functional", name, [batch], threads)
    for module in model.modules():
        if type(module) is FunctionalBranch:
            module.__class__ = OneCallBranch  # the same weights, the other spelling
    calls["one call"] = step
    return {variant: calls[variant] for variant in STEP_VARIANTS}


def _unfused(mt, step):
    with mt.backends.flags(fuse_conv_relu_pool=False):
        step()


def summarise(windows: dict) -> tuple:
    rows, results = [], {}
    for group, by_variant in windows.items():
        reference = next(iter(by_variant))
        for variant, times in by_variant.items():
            ratio = statistics.median(a / b for a, b in zip(times, by_variant[reference]))
            ms = statistics.median(times)
            results.setdefault(group, {})[variant] = {"ms": ms, "ratio": ratio,
                                                      "windows_ms": times}
            rows.append([group, variant, f"{ms:.3f}", f"{ratio:.3f}"])
    table = markdown_table(["layer or model", "variant", "ms (median)",
                            "ratio to the first variant (median of rounds)"], rows)
    return results, table


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="numba's threads (default 2)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=30, help="calls per window")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--quick", action="store_true", help="2 rounds of 2 calls (CI)")
    parser.add_argument("--out", help="directory for fusion.json and fusion.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.repeats = 2, 2
    import numba
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    groups = {name: layer_calls(*spec)[0] for name, spec in LAYERS.items()}
    threads = numba.get_num_threads()
    groups.update({f"{name} step": step_calls(name, threads) for name in args.models})
    windows = {group: alternate_calls(calls, args.rounds, args.repeats)
               for group, calls in groups.items()}
    results, table = summarise(windows)
    results["settings"] = {"threads": threads, "rounds": args.rounds,
                           "repeats": args.repeats}
    print(table)
    write_results(args.out, "fusion", results, table)


if __name__ == "__main__":
    main()
