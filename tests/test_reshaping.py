"""ops/reshaping against torch itself, beyond the gradient cases of op_cases_reshaping.py:
errors (the class torch raises), integer and bool results and their dtypes, edge cases
(empty and 0-d tensors, negative padding, chunk counts), which results are views (in-place
changes reaching the base, shared version counters) and which are copies; shapes and
arguments drawn by hypothesis where they vary."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import minitorch_pairs as mt
import minitorch_pairs.nn.functional as F
from torch_reference import torch

TF = torch.nn.functional


def _functional(f):
    return F if f is mt else TF


def _plain(value):
    """A result in comparable form: (dtype name, shape, values) per tensor, lists of them."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if hasattr(value, "detach"):
        array = value.detach().cpu().numpy() if hasattr(value, "cpu") else value.numpy()
        return str(value.dtype).replace("torch.", ""), tuple(value.shape), array.tolist()
    return value


def _outcome(call, f):
    try:
        return _plain(call(f))
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return error


def _same_as_torch(call, label=""):
    """Run `call(framework)` on both: torch's exception class raised by ours too, or equal
    results (dtype, shape, values)."""
    ours, theirs = _outcome(call, mt), _outcome(call, torch)
    if isinstance(theirs, Exception):
        assert isinstance(ours, type(theirs)), \
            f"{label}: torch raises {theirs!r}; ours gave {ours!r}"
        return
    assert not isinstance(ours, Exception), f"{label}: ours raised {ours!r}; torch: {theirs}"
    assert ours == theirs, f"{label}: ours {ours}, torch {theirs}"


def _x(f, dtype=None):
    return f.arange(6, dtype=dtype).reshape(2, 3) if dtype is not None else \
        f.arange(6.0).reshape(2, 3)


def _x3(f):
    return f.arange(24.0).reshape(2, 3, 4)


def _row(f, n=3):
    return f.arange(float(n)).reshape(1, n)


