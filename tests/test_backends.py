"""mt.backends / kernels/policy.py: a setting changed for a block changes what the kernels do
(and the results only by float32 rounding), is restored after the block and after an
exception, and a wrong name or value is refused; no kernel module keeps a speed setting of
its own, and nothing outside kernels/ assigns a kernel module's globals."""
from __future__ import annotations

import ast
import pathlib
import re

import numba
import numpy as np
import pytest

import minitorch_pairs as mt
from kernels import cpu as K
from kernels import policy
from kernels.cpu import conv_winograd, parallel, products

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _data(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _close(ours, reference, scale=1e-4):
    """Equal within float32 rounding of the largest value (Winograd's F(6x6) is ~1.5e-5)."""
    np.testing.assert_allclose(ours, reference, rtol=0, atol=scale * np.abs(reference).max())


def test_the_public_face_is_the_policy():
    assert mt.backends.flags is policy.using and mt.backends.get is policy.get
    assert mt.backends.set_flags is policy.update
    assert mt.backends.get() == policy.Policy()  # no test left a setting changed


def _conv_relu_pool(x, w, b):
    """The fused Conv2d, ReLU, MaxPool2d(2) (pad 1), forward and backward, on the kernels;
    returns the tile side its forward took and the pooled output and gradients."""
    n, o, size = len(x), len(w), x.shape[2]
    pooled = np.empty((n, o, size // 2, size // 2), x.dtype)
    plan = K.conv2d_plan(x.shape, w.shape, x.dtype, (1, 1), (1, 1), pooled=True)
    saved, winners = K.conv2d_relu_pool_forward(plan, x, w, b, pooled)
    grad = np.where(pooled > 0, _data(pooled.shape, 3), 0).astype(x.dtype)
    grad_x, grad_w = np.empty_like(x), np.empty_like(w)
    grad_b = K.conv2d_relu_pool_backward(plan, grad, winners, w, saved, grad_x, grad_w)
    assert plan.algorithm == "winograd" and saved.V.shape[0] == (plan.tile + 2) ** 2
    return plan.tile, [pooled, grad_x, grad_w, grad_b]


def test_the_pooled_tile_setting_takes_either_path_with_the_same_results():
    """The study's 7x7 layer takes F(6x6) tiles by default; forced to 4 it takes F(4x4)
    (36 transformed rows instead of 64): within float32 rounding of a float64 reference."""
    x, w, b = _data((4, 16, 7, 7), 0), _data((16, 16, 3, 3), 1) / 12, _data(16, 2)
    _, reference = _conv_relu_pool(x, w, b)  # float64: ~1e-14 from exact
    x, w, b = (a.astype(np.float32) for a in (x, w, b))
    default_tile, default = _conv_relu_pool(x, w, b)
    with mt.backends.flags(winograd_pooled_tile=4) as settings:
        assert settings.winograd_pooled_tile == 4 == conv_winograd.pooled_tile(3, 3)
        tile4, four = _conv_relu_pool(x, w, b)
    with mt.backends.flags(winograd_pooled_tile=6):
        tile6, six = _conv_relu_pool(x, w, b)
    assert (default_tile, tile4, tile6) == (6, 4, 6)
    for ours4, ours6, ours, exact in zip(four, six, default, reference):
        np.testing.assert_array_equal(ours6, ours)  # the default is the 6x6 path
        _close(ours4, exact)
        _close(ours6, exact)
    assert not all(np.array_equal(a, b) for a, b in zip(four, six)), "the same path twice"


def _conv(x, w, b, pad=1):
    """conv2d forward and backward on the kernels; returns its plan, what its forward saved,
    and the output and gradients."""
    out = np.empty((len(x), len(w), x.shape[2] + 2 * pad - 2, x.shape[3] + 2 * pad - 2), x.dtype)
    plan = K.conv2d_plan(x.shape, w.shape, x.dtype, (1, 1), (pad, pad))
    saved = K.conv2d_forward(plan, x, w, b, out)
    grad = _data(out.shape, 4).astype(x.dtype)
    grad_x, grad_w = np.empty_like(x), np.empty_like(w)
    grad_b = K.conv2d_backward(plan, grad, w, saved, grad_x, grad_w)
    return plan, saved, [out, grad_x, grad_w, grad_b]


def test_winograd_channels_decides_the_path():
    x, w, b = (_data(s, k).astype(np.float32) for k, s in enumerate([(2, 3, 6, 6), (4, 3, 3, 3),
                                                                      (4,)]))
    plan, _, default = _conv(x, w, b)
    assert plan.algorithm != "winograd"
    with mt.backends.flags(winograd_channels=1):
        plan, _, winograd = _conv(x, w, b)
    assert plan.algorithm == "winograd"
    for ours, theirs in zip(winograd, default):
        _close(ours, theirs)


def test_winograd_parts_blocks_and_slices_change_the_cut_not_the_result():
    x, w, b = (_data(s, k).astype(np.float32) for k, s in enumerate([(8, 16, 7, 7),
                                                                      (16, 16, 3, 3), (16,)]))
    plan, saved, default = _conv(x, w, b)
    assert conv_winograd._work(plan, saved.V)[0] == 2  # 32 tiles: at least 16 a part
    cuts = [dict(winograd_part_tiles=1), dict(winograd_chunks=1, winograd_block_rows=1),
            dict(winograd_filter_slices=3, winograd_block_rows=500)]
    for changes, chunks in zip(cuts, (4, 1, 2)):
        with mt.backends.flags(**changes):
            assert conv_winograd._work(plan, saved.V)[0] == chunks
            _, _, ours = _conv(x, w, b)
        for mine, theirs in zip(ours, default):
            _close(mine, theirs, 1e-5)


def test_image_chunks_cut_the_per_image_weight_gradient():
    x, w, b = (_data(s, k).astype(np.float32) for k, s in enumerate([(6, 1, 14, 14),
                                                                      (32, 1, 3, 3), (32,)]))
    plan, _, default = _conv(x, w, b)
    assert plan.algorithm == "images"
    for chunks in (1, 3, 6):
        with mt.backends.flags(image_chunks=chunks):
            _, _, ours = _conv(x, w, b)
        for mine, theirs in zip(ours, default):
            _close(mine, theirs, 1e-6)


def test_image_pixel_taps_lays_the_per_image_product_out_either_way():
    """Pixel by pixel or plane by plane: the same convolution up to BLAS's order of sums, and
    the fused op's pool the same picks (integer data: exact sums, ties, a NaN)."""
    x, w, b = (_data(s, k).astype(np.float32) for k, s in enumerate([(6, 1, 14, 14),
                                                                      (32, 1, 3, 3), (32,)]))
    plan, _, default = _conv(x, w, b)
    assert (plan.algorithm, plan.pixels) == ("images", True)
    with mt.backends.flags(image_pixel_taps=8):
        plan, _, planes = _conv(x, w, b)
    assert (plan.algorithm, plan.pixels) == ("images", False)
    for mine, theirs in zip(planes, default):
        _close(mine, theirs, 1e-6)
    rng = np.random.default_rng(3)
    x = rng.integers(-2, 3, size=(6, 1, 14, 14)).astype(np.float32)
    x[1, 0, 5, 5] = np.nan
    w, b = rng.integers(-1, 2, size=(32, 1, 3, 3)).astype(np.float32), np.zeros(32, np.float32)
    results = []
    for taps in (16, 8):
        with mt.backends.flags(image_pixel_taps=taps):
            plan = K.conv2d_plan(x.shape, w.shape, x.dtype, (1, 1), (1, 1), pooled=True)
            pooled = np.empty((6, 32, 7, 7), np.float32)
            _, argmax = K.conv2d_relu_pool_forward(plan, x, w, b, pooled)
            results.append((pooled, argmax))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_split_work_and_parallel_from_pick_the_threads_or_the_calling_thread(monkeypatch):
    assert parallel.by_size(100, "threads", "calling") == "calling"
    with mt.backends.flags(parallel_from=0):
        assert parallel.by_size(100, "threads", "calling") == "threads"
    sliced = []
    row_slices = products._row_slices
    monkeypatch.setattr(products, "_row_slices", lambda *a: sliced.append(1) or row_slices(*a))
    a, b = _data((40, 30), 0).astype(np.float32), _data((30, 20), 1).astype(np.float32)
    whole = products.matmul(a, b)
    assert not sliced  # 24,000 multiply-adds: below split_work
    with mt.backends.flags(split_work=0):
        cut = products.matmul(a, b)
    assert bool(sliced) == (numba.get_num_threads() > 1)  # BLAS is single-threaded inside
    _close(cut, whole, 1e-6)


def test_settings_are_restored_after_the_block_and_after_an_exception():
    before = mt.backends.get()
    with mt.backends.flags(image_chunks=3):
        with mt.backends.flags(image_chunks=5, split_work=7):
            assert (mt.backends.get().image_chunks, mt.backends.get().split_work) == (5, 7)
        assert mt.backends.get() == policy.Policy(image_chunks=3)
    assert mt.backends.get() is before
    with pytest.raises(RuntimeError, match="inside"):
        with mt.backends.flags(winograd_pooled_tile=4, parallel_from=0):
            raise RuntimeError("inside")
    assert mt.backends.get() is before
    previous = mt.backends.set_flags(winograd_channels=64)
    try:
        assert previous is before and mt.backends.get().winograd_channels == 64
    finally:
        mt.backends.set_flags(winograd_channels=previous.winograd_channels)
    assert mt.backends.get() == before


def test_unknown_names_and_bad_values_are_refused_and_change_nothing():
    before = mt.backends.get()
    with pytest.raises(TypeError, match="'pooled_tile'.*winograd_pooled_tile"):
        with mt.backends.flags(pooled_tile=4):
            pass
    for changes, message in ((dict(winograd_pooled_tile=5), r"one of \(None, 4, 6\), got 5"),
                             (dict(winograd_pooled_tile=4.0), "got 4.0"),
                             (dict(image_chunks=0), "image_chunks must be an int >= 1, got 0"),
                             (dict(winograd_chunks=True), "got True"),
                             (dict(split_work=-1), "split_work must be an int >= 0"),
                             (dict(split_work=2, winograd_block_rows="48"), "got '48'")):
        with pytest.raises(ValueError, match=message):
            mt.backends.set_flags(**changes)
        assert mt.backends.get() is before
    with pytest.raises(AttributeError):
        mt.backends.get().split_work = 1  # frozen: only flags/set_flags change it


# Module-level UPPER_CASE names bound to literals (numbers, None, sets, arithmetic or a
# conditional of them): what a speed setting looks like. Arrays and tables built by calls
# (winograd_maps' matrices, conv_images.NOT_POOLED, KERNELS) are not caught, nor meant to be.
LIMITS = {"MAX_DIMS": "the dimensions kernels/cuda's elementwise kernels index: a limit"}


def _literal(node) -> bool:
    if isinstance(node, (ast.Constant, ast.Name)):
        return True
    if isinstance(node, (ast.Set, ast.Tuple, ast.List)):
        return all(map(_literal, node.elts))
    if isinstance(node, ast.BinOp):
        return _literal(node.left) and _literal(node.right)
    if isinstance(node, ast.UnaryOp):
        return _literal(node.operand)
    if isinstance(node, ast.IfExp):
        return _literal(node.body) and _literal(node.orelse)
    return False


def _settings_like(path: pathlib.Path) -> set:
    names = set()
    for node in ast.parse(path.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) and node.value else []
        if targets and _literal(node.value):
            names |= {t.id for t in targets if isinstance(t, ast.Name)
                      and re.fullmatch(r"_?[A-Z][A-Z0-9_]*", t.id)}
    return names


def test_no_kernel_module_keeps_a_setting_outside_the_policy():
    """kernels/cpu: only the compile-time fastmath flags, named in the policy's docstring;
    kernels/cuda: only the launch sizes the docstring lists as fixed."""
    found = {f"{path.parent.name}/{path.name}": _settings_like(path)
             for path in sorted((ROOT / "kernels").rglob("*.py"))
             if path.name != "policy.py"}
    found = {module: names - set(LIMITS) for module, names in found.items() if names - set(LIMITS)}
    assert found == {"cpu/batchnorm.py": {"SUMS"}, "cpu/conv_images.py": {"SUMS"},
                     "cuda/launch.py": {"THREADS", "MAX_BLOCKS"},
                     "cuda/gemm.py": {"TILE", "TILED_FROM"}, "cuda/batchnorm.py": {"THREADS"}}
    for module, names in found.items():  # each named in the docstring, with its file
        assert pathlib.PurePath(module).name in policy.__doc__, module
        assert all(re.search(rf"\b{name}\b", policy.__doc__) for name in names), module
    from minitorch_pairs import threads
    assert all(name in policy.__doc__ for name in threads.RUNTIME_DEFAULTS)


def test_nothing_outside_kernels_assigns_a_kernel_global():
    """Tests and benchmarks change a setting by mt.backends.flags, not by writing to a
    kernel module's globals (which compiled kernels may not see)."""
    kernel_names = set()
    for path in (ROOT / "kernels").rglob("*.py"):
        kernel_names |= {t.id for node in ast.parse(path.read_text()).body
                         if isinstance(node, ast.Assign) for t in node.targets
                         if isinstance(t, ast.Name) and re.fullmatch(r"_?[A-Z][A-Z0-9_]*", t.id)}
    offenders = []
    for folder in ("tests", "benchmarks", "experiments", "minitorch_pairs"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            for match in re.finditer(r"\b\w+\.(_?[A-Z][A-Z0-9_]*)\s*=(?!=)|"
                                     r"setattr\(\s*[\w.]+\s*,\s*[\"'](_?[A-Z][A-Z0-9_]*)[\"']",
                                     text):
                name = match.group(1) or match.group(2)
                if name in kernel_names:
                    offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert not offenders


def test_highest_precision_keeps_3x3_layers_off_winograd():
    """conv_precision="highest": the layers that take Winograd by default run on exact
    products, forward and fused alike; "fast" (the default) is Winograd's."""
    x, w, b = (_data(s, k).astype(np.float32) for k, s in enumerate([(4, 16, 7, 7),
                                                                      (16, 16, 3, 3), (16,)]))
    assert mt.backends.get().conv_precision == "fast"
    fast, _, _ = _conv(x, w, b)
    with mt.backends.flags(conv_precision="highest"):
        exact, _, _ = _conv(x, w, b)
        fused = K.conv2d_plan(x.shape, w.shape, x.dtype, (1, 1), (1, 1), pooled=True)
    assert fast.algorithm == "winograd"
    assert exact.algorithm != "winograd" and fused.algorithm != "winograd"
    for wrong in ("high", None, 1):
        with pytest.raises(ValueError, match="conv_precision must be one of"):
            mt.backends.set_flags(conv_precision=wrong)


def test_the_backward_follows_the_forwards_plan_whatever_the_settings_now():
    """Plans made under some settings run their backward by their own algorithm and tile
    after the settings change: the same gradients, bit for bit, as a backward under the
    forward's settings."""
    x, w, b = (_data(s, k).astype(np.float32) for k, s in enumerate([(4, 16, 7, 7),
                                                                      (16, 16, 3, 3), (16,)]))
    n, o = len(x), len(w)
    for settings in (dict(winograd_pooled_tile=4), dict(winograd_channels=64)):
        results = []
        for after in (settings, dict(conv_precision="highest", winograd_pooled_tile=6,
                                     winograd_channels=1)):
            with mt.backends.flags(**settings):
                plans = [K.conv2d_plan(x.shape, w.shape, x.dtype, (1, 1), (1, 1), pooled=p)
                         for p in (False, True)]
                out, pooled = np.empty((n, o, 7, 7), x.dtype), np.empty((n, o, 3, 3), x.dtype)
                fused_saved, winners = K.conv2d_relu_pool_forward(plans[1], x, w, b, pooled)
                saved = [K.conv2d_forward(plans[0], x, w, b, out), fused_saved]
            grads = [np.empty_like(x), np.empty_like(w), np.empty_like(x), np.empty_like(w)]
            with mt.backends.flags(**after):
                grad_b = K.conv2d_backward(plans[0], _data(out.shape, 4).astype(x.dtype), w,
                                           saved[0], *grads[:2])
                fused_b = K.conv2d_relu_pool_backward(
                    plans[1], np.where(pooled > 0, _data(pooled.shape, 3), 0).astype(x.dtype),
                    winners, w, saved[1], *grads[2:])
            results.append([plans, *grads, grad_b, fused_b])
        (plans, *expected), (_, *ours) = results
        assert [p.algorithm for p in plans] == (["winograd"] * 2 if "winograd_pooled_tile" in
                                                settings else ["im2col", "im2col"])
        for mine, theirs in zip(ours, expected):
            np.testing.assert_array_equal(mine, theirs)
