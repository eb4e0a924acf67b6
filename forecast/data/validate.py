"""Validation of a panel against the schema (DESIGN.md section 2) and the codebook.

Every check reports the first offending cell as ``file, row R, column C: what was expected``,
with rows numbered as a spreadsheet shows them (the header is row 1).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from typing import NoReturn

import numpy as np
import pandas as pd

from forecast.data.codebook import Codebook
from forecast.data.states import KNOWN_STATES
from forecast.dims import OPTIONAL_PANEL_COLUMNS, PANEL_COLUMNS
from forecast.errors import DataError
from forecast.periods import PANDAS_FREQ, period_end_date, period_frequency

_EXPECTED = f"expected columns {','.join(PANEL_COLUMNS)}"
# ASCII digits and matched in full (see forecast.periods): pandas would read other scripts'
# digits as a date, and a trailing newline would slip through ``$``
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# a decimal number as a spreadsheet writes it, or a NaN / infinity spelling (reported as not
# finite); float() alone would also take "1_000" and non-ASCII digits
_NUMBER = re.compile(
    r"\s*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf|infinity)\s*",
    re.ASCII | re.IGNORECASE,
)
# line breaks and other C0/C1 controls: a bare carriage return is not quoted by the CSV writer
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: tolerance on the implied number of successes value * n of a binomial cell
_SUCCESS_TOL = 1e-6

#: reports a problem at (record index, column) as a DataError naming file and row
_Fail = Callable[[int, str, str], NoReturn]


def check_columns(path: str, header: Sequence[str]) -> None:
    """Refuse a header with missing, extra, duplicated or reordered columns.

    Raises
    ------
    DataError
        At row 1, naming the first offending column.

    Examples
    --------
    >>> check_columns("p.csv", ["state", "period"])
    Traceback (most recent call last):
    ...
    forecast.errors.DataError: p.csv, row 1, column indicator: missing column (expected ...)
    """
    if not any(h.strip() for h in header):
        raise DataError(path, f"empty header row: {_EXPECTED}", row=1)
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
        sep = next(s for s in ";\t|" if s in header[0])
        raise DataError(
            path,
            f"header is one field containing {sep!r}: the panel must be comma-separated "
            f"with columns {','.join(PANEL_COLUMNS)}",
            row=1,
        )
    # an optional column left out is read as empty; present, it must be in its place
    expected = tuple(c for c in PANEL_COLUMNS if c in header or c not in OPTIONAL_PANEL_COLUMNS)
    missing = [c for c in expected if c not in header]
    if missing:
        raise DataError(path, f"missing column ({_EXPECTED})", row=1, column=missing[0])
    extra = [(pos, c) for pos, c in enumerate(header, start=1) if c not in PANEL_COLUMNS]
    if extra:
        pos, name = extra[0]
        # a nameless column (often a trailing comma) is located by its position instead
        column = name or f"{pos} (no name; a trailing comma?)"
        raise DataError(path, f"unexpected column ({_EXPECTED})", row=1, column=column)
    if len(set(header)) != len(header):
        dup = next(c for c in header if list(header).count(c) > 1)
        raise DataError(path, "column appears twice", row=1, column=dup)
    if tuple(header) != expected:
        pos = next(p for p, (h, c) in enumerate(zip(header, expected, strict=True)) if h != c)
        raise DataError(
            path,
            f"column out of order: position {pos + 1} should be {expected[pos]} ({_EXPECTED})",
            row=1,
            column=header[pos],
        )


def _first(mask: np.ndarray | pd.Series | Sequence[bool]) -> int | None:
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    return int(idx[0]) if idx.size else None


def _parse_float(text: str) -> float | None:
    return float(text) if _NUMBER.fullmatch(text) else None


def _parse_floats(texts: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse cells as floats; also return where they are not numbers at all.

    A parsed "nan" is NaN like an unparseable cell once in a float Series (``Series.map``
    too turns ``None`` into NaN), so the two are told apart before that conversion.
    """
    parsed = [_parse_float(t) for t in texts]
    bad = np.array([v is None for v in parsed], dtype=bool)
    floats = pd.Series([np.nan if v is None else v for v in parsed], index=texts.index, dtype=float)
    return floats, bad


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def validate_cells(
    path: str, raw: pd.DataFrame, codebook: Codebook, rows: Sequence[int] | None = None
) -> pd.DataFrame:
    """Validate a panel read as strings and return it typed.

    Parameters
    ----------
    path
        File name used in error messages.
    raw
        The panel with every column as ``str`` (empty string for an empty cell), in file order.
    codebook
        Indicators the panel may use.
    rows
        Spreadsheet row number of each record (header = row 1); by default ``2, 3, ...``.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`forecast.dims.PANEL_COLUMNS` with ``value`` and ``n`` as floats
        (``n`` NaN where not binomial), ``period`` and ``vintage`` as strings.

    Raises
    ------
    DataError
        Naming file, row and column of the first problem found.
    """
    if raw.empty:
        raise DataError(path, "no data rows under the header", row=2)
    row_numbers = list(rows) if rows is not None else list(range(2, len(raw) + 2))

    def fail(i: int, column: str, message: str) -> NoReturn:
        raise DataError(path, message, row=row_numbers[i], column=column)

    # the checks run column by column, in file order, so the first problem reported is the
    # first column's (later checks rely on earlier ones: a period's frequency, a kind)
    _check_states(raw["state"], codebook, fail)
    _check_indicators(raw["indicator"], codebook, fail)
    freqs = _check_periods(raw, codebook, fail)
    _check_duplicates(raw, row_numbers, fail)
    values = _check_values(raw, codebook, fail)
    kinds = raw["indicator"].map(lambda k: codebook[k].kind)
    binary = (kinds == "binary").to_numpy()
    binomial = (kinds == "binomial").to_numpy()
    n_val = _check_trials(raw, codebook, values, binomial, fail)
    given, se_val = _check_se(raw, kinds, binomial | binary, fail)
    _check_sources(raw["source"], fail)
    _check_vintages(raw, freqs, fail)

    typed = raw.copy()
    typed["value"] = values.to_numpy()
    typed["n"] = np.where(binomial, n_val, np.nan)
    typed["se"] = np.where(given, se_val, np.nan)
    return typed.loc[:, list(PANEL_COLUMNS)]


