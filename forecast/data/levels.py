"""Which panel values can stand as a level of their series.

A binomial value is a share of trials: the UN roll calls of a year on which two states voted
alike. A year that rests on a handful of roll calls (the vote extract ends on 14 January 2020,
so its 2020 values rest on one) says almost nothing about the year's level: 0 or 1 of 1.
The model uses such a value through its likelihood, where ``n`` weighs it; everything that
would take it at face value (a baseline's last value, a point on a chart, a backtest
outcome) leaves it out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

#: fewest trials for a binomial value to count as its series' level (a UN year usually has 60-90)
MIN_TRIALS = 10


def is_level(panel: pd.DataFrame) -> NDArray[np.bool_]:
    """Return, per row of ``panel``, whether its value can stand as a level.

    A row with trials ``n`` (a validated panel gives ``n`` to binomial values only) needs at
    least :data:`MIN_TRIALS` of them; every other row can (so can every row of a panel
    without an ``n`` column).

    Examples
    --------
    >>> panel = pd.DataFrame({"indicator": ["unga_agree_rus", "unga_agree_rus", "us_aid"],
    ...                       "value": [1.0, 0.7, 3.0], "n": [1.0, 80.0, float("nan")]})
    >>> is_level(panel).tolist()
    [False, True, True]
    """
    if "n" not in panel.columns:
        return np.ones(len(panel), dtype=bool)
    trials = panel["n"].to_numpy(dtype=float)
    return np.isnan(trials) | (trials >= MIN_TRIALS)


def levels_only(panel: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of ``panel`` whose values can stand as levels (see :func:`is_level`)."""
    return panel[is_level(panel)]
