"""The one seeded random generator every random op draws from, so a run is reproducible, and
`Generator`, torch.Generator's CPU surface for code that wants a stream of its own.

Streams differ from torch's: both draw from NumPy's PCG64, so the same seed does not give
torch's numbers (only the same numbers as our own runs with that seed)."""
from __future__ import annotations

import copy
import dataclasses
import os

import numpy as np

from . import backend

_generator = np.random.default_rng(0)

# torch.Generator()'s seed before manual_seed (its default_rng_seed_val), so initial_seed()
# of a fresh generator reads the same in both frameworks
DEFAULT_SEED = 67280421310721
_SEED_RANGE = 2 ** 64  # torch takes seeds in [-2**63, 2**64) and maps negatives modulo 2**64


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator (initialisation, dropout, rand/randn) and return it."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    return _generator


def get_rng_state() -> dict:
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    _generator.bit_generator.state = state


@dataclasses.dataclass(frozen=True)
class GeneratorState:
    """A snapshot of a Generator, for `set_state` (torch's is a uint8 tensor; ours holds the
    seed and NumPy's PCG64 state, which no torch generator can read)."""
    initial_seed: int
    bit_generator: dict


class Generator:
    """torch.Generator on the CPU: a random stream of its own, passed as `generator=` to
    rand, randn, randperm, nn.init, random_split and the samplers.

    Numbers are drawn on the host and copied to a tensor's device, so one CPU generator
    serves every device; `Generator(device="cuda")` is refused rather than pretending to be
    a generator on the GPU."""

    def __init__(self, device="cpu"):
        kind = backend.device(device).type
        if kind != "cpu":
            raise RuntimeError(f"Generator: only CPU generators exist here (random numbers are "
                               f"drawn on the host and copied to the tensor's device), got "
                               f"device={str(device)!r}; use Generator() or device='cpu'")
        self.device = backend.device("cpu")
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from `seed` (an int in [-2**63, 2**64)); returns self."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = int(seed)
        if not -2 ** 63 <= seed < _SEED_RANGE:
            raise ValueError(f"manual_seed: seed {seed} is outside [-2**63, 2**64)")
        self._initial_seed = seed % _SEED_RANGE
        self._numpy = np.random.default_rng(self._initial_seed)
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy and return the new seed."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._initial_seed

    def get_state(self) -> GeneratorState:
        return GeneratorState(self._initial_seed, copy.deepcopy(self._numpy.bit_generator.state))

    def set_state(self, new_state: GeneratorState) -> "Generator":
        if not isinstance(new_state, GeneratorState):
            raise TypeError(f"set_state: expected a GeneratorState from get_state(), got "
                            f"{type(new_state).__name__}")
        self._initial_seed = new_state.initial_seed
        self._numpy = np.random.default_rng()
        self._numpy.bit_generator.state = copy.deepcopy(new_state.bit_generator)
        return self

    def __repr__(self) -> str:
        return f"<minitorch_pairs.Generator device=cpu initial_seed={self._initial_seed}>"


def numpy_generator(generator=None) -> np.random.Generator:
    """The NumPy generator to draw from for `generator=`: a Generator's own stream, a NumPy
    Generator as given (older code passes those), or the default generator for None."""
    if generator is None:
        return _generator
    if isinstance(generator, Generator):
        return generator._numpy
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator: expected a minitorch_pairs.Generator, a numpy.random.Generator "
                    f"or None, got {type(generator).__name__}")
