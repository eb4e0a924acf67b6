"""``forecast report`` end to end on the bundled run (a real reduced fit)."""

from __future__ import annotations

import base64
import html
import io
import re

import pytest

from forecast.rounding import PLUS_MINUS_MEANS, percent
from tests.data.panel_fixtures import run_cli


def test_report_writes_html_and_markdown_with_figures(bundled_report):
    result = bundled_report.result
    assert result.code == 0, result.err
    # the bundled test fit is deliberately short: the report must say it did not converge
    assert "NOT CONVERGED" in result.out
    assert "trend certainty" in result.out
    html = bundled_report.html.read_text(encoding="utf-8")
    assert "NOT CONVERGED" in html
    images = re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', html)
    assert len(images) >= 6
    import matplotlib.image as mpimg

    for data in images:
        pixels = mpimg.imread(io.BytesIO(base64.b64decode(data)), format="png")
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    text = bundled_report.markdown.read_text(encoding="utf-8")
    for title in (
        "Headline",
        "Scenarios and questions",
        "State trajectories",
        "What moved the estimates",
        "What-ifs",
        "Track record",
        "Diagnostics",
        "Data currency and coverage",
        "Methods",
    ):
        assert f"## {title}" in text
    assert "The newest data are for 2024" in text and "2025–2026 are nowcasts" in text


def test_report_numbers_match_the_scenario_command(bundled_report, capsys):
    import json

    run = str(next(p for p in bundled_report.runs.iterdir() if p.is_dir()))
    result = run_cli(["scenarios", run, "--runs", str(bundled_report.runs), "--json"], capsys)
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    trend = doc["headline"]["trend_probability"]
    html = bundled_report.html.read_text(encoding="utf-8")
    assert f"probability {percent(trend)}" in html
    for scenario in doc["partitions"][0]["scenarios"]:
        assert f"{percent(scenario['probability'])} ±" in html


def _rows(markdown: str, heading: str) -> list[list[str]]:
    """The body rows of the first Markdown table under a bold caption starting ``heading``."""
    lines = markdown.split(f"**{heading}", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    # header and delimiter rows first
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in lines[start + 2 : end]]


def _whole(cell: str) -> int:
    """The whole percentage a cell shows ("<1%" is 0 and ">99%" 100, as the changes count)."""
    shown = html.unescape(cell).split("%")[0]
    return {"<1": 0, ">99": 100}[shown] if shown in ("<1", ">99") else int(shown)


def test_the_report_reads_as_an_analyst_expects(bundled_report):
    text = bundled_report.markdown.read_text(encoding="utf-8")
    # scenarios most likely first
    scenarios = _rows(text, "Where the region")
    shares = [_whole(row[1]) for row in scenarios]
    assert shares == sorted(shares, reverse=True) and len(shares) >= 3
    # what-if changes are the differences of the percentages shown
    whatifs = _rows(text, "Probabilities under each what-if")
    assert whatifs
    for row in whatifs:
        before, after = (_whole(cell) for cell in row[2:4])
        change = 0 if row[4] == "0 pts" else int(row[4].removesuffix(" pts"))
        assert change == after - before, row
    # medians named as medians, captions that match their figures, the rank test explained
    assert "posterior median \\[90 % interval\\]" in text
    assert "posterior mean" not in text
    assert "white cells" not in text and "pale grey cells have none" in text
    assert "The p in each rank panel tests whether the chains sample the same distribution" in text
    assert PLUS_MINUS_MEANS in text


@pytest.mark.parametrize("quarter", ["2026", "2026Q5", "26Q4", "2026q4"])
def test_bad_quarter_is_a_usage_error(quarter, tmp_path, capsys):
    result = run_cli(["report", "--quarter", quarter, "--runs", str(tmp_path)], capsys)
    assert result.code == 2
    assert "2026Q4" in result.err


def test_damaged_ledger_stops_before_any_work(tmp_path, capsys):
    ledger = tmp_path / "forecast.db"
    ledger.write_bytes(b"this is not a database" * 100)
    result = run_cli(
        ["report", "--quarter", "2026Q4", "--ledger", str(ledger), "--runs", str(tmp_path)],
        capsys,
    )
    assert result.code == 1
    assert len(result.err.strip().splitlines()) == 1
    assert str(ledger) in result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "reports").exists()
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]


def test_missing_run_is_a_one_line_error(tmp_path, capsys):
    result = run_cli(
        [
            "report",
            "--quarter",
            "2026Q4",
            "--run",
            str(tmp_path / "nope"),
            "--runs",
            str(tmp_path),
            "--ledger",
            str(tmp_path / "l.db"),
        ],
        capsys,
    )
    assert result.code == 1
    assert len(result.err.strip().splitlines()) == 1


def test_seed_with_a_stored_run_is_refused_not_ignored(tmp_path, capsys):
    args = ["report", "--quarter", "2026Q4", "--run", "some-run", "--seed", "5"]
    result = run_cli([*args, "--runs", str(tmp_path), "--ledger", str(tmp_path / "l.db")], capsys)
    assert result.code == 1
    assert result.err == (
        "error: --seed 5 applies to a fresh fit: run some-run keeps its own seed\n"
    )
    assert not (tmp_path / "l.db").exists()
