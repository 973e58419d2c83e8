"""The digit-pair study built on minitorch_pairs."""
