"""`python -m benchmarks.cuda_launches`: how many CUDA kernels one training step of each
headline model launches on our backend (forward, loss, backward, SGD step), and which.

Launch overhead, not arithmetic, bounds small models on a GPU: a numba kernel launch costs
tens of microseconds of Python and driver work, so the count times that cost is a floor on
the step time. Counted under numba's CUDA simulator with the kernels' bodies skipped (the
sequence of launches does not depend on the numbers), so this runs in seconds on any machine;
the results are garbage, the count is exact.
"""
from __future__ import annotations

import os

os.environ["NUMBA_ENABLE_CUDASIM"] = "1"  # before numba.cuda is first imported

import argparse  # noqa: E402
import collections  # noqa: E402
import json  # noqa: E402

from .harness import markdown_table, write_results  # noqa: E402


def count_launches(model_name: str, batch_pairs: int) -> collections.Counter:
    from numba import config
    if not config.ENABLE_CUDASIM:
        raise RuntimeError("cuda_launches counts under the simulator: run it in its own "
                           "process (python -m benchmarks.cuda_launches)")
    from numba.cuda.simulator import kernel as simulated
    import minitorch_pairs as mt
    from experiments.models import get_spec
    from experiments.training import pair_loss
    from .train_step import first_batch
    spec = get_spec(model_name)
    mt.manual_seed(0)
    model = spec.build().to("cuda")
    optimizer = mt.optim.SGD(model.parameters(), lr=0.01)
    batch = first_batch().subset(slice(0, batch_pairs))
    x, target, classes = (mt.tensor(a).to("cuda") for a in (batch.input, batch.target,
                                                             batch.classes))
    launches = collections.Counter()
    run = simulated.FakeCUDAKernel.__call__

    def count(kernel, *args):
        if kernel._device:  # a device function called from a kernel
            return run(kernel, *args)
        # the kernel itself does not run; elementwise kernels are closures named per op
        launches[kernel.fn.__qualname__.replace("<locals>.", "")] += 1

    simulated.FakeCUDAKernel.__call__ = count
    try:
        loss = pair_loss(model(x), target, classes, (spec.comparison_weight, spec.aux_weight))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    finally:
        simulated.FakeCUDAKernel.__call__ = run
    return launches


def main(argv=None) -> dict:
    from experiments.models import HEADLINE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(HEADLINE))
    parser.add_argument("--batch-pairs", type=int, default=100)
    parser.add_argument("--out", help="directory for cuda_launches.json and .md")
    args = parser.parse_args(argv)
    results = {name: dict(count_launches(name, args.batch_pairs)) for name in args.models}
    rows = [[name, sum(counts.values()),
             ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])[:6])]
            for name, counts in results.items()]
    table = markdown_table(["model", "kernel launches per SGD step", "most launched"], rows)
    print(table)
    write_results(args.out, "cuda_launches", {"batch_pairs": args.batch_pairs,
                                              "launches": results}, table)
    print(json.dumps(results))  # every kernel's count, per model
    return results


if __name__ == "__main__":
    main()
