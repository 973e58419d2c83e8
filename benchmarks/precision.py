"""`python -m benchmarks.precision`: float32 rounding error of the study's convolutions, ours
under `conv_precision="fast"` (the default: 3x3 layers with >= 16 channels take Winograd)
and "highest" (exact products only), against torch's float32 eager and channels_last paths.

The error of a float32 result is max |result - reference| / max |reference|, where the
reference is torch in float64 on the same (float32) data. It is measured for the forward
output and for the gradients of input, weight and bias, the backward pass driven by a fixed
random output gradient. Weights and biases follow nn.Conv2d's default initialisation
(uniform in +-1/sqrt(fan_in), i.e. kaiming-uniform with a = sqrt(5)); the inputs are the
study's standardised digits (the first 100 training pairs of round 0, 200 images) or, for
deeper layers, those digits through the layers before (computed in float64). The
conv-ReLU-conv case reports, for weight and bias, the worse of its two layers.

With --speed it also times what "highest" costs: ms per SGD step of the study's Siamese +
aux model (benchmarks/train_step.py's step, batch 100 pairs) under each setting, in this
process, one model, windows (the median of --repeats steps) taking turns in alternating
order for --rounds rounds; the ratio is the median over rounds of highest / fast.
"""
from __future__ import annotations

import argparse
import functools
import statistics
from dataclasses import dataclass

import numpy as np

from .harness import PAUSE_S, alternate_calls, markdown_table, write_results

IMPLEMENTATIONS = ("ours fast", "ours highest", "torch eager", "torch channels_last")
QUANTITIES = ("forward", "grad input", "grad weight", "grad bias")
ROUTE_MARGIN = 1e-4  # of max |conv|: ~15x the largest float32 forward error measured here


@dataclass(frozen=True)
class Case:
    """One convolution of the study: `form` is "conv" (conv2d), "fused" (conv2d, ReLU, 2x2
    max-pool) or "conv_relu_conv" (conv2d c_in->c_out, ReLU, conv2d c_out->c_out); its input
    is the output of `source` (see features)."""
    name: str
    form: str
    c_in: int
    c_out: int
    padding: int
    source: str
    batch: int = 200


CASES = (
    Case("r000 conv1 1->32 k3 p1, 14x14", "conv", 1, 32, 1, "digits"),
    Case("r000 conv1 1->32 k3 p1 + relu + pool, 14x14", "fused", 1, 32, 1, "digits"),
    Case("r000 conv2 32->64 k3 p1, 7x7", "conv", 32, 64, 1, "r000 block1"),
    Case("r000 conv2 32->64 k3 p1 + relu + pool, 7x7", "fused", 32, 64, 1, "r000 block1"),
    Case("r002 conv2 32->64 k3 + relu + pool, 6x6", "fused", 32, 64, 0, "r002 block1"),
    Case("r003 conv3 64->32 k3 p1, 3x3", "conv", 64, 32, 1, "r000 block2"),
    Case("conv-relu-conv 32->32->32 k3 p1, 14x14", "conv_relu_conv", 32, 32, 1,
         "r000 conv1 relu", batch=64),
)


def init_conv(rng, c_in: int, c_out: int, k: int = 3) -> tuple:
    """nn.Conv2d's default initialisation, float32: weight and bias uniform in
    +-1/sqrt(fan_in)."""
    bound = 1 / np.sqrt(c_in * k * k)
    weight = rng.uniform(-bound, bound, (c_out, c_in, k, k)).astype(np.float32)
    bias = rng.uniform(-bound, bound, c_out).astype(np.float32)
    return weight, bias


@functools.lru_cache(maxsize=None)
def features(source: str, seed: int = 0) -> np.ndarray:
    """The input a case's layer sees in the study, float32: the standardised digits, or the
    digits through the layers before it (float64, each with nn.Conv2d's initialisation)."""
    import torch
    import torch.nn.functional as F
    from .train_step import pair_batch
    digits = np.ascontiguousarray(pair_batch(100).input.reshape(200, 1, 14, 14))
    if source == "digits":
        return digits
    rng = np.random.default_rng([seed, 1])
    x = torch.from_numpy(digits).double()

    def block(x, c_in, c_out, padding, pool=True):
        weight, bias = (torch.from_numpy(a).double() for a in init_conv(rng, c_in, c_out))
        y = F.relu(F.conv2d(x, weight, bias, padding=padding))
        return F.max_pool2d(y, 2) if pool else y
    if source == "r000 block1":
        y = block(x, 1, 32, 1)
    elif source == "r000 block2":
        y = block(block(x, 1, 32, 1), 32, 64, 1)
    elif source == "r002 block1":
        y = block(x, 1, 32, 0)
    elif source == "r000 conv1 relu":
        y = block(x, 1, 32, 1, pool=False)
    else:
        raise ValueError(f"unknown source {source!r}")
    return y.numpy().astype(np.float32)


def case_data(case: Case, seed: int = 0) -> dict:
    """Float32 input, parameters [(weight, bias), ...] and output gradient of a case (for a
    fused case, zero where the pooling's route is a matter of rounding: see route_mask)."""
    rng = np.random.default_rng([seed, 2])
    x = features(case.source, seed)[:case.batch]
    layers = [init_conv(rng, case.c_in, case.c_out)]
    if case.form == "conv_relu_conv":
        layers.append(init_conv(rng, case.c_out, case.c_out))
    x64, layers64 = torch_tensors(x, layers, "float64")
    out = forward_torch(case, x64, layers64)
    grad = rng.standard_normal(out.shape).astype(np.float32)
    if case.form == "fused":
        import torch.nn.functional as F
        conv = F.conv2d(x64, *layers64[0], padding=case.padding).detach().numpy()
        grad[~route_mask(conv)] = 0
    return {"x": x, "layers": layers, "grad": grad}


def route_mask(conv: np.ndarray, margin: float = ROUTE_MARGIN) -> np.ndarray:
    """For each output of ReLU + 2x2 max-pool over the float64 `conv`: whether its gradient's
    route is clear, i.e. its window's largest value leads the next by more than `margin` of
    max |conv| and lies farther than that from ReLU's zero. Elsewhere (exact ties, as where
    the input patches are all zero and the outputs all equal the bias; near ties) which input
    the gradient goes to depends on rounding, and any float32 result may send it elsewhere
    than the reference: a difference of a whole gradient element, not of precision."""
    n, c, h, w = conv.shape
    windows = conv[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2)
    windows = np.sort(windows.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4))
    tolerance = margin * np.abs(conv).max()
    return ((windows[..., 3] - windows[..., 2] > tolerance)
            & (np.abs(windows[..., 3]) > tolerance))


# --- one case, one implementation: (output, grad input, [(grad weight, grad bias), ...]) ---

def forward_torch(case: Case, x, layers):
    import torch.nn.functional as F
    (w, b), p = layers[0], case.padding
    y = F.conv2d(x, w, b, padding=p)
    if case.form == "fused":
        y = F.max_pool2d(F.relu(y), 2)
    elif case.form == "conv_relu_conv":
        y = F.conv2d(F.relu(y), *layers[1], padding=p)
    return y


def forward_ours(case: Case, x, layers):
    from minitorch_pairs.nn import functional as F
    (w, b), p = layers[0], case.padding
    if case.form == "fused":
        return F.conv2d_relu_max_pool2d(x, w, b, padding=p)
    y = F.conv2d(x, w, b, padding=p)
    if case.form == "conv_relu_conv":
        y = F.conv2d(F.relu(y), *layers[1], padding=p)
    return y


def torch_tensors(x, layers, dtype: str, channels_last: bool = False) -> tuple:
    import torch
    layout = torch.channels_last if channels_last else torch.contiguous_format

    def leaf(array):
        t = torch.from_numpy(array).to(getattr(torch, dtype))
        if t.ndim == 4:
            t = t.to(memory_format=layout)
        return t.requires_grad_()
    return leaf(x), [(leaf(w), leaf(b)) for w, b in layers]


def run_torch(case: Case, data: dict, dtype: str = "float32",
              channels_last: bool = False) -> tuple:
    import torch
    x, layers = torch_tensors(data["x"], data["layers"], dtype, channels_last)
    out = forward_torch(case, x, layers)
    grad = torch.from_numpy(data["grad"]).to(out.dtype)
    out.backward(grad.to(memory_format=torch.channels_last) if channels_last else grad)
    return (out.detach().numpy(), x.grad.numpy(),
            [(w.grad.numpy(), b.grad.numpy()) for w, b in layers])


def run_ours(case: Case, data: dict, precision: str) -> tuple:
    import minitorch_pairs as mt
    x = mt.tensor(data["x"], requires_grad=True)
    layers = [(mt.tensor(w, requires_grad=True), mt.tensor(b, requires_grad=True))
              for w, b in data["layers"]]
    with mt.backends.flags(conv_precision=precision):
        out = forward_ours(case, x, layers)
        out.backward(mt.tensor(data["grad"]))
    return (out.detach().numpy(), x.grad.numpy(),
            [(w.grad.numpy(), b.grad.numpy()) for w, b in layers])


