"""`python -m benchmarks.ops`: forward and forward+backward time of each op the study's models
spend their time in, at the study's shapes (a batch of 100 pairs = 200 images of 1x14x14
through the report-000 branch; 100 two-channel images through the report-004 baseline),
ours vs torch, float32, each framework in its own process with the same inputs; on the CPU
or, with --device cuda, on the GPU (each timed call ends with a device synchronisation).

Backward is driven by a fixed random upstream gradient; inputs that need no gradient in the
models (the images entering the first convolution) need none here either.
"""
from __future__ import annotations

import argparse

import numpy as np

from .harness import (alternate, check_device, device_sync, markdown_table, median_ms, median_of,
                      paired_ratio, serve, setup_torch, worker_arguments, write_results)

# name: (inputs {name: (shape, needs grad)}, the call on a functional namespace F)
OPS = {
    "conv2d 1->32 k3 p1 (200x1x14x14)": (
        {"x": ((200, 1, 14, 14), False), "w": ((32, 1, 3, 3), True), "b": ((32,), True)},
        lambda F, t: F.conv2d(t["x"], t["w"], t["b"], padding=1)),
    "conv2d 32->64 k3 p1 (200x32x7x7)": (
        {"x": ((200, 32, 7, 7), True), "w": ((64, 32, 3, 3), True), "b": ((64,), True)},
        lambda F, t: F.conv2d(t["x"], t["w"], t["b"], padding=1)),
    "conv2d 2->64 k4 (100x2x14x14, baseline)": (
        {"x": ((100, 2, 14, 14), False), "w": ((64, 2, 4, 4), True), "b": ((64,), True)},
        lambda F, t: F.conv2d(t["x"], t["w"], t["b"])),
    "conv2d 64->64 k4 p1 (100x64x2x2, baseline)": (
        {"x": ((100, 64, 2, 2), True), "w": ((64, 64, 4, 4), True), "b": ((64,), True)},
        lambda F, t: F.conv2d(t["x"], t["w"], t["b"], padding=1)),
    "conv2d 32->64 + relu + max_pool2d 2 (200x32x7x7)": (
        {"x": ((200, 32, 7, 7), True), "w": ((64, 32, 3, 3), True), "b": ((64,), True)},
        lambda F, t: _conv_relu_pool(F, t["x"], t["w"], t["b"], padding=1)),
    "relu + max_pool2d 2 (200x32x14x14)": (
        {"x": ((200, 32, 14, 14), True)}, lambda F, t: _relu_pool(F, t["x"], 2)),
    "max_pool2d 2 (200x32x14x14)": (
        {"x": ((200, 32, 14, 14), True)}, lambda F, t: F.max_pool2d(t["x"], 2)),
    "max_pool2d 2 (200x64x7x7)": (
        {"x": ((200, 64, 7, 7), True)}, lambda F, t: F.max_pool2d(t["x"], 2)),
    "max_pool2d 4 (100x64x11x11, baseline)": (
        {"x": ((100, 64, 11, 11), True)}, lambda F, t: F.max_pool2d(t["x"], 4)),
    "linear 576->100 (200x576)": (
        {"x": ((200, 576), True), "w": ((100, 576), True), "b": ((100,), True)},
        lambda F, t: F.linear(t["x"], t["w"], t["b"])),
    "batch_norm train (100x64x2x2, baseline)": (
        {"x": ((100, 64, 2, 2), True), "w": ((64,), True), "b": ((64,), True)},
        lambda F, t: F.batch_norm(t["x"], None, None, t["w"], t["b"], training=True)),
    "batch_norm train (200x32x14x14)": (
        {"x": ((200, 32, 14, 14), True), "w": ((32,), True), "b": ((32,), True)},
        lambda F, t: F.batch_norm(t["x"], None, None, t["w"], t["b"], training=True)),
    "relu (200x32x14x14)": ({"x": ((200, 32, 14, 14), True)}, lambda F, t: F.relu(t["x"])),
    "cross_entropy (200x10)": (
        {"x": ((200, 10), True)}, lambda F, t: F.cross_entropy(t["x"], t["target"])),
}


