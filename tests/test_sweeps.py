"""The reports' one-variable sweeps (experiments/sweeps.py): report 003's points named by their
switches, report 001's aux weights as loss weights, and a tiny sweep end to end."""
from __future__ import annotations

import argparse
import json

import pytest

from experiments import cli, sweeps
from experiments.models import get_spec


def test_a_report_003_point_is_a_model_name_with_its_switches():
    spec = get_spec("r003_cnn_ws_aux[lam=0.5]")
    assert spec.name == "r003_cnn_ws_aux[lam=0.5]"
    assert (spec.comparison_weight, spec.aux_weight, spec.lr) == (0.5, 2.0, 1e-3)
    assert get_spec("r003_mlp[activation=sigmoid]").lr == 0.01  # the report's rate for Sigmoid
    model = get_spec("r003_cnn[batchnorm=True]").build()
    assert any(type(m).__name__ == "BatchNorm2d" for m in model.modules())


@pytest.mark.parametrize("name", ["r003_cnn[dropout=0.5]", "r003_mlp[batchnorm=True]",
                                  "r003_mlp[lam=0.5]", "r003_cnn[colour=red]",
                                  "r003_cnn_aux[lam=1]", "r003_cnn[batchnorm=yes]"])
def test_an_impossible_report_003_point_is_refused(name):
    with pytest.raises(ValueError):
        get_spec(name)


def test_model_lists_keep_the_switches_commas_inside_brackets():
    names = cli.model_names("r003_mlp[activation=tanh,dropout=0.2], r000_naive_net1 "
                            "r003_cnn_ws_aux[lam=0.8]")
    assert names == ["r003_mlp[activation=tanh,dropout=0.2]", "r000_naive_net1",
                     "r003_cnn_ws_aux[lam=0.8]"]
    with pytest.raises(argparse.ArgumentTypeError, match="r003_cnn\\[colour=red\\]"):
        cli.model_names("r003_cnn[colour=red]")


def test_every_point_of_every_sweep_names_a_model_that_builds():
    for sweep in sweeps.SWEEPS.values():
        for point in sweep.points:
            get_spec(point.model)


def test_report_001s_sweep_weighs_the_comparison_by_one_minus_w_and_caps_its_epochs():
    points = {(p.model, p.value): p for p in sweeps.SWEEPS["r001_aux_weight"].points}
    point = points[("r001_cnn_ws_aux", "0.1")]
    assert point.options == ("--aux-weight", "0.1", "--comparison-weight", "0.9",
                             "--epochs", "58")
    assert point.published[0] == pytest.approx(100 * (1 - 0.1064))
    assert len(points) == 8


def test_points_with_the_same_options_share_one_study(tmp_path):
    plan = sweeps.studies(str(tmp_path), sweeps.SWEEPS["r003_lambda"])
    assert len(plan) == 1 and len(next(iter(plan.values()))[1]) == 22
    plan = sweeps.studies(str(tmp_path), sweeps.SWEEPS["r004_eta"])
    assert sorted(options for options, _ in plan.values()) == \
        [("--lr", "0.01"), ("--lr", "0.1"), ("--lr", "1")]


def test_a_tiny_sweep_writes_its_table_json_and_figure(tmp_path):
    out = tmp_path / "sweeps"
    status = sweeps.main(["r003_batchnorm", "--rounds", "2", "--out", str(out), "--epochs",
                          "1", "--n-pairs", "40", "--workers", "0", "--quiet"])
    assert status == 0
    rows = json.loads((out / "r003_batchnorm.json").read_text())
    assert [(r["value"], r["rounds"]) for r in rows] == [("off", 2), ("on", 2)]
    assert all(0 <= r["mean"] <= 100 and r["epochs"] == 1 for r in rows)
    table = (out / "r003_batchnorm.md").read_text()
    assert "`r003_cnn[batchnorm=True]`" in table and "BatchNorm gives the ConvNet no gain" in table
    assert (out / "r003_batchnorm.png").read_bytes()[:4] == b"\x89PNG"


def test_report_004s_baseline_has_both_repairs_with_the_same_parameters():
    from experiments.models import count_parameters
    import minitorch_pairs as mt
    padded, strided = (get_spec(name).build() for name in
                       ("r004_baseline_cnn", "r004_baseline_cnn[repair=pool_stride]"))
    assert count_parameters(padded) == count_parameters(strided) == 93_058
    assert strided(mt.zeros(2, 2, 14, 14)).comparison.shape == (2, 2)
    with pytest.raises(ValueError, match="repair"):
        get_spec("r004_baseline_cnn[repair=none]")


def test_a_sweep_resumes_its_points_studies(tmp_path):
    arguments = ["r003_batchnorm", "--rounds", "1", "--out", str(tmp_path), "--epochs", "1",
                 "--n-pairs", "40", "--workers", "0", "--quiet"]
    assert sweeps.main(arguments) == 0
    assert sweeps.main(arguments + ["--rounds", "2", "--resume"]) == 0
    rows = json.loads((tmp_path / "r003_batchnorm.json").read_text())
    assert [r["rounds"] for r in rows] == [2, 2]
