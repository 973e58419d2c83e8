"""mt.utils.data (datasets, samplers, DataLoader, default_collate) and mt.Generator/randperm
against torch's own: the same batches (values, dtypes, shapes, container types), lengths,
split lengths and exception classes. Random orders are compared by their properties, not
their values: our streams are NumPy's PCG64, not torch's."""
from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minitorch_pairs as mt
from minitorch_pairs.utils import data as mt_data
from torch_reference import torch

import torch.utils.data as torch_data  # noqa: E402  (after the reference's skip check)

FRAMEWORKS = {"torch": (torch, torch_data), "mt": (mt, mt_data)}

Point = collections.namedtuple("Point", "x label")


# ----- comparing results across the frameworks --------------------------------------------

def describe(value):
    """A framework-free description of a batch: container types, tensors' dtype, shape and
    values, anything else with its type."""
    if isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype).removeprefix("torch."), tuple(value.shape),
                value.tolist())
    if isinstance(value, mt.Tensor):
        return ("tensor", value.dtype.name, tuple(value.shape), value.tolist())
    if isinstance(value, collections.abc.Mapping):
        return (type(value).__name__, {key: describe(v) for key, v in value.items()})
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [describe(v) for v in value])
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.tolist())
    return (type(value).__name__, value)


def outcome(call):
    """What a call gives: ("ok", value) or ("raises", exception class)."""
    try:
        return ("ok", call())
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return ("raises", type(error))


def in_both(build):
    """`build(lib, data)` run with torch and with mt: their outcomes, torch's first."""
    return [outcome(lambda: build(*FRAMEWORKS[name])) for name in ("torch", "mt")]


# ----- datasets both frameworks can load ---------------------------------------------------

SAMPLES = {
    "tuple": lambda i: (i / 2, i, np.arange(3, dtype=np.float32) + i),
    "dict": lambda i: {"image": np.full((2, 2), i, dtype=np.float64), "label": i,
                       "name": f"s{i}"},
    "ordered_dict": lambda i: collections.OrderedDict(b=np.int16(i), a=[i, i + 1]),
    "numpy": lambda i: np.array([i, -i], dtype=np.int32),
    "numpy_0d": lambda i: np.array(i * 0.5, dtype=np.float16),
    "numpy_scalar": lambda i: np.float32(i) / 4,
    "float": lambda i: i * 1.5,
    "int": lambda i: i,
    "bool": lambda i: i % 2 == 0,
    "namedtuple": lambda i: Point(np.array([i, i + 1], dtype=np.float32), i),
    "list": lambda i: [i, float(i), "x"],
    "nested": lambda i: {"pair": (np.int64(i), [True, i]), "meta": Point(b"b", 1.5)},
}


class SampleDataset:
    """n samples of one kind, built from NumPy and Python values, so that both frameworks'
    loaders read the very same samples."""

    def __init__(self, kind: str, n: int):
        self.make, self.n = SAMPLES[kind], n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.make(i)

    def __len__(self):
        return self.n


def tensor_dataset(lib, data, n):
    features = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return data.TensorDataset(lib.tensor(features), lib.tensor(np.arange(n) % 3),
                              lib.tensor(np.arange(n) % 2 == 0))


def counting_stream(data, n, with_len=True):
    """An IterableDataset of 0..n-1 in `data`'s framework."""
    class Counting(data.IterableDataset):
        def __iter__(self):
            return iter(range(n))

    if with_len:
        Counting.__len__ = lambda self: n
    return Counting()


def batches(loader):
    return [describe(batch) for batch in loader]


sizes = st.integers(0, 11)
batch_sizes = st.one_of(st.none(), st.integers(1, 5))


def loader_kwargs(batch_size, drop_last):
    return {"batch_size": batch_size, "drop_last": drop_last and batch_size is not None}


# ----- unshuffled batches equal torch's ----------------------------------------------------

@pytest.mark.parametrize("kind", sorted(SAMPLES))
@given(n=sizes, batch_size=batch_sizes, drop_last=st.booleans())
def test_batches_equal_torchs(kind, n, batch_size, drop_last):
    kwargs = loader_kwargs(batch_size, drop_last)
    theirs = torch_data.DataLoader(SampleDataset(kind, n), **kwargs)
    ours = mt_data.DataLoader(SampleDataset(kind, n), **kwargs)
    assert batches(ours) == batches(theirs)
    assert len(ours) == len(theirs)


