"""``forecast data show``: coverage of a small panel, as JSON and as a table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forecast.data.coverage import COVERAGE_COLUMNS
from tests.data.panel_fixtures import VALID_ROWS, csv_text, run_cli, snapshot

#: the valid panel plus a KAZ trade_share_chn series with a gap (2017, [2018 missing], 2019)
ROWS = [*VALID_ROWS, ("KAZ", "trade_share_chn", "2017", "0.1", "", "IMF DOTS", "2018-06-30")]


@pytest.fixture
def panel(tmp_path: Path) -> Path:
    path = tmp_path / "panel.csv"
    path.write_text(csv_text(ROWS), encoding="utf-8")
    return path


def test_show_json(panel: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(panel.parent)
    result = run_cli(["data", "show", "--json", "--data", str(panel)], capsys)
    assert (result.code, result.err) == (0, "")
    records = json.loads(result.out)
    assert all(list(rec) == list(COVERAGE_COLUMNS) for rec in records)
    by_key = {(rec["state"], rec["indicator"]): rec for rec in records}
    # one record per (state, indicator) series, sorted
    assert list(by_key) == sorted({(r[0], r[1]) for r in ROWS})
    assert by_key["KAZ", "unga_agree_rus"] == {
        "state": "KAZ",
        "indicator": "unga_agree_rus",
        "first": "2019",
        "last": "2020",
        "count": 2,
        "share_missing": 0.0,
    }
    gap = by_key["KAZ", "trade_share_chn"]
    assert (gap["first"], gap["last"], gap["count"]) == ("2017", "2019", 2)
    assert gap["share_missing"] == pytest.approx(1 / 3, abs=1e-4)
    assert by_key["KAZ", "eu_exports"]["first"] == "2019Q3"
    assert snapshot(panel.parent) == before


def test_show_table(panel: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(["data", "show", "--data", str(panel)], capsys)
    assert (result.code, result.err) == (0, "")
    for col in COVERAGE_COLUMNS:
        assert col in result.out
    assert "unga_agree_rus" in result.out


def test_show_missing_panel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.csv"
    result = run_cli(["data", "show", "--json", "--data", str(missing)], capsys)
    assert result.code == 1
    assert result.err == f"error: {missing}: file not found\n"
    assert list(tmp_path.iterdir()) == []
