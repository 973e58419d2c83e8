"""Benchmarks of minitorch_pairs against PyTorch (`python -m benchmarks.<name>`)."""
