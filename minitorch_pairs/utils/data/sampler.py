"""Samplers as torch.utils.data has them: each yields the indices (or, BatchSampler, lists of
indices) the DataLoader fetches, with torch's argument checks and lengths.

Random orders come from mt's generators (NumPy's PCG64), so they are reproducible by seed
but are not torch's orders for the same seed."""
from __future__ import annotations

import itertools
from typing import Generic, Iterator, TypeVar

import numpy as np

from ... import random

T_co = TypeVar("T_co", covariant=True)

# Indices drawn with replacement come in chunks, as torch draws them, so an epoch that is
# stopped early has not paid for all of them.
_REPLACEMENT_CHUNK = 32


class Sampler(Generic[T_co]):
    """Subclasses define `__iter__` over indices, and `__len__` where the count is known."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """A random order of the indices (with `replacement`, `num_samples` independent draws).

    With a `generator`, successive epochs continue its stream. Without one, each epoch seeds
    a fresh stream from mt's default generator (torch draws the seed from its default
    generator the same way), so `mt.manual_seed` makes the orders reproducible."""

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _stream(self) -> np.random.Generator:
        if self.generator is not None:
            return random.numpy_generator(self.generator)
        seed = int(random.default_generator().integers(2 ** 63))
        return np.random.default_rng(seed)

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        stream = self._stream()
        if self.replacement:
            chunks, rest = divmod(self.num_samples, _REPLACEMENT_CHUNK)
            for size in [_REPLACEMENT_CHUNK] * chunks + [rest]:
                yield from stream.integers(n, size=size).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from stream.permutation(n).tolist()
            yield from stream.permutation(n).tolist()[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices in a random order, drawn from `generator` (None: the default
    generator itself, as torch draws from its default generator)."""

    def __init__(self, indices, generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in random.numpy_generator(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler[list]):
    """Groups `sampler`'s indices into lists of `batch_size`; the last, shorter one is kept
    unless `drop_last`."""

    def __init__(self, sampler, batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list]:
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
