"""The panel's optional last column ``se``: the published standard error of a Gaussian value.

A panel written before the column existed (seven columns) still reads; ``write_panel`` always
writes it; a bad ``se`` is one line naming the file, the row and the column ``se``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.data.panel import read_panel, write_panel
from forecast.dims import PANEL_COLUMNS
from forecast.errors import DataError
from tests.data.panel_fixtures import (
    HEADER,
    VALID_ROWS,
    assert_one_line_error,
    csv_text,
    run_cli,
    valid_text,
)

#: se per indicator of the valid panel: the Gaussian kinds may carry one, the others not
SE = {"trade_share_chn": "0.02", "remittances_gdp": "0", "us_aid": "1.5", "eu_exports": "12.25"}


def _rows_with_se(se: dict[str, str] = SE) -> list[list[str]]:
    return [[*r, se.get(r[1], "")] for r in VALID_ROWS]


def _panel_text(rows: list[list[str]]) -> str:
    return csv_text(rows, PANEL_COLUMNS)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_header_is_the_seven_columns_then_se() -> None:
    assert (*HEADER, "se") == PANEL_COLUMNS


def test_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(_panel_text(_rows_with_se()), encoding="utf-8")
    panel = read_panel(src)
    se = panel.set_index("indicator")["se"]
    assert se["us_aid"] == 1.5 and se["trade_share_chn"] == 0.02 and se["remittances_gdp"] == 0
    assert np.isnan(se["unga_agree_rus"]).all() and np.isnan(se["cis_member"])
    out = tmp_path / "out.csv"
    written = write_panel(panel, out)
    pd.testing.assert_frame_equal(read_panel(out), written)
    # the same cells, in the panel's sort order (state, indicator, period)
    expected = sorted(_rows_with_se(), key=lambda r: (r[0], r[1], r[2]))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(PANEL_COLUMNS)
    assert [line.split(",")[-1] for line in lines[1:]] == [r[-1] for r in expected]


def test_loader_output_gets_an_se_column_written(tmp_path: Path) -> None:
    # a frame without se (as every loader but the ideal points gives) is written with it, empty
    panel = read_panel(_write(tmp_path / "in.csv", valid_text())).drop(columns="se")
    out = tmp_path / "out.csv"
    write_panel(panel, out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",") == list(PANEL_COLUMNS)
    assert all(line.endswith(",") for line in lines[1:])


def test_legacy_seven_column_panel_reads_like_the_new_one(tmp_path: Path) -> None:
    legacy = read_panel(_write(tmp_path / "legacy.csv", valid_text()))
    empty_se = read_panel(_write(tmp_path / "new.csv", _panel_text(_rows_with_se({}))))
    pd.testing.assert_frame_equal(legacy, empty_se)
    assert list(legacy.columns) == list(PANEL_COLUMNS)
    assert legacy["se"].isna().all()


def test_legacy_panel_validates_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path / "legacy.csv", valid_text())
    result = run_cli(["data", "validate", str(path)], capsys)
    assert (result.code, result.err) == (0, ""), result


@pytest.mark.parametrize(
    ("indicator", "se", "message"),
    [
        ("us_aid", "-0.5", "expected a finite non-negative number or empty"),
        ("us_aid", "abc", "expected a finite non-negative number or empty"),
        ("trade_share_chn", "inf", "expected a finite non-negative number or empty"),
        ("trade_share_chn", "nan", "expected a finite non-negative number or empty"),
        ("unga_agree_rus", "0.1", "se given for binomial indicator unga_agree_rus"),
        ("cis_member", "0", "se given for binary indicator cis_member"),
    ],
)
def test_bad_se_is_one_line_naming_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], indicator: str, se: str, message: str
) -> None:
    rows = _rows_with_se({indicator: se})
    row = next(i for i, r in enumerate(rows) if r[1] == indicator) + 2
    path = _write(tmp_path / "panel.csv", _panel_text(rows))
    result = run_cli(["data", "validate", str(path)], capsys)
    assert_one_line_error(result, path, row=row, column="se", message=message)


def test_se_out_of_place_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    header = ["state", "indicator", "period", "value", "n", "source", "se", "vintage"]
    rows = [[*r[:6], "", r[6]] for r in VALID_ROWS]
    path = _write(tmp_path / "panel.csv", csv_text(rows, header))
    result = run_cli(["data", "validate", str(path)], capsys)
    assert_one_line_error(
        result,
        path,
        row=1,
        column="se",
        message="column out of order: position 7 should be vintage",
    )


def test_write_panel_refuses_a_bad_se_and_writes_nothing(tmp_path: Path) -> None:
    panel = read_panel(_write(tmp_path / "in.csv", valid_text()))
    panel.loc[panel["indicator"] == "remittances_gdp", "se"] = -1.0
    out = tmp_path / "out" / "panel.csv"
    # sorted by state, indicator and period, KGZ remittances_gdp comes after KAZ's four rows
    # and KGZ cis_member: row 7 of the file that would have been written
    with pytest.raises(DataError, match=r"panel\.csv, row 7, column se: se '-1'"):
        write_panel(panel, out)
    assert not out.parent.exists()
