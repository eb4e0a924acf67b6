"""Trade shares after IMF DOTS ends: national statistics spliced onto the DOTS series.

IMF DOTS, the source of ``trade_share_*``, ends in 2020; the national statistical offices of
Kazakhstan, Kyrgyzstan and Uzbekistan publish partner trade to 2023. A second measurement
of the same share in the model would not be independent of the first (both come from the same
customs records), so the DOTS series are extended instead: after the last DOTS year ``L`` of
a (state, partner) series, its value is the national share moved onto the DOTS level on the
logit scale,

    logit(spliced[t]) = logit(national[t]) + logit(dots[L]) - logit(national[L]),  t > L,

i.e. the national series' changes from ``L`` on, starting from DOTS's own last value. Only
the last common year sets the level: earlier overlaps disagree for definitional reasons that
changed over time (Kyrgyzstan's EU aggregate in 2017-2019, for one), and the splice should
continue the DOTS series where it stops. A series without a national value in ``L`` is not
extended (Tajikistan, Turkmenistan; Uzbekistan's EU share, which its office does not publish).

Spliced rows carry the source :data:`SOURCE`; their ``vintage`` follows the DOTS indicator's
release lag in the codebook (6 months; the offices publish within about 3, so the backtest
treats them as public a little later than they were).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from forecast.data.sources.dots import load_trade_shares
from forecast.data.sources.national import INDICATORS as NATIONAL_INDICATORS
from forecast.data.sources.national import load_national_trade_shares
from forecast.data.sources.rawfile import tidy
from forecast.dims import INDICATOR, PERIOD, STATE

SOURCE = "National statistics spliced to IMF DOTS"

#: national indicator key -> the DOTS indicator it extends
EXTENDS = {nat: nat.removesuffix("_nat") for nat in NATIONAL_INDICATORS.values()}


def _logit(p: ArrayLike) -> NDArray[np.float64]:
    x = np.asarray(p, dtype=float)
    return np.log(x) - np.log1p(-x)


def splice_extension(dots: pd.DataFrame, national: pd.DataFrame) -> pd.DataFrame:
    """Rows extending each DOTS share series past its last year with the national series.

    Parameters
    ----------
    dots, national
        Loader output (``state, indicator, period, value``; periods are years as text).

    Returns
    -------
    pandas.DataFrame
        ``state, indicator, period, value`` under the DOTS indicator keys, for the years after
        each DOTS series' last year where the national series has values and overlaps it in
        that last year (shares strictly inside (0, 1) there).

    Examples
    --------
    >>> dots = pd.DataFrame({"state": "KAZ", "indicator": "trade_share_chn",
    ...                      "period": ["2019", "2020"], "value": [0.15, 0.18]})
    >>> nat = pd.DataFrame({"state": "KAZ", "indicator": "trade_share_chn_nat",
    ...                     "period": ["2020", "2021"], "value": [0.18, 0.2]})
    >>> splice_extension(dots, nat).round(4).to_dict("records")
    [{'state': 'KAZ', 'indicator': 'trade_share_chn', 'period': '2021', 'value': 0.2}]
    """
    pieces = []
    nat = national[national[INDICATOR].isin(list(EXTENDS))]
    nat = nat.assign(year=nat[PERIOD].astype(int))
    nat[INDICATOR] = nat[INDICATOR].map(EXTENDS)
    own = dots.assign(year=dots[PERIOD].astype(int))
    for (state, key), theirs in nat.groupby([STATE, INDICATOR], sort=True):
        mine = own[(own[STATE] == state) & (own[INDICATOR] == key)]
        if mine.empty:
            continue
        last = int(mine["year"].max())
        anchor_dots = float(mine.loc[mine["year"] == last, "value"].iloc[0])
        anchor_nat = theirs.loc[theirs["year"] == last, "value"]
        later = theirs[theirs["year"] > last]
        if later.empty or anchor_nat.empty:
            continue
        anchor = float(anchor_nat.iloc[0])
        if not (0 < anchor < 1 and 0 < anchor_dots < 1):
            continue
        shift = float(_logit(anchor_dots)) - float(_logit(anchor))
        link = _logit(later["value"].clip(1e-9, 1 - 1e-9).to_numpy()) + shift
        pieces.append(
            pd.DataFrame(
                {
                    STATE: state,
                    INDICATOR: key,
                    PERIOD: later[PERIOD].to_numpy(),
                    "value": 1.0 / (1.0 + np.exp(-link)),
                }
            )
        )
    if not pieces:
        return pd.DataFrame(columns=[STATE, INDICATOR, PERIOD, "value"])
    out = pd.concat(pieces, ignore_index=True)
    return out.sort_values([STATE, INDICATOR, PERIOD], kind="stable", ignore_index=True)


def load_spliced_trade_shares(raw_dir: str | Path) -> pd.DataFrame:
    """DOTS trade shares extended past 2020 with the national offices' series (see module).

    Parameters
    ----------
    raw_dir
        Directory holding ``imf_dots/`` and ``national_stats_trade_by_country/``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~forecast.data.sources.rawfile.LOADER_COLUMNS`, indicators
        ``trade_share_rus``, ``trade_share_chn``, ``trade_share_eu``, ``trade_share_usa``,
        only for years after the DOTS series ends (none from a release cut at 2020).

    Examples
    --------
    >>> rows = load_spliced_trade_shares("../shared/data")  # doctest: +SKIP
    """
    return tidy(
        splice_extension(load_trade_shares(raw_dir), load_national_trade_shares(raw_dir)), SOURCE
    )
