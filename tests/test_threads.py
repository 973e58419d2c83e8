"""minitorch_pairs/threads.py: the thread pools' wait policy is set before numpy loads, a
value the user set wins, and MINITORCH_PAIRS_THREAD_DEFAULTS=0 leaves the environment be;
importing minitorch_pairs and running its ops leave torch's and NumPy's thread counts as they
were, while BLAS runs one thread per call inside our ops (kernels/cpu/blas_threads.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SHOW = ("import os, sys, json, minitorch_pairs\n"
        "print(json.dumps({k: os.environ.get(k) for k in "
        "('GOMP_SPINCOUNT', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', "
        "'OPENBLAS_THREAD_TIMEOUT')}))")
NAMES = ("GOMP_SPINCOUNT", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_THREAD_TIMEOUT")


def environment_after_import(**overrides) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in NAMES + ("MINITORCH_PAIRS_THREAD_DEFAULTS",)}
    env.update(overrides)
    done = subprocess.run([sys.executable, "-c", SHOW], env=env, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


def test_defaults_are_set_on_import_and_thread_counts_are_not():
    assert environment_after_import() == {"GOMP_SPINCOUNT": "100000",
                                          "OPENBLAS_NUM_THREADS": None, "MKL_NUM_THREADS": None,
                                          "OPENBLAS_THREAD_TIMEOUT": "4"}


def test_a_user_value_wins():
    assert environment_after_import(GOMP_SPINCOUNT="7")["GOMP_SPINCOUNT"] == "7"


COUNTS = """
import json, sys
import numpy as np, torch
from threadpoolctl import threadpool_info
def counts():
    return {"torch": torch.get_num_threads(), "torch interop": torch.get_num_interop_threads(),
            "blas": sorted((pool["filepath"], pool["num_threads"]) for pool in threadpool_info()
                           if pool["user_api"] == "blas" and "scipy.libs" not in pool["filepath"])}
before = counts()
import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from kernels.cpu import blas_threads, products
inside = []
real = products._shifted_product
def spy(*args):
    inside.append(blas_threads.blas_single_threaded() and
                  all(get() == 1 for get, _ in blas_threads._blas()))
    return real(*args)
products._shifted_product = spy
x = mt.randn(64, 3, 14, 14, requires_grad=True)
conv = mt.nn.Conv2d(3, 32, 3)
linear = mt.nn.Linear(32 * 6 * 6, 100)
loss = linear(F.max_pool2d(F.relu(conv(x)), 2).reshape(64, -1)).sum()
loss.backward()
print(json.dumps({"before": before, "after": counts(), "inside": inside}))
"""


def test_our_ops_leave_other_libraries_thread_counts_as_they_were():
    """torch and NumPy keep their thread counts through `import minitorch_pairs` and a
    forward and backward of ours; inside our ops every BLAS runs one thread per call."""
    env = {k: v for k, v in os.environ.items()
           if k not in NAMES + ("OMP_NUM_THREADS", "MINITORCH_PAIRS_THREAD_DEFAULTS")}
    done = subprocess.run([sys.executable, "-c", COUNTS], env=env, capture_output=True,
                          text=True, check=True)
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["after"] == seen["before"]
    assert seen["inside"] and all(seen["inside"]), seen["inside"]


def test_the_defaults_can_be_turned_off():
    assert environment_after_import(MINITORCH_PAIRS_THREAD_DEFAULTS="0") == dict.fromkeys(NAMES)


WATCH = """
import sys
order = []
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name in ("numpy", "minitorch_pairs.threads"):
            order.append(name)
sys.meta_path.insert(0, Watch())
import {module}
print(order[0])
"""


@pytest.mark.parametrize("module", ["minitorch_pairs", "experiments.siamese_aux",
                                    "benchmarks.train_step"])
def test_each_entry_point_sets_them_before_numpy_loads(module):
    """Set after numpy's OpenBLAS has loaded, OPENBLAS_THREAD_TIMEOUT would do nothing."""
    done = subprocess.run([sys.executable, "-c", WATCH.format(module=module)],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "minitorch_pairs.threads"