def _conv_relu_pool(F, x, w, b, padding):
    """As nn.Sequential runs Conv2d, ReLU, MaxPool2d(2) in each framework: ours as one fused
    op, torch as three."""
    if hasattr(F, "conv2d_relu_max_pool2d"):
        return F.conv2d_relu_max_pool2d(x, w, b, padding=padding)
    return F.max_pool2d(F.relu(F.conv2d(x, w, b, padding=padding)), 2)


def _relu_pool(F, x, kernel_size):
    if hasattr(F, "relu_max_pool2d"):
        return F.relu_max_pool2d(x, kernel_size)
    return F.max_pool2d(F.relu(x), kernel_size)


def inputs(name: str) -> dict:
    rng = np.random.default_rng(0)
    arrays = {key: rng.standard_normal(shape).astype(np.float32)
              for key, (shape, _) in OPS[name][0].items()}
    arrays["target"] = rng.integers(0, 10, 200)
    return arrays


def prepare(framework: str, threads: int, repeats: int, device: str = "cpu"):
    """The worker's measurement: a function timing one op (by name) forward, and forward
    with backward, each the median of `repeats` calls."""
    if framework == "torch":
        torch = setup_torch(threads)
        import torch.nn.functional as F
        make = lambda array, grad: torch.tensor(array, device=device,  # noqa: E731
                                                requires_grad=grad)
    else:
        import minitorch_pairs as mt
        import minitorch_pairs.nn.functional as F
        make = lambda array, grad: mt.tensor(array).to(device).requires_grad_(grad)  # noqa
    sync = device_sync(framework, device)

    def measure(name: str) -> dict:
        spec, call = OPS[name]
        arrays = inputs(name)
        t = {key: make(arrays[key], grad) for key, (_, grad) in spec.items()}
        t["target"] = make(arrays["target"], False)
        upstream = make(np.random.default_rng(1).standard_normal(
            call(F, t).shape).astype(np.float32), False)

        def forward_backward():
            for key, (_, grad) in spec.items():
                if grad:
                    t[key].grad = None
            call(F, t).backward(upstream)

        return {"forward_ms": median_ms(lambda: call(F, t), repeats, sync=sync),
                "forward_backward_ms": median_ms(forward_backward, repeats, sync=sync)}
    return measure


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help="timed calls per op")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of back-to-back ours/torch windows per op (default 5)")
    parser.add_argument("--quick", action="store_true", help="5 timed calls, 1 round (CI)")
    parser.add_argument("--out", help="directory for ops.json and ops.md")
    worker_arguments(parser)
    args = parser.parse_args(argv)
    repeats, rounds = (5, 1) if args.quick else (args.repeats, args.rounds)
    if not args.worker:
        check_device(parser, args.device)
    if args.worker:
        serve(prepare(args.worker, args.threads, repeats, args.device))
        return {}
    runs = alternate("ops", args.threads, rounds, list(OPS), "--repeats", str(repeats),
                     "--device", args.device)
    ours, theirs = runs["ours"], runs["torch"]
    rows = [[name] + [f"{median_of(runs[f], name, key):.3f}"
                      for key in ("forward_ms", "forward_backward_ms") for f in ("ours", "torch")]
            + [f"{paired_ratio(ours, theirs, name, 'forward_backward_ms'):.2f}"]
            for name in OPS]
    table = markdown_table(["op (float32)", "ours fwd (ms)", "torch fwd (ms)",
                            "ours fwd+bwd (ms)", "torch fwd+bwd (ms)", "ratio fwd+bwd"], rows)
    print(f"{args.device}, {args.threads} host threads; per window the median of {repeats} calls; "
          f"medians over {rounds} rounds of back-to-back ours/torch windows; ratio = median of "
          f"the rounds' ours/torch\n{table}")
    results = {"device": args.device, "threads": args.threads, "repeats": repeats, "rounds": rounds, "runs": runs,
               "table": rows}
    write_results(args.out, "ops", results, table)
    return results


if __name__ == "__main__":
    main()
