"""Bad input, generated: hypothesis throws wrong shapes, dtypes, NaN/inf data, empty batches,
negative and zero sizes and wrong types at the public API, and bad option values, unknown
model names and missing or corrupt data roots at the CLI. Every failure must be a clear
ValueError/TypeError/IndexError naming what was wrong (IndexError for a dim or index out of
range, as in torch), or a usage message with exit code 2; a CLI run that fails leaves no
output behind. The number of generated cases is printed in the terminal summary."""
from __future__ import annotations

import collections
import contextlib
import io
import json
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from minitorch_pairs import nn
from experiments import grid, siamese_aux
from experiments.training import Diverged

CASES = collections.Counter()  # area -> generated cases run
CLEAR_ERRORS = (ValueError, TypeError, IndexError)
FUZZ = settings(max_examples=150, deadline=None)


def summary_lines() -> list:
    if not CASES:
        return []
    return [f"fuzz: {sum(CASES.values())} generated bad-input cases ("
            + ", ".join(f"{area} {count}" for area, count in sorted(CASES.items())) + ")"]


# ----- the public API --------------------------------------------------------------------

sizes = st.integers(-2, 4)
shapes = st.lists(st.integers(0, 4), min_size=0, max_size=5).map(tuple)
dtypes = st.sampled_from([np.float32, np.float64, np.int64, np.bool_])
specials = st.sampled_from([0.0, np.nan, np.inf, -np.inf, 1e30])


@st.composite
def tensors(draw):
    shape = draw(shapes)
    values = np.random.default_rng(draw(st.integers(0, 2 ** 16))).standard_normal(shape)
    if values.size and draw(st.booleans()):
        values.flat[draw(st.integers(0, values.size - 1))] = draw(specials)
    dtype = draw(dtypes)
    with np.errstate(invalid="ignore", over="ignore"):
        array = values.astype(dtype) if dtype != np.bool_ else values > 0
    if dtype in (np.int64,) and not np.isfinite(values).all():
        array = np.zeros(shape, dtype)
    return mt.tensor(array)


junk = st.one_of(st.none(), st.text(max_size=3), st.floats(allow_nan=True),
                 st.lists(st.integers(-2, 3), max_size=3), st.integers(-3, 5))
anything = st.one_of(tensors(), junk)

CALLS = {  # op name (must appear in its error messages) -> (call, argument strategies)
    "zeros": (lambda *s: mt.zeros(*s), st.lists(st.one_of(sizes, junk), max_size=3)),
    "tensor": (lambda *a: mt.tensor(*a), st.lists(st.one_of(junk, st.lists(
        st.one_of(st.floats(), st.lists(st.floats(), max_size=2)), max_size=3)), min_size=1,
        max_size=1)),
    "reshape": (lambda x, *s: x.reshape(*s), st.tuples(tensors(), sizes, sizes)),
    "sum": (lambda x, d: x.sum(dim=d), st.tuples(tensors(), st.one_of(sizes, junk))),
    "max": (lambda x, d: x.max(dim=d), st.tuples(tensors(), st.one_of(sizes, junk))),
    "permute": (lambda x, *d: x.permute(*d), st.tuples(tensors(), sizes, sizes)),
    "transpose": (lambda x, a, b: x.transpose(a, b), st.tuples(tensors(), sizes, sizes)),
    "unsqueeze": (lambda x, d: x.unsqueeze(d), st.tuples(tensors(), st.one_of(sizes, junk))),
    "getitem": (lambda x, i: x[i], st.tuples(tensors(), st.one_of(sizes, junk, tensors()))),
    "matmul": (lambda a, b: a @ b, st.tuples(tensors(), anything)),
    "add": (lambda a, b: a + b, st.tuples(tensors(), anything)),
    "cat": (lambda *t: mt.cat(list(t), 0), st.lists(tensors(), min_size=0, max_size=3)),
    "conv2d": (lambda x, w, s, p: F.conv2d(x, w, stride=s, padding=p),
               st.tuples(tensors(), tensors(), st.one_of(sizes, junk), st.one_of(sizes, junk))),
    "max_pool2d": (lambda x, k, s: F.max_pool2d(x, k, s),
                   st.tuples(tensors(), st.one_of(sizes, junk), st.one_of(sizes, st.none()))),
    "avg_pool2d": (lambda x, k: F.avg_pool2d(x, k), st.tuples(tensors(), st.one_of(sizes, junk))),
    "linear": (lambda x, w: F.linear(x, w), st.tuples(tensors(), anything)),
    "batch_norm": (lambda x, w: F.batch_norm(x, None, None, w, None, training=True),
                   st.tuples(tensors(), st.one_of(st.none(), tensors()))),
    "cross_entropy": (lambda x, t: F.cross_entropy(x, t), st.tuples(tensors(), anything)),
    "nll_loss": (lambda x, t: F.nll_loss(x, t), st.tuples(tensors(), anything)),
    "mse_loss": (lambda x, t: F.mse_loss(x, t), st.tuples(tensors(), anything)),
    "softmax": (lambda x, d: F.softmax(x, d), st.tuples(tensors(), st.one_of(sizes, junk))),
    "dropout": (lambda x, p: F.dropout(x, p), st.tuples(tensors(), st.one_of(junk, st.floats()))),
    "Conv2d": (lambda *a: nn.Conv2d(*a), st.tuples(st.one_of(sizes, junk), sizes, sizes)),
    "Linear": (lambda *a: nn.Linear(*a), st.tuples(st.one_of(sizes, junk), sizes)),
    "BatchNorm2d": (lambda c: nn.BatchNorm2d(c), st.tuples(st.one_of(sizes, junk))),
    "MaxPool2d": (lambda k: nn.MaxPool2d(k), st.tuples(st.one_of(sizes, junk))),
    "SGD": (lambda lr, m: mt.optim.SGD([nn.Parameter(mt.zeros(2))], lr=lr, momentum=m),
            st.tuples(st.one_of(junk, st.floats()), st.one_of(junk, st.floats()))),
    "Adam": (lambda lr, b: mt.optim.Adam([nn.Parameter(mt.zeros(2))], lr=lr, betas=(b, 0.9)),
             st.tuples(st.one_of(junk, st.floats()), st.one_of(junk, st.floats()))),
}