# name -> call(framework); each is run on both frameworks and compared (errors: the class)
CALLS = {
    # F.pad: argument checks
    "pad odd length": lambda f: _functional(f).pad(_x(f), (1,)),
    "pad too long": lambda f: _functional(f).pad(_x(f), (1,) * 6),
    "pad float width": lambda f: _functional(f).pad(_x(f), (1.0, 1)),
    "pad bool width": lambda f: _functional(f).pad(_x(f), (True, 1)),
    "pad tensor widths": lambda f: _functional(f).pad(_x(f), f.tensor([1, 1])),
    "pad 0-d tensor width": lambda f: _functional(f).pad(_x(f), (f.tensor(1), 0)),
    "pad mode None": lambda f: _functional(f).pad(_x(f), (1, 1), mode=None),
    "pad unknown mode": lambda f: _functional(f).pad(_x(f), (1, 1), mode="wrap"),
    "pad not a tensor": lambda f: _functional(f).pad([1.0, 2.0], (1, 1)),
    "pad list widths": lambda f: _functional(f).pad(_x(f), [1, 2]),
    "pad no widths": lambda f: _functional(f).pad(_x(f), ()),
    "pad 0-d": lambda f: _functional(f).pad(f.tensor(1.5), ()),
    # constant
    "pad constant value": lambda f: _functional(f).pad(_x(f), (1, 2, 0, 1), value=2.5),
    "pad constant value None": lambda f: _functional(f).pad(_x(f), (1, 1), "constant", None),
    "pad constant crops": lambda f: _functional(f).pad(_x(f), (-1, 1, 1, -1)),
    "pad constant crops to empty": lambda f: _functional(f).pad(_x(f), (-3, 0)),
    "pad constant crops too much": lambda f: _functional(f).pad(_x(f), (-2, -2)),
    "pad constant crops before padding": lambda f: _functional(f).pad(_row(f, 1), (1, -2)),
    "pad constant int truncates value": lambda f: _functional(f).pad(f.arange(3), (1, 1),
                                                                     value=-1.7),
    "pad constant bool": lambda f: _functional(f).pad(f.tensor([True]), (1, 1), value=0.5),
    "pad constant half": lambda f: _functional(f).pad(_x(f).half(), (2, 0), value=1e5),
    "pad constant half overflow": lambda f: _functional(f).pad(_x(f).half(), (1, 0),
                                                               value=65520.0),
    "pad constant half inf": lambda f: _functional(f).pad(_x(f).half(), (1, 0),
                                                          value=float("inf")),
    "pad constant uint8 -1": lambda f: _functional(f).pad(_x(f, f.uint8), (1, 0), value=-1),
    "pad constant int8 nan": lambda f: _functional(f).pad(_x(f, f.int8), (1, 0),
                                                          value=float("nan")),
    "pad constant bool nan": lambda f: _functional(f).pad(_x(f) > 1, (1, 0),
                                                          value=float("nan")),
    "pad constant empty": lambda f: _functional(f).pad(f.zeros(0, 2), (1, 1, 1, 0)),
    # reflect, replicate, circular
    "pad reflect": lambda f: _functional(f).pad(_x(f), (2, 1), mode="reflect"),
    "pad reflect 2-d": lambda f: _functional(f).pad(_x3(f), (3, 2, 2, 1), mode="reflect"),
    "pad reflect 3-d": lambda f: _functional(f).pad(_x3(f)[None], (1, 1, 1, 0, 1, 1),
                                                    mode="reflect"),
    "pad reflect too large": lambda f: _functional(f).pad(_x(f), (3, 0), mode="reflect"),
    "pad reflect too large in H": lambda f: _functional(f).pad(_x3(f), (1, 1, 3, 0),
                                                               mode="reflect"),
    "pad reflect negative": lambda f: _functional(f).pad(_row(f, 4), (-1, 3), mode="reflect"),
    "pad reflect far negative": lambda f: _functional(f).pad(_row(f, 4), (-5, 3),
                                                             mode="reflect"),
    "pad reflect too small": lambda f: _functional(f).pad(_row(f), (-2, -1), mode="reflect"),
    "pad reflect 1-d input": lambda f: _functional(f).pad(f.arange(3.0), (1, 1),
                                                          mode="reflect"),
    "pad reflect 4 widths on 2-d": lambda f: _functional(f).pad(_x(f), (1, 1, 1, 1),
                                                                mode="reflect"),
    "pad reflect no widths": lambda f: _functional(f).pad(_x3(f), (), mode="reflect"),
    "pad reflect empty dim": lambda f: _functional(f).pad(f.zeros(2, 0), (0, 0),
                                                          mode="reflect"),
    "pad reflect empty batch": lambda f: _functional(f).pad(f.zeros(0, 2, 3), (1, 1),
                                                            mode="reflect"),
    "pad reflect value": lambda f: _functional(f).pad(_x(f), (1, 1), mode="reflect", value=1.0),
    "pad reflect value 0": lambda f: _functional(f).pad(_x(f), (1, 1), mode="reflect",
                                                        value=0.0),
    "pad reflect int": lambda f: _functional(f).pad(_x(f, f.int64), (1, 1), mode="reflect"),
    "pad reflect bool": lambda f: _functional(f).pad(_x(f) > 2, (1, 1), mode="reflect"),
    "pad reflect half": lambda f: _functional(f).pad(_x(f).half(), (1, 1), mode="reflect"),
    "pad replicate far": lambda f: _functional(f).pad(_x(f), (5, 1), mode="replicate"),
    "pad replicate negative": lambda f: _functional(f).pad(_row(f, 4), (-3, 3),
                                                           mode="replicate"),
    "pad replicate too small": lambda f: _functional(f).pad(_x3(f), (-2, -2, -1, -2),
                                                            mode="replicate"),
    "pad replicate bool": lambda f: _functional(f).pad(_x(f) > 2, (1, 1), mode="replicate"),
    "pad replicate 6 widths on 3-d": lambda f: _functional(f).pad(_x3(f), (1,) * 6,
                                                                  mode="replicate"),
    "pad circular": lambda f: _functional(f).pad(_x3(f), (3, 3, 2, 1), mode="circular"),
    "pad circular crops first": lambda f: _functional(f).pad(_row(f), (-1, 2),
                                                             mode="circular"),
    "pad circular to empty": lambda f: _functional(f).pad(_row(f), (-3, 0), mode="circular"),
    "pad circular wraps twice": lambda f: _functional(f).pad(_row(f), (4, 0), mode="circular"),
    "pad circular negative size": lambda f: _functional(f).pad(_row(f), (-2, -2),
                                                               mode="circular"),
    "pad circular bool": lambda f: _functional(f).pad(_x(f) > 2, (1, 1), mode="circular"),
    "pad circular int": lambda f: _functional(f).pad(_x(f, f.int32), (2, 1), mode="circular"),
    # flip
    "flip": lambda f: f.flip(_x3(f), (0, 2)),
    "flip int dims": lambda f: f.flip(_x(f), 0),
    "flip repeated dim": lambda f: f.flip(_x(f), (0, -2)),
    "flip dim out of range": lambda f: f.flip(_x(f), (2,)),
    "flip no dims": lambda f: f.flip(_x(f), ()),
    "flip 0-d": lambda f: f.flip(f.tensor(1.0), (0,)),
    "flip method varargs": lambda f: _x(f).flip(0, 1),
    "flip method list": lambda f: _x(f).flip([1]),
    "flip bool": lambda f: f.flip(_x(f) > 2, (1,)),
    "flip int": lambda f: f.flip(_x(f, f.int16), (0, 1)),
    "fliplr": lambda f: f.fliplr(_x3(f)),
    "fliplr 1-d": lambda f: f.fliplr(f.arange(3)),
    "flipud 0-d": lambda f: f.flipud(f.tensor(1)),
    "flipud int": lambda f: f.flipud(_x(f, f.int64)),
    # roll
    "roll flattened": lambda f: f.roll(_x(f), 1),
    "roll negative": lambda f: f.roll(_x3(f), (-5, 7), (2, 0)),
    "roll shifts and dims differ": lambda f: f.roll(_x(f), (1, 2), 0),
    "roll two shifts no dims": lambda f: f.roll(_x(f), (1, 2)),
    "roll no shifts": lambda f: f.roll(_x(f), ()),
    "roll 0-d": lambda f: f.roll(f.tensor(1.0), 1),
    "roll 0-d with dim": lambda f: f.roll(f.tensor(1.0), 1, 0),
    "roll empty": lambda f: f.roll(f.zeros(0, 3), 1, 0),
    "roll repeated dim": lambda f: f.roll(_x(f), (1, 1), (1, 1)),
    "roll dim out of range": lambda f: f.roll(_x(f), 1, 2),
    "roll bool": lambda f: f.roll(_x(f) > 2, 1, 1),
    "roll method": lambda f: _x(f, f.int64).roll(-1, -1),
    # expand
    "expand": lambda f: f.arange(3).expand(2, 3),
    "expand tuple": lambda f: f.arange(3.0).expand((2, 3)),
    "expand list": lambda f: f.arange(3.0).expand([2, -1]),
    "expand -1 in a new dim": lambda f: f.arange(3.0).expand(-1, 3),
    "expand mismatch": lambda f: f.arange(3.0).expand(2, 4),
    "expand fewer sizes": lambda f: _x(f).expand(3),
    "expand -2": lambda f: f.arange(3.0).expand(2, -2),
    "expand to 0 new": lambda f: f.arange(3.0).expand(0, 3),
    "expand 1 to 0": lambda f: f.ones(1, 3).expand(0, 3),
    "expand 0-d": lambda f: f.tensor(1.0).expand(2, 2),
    "expand 0-d to 0-d": lambda f: f.tensor(True).expand(()),
    "expand no sizes": lambda f: f.tensor(1.0).expand(),
    "expand_as": lambda f: f.arange(3).expand_as(_x(f)),
    "expand_as not a tensor": lambda f: f.arange(3).expand_as((2, 3)),
    # repeat, tile
    "repeat": lambda f: _x(f, f.int64).repeat(2, 1, 2),
    "repeat fewer": lambda f: _x(f).repeat(2),
    "repeat negative": lambda f: _x(f).repeat(-1, 2),
    "repeat zero": lambda f: _x(f).repeat(0, 2),
    "repeat tuple": lambda f: (_x(f) > 1).repeat((2, 2)),
    "repeat no arguments": lambda f: _x(f).repeat(),
    "repeat 0-d": lambda f: f.tensor(1.0).repeat(3),
    "repeat 0-d no repeats": lambda f: f.tensor(1.0).repeat(()),
    "tile": lambda f: f.tile(_x(f, f.int32), (2,)),
    "tile int dims": lambda f: f.tile(_x(f), 2),
    "tile empty dims": lambda f: f.tile(_x(f), ()),
    "tile negative": lambda f: f.tile(_x(f), (-1,)),
    "tile more dims": lambda f: f.tile(_x(f), (2, 1, 3)),
    "tile method varargs": lambda f: _x(f).tile(2, 2),
    # repeat_interleave
    "repeat_interleave int": lambda f: f.repeat_interleave(_x(f), 2),
    "repeat_interleave int dim": lambda f: f.repeat_interleave(_x(f, f.int64), 2, dim=1),
    "repeat_interleave tensor": lambda f: f.repeat_interleave(_x(f), f.tensor([1, 2]), dim=0),
    "repeat_interleave tensor flattened": lambda f: f.repeat_interleave(
        _x(f), f.tensor([1, 2, 0, 1, 1, 3])),
    "repeat_interleave one count": lambda f: f.repeat_interleave(_x(f), f.tensor([2]), dim=1),
    "repeat_interleave 0-d count": lambda f: f.repeat_interleave(_x(f), f.tensor(2), dim=1),
    "repeat_interleave count mismatch": lambda f: f.repeat_interleave(
        _x(f), f.tensor([1, 2, 3]), dim=0),
    "repeat_interleave negative": lambda f: f.repeat_interleave(_x(f), -1),
    "repeat_interleave negative count": lambda f: f.repeat_interleave(
        _x(f), f.tensor([1, -1]), dim=0),
    "repeat_interleave float counts": lambda f: f.repeat_interleave(
        _x(f), f.tensor([1.0, 1.0]), dim=0),
    "repeat_interleave 2-d counts": lambda f: f.repeat_interleave(
        _x(f), f.tensor([[1, 1]]), dim=0),
    "repeat_interleave indices": lambda f: f.repeat_interleave(f.tensor([1, 2, 3])),
    "repeat_interleave indices int32": lambda f: f.repeat_interleave(
        f.tensor([2, 0, 1], dtype=f.int32)),
    "repeat_interleave indices float": lambda f: f.repeat_interleave(f.tensor([1.0, 2.0])),
    "repeat_interleave indices 2-d": lambda f: f.repeat_interleave(f.tensor([[1, 2]])),
    "repeat_interleave output_size": lambda f: f.repeat_interleave(
        _x(f), f.tensor([1, 2]), dim=0, output_size=3),
    "repeat_interleave wrong output_size": lambda f: f.repeat_interleave(
        _x(f), f.tensor([1, 2]), dim=0, output_size=4),
    "repeat_interleave int wrong output_size": lambda f: f.repeat_interleave(
        _x(f), 2, dim=0, output_size=5),
    "repeat_interleave 0-d": lambda f: f.repeat_interleave(f.tensor(1.0), 3),
    "repeat_interleave 0-d with dim": lambda f: f.repeat_interleave(f.tensor(1.0), 3, dim=0),
    "repeat_interleave dim out of range": lambda f: f.repeat_interleave(_x(f), 2, dim=2),
    "repeat_interleave bool": lambda f: f.repeat_interleave(f.tensor([True, False]), 2),
    "repeat_interleave zero": lambda f: f.repeat_interleave(_x(f), 0, dim=1),
    "repeat_interleave method": lambda f: _x(f).repeat_interleave(2, 0),
    # unflatten, movedim, t, swapaxes
    "unflatten": lambda f: _x3(f).unflatten(2, (2, 2)),
    "unflatten -1": lambda f: f.unflatten(_x3(f), -1, (-1, 2)),
    "unflatten wrong sizes": lambda f: _x3(f).unflatten(1, (2, 2)),
    "unflatten no sizes": lambda f: _x3(f).unflatten(1, ()),
    "unflatten two -1": lambda f: _x3(f).unflatten(2, (-1, -1)),
    "unflatten 0-d": lambda f: f.unflatten(f.tensor(1.0), 0, (1,)),
    "unflatten dim out of range": lambda f: f.unflatten(_x3(f), 3, (4,)),
    "unflatten -1 of empty": lambda f: f.zeros(2, 0).unflatten(1, (-1, 0)),
    "unflatten -2": lambda f: f.zeros(2, 4).unflatten(1, (-2, -2)),
    "movedim": lambda f: f.movedim(_x3(f), 0, 2),
    "movedim tuples": lambda f: f.movedim(_x3(f), (0, 1), (2, 0)),
    "movedim lists": lambda f: f.movedim(_x3(f), [0], [-1]),
    "movedim counts differ": lambda f: f.movedim(_x3(f), (0, 1), (2,)),
    "movedim repeated source": lambda f: f.movedim(_x3(f), (0, 0), (1, 2)),
    "movedim repeated destination": lambda f: f.movedim(_x3(f), (0, 1), (2, -1)),
    "movedim out of range": lambda f: f.movedim(_x3(f), 3, 0),
    "movedim int and tuple": lambda f: f.movedim(_x3(f), 0, (1,)),
    "movedim 0-d": lambda f: f.movedim(f.tensor(1.0), 0, -1),
    "moveaxis": lambda f: f.moveaxis(_x3(f), -1, 0),
    "t 3-d": lambda f: f.t(_x3(f)),
    "t 1-d": lambda f: f.t(f.arange(3)),
    "t 0-d": lambda f: f.tensor(2.0).t(),
    "t 2-d": lambda f: _x(f, f.int64).t(),
    "swapaxes": lambda f: f.swapaxes(_x3(f), 0, 2),
    "swapdims": lambda f: f.swapdims(_x3(f), 0, -1),
    "swapaxes out of range": lambda f: f.swapaxes(_x3(f), 0, 3),
    "swapaxes 0-d": lambda f: f.swapaxes(f.tensor(1.0), 0, -1),
    # narrow, split, chunk, unbind
    "narrow": lambda f: f.narrow(_x3(f), 1, 1, 2),
    "narrow negative start": lambda f: f.narrow(_x3(f), 1, -2, 2),
    "narrow start past the end": lambda f: f.narrow(_x3(f), 1, 4, 0),
    "narrow start at the end": lambda f: f.narrow(_x3(f), 1, 3, 0),
    "narrow start before the start": lambda f: f.narrow(_x3(f), 1, -4, 1),
    "narrow too long": lambda f: f.narrow(_x3(f), 1, 2, 2),
    "narrow negative start too long": lambda f: f.narrow(_x3(f), 1, -1, 2),
    "narrow negative length": lambda f: f.narrow(_x3(f), 1, 0, -1),
    "narrow 0-d": lambda f: f.narrow(f.tensor(1.0), 0, 0, 1),
    "narrow tensor start": lambda f: f.narrow(_x3(f), 1, f.tensor(1), 2),
    "narrow 1-d tensor start": lambda f: f.narrow(_x3(f), 1, f.tensor([1]), 2),
    "narrow float tensor start": lambda f: f.narrow(_x3(f), 1, f.tensor(1.0), 2),
    "narrow dim out of range": lambda f: f.narrow(_x3(f), 3, 0, 1),
    "split": lambda f: f.split(f.arange(5), 2),
    "split 0": lambda f: f.split(f.arange(5), 0),
    "split 0 of empty": lambda f: f.split(f.zeros(0), 0),
    "split 3 of empty": lambda f: f.split(f.zeros(0, 2), 3),
    "split negative": lambda f: f.split(f.arange(5), -1),
    "split sections": lambda f: f.split(f.arange(5), [2, 3]),
    "split sections wrong sum": lambda f: f.split(f.arange(5), [2, 2]),
    "split sections negative": lambda f: f.split(f.arange(5), [6, -1]),
    "split sections zero": lambda f: f.split(f.arange(5), (0, 5)),
    "split 0-d": lambda f: f.split(f.tensor(1.0), 1),
    "split larger than the dim": lambda f: f.split(f.arange(5), 10),
    "split method": lambda f: _x3(f).split(2, dim=-1),
    "split tensor sizes": lambda f: f.split(f.arange(5), f.tensor([2, 3])),
    "split dim out of range": lambda f: f.split(f.arange(5), 2, 1),
    "chunk": lambda f: f.chunk(f.arange(6), 4),
    "chunk uneven": lambda f: f.chunk(f.arange(5), 4),
    "chunk 0": lambda f: f.chunk(f.arange(6), 0),
    "chunk negative": lambda f: f.chunk(f.arange(6), -1),
    "chunk 0-d": lambda f: f.chunk(f.tensor(1.0), 1),
    "chunk empty": lambda f: f.chunk(f.zeros(0, 2), 3),
    "chunk more than the size": lambda f: f.chunk(f.arange(2), 5),
    "chunk dim": lambda f: _x3(f).chunk(3, dim=2),
    "chunk dim out of range": lambda f: f.chunk(_x3(f), 2, dim=3),
    "unbind": lambda f: f.unbind(_x3(f), 1),
    "unbind 0-d": lambda f: f.unbind(f.tensor(1.0)),
    "unbind negative": lambda f: _x3(f).unbind(-1),
    "unbind out of range": lambda f: f.unbind(_x3(f), 3),
    "unbind empty": lambda f: f.unbind(f.zeros(0, 2)),
    # tril, triu
    "tril": lambda f: f.tril(_x3(f), 1),
    "tril 1-d": lambda f: f.tril(f.arange(3.0)),
    "triu negative diagonal": lambda f: f.triu(_x(f), -1),
    "triu diagonal past the end": lambda f: f.triu(_x(f), 10),
    "tril bool": lambda f: f.tril(f.ones(2, 2, dtype=f.bool)),
    "triu int": lambda f: f.ones(3, 2, dtype=f.int32).triu(),
    "tril empty": lambda f: f.tril(f.ones(0, 2)),
    "tril_": lambda f: _x(f).tril_(-1),
    "triu_ int": lambda f: _x(f, f.int64).triu_(1),
    # stacking
    "hstack": lambda f: f.hstack([f.arange(2), f.arange(3)]),
    "hstack 0-d": lambda f: f.hstack([f.tensor(1), f.tensor(2)]),
    "hstack 2-d": lambda f: f.hstack((_x(f), _x(f)[:, :1])),
    "hstack mixed dtypes": lambda f: f.hstack([f.arange(2), f.arange(2.0)]),
    "hstack empty": lambda f: f.hstack([]),
    "hstack a tensor": lambda f: f.hstack(_x(f)),
    "vstack": lambda f: f.vstack([f.arange(3), _x(f, f.int64)]),
    "vstack 0-d": lambda f: f.vstack([f.tensor(1), f.tensor(2)]),
    "dstack": lambda f: f.dstack([f.arange(3), f.arange(3)]),
    "dstack 2-d": lambda f: f.dstack([_x(f), _x(f)]),
    "dstack 0-d": lambda f: f.dstack([f.tensor(1), f.tensor(2)]),
    "atleast_1d 0-d": lambda f: f.atleast_1d(f.tensor(1.0)),
    "atleast_2d several": lambda f: f.atleast_2d(_x(f), f.arange(3)),
    "atleast_2d list": lambda f: f.atleast_2d([f.tensor(1), f.arange(3)]),
    "atleast_3d 1-d": lambda f: f.atleast_3d(f.arange(3)),
    "atleast_3d 2-d": lambda f: f.atleast_3d(_x(f)),
    # squeeze, unsqueeze
    "squeeze tuple": lambda f: f.zeros(1, 3, 1, 2).squeeze((0, 2)),
    "squeeze tuple with a non-1 dim": lambda f: f.zeros(1, 3, 1, 2).squeeze((0, 1)),
    "squeeze list": lambda f: f.squeeze(f.zeros(1, 3, 1, 2), [0, -2]),
    "squeeze repeated dim": lambda f: f.zeros(1, 3, 1, 2).squeeze((0, 0)),
    "squeeze out of range": lambda f: f.zeros(1, 3, 1, 2).squeeze(4),
    "squeeze 0-d": lambda f: f.tensor(1.0).squeeze(-1),
    "squeeze 0-d out of range": lambda f: f.tensor(1.0).squeeze(1),
    "squeeze 0-d tuple": lambda f: f.tensor(1.0).squeeze((0,)),
    "squeeze empty tuple": lambda f: f.zeros(1, 3).squeeze(()),
    "squeeze float dim": lambda f: f.zeros(1, 3).squeeze(0.0),
    "torch.squeeze all": lambda f: f.squeeze(f.zeros(1, 3, 1)),
    "unsqueeze out of range": lambda f: f.zeros(2).unsqueeze(2),
    "unsqueeze most negative": lambda f: f.unsqueeze(f.zeros(2, 3), -3),
    "unsqueeze tuple": lambda f: f.zeros(2).unsqueeze((0,)),
    "unsqueeze 0-d": lambda f: f.tensor(1.0).unsqueeze(-1),
    # view, view_as, reshape_as, contiguous
    "view of transposed": lambda f: _x(f).t().view(6),
    "view of transposed, size-1 dim added": lambda f: _x(f).t().view(3, 1, 2),
    "view -1": lambda f: _x(f).view(-1),
    "view wrong size": lambda f: _x(f).view(4),
    "view two -1": lambda f: _x(f).view(-1, -1),
    "view -2": lambda f: _x(f).view(-2, 3),
    "view -1 of empty": lambda f: f.zeros(0, 3).view(0, -1),
    "view 0-d": lambda f: f.tensor(1.0).view(()),
    "view 0-d as 1-d": lambda f: f.tensor(1.0).view(-1),
    "view of expanded": lambda f: f.arange(3.0).expand(2, 3).view(6),
    "view of expanded, a dim added": lambda f: f.arange(3.0).expand(2, 3).view(2, 3, 1),
    "view of sliced": lambda f: _x(f)[:, 1:].view(4),
    "view of sliced, a dim added": lambda f: _x(f)[:, 1:].view(2, 2, 1),
    "view of stepped": lambda f: f.arange(12.0).reshape(3, 4)[:, ::2].view(6),
    "view of permuted, merged": lambda f: _x3(f).permute(1, 0, 2)[:, :, :2].view(3, 2, 2),
    "view of permuted, merged wrong": lambda f: _x3(f).permute(1, 0, 2).view(3, 8),
    "view_as": lambda f: _x(f).view_as(f.zeros(3, 2)),
    "view_as wrong size": lambda f: _x(f).view_as(f.zeros(4)),
    "view_as not a tensor": lambda f: _x(f).view_as((3, 2)),
    "reshape_as transposed": lambda f: _x(f).t().reshape_as(f.zeros(6)),
    "contiguous of transposed": lambda f: _x(f).t().contiguous().view(-1),
    # the methods' sizes as keywords
    "view size=": lambda f: _x(f).view(size=(3, 2)),
    "expand size=": lambda f: f.arange(3.0).expand(size=(2, 3)),
    "repeat repeats=": lambda f: _x(f).repeat(repeats=(2, 1)),
    "tile dims=": lambda f: _x(f).tile(dims=(2,)),
    "flip dims=": lambda f: _x(f).flip(dims=(0,)),
}


