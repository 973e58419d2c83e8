"""The learning-rate schedulers behind minitorch_pairs.optim.lr_scheduler, one family per
module."""
