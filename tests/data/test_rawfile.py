"""``tidy``: loader output in the builder's column order, periods as text."""

from __future__ import annotations

import pandas as pd
import pytest

from forecast.data.sources.rawfile import LOADER_COLUMNS, tidy
from forecast.errors import DataError


def rows(period: list[object]) -> pd.DataFrame:
    return pd.DataFrame(
        {"state": "KAZ", "indicator": "trade_share_rus", "period": period, "value": 0.5}
    )


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ([2019, 2020], ["2019", "2020"]),
        # a year column read with a missing cell is float: 2019.0 is the year 2019, not "2019.0"
        ([2019.0, 2020.0], ["2019", "2020"]),
        (["2019Q3", "2019-07"], ["2019Q3", "2019-07"]),
    ],
)
def test_periods_become_text(period, expected):
    out = tidy(rows(period), "IMF DOTS")
    assert tuple(out.columns) == LOADER_COLUMNS
    assert out["period"].tolist() == expected
    assert out["n"].isna().all()


@pytest.mark.parametrize("bad", [2019.5, float("nan")])
def test_fractional_year_refused(bad):
    with pytest.raises(DataError, match=r"IMF DOTS loader output, column period: .*whole year"):
        tidy(rows([2018.0, bad]), "IMF DOTS")