@pytest.mark.parametrize("name", CALLS)
def test_results_and_errors_match_torch(name):
    _same_as_torch(CALLS[name], name)


# ----- hypothesis: random shapes and arguments, valid or not ---------------------------------

@settings(max_examples=60)
@given(data=st.data())
def test_pad_in_every_mode_matches_torch_on_any_widths(data):
    mode = data.draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    shape = data.draw(st.lists(st.integers(0, 4), min_size=1, max_size=4), label="shape")
    widths = data.draw(st.lists(st.integers(-5, 5), min_size=0, max_size=2 * len(shape)))
    if mode == "circular":
        for k in range(len(widths) // 2):
            # a padding wider than what cropping leaves: torch copies from memory it has not
            # written yet (garbage, or its overlap error), ours refuses
            size, left, right = shape[-1 - k], widths[2 * k], widths[2 * k + 1]
            kept = size + min(left, 0) + min(right, 0)
            assume(not (size + left + right > 0 and kept < max(left, right) <= size))
    dtype = data.draw(st.sampled_from(["float32", "int64", "bool"]))
    values = np.arange(int(np.prod(shape))).reshape(shape) % 5
    kwargs = {"value": 3} if mode == "constant" and data.draw(st.booleans()) else {}

    def call(f):
        x = f.tensor(values).to(getattr(f, dtype))
        return _functional(f).pad(x, tuple(widths), mode=mode, **kwargs)
    _same_as_torch(call, f"{mode} {shape} {widths}")


@settings(max_examples=100)
@given(data=st.data())
def test_view_is_refused_exactly_where_torch_refuses(data):
    """A permuted, sliced (steps too) view of a fresh tensor, viewed in a drawn shape: torch's
    stride rule decides, on both sides."""
    shape = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3), label="shape")
    values = np.arange(float(np.prod(shape))).reshape(shape)
    order = data.draw(st.permutations(range(len(shape))), label="order")
    cuts = []
    for n in values.transpose(order).shape:
        start, stop = (data.draw(st.integers(0, n)) for _ in range(2))
        cuts.append(slice(start, max(start, stop), data.draw(st.integers(1, 2))))
    cut = values.transpose(order)[tuple(cuts)]
    n = cut.size
    targets = [(-1,), (n, 1), (1, n), cut.shape[::-1]]
    if cut.ndim > 2:
        targets.append((cut.shape[0] * cut.shape[1],) + cut.shape[2:])
    if cut.ndim > 1:
        targets.append(cut.shape[:-2] + (cut.shape[-2] * cut.shape[-1],))
    target = data.draw(st.sampled_from(targets), label="target")
    _same_as_torch(lambda f: f.tensor(values).permute(*order)[tuple(cuts)].view(target),
                   f"view of {cut.shape} (strides {cut.strides}) as {target}")