def _check_states(states: pd.Series, codebook: Codebook, fail: _Fail) -> None:
    """Check each state is the codebook's (any ISO 3166-1 alpha-3 code if it lists none)."""
    allowed = codebook.states or KNOWN_STATES
    if (i := _first(~states.isin(list(allowed)))) is not None:
        if codebook.states:
            wanted = (
                f"expected one of the states of the codebook {codebook.path} "
                f"({', '.join(codebook.states)}; add a state there to extend the panel)"
            )
        else:
            wanted = "expected an ISO 3166-1 alpha-3 code such as KAZ"
        fail(i, "state", f"unknown state {states.iloc[i]!r}: {wanted}")


def _check_indicators(inds: pd.Series, codebook: Codebook, fail: _Fail) -> None:
    """Check each indicator is in the codebook."""
    if (i := _first(~inds.isin(list(codebook)))) is not None:
        fail(
            i,
            "indicator",
            f"unknown indicator {inds.iloc[i]!r}: not in the codebook {codebook.path}",
        )


def _check_periods(raw: pd.DataFrame, codebook: Codebook, fail: _Fail) -> pd.Series:
    """Check each period parses at its codebook frequency; return each row's frequency."""
    periods, inds = raw["period"], raw["indicator"]
    freqs = periods.map(period_frequency)
    if (i := _first(freqs.isna())) is not None:
        fail(
            i, "period", f"unparseable period {periods.iloc[i]!r}: expected 2019, 2019Q3 or 2019-07"
        )
    expected = inds.map(lambda k: codebook[k].frequency)
    if (i := _first(freqs != expected)) is not None:
        fail(
            i,
            "period",
            f"period {periods.iloc[i]!r} has frequency {freqs.iloc[i]} but the "
            f"codebook gives {inds.iloc[i]} frequency {expected.iloc[i]}",
        )
    return freqs