def run(case: Case, data: dict, implementation: str) -> tuple:
    if implementation.startswith("ours"):
        return run_ours(case, data, implementation.split()[1])
    return run_torch(case, data, channels_last=implementation.endswith("channels_last"))


def relative_error(result, reference) -> float:
    result, reference = np.asarray(result, np.float64), np.asarray(reference, np.float64)
    return float(np.abs(result - reference).max() / np.abs(reference).max())


def errors(case: Case, seed: int = 0, implementations=IMPLEMENTATIONS) -> dict:
    """{implementation: {quantity: relative error}} of one case against the float64
    reference; for several layers, a gradient's error is the worst layer's."""
    data = case_data(case, seed)
    reference = run_torch(case, data, dtype="float64")
    table = {}
    for implementation in implementations:
        out, dx, dparams = run(case, data, implementation)
        table[implementation] = {
            "forward": relative_error(out, reference[0]),
            "grad input": relative_error(dx, reference[1]),
            "grad weight": max(relative_error(d[0], r[0])
                               for d, r in zip(dparams, reference[2])),
            "grad bias": max(relative_error(d[1], r[1]) for d, r in zip(dparams, reference[2])),
        }
    return table


def step_speed(model: str, repeats: int, rounds: int) -> dict:
    """Median ms per SGD step of `model` under each conv_precision, windows alternating in
    one process (the setting is read at each call), and highest / fast per round."""
    import minitorch_pairs as mt
    from .train_step import build_step, first_batch
    step, _, _ = build_step("sequential", model, [first_batch()], threads=2)
    settings = ("fast", "highest")

    def under(precision):
        def call():
            with mt.backends.flags(conv_precision=precision):
                step()
        return call
    windows = alternate_calls({p: under(p) for p in settings}, rounds, repeats, PAUSE_S)
    runs = [{p: windows[p][i] for p in settings} for i in range(rounds)]
    return {"model": model, "runs": runs,
            "ms": {p: statistics.median(run[p] for run in runs) for p in settings},
            "ratio": statistics.median(run["highest"] / run["fast"] for run in runs)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="weights and output gradients")
    parser.add_argument("--speed", action="store_true",
                        help="also time an SGD step under each setting")
    parser.add_argument("--model", default="r000_shared_net1_aux", help="for --speed")
    parser.add_argument("--repeats", type=int, default=30, help="steps per window (--speed)")
    parser.add_argument("--rounds", type=int, default=9, help="rounds of windows (--speed)")
    parser.add_argument("--out", help="directory for precision.json and precision.md")
    args = parser.parse_args(argv)
    # timed first, before torch's thread pools exist in this process
    speed = step_speed(args.model, args.repeats, args.rounds) if args.speed else None
    import torch
    torch.set_num_threads(2)
    results = {case.name: errors(case, args.seed) for case in CASES}
    rows, ratio_rows = [], []
    for name, table in results.items():
        for implementation in IMPLEMENTATIONS:
            rows.append([name, implementation]
                        + [f"{table[implementation][q]:.2e}" for q in QUANTITIES])
        for implementation in IMPLEMENTATIONS[:2]:
            ratio_rows.append([name, implementation] + [
                f"{table[implementation][q] / table['torch eager'][q]:.2f}" for q in QUANTITIES])
    text = ("max |float32 - float64 reference| / max |reference|\n\n"
            + markdown_table(["case", "implementation"] + list(QUANTITIES), rows)
            + "\n\nours / torch eager (the errors' ratio)\n\n"
            + markdown_table(["case", "ours"] + list(QUANTITIES), ratio_rows))
    unclear = [f"{case.name}: {int((grad == 0).sum())} of {grad.size}" for case in CASES
               if case.form == "fused" for grad in [case_data(case, args.seed)["grad"]]]
    text += "\n\npooled outputs given no gradient, their route unclear: " + "; ".join(unclear)
    output = {"seed": args.seed, "errors": results}
    if speed:
        output["speed"] = speed
        text += (f"\n\n{args.model}, SGD step, batch 100 pairs, {args.rounds} rounds of "
                 f"windows of {args.repeats} steps: fast {speed['ms']['fast']:.1f} ms, highest "
                 f"{speed['ms']['highest']:.1f} ms, highest / fast {speed['ratio']:.2f}")
    print(text)
    write_results(args.out, "precision", output, text)
    return output


if __name__ == "__main__":
    main()
