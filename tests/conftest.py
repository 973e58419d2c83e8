"""Test configuration: hypothesis profiles, the slow marker, and the torch reference rule.

In CI (CI=true) the torch reference is required: a missing torch fails the run
instead of skipping tests silently. Slow end-to-end tests run in CI and with
--runslow; elsewhere they are visible skips.
"""
import os

# The CUDA kernels run on a GPU where there is one, else under numba's CUDA simulator. The
# switch must be set before numba.cuda is first imported, so it is here, at the top.
HAS_GPU = os.path.exists("/dev/nvidiactl")
if not HAS_GPU:
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

# First, as in a user's process: minitorch_pairs/threads.py's thread settings (one thread
# per BLAS call, which kernels/cpu/products.py needs to cut products) before numpy loads.
import minitorch_pairs  # noqa: E402,F401
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# No deadline: numba compiles a kernel on its first call. CI is derandomized so a
# failure there reproduces exactly.
settings.register_profile("dev", deadline=None, max_examples=25,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, max_examples=25, derandomize=True,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


def pytest_report_header(config):
    simulated = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
    return f"CUDA kernels: {'numba CUDA simulator' if simulated else 'GPU'}"


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="run tests marked slow")


def pytest_configure(config):
    if IN_CI:
        try:
            import torch  # noqa: F401
        except ImportError as error:
            raise pytest.UsageError(f"CI needs the torch reference for the parity tests, but "
                                    f"it cannot be imported ({error}); install '.[test]'")


def pytest_collection_modifyitems(config, items):
    if IN_CI or config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow end-to-end test: run with --runslow (CI runs it)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    """Print the per-op error table the parity suite collected, if it ran."""
    import sys
    for name in ("test_op_parity", "test_fuzz"):
        module = sys.modules.get(name)
        for line in (module.summary_lines() if module else []):
            terminalreporter.write_line(line)
