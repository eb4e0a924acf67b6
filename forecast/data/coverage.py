"""Coverage of a panel: per state and indicator, first and last period, count, share missing."""

from __future__ import annotations

import pandas as pd

from forecast.periods import format_period, parse_period

COVERAGE_COLUMNS = ("state", "indicator", "first", "last", "count", "share_missing")


def panel_coverage(panel: pd.DataFrame) -> pd.DataFrame:
    """Summarise which periods each (state, indicator) series covers.

    ``share_missing`` counts the periods between the series' own first and last period that
    have no value (gaps inside the series, not years before a source starts).

    Examples
    --------
    >>> p = pd.DataFrame({"state": ["KAZ"] * 2, "indicator": ["x"] * 2, "period": ["2001", "2004"]})
    >>> panel_coverage(p).iloc[0].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'state': 'KAZ', 'indicator': 'x', 'first': '2001', 'last': '2004', 'count': 2,
     'share_missing': 0.5}
    """
    records = []
    for (state, indicator), group in panel.groupby(["state", "indicator"], sort=True):
        periods = sorted(parse_period(str(p)) for p in group["period"])
        span = (periods[-1] - periods[0]).n + 1
        records.append(
            {
                "state": state,
                "indicator": indicator,
                "first": format_period(periods[0]),
                "last": format_period(periods[-1]),
                "count": len(periods),
                "share_missing": round(1.0 - len(periods) / span, 4),
            }
        )
    return pd.DataFrame.from_records(records, columns=list(COVERAGE_COLUMNS))
