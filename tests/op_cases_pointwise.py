"""Op cases of ops/pointwise (see op_cases.py for what a Case is)."""
from __future__ import annotations

CASES = []
