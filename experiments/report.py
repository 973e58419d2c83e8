"""`python -m experiments.report DIR`: one page about a finished study (written by
`python -m experiments.siamese_aux --out DIR`), read from its files alone.

DIR/report.html is self-contained (styles inline, figures embedded as data: URIs), so it can
be mailed or archived on its own; DIR/report.md carries the same tables with the figures as
relative links, for a terminal or a code host. Both are written atomically.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import glob
import html
import importlib.metadata
import io
import json
import math
import os
import platform
import sys

from minitorch_pairs.files import atomic_write

from .models import get_spec
from .protocols import protocol_of
from .published import compare, published
from .results import FORMAT, StudyFilesError, read_json, read_runs

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAPTIONS = {
    "accuracy_boxplot.png": "Test accuracy over rounds, per model.",
    "training_curves.png": "Train and test loss and accuracy per epoch (mean ± 1 std band).",
    "roc_pr.png": "ROC and precision-recall curves, each model's rounds pooled.",
    "pair_errors.png": "Test error of the best model by digit pair.",
}
SUMMARY_COLUMNS = ("model", "report", "description", "published (%)", "ours (%)", "sem (%)",
                   "rounds", "Δ (points)", "Δ / larger std", "verdict", "epochs",
                   "parameters", "s / run")
ROUND_COLUMNS = ("model", "round", "seed", "status", "test accuracy (%)",
                 "train accuracy (%)", "epochs", "note")
DASH = "—"
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 75em; padding: 0 1em;
       color: #222; line-height: 1.4; } h2 { border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 1em 0; font-size: .9em; } th { background: #eee; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.diverged td { background: #fde8e8; color: #8a1c1c; } figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; } figcaption { color: #555; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
"""


def load_study(out: str) -> dict:
    """The study's files, or a StudyFilesError saying why DIR is not a finished study."""
    if not os.path.isdir(out):
        raise StudyFilesError(f"report: {out} is not a directory")
    for name in ("config.json", "runs.csv", "summary.json"):
        if not os.path.isfile(os.path.join(out, name)):
            raise StudyFilesError(f"report: {out} is not a finished study (no {name}); "
                                  "run python -m experiments.siamese_aux --out DIR first")
    config = read_json(os.path.join(out, "config.json"), "report")
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise StudyFilesError(f"report: {out}/config.json is not a study config of format "
                              f"{FORMAT}")
    summary = read_json(os.path.join(out, "summary.json"), "report")
    if not isinstance(summary, dict) or not all(isinstance(s, dict) for s in summary.values()):
        raise StudyFilesError(f"report: {out}/summary.json holds no per-model summary")
    return dict(out=out, config=config, summary=summary, figures=figure_names(out),
                rows=read_runs(os.path.join(out, "runs.csv"), "report"))


def figure_names(out: str) -> list:
    """The study's PNGs: the known ones in the order the study draws them, then the rest."""
    folder = os.path.join(out, "figures")
    names = {n for n in os.listdir(folder) if n.endswith(".png")} \
        if os.path.isdir(folder) else set()
    return [n for n in CAPTIONS if n in names] + sorted(names - set(CAPTIONS))


def _number(value, digits: int = 2, scale: float = 1.0) -> str:
    """A finite number as text, else the dash (JSON's null, a diverged run's NaN)."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{scale * value:.{digits}f}"


def _spread(mean, std, scale: float = 1.0) -> str:
    """'mean ± std' (the mean alone without a std; the dash without a mean)."""
    text = _number(mean, scale=scale)
    return text if text == DASH or std is None else f"{text} ± {_number(std, scale=scale)}"


def _spec_text(model: str) -> tuple[str, str]:
    """(report, description) of a model; a name this code no longer knows keeps its row."""
    try:
        spec = get_spec(model)
    except ValueError:
        return DASH, "unknown model"
    return spec.report, spec.description


def summary_rows(study: dict) -> list:
    """One list of cell texts per model, in the order of SUMMARY_COLUMNS."""
    rows = []
    for model, s in study["summary"].items():
        mean, std = s.get("test_accuracy_mean"), s.get("test_accuracy_std")
        theirs = published(model)
        verdict = compare(None if mean is None else 100 * mean,
                          None if std is None else 100 * std, model)
        rounds = str(s.get("rounds", 0)) + (f" ({s['diverged']} diverged)"
                                             if s.get("diverged") else "")
        rows.append([model, *_spec_text(model),
                     DASH if theirs is None else _spread(theirs.accuracy, theirs.std),
                     _spread(mean, std, 100), _number(s.get("test_accuracy_sem"), scale=100),
                     rounds, _number(verdict["difference"]), _number(verdict["in_stds"]),
                     verdict["verdict"], _number(s.get("epochs_mean"), 1),
                     DASH if s.get("parameters") is None else f"{s['parameters']:,}",
                     _number(s.get("seconds_mean"))])
    return rows


def round_rows(study: dict) -> list:
    """(diverged?, cell texts) per run, by model then round."""
    return [(row["status"] != "ok",
             [row["model"], str(row["round"]), str(row["seed"]), row["status"],
              _number(row["test_accuracy"], scale=100), _number(row["train_accuracy"], scale=100),
              str(row["epochs"]), row["error"]])
            for row in sorted(study["rows"], key=lambda r: (r["model"], r["round"]))]


def protocols(study: dict) -> dict:
    """{name: description} of the protocols the study's models ran under."""
    name, found = study["config"].get("protocol", "common"), {}
    for model in study["summary"]:
        with contextlib.suppress(ValueError):  # a protocol or model this code no longer knows
            protocol = protocol_of(name, model)
            found[protocol.name] = protocol.description
    return found or {name: "unknown to this code"}