@given(n=sizes, batch_size=batch_sizes, drop_last=st.booleans())
def test_tensor_dataset_batches_equal_torchs(n, batch_size, drop_last):
    kwargs = loader_kwargs(batch_size, drop_last)
    loaders = [data.DataLoader(tensor_dataset(lib, data, n), **kwargs)
               for lib, data in FRAMEWORKS.values()]
    assert batches(loaders[1]) == batches(loaders[0])
    assert len(loaders[1]) == len(loaders[0])


@given(n=sizes, batch_size=batch_sizes, drop_last=st.booleans())
def test_iterable_dataset_batches_equal_torchs(n, batch_size, drop_last):
    kwargs = loader_kwargs(batch_size, drop_last)
    loaders = [data.DataLoader(counting_stream(data, n), **kwargs)
               for _, data in FRAMEWORKS.values()]
    assert batches(loaders[1]) == batches(loaders[0])
    assert len(loaders[1]) == len(loaders[0])
    chained = [data.DataLoader(counting_stream(data, n) + counting_stream(data, 2), **kwargs)
               for _, data in FRAMEWORKS.values()]
    assert batches(chained[1]) == batches(chained[0])


@pytest.mark.parametrize("kwargs", [
    {"batch_sampler": [[2, 0], [1], [3, 4, 5]]},
    {"sampler": [5, 3, 1, 0], "batch_size": 3},
    {"sampler": [4, 2], "batch_size": None},
    {"batch_size": 4, "collate_fn": lambda samples: samples},
], ids=["batch_sampler", "sampler", "sampler_unbatched", "collate_fn"])
def test_given_samplers_and_collate_fn_as_torch(kwargs):
    theirs = torch_data.DataLoader(SampleDataset("tuple", 6), **kwargs)
    ours = mt_data.DataLoader(SampleDataset("tuple", 6), **kwargs)
    assert batches(ours) == batches(theirs)
    assert len(ours) == len(theirs)


def test_subset_and_concat_datasets_load_as_torch():
    def build(lib, data):
        whole = tensor_dataset(lib, data, 7)
        joined = data.Subset(whole, [6, 0, 3]) + data.Subset(whole, [1, 1])
        return batches(data.DataLoader(joined, batch_size=2))
    theirs, ours = in_both(build)
    assert ours == theirs


@pytest.mark.parametrize("batch", [
    [1, 2.5], [2.5, 1], [True, 2], [True, False], [np.float32(1), np.int64(2)],
    [np.int32(1), np.int32(3)], [np.bool_(True), np.bool_(False)], [np.array(1.0), np.array(2.0)],
    [collections.defaultdict(int, a=1), collections.defaultdict(int, a=2)],
    [("a", b"x"), ("b", b"y")], [range(2), range(2)], [[np.float64(1)], [np.float64(2)]],
], ids=repr)
def test_default_collate_rules_as_torch(batch):
    assert describe(mt_data.default_collate(batch)) == describe(torch_data.default_collate(batch))


def test_default_collate_of_tensors_stacks_and_promotes_as_torch():
    def build(lib, data):
        return describe(data.default_collate([lib.zeros(2, dtype=lib.int64), lib.ones(2)]))
    theirs, ours = in_both(build)
    assert ours == theirs


@pytest.mark.parametrize("sample", [
    np.array([1, 2], dtype=np.uint8), np.float64(2.5), 3, "text", (np.int8(1), 2.0),
    {"a": np.array([True])}, Point(np.array(1), "p"), [np.array([0.5])], np.array(["s"]),
], ids=repr)
def test_default_convert_rules_as_torch(sample):
    assert describe(mt_data.default_convert(sample)) == describe(torch_data.default_convert(sample))


# ----- shuffling -----------------------------------------------------------------------------

def epoch_order(loader):
    return [i for batch in loader for i in batch[0].tolist()]


def shuffled_loader(n, generator=None, **kwargs):
    return mt_data.DataLoader(mt_data.TensorDataset(mt.arange(n)), shuffle=True,
                              generator=generator, **kwargs)


@given(n=st.integers(1, 30), batch_size=st.integers(1, 7), drop_last=st.booleans(),
       seed=st.integers(0, 2 ** 32))
