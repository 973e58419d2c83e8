"""`python -m benchmarks.ops`: forward and forward+backward time of each op the study's models
spend their time in, at the study's shapes (a batch of 100 pairs = 200 images of 1x14x14
through the report-000 branch; 100 two-channel images through the report-004 baseline),
ours vs torch, float32, each framework in its own process with the same inputs; on the CPU
or, with --device cuda, on the GPU (each timed call ends with a device synchronisation).

Torch runs in three variants, each in its own worker: eager, channels_last (every 4-D
tensor, the upstream gradient included, in torch.channels_last: the 2-D ops are then eager
again) and torch.compile (inductor, one static graph per op, compiled before timing;
reported as unavailable, with the reason, where it fails). The ratio is ours against the
fastest torch variant of the same run.

Backward is driven by a fixed random upstream gradient; inputs that need no gradient in the
models (the images entering the first convolution) need none here either.
"""
from __future__ import annotations

import argparse
import functools

import numpy as np

from .harness import (check_device, device_sync, markdown_table, median_ms, serve, setup_torch,
                      unavailable_reason, worker_arguments, write_results)
from .train_step import (TORCH_VARIANTS, alternate_variants, cells, compare, header,
                         unavailable_note)

VARIANTS = ("ours",) + TORCH_VARIANTS

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
    """The same code in both frameworks: ours runs it as one fused op (the deferred
    convolution, minitorch_pairs/ops/fusion.py), torch as three."""
    return F.max_pool2d(F.relu(F.conv2d(x, w, b, padding=padding)), 2)


def _relu_pool(F, x, kernel_size):
    """Ours by its fused F.relu_max_pool2d, called by name (nothing fuses a ReLU and a pool
    without a convolution before them), torch as two ops."""
    if hasattr(F, "relu_max_pool2d"):
        return F.relu_max_pool2d(x, kernel_size)
    return F.max_pool2d(F.relu(x), kernel_size)


def run_forward(call, t):
    """call(t), its values computed: ours defers a convolution's until something reads them
    (minitorch_pairs/ops/fusion.py), so the timed forward reads them."""
    out = call(t)
    getattr(out, "_data", None)  # torch's tensors have none: computed already
    return out


def inputs(name: str) -> dict:
    rng = np.random.default_rng(0)
    arrays = {key: rng.standard_normal(shape).astype(np.float32)
              for key, (shape, _) in OPS[name][0].items()}
    arrays["target"] = rng.integers(0, 10, 200)
    return arrays


def prepare(variant: str, threads: int, repeats: int, device: str = "cpu"):
    """The worker's measurement: a function timing one op (by name) forward, and forward
    with backward, each the median of `repeats` calls (or saying why it cannot run)."""
    if variant == "ours":
        import minitorch_pairs as mt
        import minitorch_pairs.nn.functional as F
        make = lambda array, grad: mt.tensor(array).to(device).requires_grad_(grad)  # noqa
    else:
        torch = setup_torch(threads)
        import torch.nn.functional as F
        layout = torch.channels_last if variant == "channels_last" else torch.contiguous_format

        def make(array, grad):
            tensor = torch.tensor(array, device=device)
            if tensor.dim() == 4:
                tensor = tensor.contiguous(memory_format=layout)
            return tensor.requires_grad_(grad)
    sync = device_sync("ours" if variant == "ours" else "torch", device)
    # each op's own code object, so that each gets its own compiled graph
    calls = {name: functools.partial(call, F) for name, (_, call) in OPS.items()}
    if variant == "compile":
        calls = {name: torch.compile(call, dynamic=False) for name, call in calls.items()}

    def tensors(name: str) -> tuple:
        spec, call = OPS[name]
        arrays = inputs(name)
        t = {key: make(arrays[key], grad) for key, (_, grad) in spec.items()}
        t["target"] = make(arrays["target"], False)
        output = calls[name](t)
        upstream = np.random.default_rng(1).standard_normal(output.shape).astype(np.float32)
        if variant == "ours":
            return t, make(upstream, False)
        return t, torch.empty_like(output).copy_(torch.from_numpy(upstream))  # its layout

    unavailable = {}
    if variant == "compile":  # compile every op (forward and backward) before any window
        for name in OPS:
            try:
                t, upstream = tensors(name)
                calls[name](t).backward(upstream)
            except Exception as error:  # torch.compile needs a working compiler toolchain
                unavailable[name] = unavailable_reason(error)

    def measure(name: str) -> dict:
        if name in unavailable:
            return {"unavailable": unavailable[name]}
        spec, call = OPS[name][0], calls[name]
        t, upstream = tensors(name)

        def forward_backward():
            for key, (_, grad) in spec.items():
                if grad:
                    t[key].grad = None
            call(t).backward(upstream)

        return {"forward_ms": median_ms(lambda: run_forward(call, t), repeats, sync=sync),
                "forward_backward_ms": median_ms(forward_backward, repeats, sync=sync)}
    return measure


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help="timed calls per op")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of back-to-back windows per op (default 5)")
    parser.add_argument("--quick", action="store_true", help="5 timed calls, 1 round (CI)")
    parser.add_argument("--out", help="directory for ops.json and ops.md")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    worker_arguments(parser)
    args = parser.parse_args(argv)
    repeats, rounds = (5, 1) if args.quick else (args.repeats, args.rounds)
    if not args.worker:
        check_device(parser, args.device)
    if args.worker:
        serve(prepare(args.variant, args.threads, repeats, args.device))
        return {}
    runs = alternate_variants("ops", args.threads, rounds, list(OPS), list(VARIANTS),
                              "--repeats", str(repeats), "--device", args.device)
    rows, summaries = [], []
    for name in OPS:
        forward = compare(runs, name, "forward_ms")
        summary = compare(runs, name, "forward_backward_ms")
        summaries.append(summary)
        torch_forward = " / ".join("-" if forward["ms"][v] is None else f"{forward['ms'][v]:.3f}"
                                   for v in TORCH_VARIANTS)
        rows.append([name, f"{forward['ms']['ours']:.3f}", torch_forward]
                    + cells(summary, VARIANTS, digits=3))
    table = markdown_table(["op (float32)", "ours fwd (ms)", "torch fwd eager / channels_last / "
                            "compile (ms)"] + header(VARIANTS, "fwd+bwd ms"), rows)
    table += unavailable_note(summaries)
    print(f"{args.device}, {args.threads} host threads; per window the median of {repeats} calls; "
          f"medians over {rounds} rounds of back-to-back windows, one per variant; ratio = "
          f"median of the rounds' ours / fastest torch variant (fwd+bwd)\n{table}")
    results = {"device": args.device, "threads": args.threads, "repeats": repeats,
               "rounds": rounds, "variants": list(VARIANTS), "runs": runs, "table": rows}
    write_results(args.out, "ops", results, table)
    return results


if __name__ == "__main__":
    main()
