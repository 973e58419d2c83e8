"""Every architecture of the study, by name (ids as in ../shared/STUDY.md section 7.1).

`MODELS[name]` is a `ModelSpec`: how to build the network and how the report trained and
judged it (losses, weights, decision rule, optimiser defaults). `build(name)` returns a
fresh, seeded-by-`mt.manual_seed` network whose forward maps an (N, 2, 14, 14) input to a
`PairOutput`.
"""
from __future__ import annotations

from .base import ModelSpec, PairOutput
from . import beyond, report000, report001, report002, report003, report004

REPORTS = (report000, report001, report002, report003, report004)
REPRODUCTIONS = {spec.name: spec for report in REPORTS for spec in report.SPECS}
# the reproductions, then the models of our own (models/beyond.py), kept apart by name
MODELS = {**REPRODUCTIONS, **{spec.name: spec for spec in beyond.SPECS}}
HEADLINE = ("r000_naive_net1", "r000_shared_net1", "r000_shared_net1_aux", "r000_benchmark_leq")


def get_spec(name: str) -> ModelSpec:
    """The spec of a study model, or of a variant written with its switches: a point of
    report 003's search (`r003_mlp[activation=tanh]`, `r003_cnn_ws_aux[lam=0.5]`) or report
    004's baseline under the other repair (`r004_baseline_cnn[repair=pool_stride]`)."""
    if name in MODELS:
        return MODELS[name]
    variants = {"r003_": report003, "r004_": report004}
    if name.endswith("]") and "[" in name and name[:5] in variants:
        return variants[name[:5]].spec_from_name(name)
    raise ValueError(f"model: unknown name {name!r}; expected one of {sorted(MODELS)} or a "
                     f"report 003 ablation such as 'r003_cnn[batchnorm=True]'")


def is_model(name: str) -> bool:
    """Whether `name` is a study model or one of the variants `get_spec` reads."""
    try:
        get_spec(name)
    except ValueError:
        return False
    return True


def build(name: str):
    return get_spec(name).build()


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["HEADLINE", "MODELS", "REPRODUCTIONS", "ModelSpec", "PairOutput", "build", "count_parameters",
           "get_spec", "is_model"]