def test_shuffled_epochs_see_every_sample_once(n, batch_size, drop_last, seed):
    loader = shuffled_loader(n, mt.Generator().manual_seed(seed), batch_size=batch_size,
                             drop_last=drop_last)
    reference = torch_data.DataLoader(torch_data.TensorDataset(torch.arange(n)), shuffle=True,
                                      batch_size=batch_size, drop_last=drop_last)
    for _ in range(2):
        order = epoch_order(loader)
        if drop_last:
            assert len(order) == n // batch_size * batch_size and len(set(order)) == len(order)
            assert set(order) <= set(range(n))
        else:
            assert sorted(order) == list(range(n))
        assert ([len(batch[0]) for batch in loader]
                == [len(batch[0]) for batch in reference])


@given(seed=st.integers(0, 2 ** 64 - 1))
def test_same_seed_same_orders_and_epochs_differ(seed):
    first = shuffled_loader(40, mt.Generator().manual_seed(seed), batch_size=8)
    second = shuffled_loader(40, mt.Generator().manual_seed(seed), batch_size=8)
    epochs = [epoch_order(first) for _ in range(2)]
    assert epochs == [epoch_order(second) for _ in range(2)]
    assert epochs[0] != epochs[1]


def test_manual_seed_reproduces_a_loader_without_generator():
    loader = shuffled_loader(40, batch_size=5)
    orders = {}
    for seed in (11, 12, 11):
        mt.manual_seed(seed)
        orders.setdefault(seed, []).append([epoch_order(loader) for _ in range(2)])
    assert orders[11][0] == orders[11][1]
    assert orders[11][0] != orders[12][0]
    assert orders[11][0][0] != orders[11][0][1]


def test_random_sampler_with_replacement_and_subset_random_sampler():
    generator = mt.Generator().manual_seed(0)
    drawn = list(mt_data.RandomSampler(range(5), replacement=True, num_samples=70,
                                       generator=generator))
    assert len(drawn) == 70 and set(drawn) <= set(range(5))
    longer = list(mt_data.RandomSampler(range(5), num_samples=12, generator=generator))
    assert sorted(longer[:10]) == sorted(list(range(5)) * 2) and len(longer) == 12
    assert len(mt_data.RandomSampler(range(5), num_samples=12)) == 12
    indices = [10, 20, 30, 40]
    orders = [list(mt_data.SubsetRandomSampler(indices, mt.Generator().manual_seed(3)))
              for _ in range(2)]
    assert orders[0] == orders[1] and sorted(orders[0]) == indices


# ----- lengths, splits and indexing ----------------------------------------------------------

@given(n=st.integers(0, 40), batch_size=st.one_of(st.none(), st.integers(1, 8)),
       drop_last=st.booleans(), shuffle=st.booleans())
def test_len_equals_torchs(n, batch_size, drop_last, shuffle):
    def build(lib, data):
        loader = data.DataLoader(list(range(n)), shuffle=shuffle,
                                 **loader_kwargs(batch_size, drop_last))
        return len(loader), sum(1 for _ in loader)
    theirs, ours = in_both(build)
    assert ours == theirs


def split_outcome(data, lib, n, lengths):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parts = data.random_split(list(range(n)), lengths, lib.Generator().manual_seed(1))
    return [len(part) for part in parts], len(caught), [list(part) for part in parts]


@given(n=st.integers(0, 30), parts=st.lists(st.integers(0, 10), min_size=1, max_size=4),
       as_fractions=st.booleans())
def test_random_split_lengths_as_torch_and_a_disjoint_cover(n, parts, as_fractions):
    if as_fractions:
        lengths = [p / sum(parts) if sum(parts) else 1 / len(parts) for p in parts]
    else:
        lengths = [n - sum(parts[1:])] + parts[1:] if n >= sum(parts[1:]) else parts
    theirs, ours = [outcome(lambda: split_outcome(data, lib, n, lengths))
                    for lib, data in FRAMEWORKS.values()]
    assert ours[0] == theirs[0]
    if ours[0] == "ok":
        assert ours[1][:2] == theirs[1][:2]  # lengths and the number of warnings
        samples = [i for part in ours[1][2] for i in part]
        assert sorted(samples) == list(range(n))


@pytest.mark.parametrize("n,lengths", [(10, [0.3, 0.3, 0.4]), (7, [0.5, 0.5]), (5, [0.1, 0.9]),
                                       (3, [1 / 3] * 3), (4, [0.25, 0.25, 0.25, 0.25, 0.0]),
                                       (10, [1.0]), (10, [3, 7])])
def test_random_split_known_cases_as_torch(n, lengths):
    theirs, ours = [split_outcome(data, lib, n, lengths)[:2] for lib, data in FRAMEWORKS.values()]
    assert ours == theirs


