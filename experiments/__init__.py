"""The digit-pair study built on minitorch_pairs."""
# First, before anything loads numpy: the thread pools' wait policy (minitorch_pairs.threads).
import minitorch_pairs.threads  # noqa: F401
