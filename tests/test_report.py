"""experiments.report: the HTML and Markdown pages of a real (tiny) study, read back with the
standard library's HTML parser, and the refusal of a directory that holds no study."""
import base64
import csv
import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from experiments import report, siamese_aux

REPOSITORY = Path(__file__).resolve().parents[1]
MODELS = ("r000_shared_net1", "r002_mlp")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_study(out: Path, *extra: str) -> Path:
    status = siamese_aux.main(["--out", str(out), "--models", ",".join(MODELS), "--rounds",
                               "2", "--epochs", "1", "--n-pairs", "40", "--quiet",
                               "--workers", "0", *extra])
    assert status == 0
    return out


class Page(HTMLParser):
    """The parts of a page the tests look at: images, links, and every table's cells."""

    def __init__(self, text: str):
        super().__init__()
        self.images, self.links, self.tables, self.captions = [], [], [], []
        self._text = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        elif tag == "a":
            self.links.append(attrs["href"])
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append((attrs.get("class"), []))
        elif tag in ("td", "th", "figcaption"):
            self._text = []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1][1].append("".join(self._text).strip())
        elif tag == "figcaption":
            self.captions.append("".join(self._text))
        if tag in ("td", "th", "figcaption"):
            self._text = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def table(self, column: str) -> list:
        """The body rows, as {column: cell}, of the table whose header has `column`."""
        for rows in self.tables:
            header = rows[0][1]
            if column in header:
                return [dict(zip(header, cells), css=css) for css, cells in rows[1:]]
        raise AssertionError(f"no table with a {column!r} column")


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    out = run_study(tmp_path_factory.mktemp("report") / "study")
    report.write_report(str(out), wall_time_s=12.5)
    return out


@pytest.fixture(scope="module")
def page(study) -> Page:
    return Page((study / "report.html").read_text(encoding="utf-8"))


def study_pngs(out: Path) -> list:
    return sorted((out / "figures").glob("*.png"))


def data_images(page: Page) -> list:
    prefix = "data:image/png;base64,"
    assert all(src.startswith(prefix) for src in page.images)
    return [base64.b64decode(src[len(prefix):], validate=True) for src in page.images]


def test_write_report_returns_both_paths(study, tmp_path):
    out = shutil.copytree(study, tmp_path / "copy")
    paths = report.write_report(str(out))
    assert paths == (str(out / "report.html"), str(out / "report.md"))
    assert all(os.path.getsize(path) > 0 for path in paths)
    assert not [n for n in os.listdir(out) if n.endswith(".tmp")]


def test_every_figure_is_embedded_and_the_comparison_added(study, page):
    pngs = study_pngs(study)
    assert len(pngs) == 4
    images = data_images(page)
    assert len(images) == len(pngs) + 1
    assert all(image.startswith(PNG_SIGNATURE) for image in images)
    study_bytes = [p.read_bytes() for p in pngs]
    assert all(png in images for png in study_bytes)
    extra = [image for image in images if image not in study_bytes]
    assert len(extra) == 1
    assert any("published" in caption for caption in page.captions)


def test_summary_table_has_one_row_per_model_with_published_and_ours(study, page):
    summary = json.loads((study / "summary.json").read_text())
    rows = {row["model"]: row for row in page.table("published (%)")}
    assert sorted(rows) == sorted(MODELS)
    assert rows["r000_shared_net1"]["published (%)"].startswith("80.44")
    for model, row in rows.items():
        assert row["ours (%)"].startswith(f"{100 * summary[model]['test_accuracy_mean']:.2f}")
        assert row["rounds"] == "2"
        assert row["verdict"] in ("reproduces", "does not", "no spread")


def test_round_table_has_every_run(page):
    rows = page.table("seed")
    assert len(rows) == len(MODELS) * 2
    assert {(row["model"], row["round"]) for row in rows} == \
        {(m, str(r)) for m in MODELS for r in range(2)}
    assert all(row["status"] == "ok" and row["css"] is None for row in rows)


def test_page_is_self_contained_and_links_the_files(study, page):
    text = (study / "report.html").read_text(encoding="utf-8")
    assert 'src="http' not in text and "<script" not in text.lower()
    assert "<link" not in text.lower() and "@import" not in text
    assert {"runs.csv", "summary.json", "config.json"} <= set(page.links)
    assert all(not link.startswith(("http:", "https:", "/")) for link in page.links)
    environment = {row[""]: row["value"] for row in page.table("value")}
    assert environment["wall time"] == "12.5 s"
    assert environment["numba cache"] == "cold" or environment["numba cache"].startswith("warm")


def test_markdown_has_the_tables_and_figure_links(study):
    text = (study / "report.md").read_text(encoding="utf-8")
    for model in MODELS:
        assert text.count(f"| {model} |") == 1 + 2  # summary row, two rounds
    assert "| r000_shared_net1 | 000 |" in text and "80.44 ± 1.82" in text
    for png in study_pngs(study):
        assert f"(figures/{png.name})" in text


def test_diverged_runs_are_marked(study, tmp_path):
    out = tmp_path / "diverged"
    shutil.copytree(study, out)
    with open(out / "runs.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    rows[0].update(status="diverged", test_accuracy="nan", train_accuracy="nan",
                   error="loss is nan at epoch 1")
    with open(out / "runs.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    report.write_report(str(out))
    marked = [r for r in Page((out / "report.html").read_text()).table("seed")
              if r["css"] == "diverged"]
    assert len(marked) == 1 and marked[0]["test accuracy (%)"] == "—"
    assert marked[0]["note"] == "loss is nan at epoch 1"


def test_not_a_study_exits_2_with_one_error_line(tmp_path):
    (tmp_path / "notes.txt").write_text("no study here")
    result = subprocess.run([sys.executable, "-m", "experiments.report", str(tmp_path)],
                            cwd=REPOSITORY, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert not (tmp_path / "report.html").exists()


def test_a_study_without_plots_still_gets_a_report(tmp_path):
    out = run_study(tmp_path / "plain", "--no-plots")
    assert report.main([str(out)]) == 0
    assert not study_pngs(out)
    images = data_images(Page((out / "report.html").read_text(encoding="utf-8")))
    assert len(images) == 1 and images[0].startswith(PNG_SIGNATURE)  # the comparison only
    assert "figures/" not in (out / "report.md").read_text(encoding="utf-8")


def test_the_main_job_writes_the_report_at_its_end_unless_no_plots(tmp_path, capsys):
    out = run_study(tmp_path / "study")
    printed = capsys.readouterr().out
    assert f"report: {out / 'report.html'}" in printed
    assert (out / "report.html").exists() and (out / "report.md").exists()
    assert "wall time" in (out / "report.html").read_text().lower()
    bare = run_study(tmp_path / "bare", "--no-plots")
    assert not (bare / "report.html").exists() and not (bare / "report.md").exists()
