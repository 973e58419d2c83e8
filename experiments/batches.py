"""A pair set's tensors on a device, copied there once, and the mini-batches cut from them
on that device: a shuffled epoch costs one upload (its permutation), and each batch is
gathered by a slice of it, so a CUDA training step moves no data between host and GPU."""
from __future__ import annotations

import numpy as np

import minitorch_pairs as mt
from minitorch_pairs.data import PairSet


class DevicePairs:
    def __init__(self, pairs: PairSet, device: str = "cpu"):
        self.host, self.device = pairs, device
        self.input = mt.tensor(pairs.input).to(device)
        self.target = mt.tensor(pairs.target).to(device)
        self.classes = mt.tensor(pairs.classes).to(device)

    def __len__(self) -> int:
        return self.target.shape[0]

    def shuffled(self, batch_size: int, rng: np.random.Generator):
        """(input, target, classes) mini-batches in a fresh random order (the last may be
        smaller)."""
        order = mt.tensor(rng.permutation(len(self))).to(self.device)
        for start in range(0, len(self), batch_size):
            index = order[start:start + batch_size]
            yield self.input[index], self.target[index], self.classes[index]

    def in_order(self, batch_size: int):
        """(input, target, classes) mini-batches in order (views, no copies)."""
        for start in range(0, len(self), batch_size):
            part = slice(start, start + batch_size)
            yield self.input[part], self.target[part], self.classes[part]
