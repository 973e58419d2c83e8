"""Benchmarks of minitorch_pairs against PyTorch (`python -m benchmarks.<name>`)."""
# First, before anything loads numpy: our thread pools' wait policy (minitorch_pairs.threads;
# the torch workers turn it off with MINITORCH_PAIRS_THREAD_DEFAULTS=0).
import minitorch_pairs.threads  # noqa: F401