@given(sizes=st.lists(st.integers(0, 5), min_size=1, max_size=4),
       picks=st.lists(st.integers(-8, 8), max_size=6))
def test_concat_and_subset_indexing_as_torch(sizes, picks):
    def build(lib, data):
        starts = np.cumsum([0] + sizes)
        joined = data.ConcatDataset([list(range(s, s + size)) for s, size in zip(starts, sizes)])
        subset = data.Subset(joined, picks)
        total = len(joined)
        return (total, [outcome(lambda: joined[i]) for i in range(-total - 2, total + 2)],
                [outcome(lambda: subset[i]) for i in range(-len(picks) - 1, len(picks) + 1)],
                outcome(lambda: subset[[0, -1]] if picks else None))
    theirs, ours = in_both(build)
    assert ours == theirs


def test_dataset_add_and_tensor_dataset_indexing_as_torch():
    def build(lib, data):
        joined = tensor_dataset(lib, data, 3) + tensor_dataset(lib, data, 2)
        return len(joined), [describe(joined[i]) for i in (0, 3, -1)]
    theirs, ours = in_both(build)
    assert ours == theirs


# ----- bad calls raise torch's exception class -------------------------------------------------

def ds(lib, data, n=5):
    return data.TensorDataset(lib.zeros(n, 2))


