"""Observed panel values of one series, and where they fall against predictive bands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from forecast.data.levels import is_level
from forecast.dims import INDICATOR, PERIOD, QUANTILE, STATE
from forecast.plots.bands import INTERVALS

#: the panel columns the plots read
PANEL_FIELDS = (STATE, INDICATOR, PERIOD, "value")


def check_panel(panel: pd.DataFrame) -> None:
    """Raise ``ValueError`` unless ``panel`` has the columns the plots read."""
    missing = [c for c in PANEL_FIELDS if c not in panel.columns]
    if missing:
        raise ValueError(f"the panel lacks the columns {missing} (expected {PANEL_FIELDS})")


def observed_series(panel: pd.DataFrame, state: str, indicator: str) -> pd.DataFrame:
    """Rows ``period, value`` of one state's indicator, missing values and non-levels dropped.

    Binomial values resting on fewer than :data:`forecast.data.levels.MIN_TRIALS` trials are
    not levels (see :mod:`forecast.data.levels`) and are not drawn.

    Examples
    --------
    >>> p = pd.DataFrame({"state": ["KAZ", "KAZ"], "indicator": ["x", "x"],
    ...                   "period": ["2001", "2000"], "value": [0.2, 0.1]})
    >>> observed_series(p, "KAZ", "x").to_dict("list")
    {'period': ['2000', '2001'], 'value': [0.1, 0.2]}
    """
    check_panel(panel)
    rows = panel[(panel[STATE] == state) & (panel[INDICATOR] == indicator)]
    # a UN year resting on a handful of roll calls is not a point on the series' path
    rows = rows[rows["value"].notna().to_numpy() & is_level(rows)]
    out = pd.DataFrame(
        {PERIOD: rows[PERIOD].astype(str).to_numpy(), "value": rows["value"].to_numpy(float)}
    )
    return out.sort_values(PERIOD, kind="stable").reset_index(drop=True)


def outside_band(
    bands: xr.DataArray, observed: pd.DataFrame, probability: float = 0.9
) -> NDArray[np.bool_]:
    """Flag observations outside the central ``probability`` band of their period.

    Observations in periods the bands do not cover count as inside (nothing to compare).

    Examples
    --------
    >>> b = xr.DataArray([[0.0, 0.0], [0.2, 0.2], [0.5, 0.5], [0.8, 0.8], [1.0, 1.0]],
    ...     dims=("quantile", "period"),
    ...     coords={"quantile": [0.05, 0.25, 0.5, 0.75, 0.95], "period": ["2000", "2001"]})
    >>> obs = pd.DataFrame({"period": ["2000", "2001"], "value": [0.5, 1.5]})
    >>> outside_band(b, obs).tolist()
    [False, True]
    """
    low_q, high_q = next((lo, hi) for p, lo, hi in INTERVALS if np.isclose(p, probability))
    low = bands.sel({QUANTILE: low_q}, method="nearest")
    high = bands.sel({QUANTILE: high_q}, method="nearest")
    known = {str(p): i for i, p in enumerate(bands[PERIOD].values)}
    flags = np.zeros(len(observed), dtype=bool)
    for row, (period, value) in enumerate(zip(observed[PERIOD], observed["value"], strict=True)):
        pos = known.get(str(period))
        if pos is None:
            continue
        lo, hi = float(low.values[pos]), float(high.values[pos])
        if np.isfinite(lo) and np.isfinite(hi):
            flags[row] = not lo <= value <= hi
    return flags
