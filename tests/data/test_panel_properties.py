"""Properties of the panel reader, writer and period notation (hypothesis).

- Whatever bytes a panel file holds, reading it either succeeds or raises a
  :class:`~forecast.errors.DataError`: never another exception (which the CLI would show as a
  traceback).
- A valid panel survives ``write_panel`` then ``read_panel`` unchanged, and writing it again
  gives the same bytes.
- Periods survive ``format_period`` then ``parse_period``, and the reverse.
"""

from __future__ import annotations

import calendar
import datetime as dt
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from forecast.data.codebook import Codebook, Indicator, load_codebook
from forecast.data.panel import read_panel, write_panel
from forecast.dims import PANEL_COLUMNS, STATES
from forecast.errors import DataError
from forecast.periods import PANDAS_FREQ, format_period, parse_period, period_frequency
from tests.data.panel_fixtures import VALID_ROWS, csv_text

#: the valid rows with the optional ``se`` column, given for a share and a continuous value
#: (binomial and binary rows must leave it empty)
FULL_ROWS: tuple[tuple[str, ...], ...] = tuple(
    (*r, {"trade_share_chn": "0.02", "us_aid": "1.5"}.get(r[1], "")) for r in VALID_ROWS
)

CODEBOOK: Codebook = load_codebook()
# no example database: the suite must not write into the working tree; example counts keep the
# file to a few seconds (each example reads, validates and possibly writes a file)
SETTINGS = settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties")


def _read_bytes(scratch: Path, data: bytes) -> pd.DataFrame | None:
    path = scratch / "panel.csv"
    path.write_bytes(data)
    try:
        return read_panel(path, CODEBOOK)
    except DataError as err:
        # the CLI prints str(err) on one line, naming the file
        text = str(err)
        assert "\n" not in text
        assert text.startswith(str(path))
        return None


# -- any input: a DataError or a valid panel, nothing else -------------------------------------

#: fragments that steer random text towards the validator's deeper checks
_TOKENS = [
    *PANEL_COLUMNS,
    *STATES,
    *CODEBOOK,
    "",
    " ",
    ",",
    ";",
    '"',
    "\n",
    "\r\n",
    "\ufeff",
    "2019",
    "2019Q3",
    "2019-07",
    "0000",
    "2019-06-30",
    "2020-06-30",
    "0",
    "1",
    "0.5",
    "-1",
    "2.5",
    "1e400",
    "nan",
    "inf",
    "-Infinity",
    "1_0",
    "\u0661",
    "\xe9",
]
_CELL = st.one_of(st.sampled_from(_TOKENS), st.text(max_size=8))


@settings(SETTINGS, max_examples=200)
@given(data=st.binary(max_size=400))
@example(data=b"\xef\xbb\xbf")  # once an IndexError: a byte-order mark and nothing else
@example(data=b"\xef\xbb\xbf\n\xff")
def test_random_bytes_give_data_error_only(scratch: Path, data: bytes) -> None:
    _read_bytes(scratch, data)


@SETTINGS
@given(text=st.lists(st.sampled_from(_TOKENS) | st.text(max_size=6), max_size=40).map("".join))
def test_random_text_gives_data_error_only(scratch: Path, text: str) -> None:
    _read_bytes(scratch, text.encode("utf-8", errors="surrogatepass"))


@SETTINGS
@given(
    rows=st.lists(st.lists(_CELL, min_size=6, max_size=8), min_size=1, max_size=6),
    keep=st.integers(0, len(VALID_ROWS)),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]),
)
# each once escaped as ValueError or OverflowError: year 0, and years outside datetime64[ns]
@example(
    rows=[["KAZ", "trade_share_chn", "0000", "0.5", "", "X", "2020-06-30"]],
    keep=0,
    encoding="utf-8",
)
@example(
    rows=[["KAZ", "trade_share_chn", "1500", "0.5", "", "X", "1600-06-30"]],
    keep=8,
    encoding="utf-8",
)
def test_random_cells_under_a_valid_header_give_data_error_only(
    scratch: Path, rows: list[list[str]], keep: int, encoding: str
) -> None:
    # random rows mixed into valid ones reach every check of validate_cells
    text = csv_text([*VALID_ROWS[:keep], *rows, *VALID_ROWS[keep:]])
    _read_bytes(scratch, text.encode(encoding, errors="replace"))


@SETTINGS
@given(
    row=st.integers(0, len(FULL_ROWS) - 1),
    column=st.integers(0, len(PANEL_COLUMNS) - 1),
    cell=_CELL,
)
@example(row=0, column=PANEL_COLUMNS.index("se"), cell="0.5")  # se on a binomial row
@example(row=2, column=PANEL_COLUMNS.index("se"), cell="-1")
def test_one_broken_cell_is_located(scratch: Path, row: int, column: int, cell: str) -> None:
    rows = [list(r) for r in FULL_ROWS]
    rows[row][column] = cell
    path = scratch / "panel.csv"
    path.write_text(csv_text(rows, PANEL_COLUMNS), encoding="utf-8", newline="")
    try:
        read_panel(path, CODEBOOK)
    except DataError as err:
        # the only broken record is the one reported, except when it now duplicates a later
        # row's key: the duplicate is reported at the later row, naming the broken one first
        assert err.row == row + 2 or f"first at row {row + 2}" in str(err), str(err)


# -- valid panels round-trip ---------------------------------------------------------------------


def _period_end(period: pd.Period) -> dt.date:
    last_month = period.asfreq("M", how="end")
    day = calendar.monthrange(last_month.year, last_month.month)[1]
    return dt.date(last_month.year, last_month.month, day)


