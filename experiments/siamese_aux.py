"""`python -m experiments.siamese_aux`: the study's main job.

Until the digit-pair study lands (data protocol, the reports' models), this runs a
short smoke training of a small CNN on a synthetic pair task, so the README's
command exercises the whole framework: conv, batch norm, pooling, dropout,
cross-entropy, backward and Adam.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import minitorch_pairs as mt
from minitorch_pairs import nn
import minitorch_pairs.nn.functional as F


def synthetic_pairs(n: int, rng: np.random.Generator):
    """Two 14x14 noise images per sample; the label says whether image 1 is the darker one."""
    images = rng.standard_normal((n, 2, 14, 14)).astype(np.float32)
    images[:, 0] += rng.uniform(-1, 1, (n, 1, 1)).astype(np.float32)
    target = (images[:, 0].mean(axis=(1, 2)) <= images[:, 1].mean(axis=(1, 2))).astype(np.int64)
    return mt.tensor(images), mt.tensor(target)


def small_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(2, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 2))


def accuracy(model: nn.Module, x: mt.Tensor, y: mt.Tensor) -> float:
    model.eval()
    with mt.no_grad():
        predicted = model(x).argmax(dim=1)
    model.train()
    return float((predicted.data == y.data).mean())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="passes over the training set")
    parser.add_argument("--seed", type=int, default=0, help="seed of data, init and dropout")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    mt.manual_seed(args.seed)
    train_x, train_y = synthetic_pairs(1000, rng)
    test_x, test_y = synthetic_pairs(1000, rng)
    model = small_cnn()
    optimizer = mt.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = rng.permutation(len(train_x))
        for batch in np.array_split(order, 10):
            loss = F.cross_entropy(model(train_x[batch]), train_y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: last batch loss {loss.item():.4f}, "
              f"test accuracy {accuracy(model, test_x, test_y):.3f}")
    print(f"smoke training done in {time.perf_counter() - start:.1f} s "
          "(synthetic data; the digit-pair study replaces this job)")


if __name__ == "__main__":
    main()