def _check_duplicates(raw: pd.DataFrame, row_numbers: Sequence[int], fail: _Fail) -> None:
    """Check there is one row per (state, indicator, period); name a repeat's first row."""
    keys = ["state", "indicator", "period"]
    if (i := _first(raw.duplicated(keys, keep="first"))) is not None:
        key = raw.iloc[i]
        same = (
            (raw["state"] == key["state"])
            & (raw["indicator"] == key["indicator"])
            & (raw["period"] == key["period"])
        )
        first = _first(same)
        assert first is not None
        fail(
            i,
            "period",
            f"duplicate ({key['state']}, {key['indicator']}, {key['period']}), "
            f"first at row {row_numbers[first]}",
        )


def _check_values(raw: pd.DataFrame, codebook: Codebook, fail: _Fail) -> pd.Series:
    """Check each value is finite, in its kind's range, 0 or 1 if binary; return them."""
    inds = raw["indicator"]
    values, not_number = _parse_floats(raw["value"])
    if (i := _first(not_number)) is not None:
        text = raw["value"].iloc[i]
        what = "empty" if text == "" else f"{text!r} is not a number"
        fail(i, "value", f"value {what}: expected a finite number")
    if (i := _first(~np.isfinite(values))) is not None:
        fail(
            i,
            "value",
            f"value {raw['value'].iloc[i]!r} is not finite: NaN and infinity are not allowed",
        )
    ranges = inds.map(lambda k: codebook[k].value_range())
    lo = np.array([r[0] for r in ranges])
    hi = np.array([r[1] for r in ranges])
    lo_incl = np.array([r[2] for r in ranges])
    if (i := _first((values > hi) | (values < lo) | ((values == lo) & ~lo_incl))) is not None:
        ind = codebook[inds.iloc[i]]
        bound = "[" if lo_incl[i] else "("
        fail(
            i,
            "value",
            f"value {values.iloc[i]:g} out of range for {ind.key} (kind {ind.kind}): expected "
            f"{bound}{lo[i]:g}, {hi[i]:g}] {ind.unit} (the codebook's plausible range)",
        )
    binary = (inds.map(lambda k: codebook[k].kind) == "binary").to_numpy()
    if (i := _first(binary & ~np.isin(values, (0.0, 1.0)))) is not None:
        fail(
            i,
            "value",
            f"value {values.iloc[i]:g} for binary indicator {inds.iloc[i]}: expected 0 or 1",
        )
    return values


def _check_trials(
    raw: pd.DataFrame, codebook: Codebook, values: pd.Series, binomial: np.ndarray, fail: _Fail
) -> np.ndarray:
    """Check ``n``: positive and whole if binomial, else empty; return it (NaN if empty)."""
    inds, n_text = raw["indicator"], raw["n"]
    n_num, n_not_number = _parse_floats(n_text)
    if (i := _first(binomial & (n_text == "").to_numpy())) is not None:
        fail(i, "n", f"n missing: binomial indicator {inds.iloc[i]} needs the number of trials")
    if (i := _first(~binomial & (n_text != "").to_numpy())) is not None:
        fail(i, "n", f"n given for non-binomial indicator {inds.iloc[i]}: expected an empty cell")
    if (i := _first(binomial & n_not_number)) is not None:
        fail(i, "n", f"n {n_text.iloc[i]!r} is not a number")
    n_val = n_num.to_numpy()
    with np.errstate(invalid="ignore"):
        non_integer = binomial & (~np.isfinite(n_val) | (np.round(n_val) != n_val))
        if (i := _first(non_integer)) is not None:
            fail(i, "n", f"n {n_text.iloc[i]!r} is not a whole number")
        if (i := _first(binomial & (n_val <= 0))) is not None:
            fail(i, "n", f"n {n_text.iloc[i]} must be a positive number of trials")
        max_n = inds.map(lambda k: codebook[k].max_n).to_numpy(dtype=float)
        if (i := _first(binomial & (n_val > max_n))) is not None:
            fail(
                i,
                "n",
                f"n {n_val[i]:g} is more trials than plausible for {inds.iloc[i]}: expected "
                f"at most {max_n[i]:g} (max_n in the codebook)",
            )
        successes = values.to_numpy() * n_val
        off = np.abs(successes - np.round(successes)) > _SUCCESS_TOL * np.maximum(n_val, 1.0)
    if (i := _first(binomial & off)) is not None:
        fail(
            i,
            "n",
            f"value {values.iloc[i]:g} x n {n_val[i]:g} = {successes[i]:.4g} is not a "
            "whole number of successes: n is smaller than or inconsistent with the share it "
            "implies",
        )
    return n_val