@settings(max_examples=60)
@given(size=st.integers(0, 9), chunks=st.integers(-1, 11), split=st.integers(-1, 11),
       sections=st.lists(st.integers(-1, 5), max_size=4))
def test_chunk_and_split_pieces_match_torch(size, chunks, split, sections):
    _same_as_torch(lambda f: f.chunk(f.arange(size), chunks), f"chunk {size} {chunks}")
    _same_as_torch(lambda f: f.split(f.arange(size), split), f"split {size} {split}")
    _same_as_torch(lambda f: f.split(f.arange(size), sections), f"split {size} {sections}")


@settings(max_examples=60)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=3), dim=st.integers(-4, 3),
       start=st.integers(-6, 6), length=st.integers(-1, 6))
def test_narrow_matches_torch(shape, dim, start, length):
    _same_as_torch(lambda f: f.arange(int(np.prod(shape))).reshape(shape).narrow(
        dim, start, length), f"narrow {shape} {dim} {start} {length}")


@settings(max_examples=60)
@given(shape=st.lists(st.integers(0, 3), max_size=3),
       sizes=st.lists(st.integers(-2, 3), max_size=4))
def test_expand_and_repeat_match_torch(shape, sizes):
    def source(f):
        return f.arange(int(np.prod(shape))).reshape(shape)
    # torch makes a tensor with a negative size here (an expansion to no elements with a
    # negative size it should refuse: a 0-d tensor expanded to (0, -1)), which fails later
    lead = len(sizes) - len(shape)
    refused = any(n < 0 for n in sizes[:lead]) or any(n < -1 for n in sizes[lead:])
    assume(not ((0 in sizes or 0 in shape) and refused))
    _same_as_torch(lambda f: source(f).expand(sizes), f"expand {shape} {sizes}")
    _same_as_torch(lambda f: source(f).repeat(sizes), f"repeat {shape} {sizes}")
    _same_as_torch(lambda f: f.tile(source(f), sizes), f"tile {shape} {sizes}")


