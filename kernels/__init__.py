"""Kernels on plain arrays, one module per device; they know nothing of Tensor."""
