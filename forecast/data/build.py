"""Build the panel from a directory of raw public files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from forecast.data.codebook import Codebook
from forecast.errors import DataError
from forecast.periods import parse_period, period_end_date

Loader = Callable[[str | Path], pd.DataFrame]


def vintage_dates(periods: pd.Series, lags: pd.Series) -> list[str]:
    """First public date of each value: end of its period plus the release lag in months.

    Examples
    --------
    >>> vintage_dates(pd.Series(["2019", "2019Q2"]), pd.Series([6, 2]))
    ['2020-06-30', '2019-08-31']
    """
    out = []
    for text, lag in zip(periods, lags, strict=True):
        end = period_end_date(parse_period(str(text)))
        # period ends are month ends, so step by month ends (30 June + 2 months = 31 August)
        out.append((end + pd.offsets.MonthEnd(int(lag))).strftime("%Y-%m-%d"))
    return out


def build_panel(raw_dir: str | Path, codebook: Codebook, loaders: Sequence[Loader]) -> pd.DataFrame:
    """Run every loader on ``raw_dir`` and assemble the panel (not yet validated).

    Parameters
    ----------
    raw_dir
        Directory holding the raw files (``../shared/data`` or a newer release of the same files).
    codebook
        The codebook; gives each indicator's release lag for ``vintage``.
    loaders
        Pure functions ``raw_dir -> rows`` (see :mod:`forecast.data.sources`).

    Returns
    -------
    pandas.DataFrame
        Columns of the panel schema, sorted by state, indicator and period.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise DataError(
            raw_dir, "raw data directory not found: expected a directory like ../shared/data"
        )
    rows = pd.concat([loader(raw_dir) for loader in loaders], ignore_index=True)
    unknown = sorted(set(rows["indicator"]) - set(codebook))
    if unknown:
        raise DataError(
            codebook.path, f"loaders produce indicator {unknown[0]!r} missing from the codebook"
        )
    lags = rows["indicator"].map(lambda k: codebook[k].release_lag_months)
    rows["vintage"] = vintage_dates(rows["period"], lags)
    return rows.sort_values(["state", "indicator", "period"], kind="stable").reset_index(drop=True)
