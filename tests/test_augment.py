"""experiments/augment.py: shifts and rotations move pixels where they should (against
np.roll / np.rot90), fill with the background, and a swap recomputes target and classes."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from experiments.augment import Augmentation, rotate, shift
from minitorch_pairs.data import PairSet


def images(n=3, seed=0):
    rng = np.random.default_rng(seed)
    out = np.full((n, 2, 14, 14), -0.5, dtype=np.float32)  # background -0.5
    out[:, :, 4:10, 3:11] = rng.uniform(0, 3, (n, 2, 6, 8))  # a digit away from the edges
    return out


@given(st.integers(-3, 3), st.integers(-3, 3))
def test_a_shift_is_a_roll_with_background_fill(dy, dx):
    x = images(1)
    moved = shift(x, np.broadcast_to(np.array([dy, dx]), (1, 2, 2)))
    expected = np.roll(x, (dy, dx), axis=(-2, -1))  # the digit never wraps: 3 px margins
    np.testing.assert_array_equal(moved, expected)


def test_rotations_by_zero_and_by_a_quarter_turn():
    x = images(2)
    np.testing.assert_allclose(rotate(x, np.zeros((2, 2))), x, atol=1e-6)
    quarter = rotate(x, np.full((2, 2), np.pi / 2))
    np.testing.assert_allclose(quarter, np.rot90(x, 1, axes=(-2, -1)), atol=1e-5)
    small = rotate(x, np.full((2, 2), np.radians(10)))
    assert small.min() >= x.min() - 1e-6 and small.max() <= x.max() + 1e-6  # bilinear


def test_a_swap_recomputes_target_and_classes_and_the_seed_decides():
    classes = np.array([[3, 5], [7, 2], [4, 6], [9, 0]])  # distinct: a swap shows
    x = images(4)
    pairs = PairSet(x, (classes[:, 0] <= classes[:, 1]).astype(np.int64), classes)
    out = Augmentation(swap=True)(pairs, np.random.default_rng(1))
    swapped = np.any(out.classes != classes, axis=1)
    assert 0 < swapped.sum() < 4  # seed 1 swaps some pairs, not all
    for i in range(4):
        flipped = not np.array_equal(out.classes[i], classes[i])
        np.testing.assert_array_equal(out.input[i], x[i, ::-1] if flipped else x[i])
        assert out.target[i] == int(out.classes[i, 0] <= out.classes[i, 1])
    again = Augmentation(swap=True)(pairs, np.random.default_rng(1))
    np.testing.assert_array_equal(again.input, out.input)
    np.testing.assert_array_equal(pairs.input, x)  # the original is untouched


def test_repairing_draws_new_pairs_from_the_same_images_with_their_classes():
    n = 50
    rng = np.random.default_rng(3)
    classes = rng.integers(0, 10, (n, 2))
    x = images(n)
    x[:, :, 0, 0] = np.arange(2 * n).reshape(n, 2)  # each image carries its own id
    pairs = PairSet(x, (classes[:, 0] <= classes[:, 1]).astype(np.int64), classes)
    out = Augmentation(repair=True)(pairs, np.random.default_rng(0))
    ids = out.input[:, :, 0, 0].astype(int)
    # the same 2N images, each once, each still with its own class ...
    np.testing.assert_array_equal(np.sort(ids.ravel()), np.arange(2 * n))
    np.testing.assert_array_equal(out.classes, classes.ravel()[ids])
    np.testing.assert_array_equal(out.input, x.reshape(2 * n, 14, 14)[ids])
    # ... in new pairs, with the target recomputed from the classes
    assert (ids[:, 0] // 2 != ids[:, 1] // 2).mean() > 0.9
    np.testing.assert_array_equal(out.target, out.classes[:, 0] <= out.classes[:, 1])
    assert Augmentation(repair=True).active


def test_all_at_once_keeps_shapes_dtypes_and_values_in_range():
    x = images(5)
    classes = np.random.default_rng(0).integers(0, 10, (5, 2))
    pairs = PairSet(x, (classes[:, 0] <= classes[:, 1]).astype(np.int64), classes)
    out = Augmentation(shift=2, rotate=15.0, swap=True)(pairs, np.random.default_rng(0))
    assert out.input.shape == x.shape and out.input.dtype == np.float32
    assert out.input.min() >= x.min() - 1e-6 and out.input.max() <= x.max() + 1e-6
    assert not Augmentation().active and Augmentation(swap=True).active


@pytest.mark.parametrize("bad", [dict(shift=-1), dict(shift=9), dict(rotate=90.0)])
def test_bad_settings_name_themselves(bad):
    with pytest.raises(ValueError, match="augmentation: expected"):
        Augmentation(**bad)


def test_a_run_with_augmentation_trains_and_the_cli_parses_it(tmp_path):
    """The training loop feeds fresh variants each epoch (and still evaluates on the
    original pairs); --augment reaches it through the main job."""
    from experiments import siamese_aux
    from experiments.models import get_spec
    from experiments.sources import load_pools
    from experiments.training import TrainConfig, train_run
    from minitorch_pairs.data import generate_pair_sets
    train, test = generate_pair_sets(load_pools("embedded"), 60, seed=0)
    spec = get_spec("r000_benchmark_leq")
    plain = TrainConfig.for_spec(spec, epochs=2)
    augmented = TrainConfig.for_spec(spec, epochs=2, augmentation=Augmentation(2, 10.0, True))
    a, b = (train_run(spec, c, train, test, seed=0).history for c in (plain, augmented))
    assert a["train_loss"] != b["train_loss"] and all(np.isfinite(b["train_loss"]))
    assert siamese_aux.main(["--models", "r000_benchmark_leq", "--rounds", "1", "--epochs",
                             "1", "--n-pairs", "40", "--augment", "shift=1,swap", "--workers",
                             "0", "--quiet", "--no-plots", "--out", str(tmp_path)]) == 0
    import json
    details = json.loads((tmp_path / "runs" / "r000_benchmark_leq" /
                          "round_000.json").read_text())
    assert details["config"]["augmentation"] == {"shift": 1, "rotate": 0.0, "swap": True,
                                                 "repair": False}
