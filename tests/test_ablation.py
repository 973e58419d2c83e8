"""experiments/ablation.py: the ablation table pairs each variant with the full recipe round
by round, and the command runs every variant as an ordinary study."""
from __future__ import annotations

import json
import math

import pytest

from experiments import ablation
from experiments.results import StudyFilesError


def test_a_row_pairs_rounds_and_leaves_diverged_runs_out():
    full = {0: 0.98, 1: 0.97, 2: 0.99}
    variant = {0: 0.96, 1: math.nan, 2: 0.98}
    row = ablation.row_for("m", "v", ["--schedule", "constant"], variant, full)
    assert row["rounds"] == 3 and row["diverged"] == 1
    assert row["mean"] == pytest.approx(0.97) and row["std"] == pytest.approx(0.01 * 2 ** 0.5)
    assert row["paired_difference"] == pytest.approx(-0.015)  # (-0.02, -0.01): round 1 out
    assert row["paired_difference_std"] == pytest.approx(0.005 * 2 ** 0.5)
    table = ablation.markdown([ablation.row_for("m", ablation.FULL, [], full, full), row])
    assert "| m | v | `--schedule constant` | 97.00 ± 1.41 | -1.50 ± 0.71 | 2 (+1 diverged) |" \
        in table


def test_every_ablation_is_a_valid_main_job_command_line():
    from experiments import siamese_aux
    for model, _, options in ablation.ABLATIONS:
        siamese_aux.parse_args(["--models", model, *options])  # exits 2 if not


@pytest.mark.slow
def test_the_command_runs_each_variant_and_writes_the_table(tmp_path, capsys):
    argv = ["--only", "beyond_digits", "--rounds", "2", "--epochs", "1", "--n-pairs", "30",
            "--workers", "0", "--quiet", "--out", str(tmp_path)]
    assert ablation.main(argv) == 0
    rows = json.loads((tmp_path / "ablation.json").read_text())
    variants = [v for m, v, _ in ablation.ABLATIONS if m == "beyond_digits"]
    assert [r["variant"] for r in rows] == [ablation.FULL, *variants]
    assert all(r["rounds"] == 2 for r in rows)
    assert (tmp_path / "ablation.md").read_text().startswith("| model | variant |")
    assert (tmp_path / "full_recipe" / "figures").is_dir()
    assert ablation.main([*argv, "--resume"]) == 0  # all finished: nothing is trained again
    assert ablation.main(["--only", "r000_shared_net1", "--out", str(tmp_path)]) == 2


def test_a_torn_study_file_is_named_not_a_crash(tmp_path):
    (tmp_path / "full_recipe").mkdir()
    (tmp_path / "full_recipe" / "runs.csv").write_text("model,round\nbeyond_digits,0\n")
    with pytest.raises(StudyFilesError, match="ablation: .*runs.csv has columns"):
        ablation.table_rows(str(tmp_path), ["beyond_digits"])
