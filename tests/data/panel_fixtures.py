"""Small panels and a CLI runner shared by the panel tests.

The valid panel covers every measurement kind, an indicator with an offset and a quarterly
indicator, so that a single broken cell exercises each check of the validator.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from forecast.dims import OPTIONAL_PANEL_COLUMNS, PANEL_COLUMNS

#: the required columns: a panel may leave the optional ``se`` out
HEADER: tuple[str, ...] = tuple(c for c in PANEL_COLUMNS if c not in OPTIONAL_PANEL_COLUMNS)

#: a valid panel, in file order; the spreadsheet row of VALID_ROWS[i] is i + 2
VALID_ROWS: tuple[tuple[str, ...], ...] = (
    ("KAZ", "unga_agree_rus", "2019", "0.5", "100", "UNGA", "2020-06-30"),  # row 2, binomial
    ("KAZ", "unga_agree_rus", "2020", "0.25", "120", "UNGA", "2021-06-30"),  # row 3, binomial
    ("KAZ", "trade_share_chn", "2019", "0.2", "", "IMF DOTS", "2020-06-30"),  # row 4, share
    ("KGZ", "remittances_gdp", "2019", "0.28", "", "WDI", "2020-07-31"),  # row 5, positive
    ("KGZ", "cis_member", "2019", "1", "", "COW IGO", "2020-01-31"),  # row 6, binary
    ("UZB", "us_aid", "2019", "-3.5", "", "WDI", "2020-12-31"),  # row 7, continuous
    ("UZB", "china_finance", "2019", "0", "", "AidData", "2021-12-31"),  # row 8, positive + offset
    ("KAZ", "eu_exports", "2019Q3", "1234.5", "", "Eurostat", "2019-11-30"),  # row 9, quarterly
)


def rows_with(row: int, column: str, value: str) -> list[list[str]]:
    """The valid rows with the cell at spreadsheet ``row`` and ``column`` replaced."""
    rows = [list(r) for r in VALID_ROWS]
    rows[row - 2][HEADER.index(column)] = value
    return rows


def _field(text: str) -> str:
    # csv.writer would leave a bare carriage return unquoted when lines end in \n, writing a
    # line break the test did not mean
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_text(rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> str:
    """Serialise a header and rows as comma-separated text with ``\\n`` line ends."""
    return "".join(",".join(_field(f) for f in rec) + "\n" for rec in [header, *rows])


def valid_text() -> str:
    """The valid panel as CSV text."""
    return csv_text(VALID_ROWS)


@dataclass(frozen=True)
class Result:
    """Outcome of one CLI run: exit status, standard output and standard error."""

    code: int
    out: str
    err: str

    @property
    def errors(self) -> str:
        """Standard error without the progress lines (``[mm:ss] ...``) of long steps."""
        return "".join(
            line for line in self.err.splitlines(keepends=True) if not PROGRESS_LINE.match(line)
        )


#: a progress line on stderr (forecast.progress.LineProgress)
PROGRESS_LINE = re.compile(r"^\[\d{2,}:\d{2}\] ")


def run_cli(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> Result:
    """Run ``forecast ARGS`` in this process through the console-script entry point."""
    from forecast.cli import main

    saved = sys.argv
    sys.argv = ["forecast", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def snapshot(root: Path) -> dict[str, tuple[bytes, int] | None]:
    """Every file and directory under ``root``, with the bytes and mtime of each file."""
    state: dict[str, tuple[bytes, int] | None] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        state[rel] = (p.read_bytes(), p.stat().st_mtime_ns) if p.is_file() else None
    return state


def assert_one_line_error(
    result: Result,
    path: Path | str,
    *,
    row: int | None,
    column: str | None,
    message: str,
) -> None:
    """Assert a clean failure: status 1 and one stderr line naming file, row and column."""
    assert result.code == 1, result
    assert "Traceback" not in result.err
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    where = [str(path)]
    if row is not None:
        where.append(f"row {row}")
    if column is not None:
        where.append(f"column {column}")
    prefix = f"error: {', '.join(where)}: "
    assert lines[0].startswith(prefix), (lines[0], prefix)
    assert message in lines[0][len(prefix) :], (lines[0], message)
