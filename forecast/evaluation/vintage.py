"""The panel as it was public at a date, from its ``vintage`` column (pseudo-real-time data).

A backtest origin ``Y`` is a forecast made at the end of year ``Y``: the model and the
baselines see only rows whose vintage is on or before ``Y-12-31``, and horizon ``h`` targets
period ``Y + h``.
"""

from __future__ import annotations

import pandas as pd

from forecast.errors import ForecastError


def origin_date(origin: int) -> str:
    """Return the date a backtest origin stands for: the last day of its year.

    Examples
    --------
    >>> origin_date(2012)
    '2012-12-31'
    """
    return f"{origin:04d}-12-31"


def public_at(panel: pd.DataFrame, date: str) -> pd.DataFrame:
    """Rows of ``panel`` that were public on ``date`` (``vintage <= date``).

    Vintages in a validated panel are ISO dates (``YYYY-MM-DD``), which compare correctly
    as strings.

    Examples
    --------
    >>> panel = pd.DataFrame({"period": ["2010", "2011"], "vintage": ["2011-06-30", "2012-06-30"]})
    >>> public_at(panel, "2011-12-31")["period"].tolist()
    ['2010']
    """
    cut = panel[panel["vintage"] <= date]
    if cut.empty:
        raise ForecastError(f"no panel value was public on {date}: choose a later origin")
    return cut.reset_index(drop=True)


def target_period(origin: int, horizon: int) -> str:
    """Return the yearly period that horizon ``horizon`` of origin ``origin`` forecasts.

    Examples
    --------
    >>> target_period(2012, 3)
    '2015'
    """
    return f"{origin + horizon:04d}"
