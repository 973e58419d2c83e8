"""The torch reference for parity tests: imported through here so that a missing torch is a
visible skip on a developer machine and a hard failure in CI (see conftest)."""
import pytest

torch = pytest.importorskip("torch", reason="the torch reference is not installed "
                                             "(pip install -e '.[test]')")
torch.set_num_threads(2)