def headline(study: dict) -> str:
    """The one line under the title: protocols, data, rounds, and when this was written."""
    config = study["config"]
    written = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    counts = sorted({s.get("rounds") for s in study["summary"].values()} - {None})
    rounds = DASH if not counts else str(counts[0]) if len(counts) == 1 else \
        f"{counts[0]} to {counts[-1]}"
    return (f"Protocol: {', '.join(protocols(study))}; data: {config.get('data', DASH)} "
            f"({config.get('n_pairs', DASH)} pairs per training / test set); "
            f"{rounds} rounds per model; "
            f"{len(study['summary'])} models; report written {written}.")


def comparison_png(study: dict) -> bytes | None:
    """Ours (mean ± std) against the report's number, for the models that have one."""
    models = [m for m in study["summary"] if published(m) is not None]
    if not models:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    figure = Figure(figsize=(max(5.0, 1.2 * len(models) + 2), 4), layout="constrained")
    axis = FigureCanvasAgg(figure).figure.add_subplot()
    stats, theirs = [study["summary"][m] for m in models], [published(m) for m in models]
    mean = [100 * (s.get("test_accuracy_mean") or math.nan) for s in stats]
    axis.errorbar([i - 0.1 for i in range(len(models))], mean, fmt="o", capsize=4,
                  yerr=[100 * (s.get("test_accuracy_std") or 0.0) for s in stats],
                  label="ours (mean ± std)")
    axis.errorbar([i + 0.1 for i in range(len(models))], [p.accuracy for p in theirs],
                  yerr=[p.std or 0.0 for p in theirs], fmt="D", color="C3", capsize=4,
                  label="published (± std where printed)")
    axis.set_xticks(range(len(models)), models, rotation=20, ha="right")
    axis.set_xlim(-0.6, len(models) - 0.4)
    axis.set(ylabel="test accuracy (%)", title="test accuracy: ours and the published number")
    axis.grid(axis="y", alpha=0.3)
    axis.legend(loc="best")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120)
    return buffer.getvalue()


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as file:
        for line in file:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def numba_cache_state() -> str:
    """Whether numba's on-disk kernel cache exists: a cold cache adds compile time to the
    first runs' seconds."""
    count = len(glob.glob(os.path.join(REPOSITORY, "kernels", "**", "__pycache__", "*.nbi"),
                          recursive=True))
    return f"warm ({count} cached kernels)" if count else "cold"


def environment(wall_time_s: float | None) -> list:
    """(name, value) of the machine writing the report (which may not be the study's)."""
    found = [("Python", platform.python_version())]
    for package in ("numpy", "numba", "minitorch_pairs"):
        try:
            found.append((package, importlib.metadata.version(package)))
        except importlib.metadata.PackageNotFoundError:
            found.append((package, "not installed"))
    found += [("CPU", _cpu_model()), ("CPU count", str(os.cpu_count())),
              ("numba cache", numba_cache_state())]
    if "NUMBA_NUM_THREADS" in os.environ:
        found.append(("NUMBA_NUM_THREADS", os.environ["NUMBA_NUM_THREADS"]))
    if wall_time_s is not None:
        found.append(("wall time", f"{wall_time_s:.1f} s"))
    return found


