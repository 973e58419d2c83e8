"""Every op case the gradient-check, torch-parity and device suites run: the core ops
(op_cases.py) and one file per area of the wider PyTorch surface (op_cases_<area>.py).
A case tagged "cpu_only" is an op that refuses device tensors: the device suite checks
that it raises NotImplementedError naming the op instead of running it."""
from op_cases import CASES as CORE
from op_cases_conv import CASES as CONV
from op_cases_indexing import CASES as INDEXING
from op_cases_layers import CASES as LAYERS
from op_cases_losses import CASES as LOSSES
from op_cases_pointwise import CASES as POINTWISE
from op_cases_reshaping import CASES as RESHAPING
from op_cases_statistics import CASES as STATISTICS

CASES = CORE + POINTWISE + STATISTICS + RESHAPING + INDEXING + CONV + LOSSES + LAYERS
