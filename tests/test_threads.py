"""minitorch_pairs/threads.py: the thread pools' settings are set before numpy loads, a
value the user set wins, and MINITORCH_PAIRS_THREAD_DEFAULTS=0 leaves the environment be."""
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


def test_defaults_are_set_on_import():
    assert environment_after_import() == {"GOMP_SPINCOUNT": "100000",
                                          "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                                          "OPENBLAS_THREAD_TIMEOUT": "4"}


def test_a_user_value_wins():
    assert environment_after_import(OPENBLAS_NUM_THREADS="4")["OPENBLAS_NUM_THREADS"] == "4"


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