def _html_table(columns, rows, numeric=()) -> str:
    """rows: (css class or "", cells); every text escaped."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for css, cells in rows:
        tds = "".join(f'<td class="num">{html.escape(c)}</td>' if i in numeric else
                      f"<td>{html.escape(c)}</td>" for i, c in enumerate(cells))
        body.append(f'<tr class="{css}">{tds}</tr>' if css else f"<tr>{tds}</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + \
        "\n</tbody>\n</table>"


def _html_figure(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def render_html(study: dict, wall_time_s: float | None) -> str:
    """The whole page: a string with nothing to fetch from elsewhere."""
    out, e = study["out"], html.escape
    figures = []
    for name in study["figures"]:
        with open(os.path.join(out, "figures", name), "rb") as file:
            figures.append(_html_figure(file.read(), f"{name}: {CAPTIONS.get(name, '')}"))
    extra = comparison_png(study)
    if extra is not None:
        figures.append(_html_figure(extra, "Ours (mean ± std over rounds) against the "
                                           "published number (± its std where printed)."))
    described = "".join(f"<li><b>{e(n)}</b>: {e(d)}</li>" for n, d in protocols(study).items())
    rounds = [("diverged" if bad else "", cells) for bad, cells in round_rows(study)]
    env = _html_table(("", "value"), [("", list(pair)) for pair in environment(wall_time_s)])
    links = " · ".join(f'<a href="{n}">{n}</a>' for n in
                       ("runs.csv", "summary.json", "config.json", "report.md"))
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Study report: {e(os.path.basename(os.path.abspath(out)))}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Digit-pair study: {e(os.path.basename(os.path.abspath(out)))}</h1>",
        f"<p>{e(headline(study))}</p>", "<p>Protocols, as defined (this study's own "
        "settings are under Configuration):</p>", f"<ul>{described}</ul>",
        "<h2>Summary</h2>",
        _html_table(SUMMARY_COLUMNS, [("", r) for r in summary_rows(study)],
                    numeric=(3, 4, 5, 6, 7, 8, 10, 11, 12)),
        "<p>Accuracies in percent; ours are mean ± sample std over the non-diverged rounds "
        "(diverged runs counted, not averaged). Δ / larger std: the difference in units of "
        "the larger of the two stds; within 2 it reproduces.</p>",
        "<h2>Rounds</h2>", _html_table(ROUND_COLUMNS, rounds, numeric=(1, 2, 4, 5, 6)),
        "<h2>Figures</h2>", *(figures or ["<p>No figures (the study ran with --no-plots, "
                                           "or no model has a result).</p>"]),
        "<h2>Configuration</h2>",
        f"<pre>{e(json.dumps(study['config'], indent=2, ensure_ascii=False))}</pre>",
        "<h2>Environment</h2>", "<p>Of the machine that wrote this report.</p>", env,
        f"<h2>Files</h2><p>{links}</p>", "</body></html>", ""])


def _md_table(columns, rows) -> str:
    cell = lambda text: text.replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return "\n".join(lines + ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows])


def render_markdown(study: dict) -> str:
    """The tables and figure links of the HTML page, as Markdown."""
    rounds = [[f"**{c}**" if bad and i == 3 else c for i, c in enumerate(cells)]
              for bad, cells in round_rows(study)]
    figures = [f"![{name}](figures/{name})  \n{CAPTIONS.get(name, '')}\n"
               for name in study["figures"]]
    return "\n".join([
        f"# Digit-pair study: {os.path.basename(os.path.abspath(study['out']))}", "",
        headline(study), "",
        *(f"- **{n}**: {d}" for n, d in protocols(study).items()), "",
        "## Summary", "", _md_table(SUMMARY_COLUMNS, summary_rows(study)), "",
        "Accuracies in percent; ours are mean ± sample std over the non-diverged rounds.", "",
        "## Rounds", "", _md_table(ROUND_COLUMNS, rounds), "",
        "## Figures", "", *(figures or ["No figures (the study ran with --no-plots)."]), "",
        "Files: [runs.csv](runs.csv), [summary.json](summary.json), "
        "[config.json](config.json), [report.html](report.html)", ""])


def write_report(out: str, wall_time_s: float | None = None) -> tuple[str, str]:
    """Write DIR/report.html and DIR/report.md; returns their paths."""
    out = os.fspath(out)
    study = load_study(out)
    paths = (os.path.join(out, "report.html"), os.path.join(out, "report.md"))
    for path, text in zip(paths, (render_html(study, wall_time_s), render_markdown(study))):
        with atomic_write(path) as file:
            file.write(text)
    return paths


def main(argv=None) -> int:
    """Exit status 0 written; 2 DIR is no finished study or a file failed (one `error:` line)."""
    parser = argparse.ArgumentParser(prog="python -m experiments.report",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out", metavar="DIR", help="the study's --out directory")
    parser.add_argument("--wall-time", type=float, default=None, metavar="SECONDS",
                        help="the study's wall time, to show in the report")
    args = parser.parse_args(argv)
    try:
        paths = write_report(args.out, args.wall_time)
    except (StudyFilesError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