@st.composite
def _valid_se(draw: st.DrawFn, kind: str) -> float:
    """Draw a standard error: empty (NaN) or, for a Gaussian kind, a finite non-negative one."""
    if kind in ("binomial", "binary"):
        return np.nan
    return draw(st.one_of(st.just(np.nan), st.floats(0.0, 1e6)))


@st.composite
def _valid_value(draw: st.DrawFn, ind: Indicator) -> tuple[float, float]:
    """Draw ``(value, n)`` valid for indicator ``ind`` (n is NaN unless binomial)."""
    if ind.kind == "binomial":
        n = draw(st.integers(1, ind.max_n))
        k = draw(st.integers(0, n))
        return k / n, float(n)
    if ind.kind == "binary":
        return float(draw(st.sampled_from([0, 1]))), np.nan
    # anywhere in the codebook's plausible range, its bounds included where allowed
    low, high, low_ok = ind.value_range()
    return draw(st.floats(low, high, exclude_min=not low_ok)), np.nan


@st.composite
def valid_panels(draw: st.DrawFn) -> pd.DataFrame:
    """A panel that passes validation: unique keys, values and vintages fit each indicator."""
    keys = draw(
        st.lists(
            st.tuples(
                st.sampled_from(STATES), st.sampled_from(list(CODEBOOK)), st.integers(1, 9998)
            ),
            min_size=1,
            max_size=15,
        )
    )
    records = []
    seen = set()
    for state, key, year in keys:
        ind = CODEBOOK[key]
        sub = draw(st.integers(1, 12 if ind.frequency == "M" else 4))
        text = {"Y": f"{year:04d}", "Q": f"{year:04d}Q{sub}", "M": f"{year:04d}-{sub:02d}"}
        period_text = text[ind.frequency]
        if (state, key, period_text) in seen:
            continue
        seen.add((state, key, period_text))
        value, n = draw(_valid_value(ind))
        end = _period_end(parse_period(period_text))
        lag = draw(st.integers(0, (dt.date(9999, 12, 31) - end).days))
        source = draw(st.text(string.ascii_letters + " ,\"'", min_size=1, max_size=10))
        if not source.strip():
            source = "X"
        records.append(
            {
                "state": state,
                "indicator": key,
                "period": period_text,
                "value": value,
                "n": n,
                "source": source,
                "vintage": (end + dt.timedelta(days=lag)).isoformat(),
                "se": draw(_valid_se(ind.kind)),
            }
        )
    return pd.DataFrame.from_records(records, columns=list(PANEL_COLUMNS))


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.sort_values(["state", "indicator", "period"]).reset_index(drop=True)
    for col in ("state", "indicator", "period", "source", "vintage"):
        out[col] = out[col].astype(str)
    return out.astype({"value": float, "n": float, "se": float})


@settings(SETTINGS, max_examples=20)
@given(panel=valid_panels())
def test_valid_panel_round_trips(scratch: Path, panel: pd.DataFrame) -> None:
    path = scratch / "roundtrip.csv"
    written = write_panel(panel, path, CODEBOOK)
    first = path.read_bytes()
    back = read_panel(path, CODEBOOK)
    pd.testing.assert_frame_equal(_normalised(back), _normalised(panel))
    pd.testing.assert_frame_equal(_normalised(back), _normalised(written))
    # writing what was read gives the same bytes: rebuilds are byte-identical
    write_panel(back, path, CODEBOOK)
    assert path.read_bytes() == first


@settings(SETTINGS, max_examples=40)
@given(
    panel=valid_panels(),
    where=st.tuples(st.integers(0, 14), st.sampled_from(PANEL_COLUMNS)),
    text=st.one_of(st.none(), _CELL),
    number=st.floats(),
)
def test_broken_panel_is_never_written(
    scratch: Path, panel: pd.DataFrame, where: tuple[int, str], text: str | None, number: float
) -> None:
    # loader output goes straight to write_panel: a bad cell must be a DataError, not a crash
    row, column = where[0] % len(panel), where[1]
    panel[column] = panel[column].astype(object)
    # loader output holds numbers in value, n and se (tidy casts them) and text elsewhere
    panel.loc[row, column] = number if column in ("value", "n", "se") else text
    path = scratch / "never" / "panel.csv"
    try:
        write_panel(panel, path, CODEBOOK)
    except DataError as err:
        assert "\n" not in str(err)
        assert not path.parent.exists()
    else:
        read_panel(path, CODEBOOK)
        path.unlink()
        path.parent.rmdir()


# -- periods -------------------------------------------------------------------------------------


@st.composite
def periods(draw: st.DrawFn) -> pd.Period:
    freq = draw(st.sampled_from(["Y", "Q", "M"]))
    year = draw(st.integers(1, 9999))
    if freq == "Y":
        return pd.Period(year=year, freq=PANDAS_FREQ[freq])
    if freq == "Q":
        return pd.Period(year=year, quarter=draw(st.integers(1, 4)), freq=PANDAS_FREQ[freq])
    return pd.Period(year=year, month=draw(st.integers(1, 12)), freq=PANDAS_FREQ[freq])


@settings(max_examples=200, deadline=None, database=None)
@given(period=periods())
def test_period_round_trips(period: pd.Period) -> None:
    text = format_period(period)
    assert parse_period(text) == period
    assert format_period(parse_period(text)) == text
    assert period_frequency(text) in ("Y", "Q", "M")


@settings(max_examples=200, deadline=None, database=None)
@given(text=st.one_of(st.text(max_size=10), st.from_regex(r"[0-9]{4}(Q[0-9]|-[0-9]{2})?")))
def test_parse_period_is_strict(text: str) -> None:
    try:
        period = parse_period(text)
    except ValueError as err:
        assert period_frequency(text) is None
        assert "unparseable period" in str(err)
    else:
        # whatever parses is written back exactly as it was given
        assert format_period(period) == text
