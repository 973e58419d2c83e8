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
    """The spec of a study model, or of a point of report 003's search written as its
    ablation name, e.g. `r003_mlp[activation=tanh]` or `r003_cnn_ws_aux[lam=0.5]`."""
    if name in MODELS:
        return MODELS[name]
    if name.startswith("r003_") and name.endswith("]") and "[" in name:
        return report003.spec_from_name(name)
    raise ValueError(f"model: unknown name {name!r}; expected one of {sorted(MODELS)} or a "
                     f"report 003 ablation such as 'r003_cnn[batchnorm=True]'")


def build(name: str):
    return get_spec(name).build()


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["HEADLINE", "MODELS", "REPRODUCTIONS", "ModelSpec", "PairOutput", "build", "count_parameters",
           "get_spec"]