@pytest.mark.parametrize("op", sorted(CALLS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_the_api_answers_bad_input_with_a_clear_error(op, data):
    call, arguments = CALLS[op]
    args = data.draw(arguments)
    args = args if isinstance(args, (tuple, list)) else (args,)
    CASES["api"] += 1
    try:
        with np.errstate(all="ignore"):  # NaN/inf data may compute NaN/inf: that is allowed
            call(*args)
    except CLEAR_ERRORS as error:
        message = str(error)
        assert message, f"{op}: {type(error).__name__} without a message"
        name = op.lower().rstrip("2d")
        assert name.split("_")[0] in message.lower() or "expected" in message, \
            f"{op}: the error does not say what was wrong: {message!r}"


# ----- the CLI -------------------------------------------------------------------------

bad_values = st.sampled_from(["", "x", "-1", "0", "nan", "inf", "-inf", "1e400", "1,2",
                              "0.5", "3", "None", "--", " "])
model_lists = st.one_of(bad_values, st.sampled_from([
    "nope", "r000_shared_net1,nope", ",", "r000_shared_net1,,", "ALL", "r999",
    "r000_shared_net1", "r000_benchmark_leq,r000_shared_net1"]))
# per option: values that parse and values that do not, so that cases reach every check
OPTIONS = {
    "--epochs": ["1", "2", "0", "-1", "x", "1.5"],
    "--rounds": ["1", "2", "0", "-2", "x"],
    "--batch-size": ["5", "1", "0", "x"],
    "--lr": ["0.01", "1e12", "0", "-1", "nan", "inf", "x", "1e-400"],
    "--n-pairs": ["20", "10", "5000", "0", "-3", "1e3"],
    "--seed": ["0", "5", "-1", "x"],
    "--momentum": ["0.9", "-1", "nan", "x"],
    "--aux-weight": ["0.5", "-0.1", "inf", ""],
    "--workers": ["0", "-1", "x", "0.5"],
    "--threads-per-worker": ["1", "0", "-2", "x"],
    "--device": ["cpu", "tpu", ""],
    "--optimizer": ["sgd", "adam", "x"],
    "--normalize": ["standardise", "raw", "x"],
    "--data": ["embedded", "mnist", "x"],
    "--augment": ["none", "shift=2,rotate=15,swap", "swap", "shift=1,repair", "shift=9", "rotate=nan", "x="],
}


@st.composite
def bad_command_lines(draw, tmp):
    argv = ["--quiet", "--no-plots", "--out", str(tmp / "out")]
    for option in draw(st.lists(st.sampled_from(sorted(OPTIONS)), min_size=1, max_size=4,
                                unique=True)):
        argv += [option, draw(st.one_of(st.sampled_from(OPTIONS[option]), bad_values))]
    if draw(st.booleans()):
        argv += ["--models", draw(model_lists)]
    if draw(st.booleans()):
        argv += ["--data", "mnist", "--data-root", str(tmp / draw(st.sampled_from(
            ["missing", "corrupt"])))]
    return argv


def _corrupt_root(tmp) -> None:
    raw = tmp / "corrupt" / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"\x00\x00\x08\x03garbage")


@pytest.mark.parametrize("entry", [siamese_aux, grid], ids=["siamese_aux", "grid"])
@FUZZ
@given(data=st.data())
def test_the_cli_answers_bad_options_with_a_usage_error_and_writes_nothing(entry, data,
                                                                           tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    _corrupt_root(tmp)
    argv = data.draw(bad_command_lines(tmp))
    if entry is grid:
        argv = ["--model", data.draw(st.sampled_from(["r000_shared_net1", "nope", ""])),
                "--folds", "2", *argv]
    else:
        argv = ["--rounds", "1", "--models", "r000_benchmark_leq", *argv]
    try:  # training itself is replaced: a valid case costs no run (other tests train)
        with mock.patch.object(siamese_aux, "train_run", _no_training), \
                mock.patch.object(grid, "train_run", _no_training):
            code = entry.main(SMALL + argv)  # argparse keeps an option's last value: the case's
    except SystemExit as exit_info:
        code = exit_info.code
    assert code in (0, 2), f"{argv}: exit {code}"
    CASES[f"cli exit {code}"] += 1
    if code == 2:
        out = tmp / "out"
        assert not out.exists() or not any(out.iterdir()), f"{argv} left {list(out.iterdir())}"


def _no_training(spec, *args, **kwargs):
    raise Diverged(f"{spec.name}: not trained in the fuzz suite")


# defaults that keep a case that happens to be valid a short run; the case's own options come
# after them and win
SMALL = ["--epochs", "1", "--n-pairs", "20", "--workers", "0"]


# ----- the study's files, damaged ----------------------------------------------------------

STUDY = ["--models", "r000_shared_net1,r000_benchmark_leq", "--rounds", "2", "--epochs", "1",
         "--n-pairs", "20", "--quiet", "--no-plots", "--workers", "0"]
DAMAGED_FILES = ["runs.csv", "summary.json", "config.json", "runs/r000_shared_net1/round_000.json",
                 "runs/r000_benchmark_leq/round_001.json", "best/r000_shared_net1.npz"]
FIELD_VALUES = ["", "x", "nan", "inf", "-1", "7.5", "0.5", "1", "99999999999999999999",
                "r000_naive_net1", "diverged", "ok"]


@pytest.fixture(scope="module")
def finished_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "out"
    assert siamese_aux.main(["--out", str(out), *STUDY]) == 0
    return out


def _rows_without_times(out) -> list:
    import csv
    with open(out / "runs.csv", newline="") as file:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(file)]


@st.composite
def damages(draw, data: bytes, is_text: bool):
    """A damaged copy of `data`: bytes flipped, cut, lines repeated or dropped, a CSV field
    replaced, garbage appended."""
    kinds = ["flip", "truncate", "append"] + (["repeat line", "drop line", "field"]
                                              if is_text else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "flip":
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    if kind == "truncate":
        return data[:draw(st.integers(0, len(data) - 1))]
    if kind == "append":
        return data + draw(st.binary(min_size=1, max_size=40))
    lines = data.decode().splitlines(keepends=True)
    at = draw(st.integers(0, len(lines) - 1))
    if kind == "repeat line":
        return "".join(lines + [lines[at]]).encode()
    if kind == "drop line":
        return "".join(lines[:at] + lines[at + 1:]).encode()
    cells = lines[at].rstrip("\n").split(",")
    cells[draw(st.integers(0, len(cells) - 1))] = draw(st.sampled_from(FIELD_VALUES))
    lines[at] = ",".join(cells) + "\n"
    return "".join(lines).encode()


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_resumed_study_refuses_damaged_files_or_ends_with_the_true_results(
        finished_study, tmp_path_factory, data):
    """Whatever is damaged, --resume either refuses with exit 2 and one `error:` line,
    changing nothing, or ends with exactly the rows of the undamaged study (a dropped run is
    trained again, bit for bit): it never keeps an invented or corrupted number."""
    import shutil
    out = tmp_path_factory.mktemp("damaged") / "out"
    shutil.copytree(finished_study, out)
    name = data.draw(st.sampled_from(DAMAGED_FILES), label="file")
    path = out / name
    path.write_bytes(data.draw(damages(path.read_bytes(), not name.endswith(".npz")),
                               label="damage"))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with contextlib.redirect_stderr(io.StringIO()) as stderr, \
            contextlib.redirect_stdout(io.StringIO()):
        code = siamese_aux.main(["--out", str(out), *STUDY, "--resume"])
    err = stderr.getvalue()
    CASES[f"damaged study exit {code}"] += 1
    assert code in (0, 2), err
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    else:
        assert _rows_without_times(out) == _rows_without_times(finished_study)
        json.loads((out / "summary.json").read_text(), parse_constant=_not_json)


def _not_json(constant: str):
    raise AssertionError(f"summary.json holds {constant}, which is not JSON")


def test_concurrent_writers_on_one_out_never_lose_a_finished_run(tmp_path):
    """Three processes resume one study at once, a model each: each one either finishes
    with all its runs in runs.csv or is refused because --out is busy."""
    import csv
    import subprocess
    import sys
    out = tmp_path / "out"
    models = ["r000_shared_net1", "r000_benchmark_leq", "r000_naive_net1"]
    processes = [subprocess.Popen([sys.executable, "-m", "experiments.siamese_aux", "--out",
                                   str(out), *STUDY[2:], "--models", model, "--rounds", "3",
                                   "--resume"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for model in models]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in processes]
    with open(out / "runs.csv", newline="") as file:
        recorded = {(r["model"], r["round"]) for r in csv.DictReader(file)}
    for model, (code, err) in zip(models, outcomes):
        CASES[f"concurrent writer exit {code}"] += 1
        assert code == 0 and {(model, str(r)) for r in range(3)} <= recorded or \
            code == 2 and "in use by another process" in err, (model, code, err)