BAD_CALLS = {
    "sampler with shuffle": lambda lib, data: data.DataLoader(
        ds(lib, data), sampler=data.SequentialSampler(ds(lib, data)), shuffle=True),
    "batch_sampler with batch_size": lambda lib, data: data.DataLoader(
        ds(lib, data), batch_sampler=[[0]], batch_size=2),
    "batch_sampler with shuffle": lambda lib, data: data.DataLoader(
        ds(lib, data), batch_sampler=[[0]], shuffle=True),
    "batch_sampler with sampler": lambda lib, data: data.DataLoader(
        ds(lib, data), batch_sampler=[[0]], sampler=[0]),
    "batch_sampler with drop_last": lambda lib, data: data.DataLoader(
        ds(lib, data), batch_sampler=[[0]], drop_last=True),
    "batch_size None with drop_last": lambda lib, data: data.DataLoader(
        ds(lib, data), batch_size=None, drop_last=True),
    "batch_size 0": lambda lib, data: data.DataLoader(ds(lib, data), batch_size=0),
    "batch_size -2": lambda lib, data: data.DataLoader(ds(lib, data), batch_size=-2),
    "batch_size 2.5": lambda lib, data: data.DataLoader(ds(lib, data), batch_size=2.5),
    "batch_size True": lambda lib, data: data.DataLoader(ds(lib, data), batch_size=True),
    "drop_last 1": lambda lib, data: data.DataLoader(ds(lib, data), drop_last=1),
    "num_workers -1": lambda lib, data: data.DataLoader(ds(lib, data), num_workers=-1),
    "timeout -1": lambda lib, data: data.DataLoader(ds(lib, data), timeout=-1),
    "timeout without workers": lambda lib, data: iter(data.DataLoader(ds(lib, data), timeout=1)),
    "prefetch_factor without workers": lambda lib, data: data.DataLoader(
        ds(lib, data), prefetch_factor=2),
    "persistent_workers without workers": lambda lib, data: data.DataLoader(
        ds(lib, data), persistent_workers=True),
    "multiprocessing_context without workers": lambda lib, data: data.DataLoader(
        ds(lib, data), multiprocessing_context="spawn"),
    "set batch_size after init": lambda lib, data: setattr(
        data.DataLoader(ds(lib, data)), "batch_size", 3),
    "shuffle an empty dataset": lambda lib, data: data.DataLoader(ds(lib, data, 0), shuffle=True),
    "len of a stream without len": lambda lib, data: len(
        data.DataLoader(counting_stream(data, 3, with_len=False))),
    "stream with shuffle": lambda lib, data: data.DataLoader(counting_stream(data, 3),
                                                             shuffle=True),
    "stream with sampler": lambda lib, data: data.DataLoader(counting_stream(data, 3),
                                                             sampler=[0]),
    "stream with batch_sampler": lambda lib, data: data.DataLoader(counting_stream(data, 3),
                                                                   batch_sampler=[[0]]),
    "IterableDataset without __iter__": lambda lib, data: data.IterableDataset(),
    "RandomSampler replacement 1": lambda lib, data: data.RandomSampler([1], replacement=1),
    "RandomSampler num_samples 0": lambda lib, data: data.RandomSampler([1], num_samples=0),
    "RandomSampler num_samples 2.5": lambda lib, data: data.RandomSampler([1], num_samples=2.5),
    "BatchSampler batch_size 0": lambda lib, data: data.BatchSampler([0], 0, False),
    "BatchSampler drop_last None": lambda lib, data: data.BatchSampler([0], 2, None),
    "iter of a bare Sampler": lambda lib, data: iter(data.Sampler()),
    "getitem of a bare Dataset": lambda lib, data: data.Dataset()[0],
    "len of a bare Dataset": lambda lib, data: len(data.Dataset()),
    "TensorDataset size mismatch": lambda lib, data: data.TensorDataset(lib.zeros(3),
                                                                        lib.zeros(4)),
    "len of an empty TensorDataset": lambda lib, data: len(data.TensorDataset()),
    "ConcatDataset of nothing": lambda lib, data: data.ConcatDataset([]),
    "ConcatDataset of a stream": lambda lib, data: data.ConcatDataset([counting_stream(data, 2)]),
    "ConcatDataset index past the end": lambda lib, data: data.ConcatDataset([[1, 2]])[2],
    "ConcatDataset index before the start": lambda lib, data: data.ConcatDataset([[1, 2]])[-3],
    "ChainDataset of a map dataset": lambda lib, data: list(data.ChainDataset([[1, 2]])),
    "random_split wrong sum": lambda lib, data: data.random_split(range(5), [2, 2]),
    "random_split fractions over 1": lambda lib, data: data.random_split(range(5), [0.5, 0.6]),
    "random_split negative fraction": lambda lib, data: data.random_split(range(5), [-0.5, 1.5]),
    "collate unequal lists": lambda lib, data: data.default_collate([[1, 2], [3]]),
    "collate None": lambda lib, data: data.default_collate([None]),
    "collate objects": lambda lib, data: data.default_collate([object()]),
    "collate string arrays": lambda lib, data: data.default_collate([np.array(["a"])]),
    "collate unequal tensors": lambda lib, data: data.default_collate([lib.zeros(2),
                                                                        lib.zeros(3)]),
    "collate an int past int64": lambda lib, data: data.default_collate([2 ** 63, 1]),
    "collate an empty batch": lambda lib, data: data.default_collate([]),
    "Generator on tpu": lambda lib, data: lib.Generator(device="tpu"),
    "manual_seed 2.5": lambda lib, data: lib.Generator().manual_seed(2.5),
    "manual_seed True": lambda lib, data: lib.Generator().manual_seed(True),
    "manual_seed None": lambda lib, data: lib.Generator().manual_seed(None),
    "manual_seed 2**64": lambda lib, data: lib.Generator().manual_seed(2 ** 64),
    "manual_seed -2**63-1": lambda lib, data: lib.Generator().manual_seed(-2 ** 63 - 1),
    "set_state of an int": lambda lib, data: lib.Generator().set_state(5),
    "randperm -1": lambda lib, data: lib.randperm(-1),
    "randperm 2.5": lambda lib, data: lib.randperm(2.5),
    "randperm True": lambda lib, data: lib.randperm(True),
    "randperm int8 too small": lambda lib, data: lib.randperm(129, dtype=lib.int8),
    "randperm half too small": lambda lib, data: lib.randperm(2050, dtype=lib.float16),
    "randperm bool": lambda lib, data: lib.randperm(3, dtype=lib.bool),
    "randperm int requires_grad": lambda lib, data: lib.randperm(3, requires_grad=True),
    "randperm generator 5": lambda lib, data: lib.randperm(3, generator=5),
    "rand generator 5": lambda lib, data: lib.rand(3, generator=5),
}


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
def test_bad_calls_raise_torchs_exception_class(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, ours = in_both(BAD_CALLS[name])
    assert theirs[0] == "raises", f"torch accepts {name!r}: the case is wrong"
    assert ours == theirs


@pytest.mark.parametrize("name,good", [
    ("randperm int8 fits", lambda lib, data: lib.randperm(128, dtype=lib.int8)),
    ("randperm half fits", lambda lib, data: lib.randperm(2049, dtype=lib.float16)),
    ("randperm float requires_grad", lambda lib, data: lib.randperm(3, dtype=lib.float32,
                                                                   requires_grad=True)),
    ("randperm 0", lambda lib, data: lib.randperm(0)),
    ("TensorDataset of nothing", lambda lib, data: [data.TensorDataset()] and None),
])
def test_edge_calls_torch_accepts_are_accepted(name, good):
    theirs, ours = in_both(good)
    assert theirs[0] == ours[0] == "ok"
    if isinstance(theirs[1], torch.Tensor):
        assert describe(ours[1])[:3] == describe(theirs[1])[:3]
        assert ours[1].requires_grad == theirs[1].requires_grad


def test_worker_processes_are_refused_with_a_clear_error():
    with pytest.raises(NotImplementedError, match=r"num_workers=2 .* calling process only; "
                                                  r"use num_workers=0"):
        mt_data.DataLoader(ds(mt, mt_data), num_workers=2)


def test_pin_memory_is_accepted_and_changes_nothing():
    loaders = [mt_data.DataLoader(tensor_dataset(mt, mt_data, 5), batch_size=2, pin_memory=pin)
               for pin in (False, True)]
    assert batches(loaders[0]) == batches(loaders[1])


def test_worker_info_is_none_and_iterators_have_len():
    loader = mt_data.DataLoader(list(range(7)), batch_size=3)
    assert mt_data.get_worker_info() is None and len(iter(loader)) == 3


# ----- Generator and randperm -------------------------------------------------------------------

def test_generator_seeds_as_torch():
    assert mt.Generator().initial_seed() == torch.Generator().initial_seed()
    for seed in (0, 123, -1, -2 ** 63, 2 ** 64 - 1):
        assert (mt.Generator().manual_seed(seed).initial_seed()
                == torch.Generator().manual_seed(seed).initial_seed())
    generator = mt.Generator(device=mt.device("cpu"))
    assert generator.manual_seed(4) is generator and generator.device == "cpu"
    with pytest.raises(RuntimeError, match="only CPU generators"):
        mt.Generator(device="cuda")


def test_generator_seed_is_nondeterministic_and_state_round_trips():
    generator = mt.Generator()
    seeds = {generator.seed() for _ in range(3)}
    assert len(seeds) == 3 and all(isinstance(s, int) and 0 <= s < 2 ** 64 for s in seeds)
    assert generator.initial_seed() in seeds
    generator.manual_seed(9)
    state = generator.get_state()
    first = mt.rand(4, generator=generator).tolist()
    other = mt.Generator().manual_seed(10)
    assert other.set_state(state) is other and other.initial_seed() == 9
    assert mt.rand(4, generator=other).tolist() == first
    assert generator.get_state() != state


def test_generators_and_numpy_generators_feed_every_random_function():
    def draws(generator):
        layer = mt.zeros(3, 4)
        mt.nn.init.uniform_(layer, generator=generator)
        mt.nn.init.kaiming_normal_(layer, generator=generator)
        return [mt.rand(2, generator=generator).tolist(), mt.randn(2, generator=generator).tolist(),
                mt.randperm(6, generator=generator).tolist(), layer.tolist()]
    default_state = mt.get_rng_state()
    ours = draws(mt.Generator().manual_seed(5))
    assert mt.get_rng_state() == default_state, "a generator's draws left the default alone"
    assert ours == draws(np.random.default_rng(5))
    mt.manual_seed(5)
    assert ours == draws(None)


@given(n=st.integers(0, 60), seed=st.integers(0, 2 ** 63))
def test_randperm_is_a_reproducible_permutation(n, seed):
    ours = mt.randperm(n, generator=mt.Generator().manual_seed(seed))
    theirs = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    assert describe(ours)[:3] == describe(theirs)[:3]
    assert sorted(ours.tolist()) == list(range(n))
    assert mt.randperm(n, generator=mt.Generator().manual_seed(seed)).tolist() == ours.tolist()
    mt.manual_seed(seed)
    assert mt.randperm(n).tolist() == ours.tolist()
    assert mt.randperm(n, dtype=mt.float32).dtype == mt.float32


@pytest.mark.parametrize("method", ["normal_", "uniform_"])
def test_tensor_random_fills_take_a_generator(method):
    """Tensor.normal_/uniform_ draw from an mt.Generator as factories do, reproducibly."""
    first, second = mt.empty(5), mt.empty(5)
    getattr(first, method)(generator=mt.Generator().manual_seed(3))
    getattr(second, method)(generator=mt.Generator().manual_seed(3))
    assert np.array_equal(first.numpy(), second.numpy())
