"""Validation of a panel against the schema (DESIGN.md section 2) and the codebook.

Every check reports the first offending cell as ``file, row R, column C: what was expected``,
with rows numbered as a spreadsheet shows them (the header is row 1).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecast.data.codebook import Codebook
from forecast.data.states import KNOWN_STATES
from forecast.dims import PANEL_COLUMNS
from forecast.errors import DataError
from forecast.periods import PANDAS_FREQ, period_end_date, period_frequency

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: tolerance on the implied number of successes value * n of a binomial cell
_SUCCESS_TOL = 1e-6


def check_columns(path: str, header: Sequence[str]) -> None:
    """Refuse a header with missing, extra, duplicated or reordered columns."""
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
        sep = next(s for s in ";\t|" if s in header[0])
        raise DataError(
            path,
            f"header is one field containing {sep!r}: the panel must be comma-separated "
            f"with columns {','.join(PANEL_COLUMNS)}",
            row=1,
        )
    missing = [c for c in PANEL_COLUMNS if c not in header]
    if missing:
        raise DataError(
            path, f"missing column (expected columns {','.join(PANEL_COLUMNS)})", row=1, column=missing[0]
        )
    extra = [c for c in header if c not in PANEL_COLUMNS]
    if extra:
        raise DataError(
            path, f"unexpected column (expected columns {','.join(PANEL_COLUMNS)})", row=1, column=extra[0]
        )
    if len(set(header)) != len(header):
        dup = next(c for c in header if list(header).count(c) > 1)
        raise DataError(path, "column appears twice", row=1, column=dup)
    if tuple(header) != PANEL_COLUMNS:
        raise DataError(path, f"columns out of order: expected {','.join(PANEL_COLUMNS)}", row=1)


def _first(mask: np.ndarray | pd.Series) -> int | None:
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    return int(idx[0]) if idx.size else None




def _parse_float(text: str) -> float | None:
    try:
        return float(text)
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

    def _row(i: int) -> int:
        return row_numbers[i]

    # -- state
    states = raw["state"]
    if (i := _first(~states.isin(KNOWN_STATES))) is not None:
        raise DataError(
            path, f"unknown state {states.iloc[i]!r}: expected an ISO 3166-1 alpha-3 code such as KAZ",
            row=_row(i), column="state",
        )
    # -- indicator
    inds = raw["indicator"]
    if (i := _first(~inds.isin(list(codebook)))) is not None:
        raise DataError(
            path, f"unknown indicator {inds.iloc[i]!r}: not in the codebook {codebook.path}",
            row=_row(i), column="indicator",
        )
    # -- period: parseable, and of the codebook's frequency
    freqs = raw["period"].map(period_frequency)
    if (i := _first(freqs.isna())) is not None:
        raise DataError(
            path, f"unparseable period {raw['period'].iloc[i]!r}: expected 2019, 2019Q3 or 2019-07",
            row=_row(i), column="period",
        )
    expected = inds.map(lambda k: codebook[k].frequency)
    if (i := _first(freqs != expected)) is not None:
        raise DataError(
            path,
            f"period {raw['period'].iloc[i]!r} has frequency {freqs.iloc[i]} but the codebook gives "
            f"{inds.iloc[i]} frequency {expected.iloc[i]}",
            row=_row(i), column="period",
        )
    # -- duplicates
    dup = raw.duplicated(["state", "indicator", "period"], keep="first")
    if (i := _first(dup)) is not None:
        key = raw.iloc[i]
        first = _first(
            (raw["state"] == key["state"]) & (inds == key["indicator"]) & (raw["period"] == key["period"])
        )
        assert first is not None
        raise DataError(
            path,
            f"duplicate ({key['state']}, {key['indicator']}, {key['period']}), first at row {_row(first)}",
            row=_row(i), column="period",
        )
    # -- value: a finite number in the kind's range
    values = raw["value"].map(_parse_float)
    if (i := _first(values.isna())) is not None:
        text = raw["value"].iloc[i]
        what = "empty" if text == "" else f"{text!r} is not a number"
        raise DataError(path, f"value {what}: expected a finite number", row=_row(i), column="value")
    values = values.astype(float)
    if (i := _first(~np.isfinite(values))) is not None:
        raise DataError(
            path, f"value {raw['value'].iloc[i]!r} is not finite: NaN and infinity are not allowed",
            row=_row(i), column="value",
        )
    ranges = inds.map(lambda k: codebook[k].value_range())
    lo = np.array([r[0] for r in ranges])
    hi = np.array([r[1] for r in ranges])
    lo_incl = np.array([r[2] for r in ranges])
    bad = (values > hi) | (values < lo) | ((values == lo) & ~lo_incl)
    if (i := _first(bad)) is not None:
        ind = codebook[inds.iloc[i]]
        bound = "[" if lo_incl[i] else "("
        raise DataError(
            path,
            f"value {values.iloc[i]:g} out of range for {ind.key} (kind {ind.kind}): expected "
            f"{bound}{lo[i]:g}, {hi[i]:g}]",
            row=_row(i), column="value",
        )
    kinds = inds.map(lambda k: codebook[k].kind)
    binary = (kinds == "binary").to_numpy()
    if (i := _first(binary & ~np.isin(values, (0.0, 1.0)))) is not None:
        raise DataError(
            path, f"value {values.iloc[i]:g} for binary indicator {inds.iloc[i]}: expected 0 or 1",
            row=_row(i), column="value",
        )
    # -- n: a positive whole number for binomial indicators, empty otherwise
    binomial = (kinds == "binomial").to_numpy()
    n_text = raw["n"]
    n_num = n_text.map(_parse_float)
    if (i := _first(binomial & (n_text == "").to_numpy())) is not None:
        raise DataError(
            path, f"n missing: binomial indicator {inds.iloc[i]} needs the number of trials",
            row=_row(i), column="n",
        )
    if (i := _first(~binomial & (n_text != "").to_numpy())) is not None:
        raise DataError(
            path, f"n given for non-binomial indicator {inds.iloc[i]}: expected an empty cell",
            row=_row(i), column="n",
        )
    if (i := _first(binomial & n_num.isna().to_numpy())) is not None:
        raise DataError(path, f"n {n_text.iloc[i]!r} is not a number", row=_row(i), column="n")
    n_val = n_num.astype(float).to_numpy()
    with np.errstate(invalid="ignore"):
        non_integer = binomial & (~np.isfinite(n_val) | (np.round(n_val) != n_val))
        if (i := _first(non_integer)) is not None:
            raise DataError(path, f"n {n_text.iloc[i]!r} is not a whole number", row=_row(i), column="n")
        if (i := _first(binomial & (n_val <= 0))) is not None:
            raise DataError(
                path, f"n {n_text.iloc[i]} must be a positive number of trials", row=_row(i), column="n"
            )
        successes = values.to_numpy() * n_val
        off = np.abs(successes - np.round(successes)) > _SUCCESS_TOL * np.maximum(n_val, 1.0)
    if (i := _first(binomial & off)) is not None:
        raise DataError(
            path,
            f"value {values.iloc[i]:g} x n {n_val[i]:g} = {successes[i]:.4g} is not a whole number "
            f"of successes: n is smaller than or inconsistent with the share it implies",
            row=_row(i), column="n",
        )
    # -- source
    if (i := _first((raw["source"].str.strip() == "").to_numpy())) is not None:
        raise DataError(path, "source is empty: expected a short source name", row=_row(i), column="source")
    # -- vintage: an ISO date not before the end of the period it describes
    vint = raw["vintage"]
    if (i := _first(~vint.str.match(_DATE).to_numpy())) is not None:
        raise DataError(
            path, f"vintage {vint.iloc[i]!r} is not a date: expected YYYY-MM-DD", row=_row(i), column="vintage"
        )
    dates = pd.to_datetime(vint, format="%Y-%m-%d", errors="coerce")
    if (i := _first(dates.isna().to_numpy())) is not None:
        raise DataError(path, f"vintage {vint.iloc[i]!r} is not a valid date", row=_row(i), column="vintage")
    ends = [
        period_end_date(pd.Period(p, freq=PANDAS_FREQ[f])) for p, f in zip(raw["period"], freqs, strict=True)
    ]
    early = dates.to_numpy() < np.array(ends, dtype="datetime64[ns]")
    if (i := _first(early)) is not None:
        raise DataError(
            path,
            f"vintage {vint.iloc[i]} is before the end of period {raw['period'].iloc[i]}: a value cannot "
            "be public before the period it describes ends",
            row=_row(i), column="vintage",
        )

    typed = raw.copy()
    typed["value"] = values.to_numpy()
    typed["n"] = np.where(binomial, n_val, np.nan)
    return typed


def is_whole(x: float) -> bool:
    """True when ``x`` is a finite whole number."""
    return math.isfinite(x) and float(x).is_integer()