@settings(max_examples=60)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=3),
       shifts=st.lists(st.integers(-9, 9), min_size=1, max_size=3),
       dims=st.none() | st.lists(st.integers(-3, 2), min_size=1, max_size=3))
def test_roll_matches_torch(shape, shifts, dims):
    _same_as_torch(lambda f: f.roll(f.arange(int(np.prod(shape))).reshape(shape),
                                    shifts if len(shifts) > 1 else shifts[0], dims),
                   f"roll {shape} {shifts} {dims}")


@settings(max_examples=60)
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=4),
       source=st.lists(st.integers(-4, 3), max_size=3),
       destination=st.lists(st.integers(-4, 3), max_size=3))
def test_movedim_matches_torch(shape, source, destination):
    _same_as_torch(lambda f: f.movedim(f.zeros(shape), source, destination).shape,
                   f"movedim {shape} {source} {destination}")


@settings(max_examples=40)
@given(counts=st.lists(st.integers(0, 3), min_size=1, max_size=4), dim=st.integers(0, 1),
       output_size=st.none() | st.integers(0, 12))
def test_repeat_interleave_matches_torch(counts, dim, output_size):
    shape = (len(counts), 2) if dim == 0 else (2, len(counts))
    _same_as_torch(lambda f: f.repeat_interleave(
        f.arange(2 * len(counts)).reshape(shape), f.tensor(counts), dim=dim,
        output_size=output_size), f"repeat_interleave {counts} {dim} {output_size}")