def _check_se(
    raw: pd.DataFrame, kinds: pd.Series, counted: np.ndarray, fail: _Fail
) -> tuple[np.ndarray, np.ndarray]:
    """Check ``se``: empty, or the non-negative standard error of a Gaussian-kind value.

    ``counted`` marks binomial and binary rows, which take no standard error. Return where
    one is given and the parsed values.
    """
    se_text = raw["se"] if "se" in raw else pd.Series("", index=raw.index, dtype=str)
    given = (se_text != "").to_numpy()
    se_num, se_not_number = _parse_floats(se_text)
    if (i := _first(given & counted)) is not None:
        inds = raw["indicator"]
        fail(i, "se", f"se given for {kinds.iloc[i]} indicator {inds.iloc[i]}: expected empty")
    se_val = se_num.to_numpy()
    with np.errstate(invalid="ignore"):
        bad_se = given & (se_not_number | ~np.isfinite(se_val) | (se_val < 0))
    if (i := _first(bad_se)) is not None:
        fail(i, "se", f"se {se_text.iloc[i]!r}: expected a finite non-negative number or empty")
    return given, se_val


def _check_sources(sources: pd.Series, fail: _Fail) -> None:
    """Check each source is a name on one line (the free-text column: control characters)."""
    if (i := _first((sources.str.strip() == "").to_numpy())) is not None:
        fail(i, "source", "source is empty: expected a short source name")
    if (i := _first([_CONTROL.search(t) is not None for t in sources])) is not None:
        fail(
            i,
            "source",
            f"source {sources.iloc[i]!r} contains a control character (a line "
            "break or tab): expected a short source name on one line",
        )


def _check_vintages(raw: pd.DataFrame, freqs: pd.Series, fail: _Fail) -> None:
    """Check each vintage is an ISO date not before the end of the period it describes."""
    vint, periods = raw["vintage"], raw["period"]
    if (i := _first([_DATE.fullmatch(v) is None for v in vint])) is not None:
        fail(i, "vintage", f"vintage {vint.iloc[i]!r} is not a date: expected YYYY-MM-DD")
    # Python dates, not datetime64[ns]: nanoseconds only span the years 1677-2262, and a
    # conversion outside them overflows or silently wraps around
    dates = [_parse_date(v) for v in vint]
    if (i := _first([d is None for d in dates])) is not None:
        fail(i, "vintage", f"vintage {vint.iloc[i]!r} is not a valid date")
    ends = [
        period_end_date(pd.Period(p, freq=PANDAS_FREQ[f])).date()
        for p, f in zip(periods, freqs, strict=True)
    ]
    early = [d is not None and d < end for d, end in zip(dates, ends, strict=True)]
    if (i := _first(early)) is not None:
        fail(
            i,
            "vintage",
            f"vintage {vint.iloc[i]} is before the end of period {periods.iloc[i]}: "
            "a value cannot be public before the period it describes ends",
        )


def is_whole(x: float) -> bool:
    """Return whether ``x`` is a finite whole number.

    Examples
    --------
    >>> is_whole(3.0), is_whole(2.5), is_whole(float("inf"))
    (True, False, False)
    """
    return math.isfinite(x) and float(x).is_integer()
