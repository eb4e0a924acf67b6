"""Eurostat Comext: goods exports of the EU27 aggregate to each state, summed to quarters.

The monthly extract holds every member state, the EU27 aggregate, the EU of changing
composition (with the United Kingdom before February 2020) and the euro area as reporters;
only the fixed-composition EU27 aggregate row is used, so the series does not jump at Brexit
and no member is counted twice. Russia is in the file as a partner but is not a panel state.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecast.data.sources.rawfile import read_raw_csv, tidy
from forecast.dims import INDICATOR, PERIOD, STATE
from forecast.errors import DataError

MONTHLY_FILE = "eurostat_eu_trade_monthly_2019_2024/eurostat_comext_eu_trade_monthly_ca_rus.csv"
SOURCE = "Eurostat"
INDICATOR_KEY = "eu_exports"

#: the EU27 aggregate (27 members since February 2020, for every period), as Comext labels it
#: in English or French; not "European Union (AT-01/1995, ...)", whose composition changes
EU27_REPORTER = r"^\s*(?:European Union - 27 countries|Union européenne - 27 pays)\b"
#: Comext partner label -> panel state (Tajikistan and Turkmenistan are absent from this
#: extract but would load if a newer one had them)
PARTNERS = {
    "Kazakhstan": "KAZ",
    "Kyrgyzstan": "KGZ",
    "Tajikistan": "TJK",
    "Turkmenistan": "TKM",
    "Uzbekistan": "UZB",
}
_COLUMNS = (
    "REPORTER",
    "PARTNER",
    "PRODUCT",
    "FLOW",
    "STAT_PROCEDURE",
    "period_norm",
    "VALUE_IN_EUR",
)


def sum_complete_quarters(monthly: pd.DataFrame) -> pd.DataFrame:
    """Sum monthly values to calendar quarters, keeping only quarters with all three months.

    Parameters
    ----------
    monthly
        Columns ``state``, ``month`` (``YYYY-MM``, one row per state and month) and ``value``.

    Returns
    -------
    pandas.DataFrame
        Columns ``state``, ``period`` (``2019Q3``) and ``value`` (the quarter's sum).

    Examples
    --------
    >>> monthly = pd.DataFrame(
    ...     {
    ...         "state": "KAZ",
    ...         "month": ["2019-01", "2019-02", "2019-03", "2019-04"],
    ...         "value": [1.0, 2.0, 3.0, 4.0],
    ...     }
    ... )
    >>> sum_complete_quarters(monthly).to_dict("records")
    [{'state': 'KAZ', 'period': '2019Q1', 'value': 6.0}]
    """
    year = monthly["month"].str.slice(0, 4)
    quarter = (monthly["month"].str.slice(5, 7).astype(int) - 1) // 3 + 1
    keyed = monthly.assign(period=year + "Q" + quarter.astype(str))
    sums = keyed.groupby(["state", "period"], sort=True)["value"].agg(["sum", "count"])
    sums = sums[sums["count"] == 3]
    return sums["sum"].rename("value").reset_index()


def _first_row(mask: pd.Series) -> int:
    # read_csv numbers records 0, 1, ...; a spreadsheet shows the header as row 1
    return int(mask[mask].index[0]) + 2


def load_eu_exports(raw_dir: str | Path) -> pd.DataFrame:
    """Quarterly goods exports of the EU27 aggregate to each state, in EUR million.

    Uses the monthly Comext extract: reporter the EU27 aggregate, flow EXPORT, product and
    statistical procedure totals; the three months of a quarter are summed and a quarter
    missing any month has no row.

    Parameters
    ----------
    raw_dir
        Directory holding ``eurostat_eu_trade_monthly_2019_2024/`` (``../shared/data`` or a
        newer release).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~forecast.data.sources.rawfile.LOADER_COLUMNS`, indicator
        ``eu_exports``, periods such as ``2019Q3``.

    Raises
    ------
    DataError
        When the file is missing or lacks a column, holds rows but no EU27 aggregate row, a
        month does not parse, a value is not a number, or a month appears twice for one
        partner (a file with no data row, from a release before 2019, gives no rows).

    Examples
    --------
    >>> rows = load_eu_exports("../shared/data")  # doctest: +SKIP
    """
    raw = read_raw_csv(
        raw_dir,
        MONTHLY_FILE,
        _COLUMNS,
        what="Eurostat Comext monthly EU trade by reporter and partner",
        dtype={column: str for column in _COLUMNS},
    )
    path = Path(raw_dir) / MONTHLY_FILE
    monthly = _monthly_exports(_export_rows(raw, path), path)
    quarters = sum_complete_quarters(monthly)
    out = pd.DataFrame(
        {
            STATE: quarters["state"],
            INDICATOR: INDICATOR_KEY,
            PERIOD: quarters["period"],
            "value": quarters["value"] / 1e6,
        }
    )
    return tidy(out, SOURCE)


def _export_rows(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Keep the rows of total goods exports of the EU27 aggregate to a panel state.

    Raises
    ------
    DataError
        When the file holds rows but no EU27 aggregate row.
    """
    eu27 = raw["REPORTER"].str.contains(EU27_REPORTER, regex=True, na=False)
    # a file with its header and no row is a release from before the extract's first month
    # (2019-01): nothing to sum; rows without the aggregate would be a changed layout
    if not eu27.any() and not raw.empty:
        raise DataError(
            path,
            "no EU27 aggregate rows: expected REPORTER "
            "'European Union - 27 countries (AT, BE, ...)'",
            column="REPORTER",
        )
    keep = (
        eu27
        & (raw["FLOW"].str.strip() == "EXPORT")
        & (raw["PRODUCT"].str.strip() == "Total")
        # Comext writes the all-procedures total as "Total" or "T-Total" (code-label)
        & raw["STAT_PROCEDURE"].str.strip().str.fullmatch(r"(T-)?Total", na=False)
        & raw["PARTNER"].str.strip().isin(list(PARTNERS))
    )
    return raw[keep]


def _monthly_exports(rows: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Parse the kept rows into columns ``state``, ``month`` (``YYYY-MM``) and ``value`` (EUR).

    Raises
    ------
    DataError
        When a month does not parse, a value is not a number, or a partner's month repeats.
    """
    month = rows["period_norm"].str.strip()
    bad = ~month.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", na=False)
    if bad.any():
        row = _first_row(bad)
        raise DataError(
            path,
            f"period_norm {rows['period_norm'].loc[row - 2]!r}: expected a month YYYY-MM",
            row=row,
            column="period_norm",
        )
    value = pd.to_numeric(rows["VALUE_IN_EUR"].str.strip(), errors="coerce")
    if value.isna().any():
        row = _first_row(value.isna())
        raise DataError(
            path,
            f"VALUE_IN_EUR {rows['VALUE_IN_EUR'].loc[row - 2]!r}: expected a number of euros",
            row=row,
            column="VALUE_IN_EUR",
        )
    monthly = pd.DataFrame(
        {"state": rows["PARTNER"].str.strip().map(PARTNERS), "month": month, "value": value}
    )
    # exact duplicates were removed upstream; a second, different value for a month would be
    # summed into the quarter twice
    dup = monthly.duplicated(["state", "month"])
    if dup.any():
        raise DataError(
            path, "the EU27 aggregate appears twice for one partner and month", row=_first_row(dup)
        )
    return monthly