# ----- views: what an in-place change reaches, version counters, copies -------------------

def _storage_after(f, make_view, change):
    """Change the view `make_view(base)` in place (no autograd) and return the base."""
    base = f.arange(24.0).reshape(2, 3, 4)
    change(make_view(base))
    return base


VIEWS = {
    "narrow": lambda x: x.narrow(1, 1, 2),
    "split piece": lambda x: x.split(2, dim=2)[1],
    "chunk piece": lambda x: x.chunk(3, dim=1)[2],
    "unbind piece": lambda x: x.unbind(1)[0],
    "movedim": lambda x: x.movedim(0, 2),
    "swapaxes": lambda x: x.swapaxes(0, 1),
    "t": lambda x: x[0].t(),
    "view_as": lambda x: x.view_as(x.reshape(6, 4)),
    "unflatten": lambda x: x.unflatten(2, (2, 2)),
    "expand without repeats": lambda x: x[:, :1].expand(1, 2, 1, 4)[0],
    "squeeze": lambda x: x[:1].squeeze(0),
    "unsqueeze": lambda x: x.unsqueeze(0),
}


@pytest.mark.parametrize("name", VIEWS)
def test_an_in_place_change_of_a_view_reaches_its_base_as_in_torch(name):
    results = [_storage_after(f, VIEWS[name], lambda v: v.mul_(-1)).numpy() for f in
               (mt, torch)]
    np.testing.assert_array_equal(*results)


