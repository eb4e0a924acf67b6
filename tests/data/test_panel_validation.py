"""Bad panels give one clean line naming file, row and column, exit 1, and write nothing.

Each case starts from the small valid panel of :mod:`tests.data.panel_fixtures`, breaks one
thing, and runs ``forecast data validate`` on it in this process; a few cases run the real
console script to prove no traceback reaches the terminal.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from forecast.data.panel import read_panel, write_panel
from forecast.errors import DataError
from tests.data.panel_fixtures import (
    HEADER,
    VALID_ROWS,
    assert_one_line_error,
    csv_text,
    rows_with,
    run_cli,
    snapshot,
    valid_text,
)

FORECAST_EXE = Path(sys.executable).with_name("forecast")
#: a vintage (and below, a period) outside the years 1677-2262 that datetime64[ns] can hold
ANCIENT = "9999-12-31"


def _cell(row: int, column: str, value: str) -> bytes:
    return csv_text(rows_with(row, column, value)).encode()


def _without_column(column: str) -> bytes:
    keep = [i for i, c in enumerate(HEADER) if c != column]
    header = [HEADER[i] for i in keep]
    return csv_text([[r[i] for i in keep] for r in VALID_ROWS], header).encode()


def _with_header(header: list[str], extra: str | None = None) -> bytes:
    rows = [[*r, extra] if extra is not None else list(r) for r in VALID_ROWS]
    return csv_text(rows, header).encode()


def _swap_value_and_n() -> bytes:
    rows = [[r[0], r[1], r[2], r[4], r[3], r[5], r[6]] for r in VALID_ROWS]
    header = ["state", "indicator", "period", "n", "value", "source", "vintage"]
    return csv_text(rows, header).encode()


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _replace_line(row: int, line: str) -> bytes:
    lines = _lines(valid_text())
    lines[row - 1] = line
    return "".join(lines).encode()


def _blank_lines_then(row: int, column: str, value: str) -> bytes:
    # two blank lines after row 2: the broken cell, originally at ``row``, moves down two rows
    lines = _lines(csv_text(rows_with(row, column, value)))
    return "".join([*lines[:2], "\n", "\n", *lines[2:]]).encode()


def _latin1_in_row(row: int) -> bytes:
    rows = rows_with(row, "source", "Agence caf\xe9")
    return csv_text(rows).encode("latin-1")


def _broken(row: int, column: str, value: str, message: str, case: str) -> object:
    """A case breaking one cell, which the error must locate at that cell."""
    return pytest.param(_cell(row, column, value), row, column, message, id=case)


# (file bytes, spreadsheet row, column, fragment of the message)
CELL_CASES = [
    _broken(5, "state", "XXX", "unknown state 'XXX'", "unknown-state"),
    _broken(3, "state", "kaz", "unknown state 'kaz'", "lowercase-state"),
    # a real ISO code, but not a state the codebook declares
    _broken(5, "state", "USA", "expected one of the states of the codebook", "undeclared-state"),
    _broken(4, "indicator", "trade_share_xyz", "unknown indicator", "unknown-indicator"),
    _broken(3, "period", "2019", "duplicate (KAZ, unga_agree_rus, 2019), first at row 2", "dup"),
    _broken(4, "period", "2019Q5", "unparseable period", "period-Q5"),
    _broken(4, "period", "2019-13", "unparseable period", "period-month13"),
    _broken(4, "period", "19", "unparseable period", "period-2-digits"),
    _broken(4, "period", "0000", "unparseable period", "period-year0"),
    _broken(4, "period", "\u0662\u0660\u0661\u0669", "unparseable period", "period-arabic-digits"),
    _broken(4, "period", "2019\n", "unparseable period", "period-newline"),
    _broken(
        4,
        "period",
        "2019Q3",
        "has frequency Q but the codebook gives trade_share_chn frequency Y",
        "period-quarter-for-yearly",
    ),
    _broken(9, "period", "2019", "has frequency Y", "period-year-for-quarterly"),
    _broken(4, "value", "1.2", "out of range for trade_share_chn", "share>1"),
    _broken(4, "value", "-0.1", "out of range", "share<0"),
    _broken(5, "value", "-0.01", "(kind positive): expected (0, 1]", "positive<0"),
    _broken(5, "value", "0", "expected (0, 1]", "positive-zero"),
    _broken(6, "value", "0.5", "expected 0 or 1", "binary-half"),
    _broken(6, "value", "2", "(kind binary)", "binary-2"),
    _broken(2, "value", "1.5", "(kind binomial)", "binomial>1"),
    _broken(7, "value", "nan", "'nan' is not finite", "nan"),
    _broken(7, "value", "NaN", "'NaN' is not finite", "NaN"),
    _broken(7, "value", "inf", "not finite", "inf"),
    _broken(7, "value", "-Infinity", "not finite", "-Infinity"),
    _broken(7, "value", "1e400", "not finite", "overflow-to-inf"),
    # finite, but far outside the codebook's plausible range of each indicator
    _broken(7, "value", "1e300", "expected [-100000, 100000] USD million", "continuous-1e300"),
    _broken(8, "value", "1e300", "out of range for china_finance", "positive-1e300"),
    _broken(9, "value", "1e300", "out of range for eu_exports", "quarterly-1e300"),
    _broken(5, "value", "1.5", "out of range for remittances_gdp", "remittances-above-1"),
    _broken(7, "value", "", "value empty", "value-empty"),
    _broken(7, "value", "abc", "'abc' is not a number", "value-text"),
    _broken(7, "value", "1_000", "is not a number", "value-underscore"),
    _broken(7, "value", "1,5", "is not a number", "decimal-comma"),
    _broken(3, "n", "", "n missing", "n-missing"),
    _broken(3, "n", "-3", "n -3 must be a positive number", "n-negative"),
    _broken(3, "n", "0", "n 0 must be a positive number", "n-zero"),
    _broken(3, "n", "2.5", "n '2.5' is not a whole number", "n-2.5"),
    _broken(3, "n", "many", "'many' is not a number", "n-text"),
    _broken(3, "n", "inf", "is not a whole number", "n-inf"),
    _broken(3, "n", "1000000000000", "n 1e+12 is more trials than plausible", "n-1e12"),
    _broken(3, "n", "1004", "expected at most 1000 (max_n in the codebook)", "n-above-max"),
    _broken(4, "n", "10", "n given for non-binomial indicator trade_share_chn", "n-for-share"),
    _broken(2, "n", "101", "is not a whole number of successes", "value-times-n"),
    _broken(6, "source", "", "source is empty", "source-empty"),
    _broken(6, "source", "   ", "source is empty", "source-blank"),
    _broken(6, "source", "COW\rIGO", "contains a control character", "source-carriage-return"),
    _broken(6, "source", "COW\tIGO", "contains a control character", "source-tab"),
    _broken(4, "vintage", "30/06/2020", "is not a date: expected YYYY-MM-DD", "vintage-format"),
    _broken(4, "vintage", "", "is not a date", "vintage-empty"),
    _broken(4, "vintage", "2020-02-30", "not a valid date", "vintage-feb30"),
    _broken(4, "vintage", "2019-06-30", "is before the end of period 2019", "vintage-early"),
    _broken(9, "vintage", "2019-09-29", "is before the end of period 2019Q3", "vintage-early-Q"),
]

HEADER_CASES = [
    pytest.param(_without_column("source"), 1, "source", "missing column", id="missing-column"),
    pytest.param(
        _with_header([*HEADER, "note"], "x"), 1, "note", "unexpected column", id="extra-column"
    ),
    pytest.param(
        _with_header([*HEADER, ""], ""),
        1,
        "8 (no name; a trailing comma?)",
        "unexpected column",
        id="trailing-comma",
    ),
    pytest.param(
        _with_header([*HEADER, "state"], "KAZ"),
        1,
        "state",
        "column appears twice",
        id="duplicated-column",
    ),
    pytest.param(
        _swap_value_and_n(),
        1,
        "n",
        "column out of order: position 4 should be value",
        id="reordered-columns",
    ),
    pytest.param(
        _with_header(["State", *HEADER[1:]]), 1, "state", "missing column", id="column-case"
    ),
    pytest.param(b"\n" + valid_text().encode(), 1, None, "empty header row", id="blank-header"),
]

STRUCTURE_CASES = [
    pytest.param(
        _replace_line(5, "KGZ,remittances_gdp,2019,0.28,,WDI\n"),
        5,
        "vintage",
        "6 fields where the header has 7",
        id="ragged-short",
    ),
    pytest.param(
        _replace_line(5, "KGZ,remittances_gdp,2019,0.28,,WDI,2020-07-31,extra\n"),
        5,
        None,
        "8 fields where the header has 7",
        id="ragged-long",
    ),
    pytest.param(
        _replace_line(5, "KGZ;remittances_gdp;2019;0.28;;WDI;2020-07-31\n"),
        5,
        "indicator",
        "1 fields where the header has 7: check the delimiter",
        id="semicolon-row",
    ),
    pytest.param(
        _blank_lines_then(4, "value", "7"), 6, "value", "out of range", id="blank-lines-keep-rows"
    ),
    pytest.param(
        csv_text(rows_with(4, "value", "7")).replace("\n", "\r\n").encode(),
        4,
        "value",
        "out of range",
        id="crlf",
    ),
    pytest.param(
        # a quoted cell spanning two lines is one spreadsheet row: the error stays at row 4
        csv_text(rows_with(4, "value", "7")).replace(",UNGA,2020", ',"UN\nGA",2020', 1).encode(),
        4,
        "value",
        "out of range",
        id="multiline-cell",
    ),
    pytest.param(
        valid_text().replace(",", ";").encode(),
        1,
        None,
        "header is one field containing ';'",
        id="semicolon-file",
    ),
    pytest.param(
        valid_text().replace(",", "\t").encode(),
        1,
        None,
        "the panel must be comma-separated",
        id="tab-file",
    ),
    pytest.param(
        (valid_text() + 'KAZ,"unterminated\n').encode(), 10, None, "malformed CSV", id="open-quote"
    ),
    pytest.param(_latin1_in_row(5), 5, "source", "not UTF-8 encoded (byte 0xe9)", id="latin1-row"),
    pytest.param(
        valid_text().replace("vintage", "vintag\xe9").encode("latin-1"),
        1,
        None,
        "not UTF-8 encoded",
        id="latin1-header",
    ),
    pytest.param(valid_text().encode("utf-16"), 1, None, "not UTF-8 encoded", id="utf16"),
    pytest.param(b"", 1, None, "empty file", id="empty-file"),
    pytest.param(b"  \n\n\r\n", 1, None, "empty file", id="whitespace-file"),
    pytest.param(b"\xef\xbb\xbf", 1, None, "empty file", id="bom-only-file"),
    pytest.param(csv_text([]).encode(), 2, None, "no data rows under the header", id="header-only"),
    pytest.param(
        (csv_text([]) + "\n\n").encode(),
        2,
        None,
        "no data rows under the header",
        id="header-and-blank-lines",
    ),
]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, so that a stray relative write would show in a snapshot."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("data", "row", "column", "message"), CELL_CASES + HEADER_CASES + STRUCTURE_CASES
)
def test_validate_rejects_bad_panel(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    data: bytes,
    row: int,
    column: str | None,
    message: str,
) -> None:
    panel = workdir / "panel.csv"
    panel.write_bytes(data)
    before = snapshot(workdir)
    result = run_cli(["data", "validate", str(panel)], capsys)
    assert_one_line_error(result, panel, row=row, column=column, message=message)
    assert snapshot(workdir) == before


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_validate_rejects_missing_file_or_directory(
    workdir: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    target = workdir / "panel.csv"
    if kind == "directory":
        target.mkdir()
    before = snapshot(workdir)
    result = run_cli(["data", "validate", str(target)], capsys)
    message = "file not found" if kind == "missing" else "is a directory"
    assert_one_line_error(result, target, row=None, column=None, message=message)
    assert snapshot(workdir) == before


def test_show_rejects_bad_panel(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    panel = workdir / "panel.csv"
    panel.write_bytes(_cell(5, "state", "XXX"))
    before = snapshot(workdir)
    result = run_cli(["data", "show", "--json", "--data", str(panel)], capsys)
    assert_one_line_error(result, panel, row=5, column="state", message="unknown state")
    assert snapshot(workdir) == before


def test_validate_accepts_valid_panel(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    panel = workdir / "panel.csv"
    panel.write_text(valid_text(), encoding="utf-8")
    before = snapshot(workdir)
    result = run_cli(["data", "validate", str(panel)], capsys)
    assert (result.code, result.err) == (0, "")
    assert result.out == f"{panel}: valid ({len(VALID_ROWS)} rows)\n"
    assert snapshot(workdir) == before


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\xef\xbb\xbf" + valid_text().encode(), id="utf8-bom"),
        pytest.param(valid_text().replace("\n", "\r\n").encode(), id="crlf"),
        pytest.param(valid_text().encode() + b"\n\n", id="trailing-blank-lines"),
        pytest.param(
            csv_text(
                [*VALID_ROWS, ("KAZ", "trade_share_chn", "1000", "0.5", "", "X", ANCIENT)]
            ).encode(),
            id="years-outside-nanosecond-range",
        ),
        pytest.param(_cell(9, "vintage", "2019-09-30"), id="vintage-on-period-end"),
        pytest.param(
            csv_text(rows_with(6, "source", "Agence caf\xe9")).encode("utf-8"), id="utf8-accents"
        ),
    ],
)
def test_validate_accepts_valid_variants(
    workdir: Path, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    panel = workdir / "panel.csv"
    panel.write_bytes(data)
    result = run_cli(["data", "validate", str(panel)], capsys)
    assert (result.code, result.err) == (0, ""), result
    assert "valid" in result.out


def test_bom_panel_reads_like_plain_panel(tmp_path: Path) -> None:
    plain, bom = tmp_path / "plain.csv", tmp_path / "bom.csv"
    plain.write_text(valid_text(), encoding="utf-8")
    bom.write_bytes(b"\xef\xbb\xbf" + valid_text().encode())
    pd.testing.assert_frame_equal(read_panel(bom), read_panel(plain))


def test_read_panel_types(tmp_path: Path) -> None:
    panel = tmp_path / "panel.csv"
    panel.write_text(valid_text(), encoding="utf-8")
    typed = read_panel(panel)
    # a panel without the optional se column reads with every column, se empty
    assert list(typed.columns) == [*HEADER, "se"]
    assert typed["value"].tolist() == [float(r[3]) for r in VALID_ROWS]
    assert typed["n"].iloc[:2].tolist() == [100.0, 120.0]
    assert typed["n"].iloc[2:].isna().all()
    assert typed["se"].isna().all()


def test_write_panel_refuses_fractional_n(tmp_path: Path) -> None:
    # serialising n with int() used to truncate 2.5 to 2, and 0.5 x 2 then passed validation
    panel = read_panel(_write(tmp_path / "in.csv", valid_text()))
    panel.loc[0, "n"] = 2.5
    out = tmp_path / "out" / "panel.csv"
    with pytest.raises(DataError, match=r"column n: n '2\.5' is not a whole number"):
        write_panel(panel, out)
    assert not out.parent.exists()


def test_write_panel_refuses_carriage_return(tmp_path: Path) -> None:
    # the CSV writer does not quote a bare \r: once a csv.Error traceback, or a garbled file
    panel = read_panel(_write(tmp_path / "in.csv", valid_text()))
    panel.loc[panel["indicator"] == "us_aid", "source"] = "W\rDI"
    out = tmp_path / "panel.csv"
    # us_aid is the last of the sorted rows: row 9 of the file that would have been written
    with pytest.raises(DataError, match=r"panel\.csv, row 9, column source: .* control character"):
        write_panel(panel, out)
    assert not out.exists()


@pytest.mark.parametrize(
    ("column", "missing", "row", "message"),
    [
        ("source", pd.NA, 9, "source is empty"),  # once written as the text "<NA>" and accepted
        ("source", None, 9, "source is empty"),
        ("state", float("nan"), 2, "unknown state ''"),  # an empty state sorts first
        ("value", pd.NA, 9, "'nan' is not finite"),  # once a TypeError traceback
        ("value", None, 9, "'nan' is not finite"),
    ],
)
def test_write_panel_reports_missing_cells(
    tmp_path: Path, column: str, missing: object, row: int, message: str
) -> None:
    # rows are those of the file that would have been written, sorted: us_aid comes last
    panel = read_panel(_write(tmp_path / "in.csv", valid_text()))
    panel[column] = panel[column].astype(object)
    panel.loc[panel["indicator"] == "us_aid", column] = missing
    out = tmp_path / "panel.csv"
    with pytest.raises(DataError, match=f"row {row}, column {column}: .*{message}"):
        write_panel(panel, out)
    assert not out.exists()


def test_write_panel_validates_before_touching_existing_file(tmp_path: Path) -> None:
    out = _write(tmp_path / "panel.csv", "precious\n")
    mtime = out.stat().st_mtime_ns
    panel = read_panel(_write(tmp_path / "in.csv", valid_text()))
    panel.loc[3, "value"] = float("nan")
    with pytest.raises(DataError, match="not finite"):
        write_panel(panel, out)
    assert (out.read_text(), out.stat().st_mtime_ns) == ("precious\n", mtime)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "panel.csv"]


def test_write_panel_onto_directory_is_a_data_error(tmp_path: Path) -> None:
    panel = read_panel(_write(tmp_path / "in.csv", valid_text()))
    target = tmp_path / "taken"
    target.mkdir()
    with pytest.raises(DataError, match="cannot write"):
        write_panel(panel, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "taken"]
    assert list(target.iterdir()) == []


def test_unreadable_file_is_a_data_error(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # chmod cannot make a file unreadable for root, so the refusal is simulated
    panel = _write(workdir / "panel.csv", valid_text())
    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == panel:
            raise PermissionError(13, "Permission denied")
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = run_cli(["data", "validate", str(panel)], capsys)
    assert_one_line_error(
        result, panel, row=None, column=None, message="cannot read: Permission denied"
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- the real console script: no traceback reaches the terminal --------------------------------


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(_cell(4, "value", "1.2"), "row 4, column value: value 1.2 out", id="range"),
        pytest.param(b"\xef\xbb\xbf", "row 1: empty file", id="bom-only"),
    ],
)
def test_console_script_prints_one_line_and_exits_1(
    tmp_path: Path, data: bytes, expected: str
) -> None:
    panel = tmp_path / "panel.csv"
    panel.write_bytes(data)
    before = snapshot(tmp_path)
    exe = [str(FORECAST_EXE)] if FORECAST_EXE.exists() else [sys.executable, "-m", "forecast"]
    proc = _run([*exe, "data", "validate", str(panel)], tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: {panel}, {expected}")
    assert snapshot(tmp_path) == before


def test_module_usage_error_exits_2(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "forecast", "data", "validate", "--no-such-option"]
    proc = _run(args, tmp_path)
    assert proc.returncode == 2
    assert "No such option" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []
