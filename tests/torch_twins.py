"""Building a torch twin of one of our modules: same architecture, same weights by name."""
from __future__ import annotations

import numpy as np

from torch_reference import torch


def copy_into_torch(ours, theirs) -> None:
    """Copy every parameter and buffer of `ours` into the same-named tensor of `theirs`."""
    their_state = theirs.state_dict()
    our_state = ours.state_dict()
    assert list(our_state) == list(their_state), \
        f"state_dict keys differ: {list(our_state)} vs {list(their_state)}"
    with torch.no_grad():
        for name, value in our_state.items():
            their_state[name].copy_(torch.from_numpy(np.array(value.data)))


def assert_parameters_match(ours, theirs, rtol: float, what: str = "parameter") -> None:
    for (name, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=rtol, atol=rtol,
                                   err_msg=f"{what} {name}")


def assert_grads_match(ours, theirs, rtol: float) -> None:
    for (name, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=rtol, atol=rtol,
                                   err_msg=f"grad of {name}")