@pytest.mark.parametrize("name", VIEWS)
def test_views_share_the_version_counter(name):
    for f in (mt, torch):
        base = f.arange(24.0).reshape(2, 3, 4)
        view = VIEWS[name](base)
        before = view._version
        base.add_(1)
        assert view._version == before + 1, (name, f.__name__)


COPIES = {
    "flip": lambda f, x: f.flip(x, (0,)),
    "flip no dims": lambda f, x: f.flip(x, ()),
    "roll": lambda f, x: f.roll(x, 1, 2),
    "roll by 0": lambda f, x: f.roll(x, 0),
    "repeat": lambda f, x: x.repeat(1, 1, 1),
    "tile": lambda f, x: f.tile(x, (1,)),
    "repeat_interleave": lambda f, x: f.repeat_interleave(x, 1, dim=0),
    "pad": lambda f, x: _functional(f).pad(x, (0, 0)),
    "pad reflect": lambda f, x: _functional(f).pad(x, (1, 1), mode="reflect"),
    "tril": lambda f, x: f.tril(x, 5),
    "hstack": lambda f, x: f.hstack([x]),
    "contiguous of transposed": lambda f, x: x.transpose(0, 2).contiguous(),
}


@pytest.mark.parametrize("name", COPIES)
def test_results_that_torch_copies_do_not_alias_the_input(name):
    for f in (mt, torch):
        x = f.arange(24.0).reshape(2, 3, 4)
        out = COPIES[name](f, x)
        kept = out.clone()
        x.add_(100)
        np.testing.assert_array_equal(out.numpy(), kept.numpy(), err_msg=f"{name} {f}")


