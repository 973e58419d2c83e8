"""torch.utils.data.DataLoader: batches of a dataset in the order of a sampler, with torch's
signature, defaults, argument checks and length, loading in the calling process.

Worker processes (num_workers > 0) are refused rather than emulated: the study's datasets
are small arrays already in memory, where workers would only add start-up time and
copies. pin_memory is accepted and does nothing: batches are NumPy host arrays, and
`.to("cuda")` copies them to the GPU."""
from __future__ import annotations

import math
from typing import Generic, TypeVar

from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

T_co = TypeVar("T_co", covariant=True)

# what the loader is built from; torch refuses to change these once it exists
_FROZEN_ATTRIBUTES = frozenset(("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                "persistent_workers"))


def get_worker_info():
    """None: there are no worker processes, so code that shards by worker sees the whole."""
    return None


class _InfiniteConstantSampler(Sampler):
    """An iterable dataset's 'indices': the stream, not a sampler, decides what comes next."""

    def __iter__(self):
        while True:
            yield None


class DataLoader(Generic[T_co]):
    """Iterating yields batches: `collate_fn` of the samples at each list of indices from the
    batch sampler (or, batch_size=None, `collate_fn` of each sample). Each iteration is a
    new epoch: a shuffled loader draws a new order every time."""

    _initialized = False

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers,
                              multiprocessing_context)
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self._iterable = isinstance(dataset, IterableDataset)

        if self._iterable:  # the stream decides the order: no sampler, no shuffling
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._initialized = True

        if num_workers > 0:
            raise NotImplementedError(
                f"DataLoader: num_workers={num_workers} asks for worker processes, but "
                f"minitorch_pairs loads in the calling process only; use num_workers=0")

    def __setattr__(self, attr, value) -> None:
        if self._initialized and attr in _FROZEN_ATTRIBUTES:
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(attr, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        """What yields each step's index (or list of indices, when batching)."""
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> "_DataLoaderIter":
        return _DataLoaderIter(self)

    def __len__(self) -> int:
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = (length // self.batch_size if self.drop_last
                          else math.ceil(length / self.batch_size))
            return length
        return len(self._index_sampler)


def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers,
                          multiprocessing_context) -> None:
    """torch's checks of the options that configure worker processes, in its order."""
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                         "disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing. "
                         "let num_workers > 0 to enable multiprocessing, otherwise set "
                         "prefetch_factor to None.")
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if multiprocessing_context is not None and num_workers == 0:
        raise ValueError(f"multiprocessing_context can only be used with multi-process loading "
                         f"(num_workers > 0), but got num_workers={num_workers}")


class _DataLoaderIter:
    """One epoch of a DataLoader: fetches and collates a batch per index from its sampler."""

    def __init__(self, loader: DataLoader) -> None:
        if loader.timeout != 0:  # torch's single-process iterator refuses a timeout as well
            raise AssertionError(f"DataLoader: timeout={loader.timeout} applies to worker "
                                 f"processes only; with num_workers=0 it must be 0")
        self._loader = loader
        self._indices = iter(loader._index_sampler)
        self._stream = iter(loader.dataset) if loader._iterable else None
        self._ended = False

    def __iter__(self) -> "_DataLoaderIter":
        return self

    def __len__(self) -> int:
        return len(self._loader._index_sampler)

    def __next__(self):
        index = next(self._indices)  # StopIteration ends the epoch
        if self._stream is not None:
            return self._next_from_stream(index)
        loader, dataset = self._loader, self._loader.dataset
        if not loader._auto_collation:
            return loader.collate_fn(dataset[index])
        if hasattr(dataset, "__getitems__") and dataset.__getitems__:
            return loader.collate_fn(dataset.__getitems__(index))
        return loader.collate_fn([dataset[i] for i in index])

    def _next_from_stream(self, batch_indices):
        """The next sample, or batch of up to len(batch_indices) samples, of the stream."""
        if self._ended:
            raise StopIteration
        if not self._loader._auto_collation:
            return self._loader.collate_fn(next(self._stream))
        samples = []
        for _ in batch_indices:
            try:
                samples.append(next(self._stream))
            except StopIteration:
                self._ended = True
                break
        if not samples or (self._loader.drop_last and len(samples) < len(batch_indices)):
            raise StopIteration
        return self._loader.collate_fn(samples)