def test_contiguous_returns_the_tensor_itself_when_it_is_contiguous():
    x = mt.arange(6.0).reshape(2, 3)
    assert x.contiguous() is x
    y = x.t()
    assert y.contiguous() is not y and y.contiguous()._data.flags.c_contiguous


def _graph_change(f, make_view):
    """An in-place change of a view of a non-leaf, then backward: the leaf's gradient."""
    w = f.arange(24.0).reshape(2, 3, 4).requires_grad_()
    base = w * 1.0
    make_view(base).mul_(3)
    (base * base).sum().backward()
    return w.grad.numpy()


def test_an_in_place_change_of_a_narrow_view_is_recorded_as_torch_records_it():
    ours, theirs = (_graph_change(f, lambda b: b.narrow(1, 1, 2)) for f in (mt, torch))
    np.testing.assert_allclose(ours, theirs)


@pytest.mark.parametrize("cut", ["split", "chunk", "unbind"])
def test_an_in_place_change_of_a_piece_in_the_graph_is_refused_as_in_torch(cut):
    make = {"split": lambda b: b.split(2, dim=2)[0], "chunk": lambda b: b.chunk(2)[1],
            "unbind": lambda b: b.unbind(1)[2]}[cut]
    for f in (mt, torch):
        with pytest.raises(RuntimeError):
            _graph_change(f, make)


@pytest.mark.parametrize("name", ["movedim", "t", "unflatten"])
def test_an_in_place_change_of_a_permuted_view_in_the_graph_is_refused_not_wrong(name):
    """torch rewrites the base's history here; minitorch_pairs cannot (ops/inplace.py), and
    says so rather than give a wrong gradient."""
    with pytest.raises(RuntimeError, match="not supported"):
        _graph_change(mt, VIEWS[name])
    _graph_change(torch, VIEWS[name])  # torch: fine


def test_writing_to_an_expanded_tensor_that_repeats_memory_raises():
    """torch: RuntimeError (more than one element refers to one memory location); ours
    raises too (NumPy's read-only broadcast: a ValueError), never writes one value twice."""
    with pytest.raises(RuntimeError, match="single memory location"):
        torch.arange(3.0).expand(2, 3).add_(1)
    with pytest.raises((RuntimeError, ValueError)):
        mt.arange(3.0).expand(2, 3).add_(1)


def test_circular_padding_wider_than_what_cropping_leaves_is_refused():
    """torch copies from memory it has not written there (garbage, or an overlap error)."""
    with pytest.raises(RuntimeError, match="wraps around more than"):
        F.pad(mt.arange(3.0).reshape(1, 3), (-2, 2), mode="circular")


def test_view_of_a_result_laid_out_unlike_torchs_gives_torchs_values():
    """NumPy lays out x[:, [0, 2]] in column order, torch in row order: view reshapes such a
    result (which torch views) rather than refuse it."""
    _same_as_torch(lambda f: _x3(f)[:, [0, 2]].view(-1), "view of a gathered result")


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32",
                                   "uint8", "bool"])
def test_dtypes_are_kept_as_torch_keeps_them(dtype):
    def all_ops(f):
        x = f.tensor(np.arange(12).reshape(3, 4) % 3).to(getattr(f, dtype))
        return [f.flip(x, (1,)), f.roll(x, 1), x.expand(2, 3, 4), x.repeat(1, 2),
                f.tile(x, (2,)), f.repeat_interleave(x, 2, dim=0), f.tril(x), f.triu(x, 1),
                f.movedim(x, 0, 1), f.narrow(x, 1, 1, 2), f.hstack([x, x]), f.unbind(x)[0],
                _functional(f).pad(x, (1, 1), value=1), _functional(f).pad(
                    x[None], (1, 1), mode="circular")]
    _same_as_torch(all_ops, dtype)


@pytest.mark.skipif(not mt.cuda.is_available(), reason="no CUDA device and no simulator")
def test_integer_ops_run_on_the_device():
    """The ops without a gradient case on the device: integer inputs, repeat_interleave's
    index form, the non-constant pads of integers."""
    x = np.arange(12).reshape(3, 4)
    for call in (lambda f, t: f.repeat_interleave(f.tensor([1, 0, 2]).to(t)),
                 lambda f, t: _functional(f).pad(f.tensor(x).to(t), (2, 1), mode="reflect"),
                 lambda f, t: f.flip(f.tensor(x).to(t), (0, 1)),
                 lambda f, t: f.tril(f.tensor(x > 4).to(t), -1)):
        on_device = call(mt, "cuda")
        assert on_device.device == "cuda"
        np.testing.assert_array_equal(on_device.cpu().numpy(), call(mt, "cpu").numpy())
