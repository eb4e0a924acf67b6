"""Tidy quantile summaries of forecast draws (``alignment.csv``, ``indicators.csv``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from forecast.dims import (
    ALIGNMENT_VAR,
    INDICATOR,
    INDICATOR_VAR,
    PERIOD,
    POLE,
    QUANTILE_LEVELS,
    SAMPLE_DIMS,
    STATE,
)

QUANTILE_COLUMNS = tuple(f"q{round(q * 100):02d}" for q in QUANTILE_LEVELS)
ALIGNMENT_COLUMNS = (STATE, POLE, PERIOD, "mean", *QUANTILE_COLUMNS)
INDICATOR_COLUMNS = (STATE, INDICATOR, PERIOD, "mean", *QUANTILE_COLUMNS)


def quantile_table(draws: xr.DataArray, keys: tuple[str, ...]) -> pd.DataFrame:
    """Mean and the 5/25/50/75/95 % quantiles over chains and draws, one row per ``keys`` cell.

    Cells that are NaN in every draw (an indicator without such a period) are dropped.

    Examples
    --------
    >>> da = xr.DataArray(np.arange(100.0).reshape(1, 100, 1), dims=("chain", "draw", "state"),
    ...                   coords={"state": ["KAZ"]})
    >>> print(quantile_table(da, ("state",)).round(2).to_string(index=False))
    state  mean  q05   q25  q50   q75   q95
      KAZ  49.5 4.95 24.75 49.5 74.25 94.05
    """
    stacked = draws.stack(sample=SAMPLE_DIMS).transpose(*keys, "sample")
    values = stacked.values
    valid = ~np.all(np.isnan(values), axis=-1)
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(np.where(valid[..., None], values, 0.0), axis=-1)
        qs = np.nanquantile(np.where(valid[..., None], values, 0.0), QUANTILE_LEVELS, axis=-1)
    index = pd.MultiIndex.from_product([stacked[k].values for k in keys], names=keys)
    frame = pd.DataFrame({"mean": mean.ravel()}, index=index)
    for name, q in zip(QUANTILE_COLUMNS, qs, strict=True):
        frame[name] = q.ravel()
    frame = frame[valid.ravel()].reset_index()
    for k in keys:
        frame[k] = frame[k].astype(str)
    return frame


def alignment_table(forecast: xr.Dataset) -> pd.DataFrame:
    """``alignment.csv``: state, pole, period, mean, q05, q25, q50, q75, q95."""
    return quantile_table(forecast[ALIGNMENT_VAR], (STATE, POLE, PERIOD)).loc[
        :, list(ALIGNMENT_COLUMNS)
    ]


def indicator_table(forecast: xr.Dataset) -> pd.DataFrame:
    """``indicators.csv``: state, indicator, period, mean, q05, q25, q50, q75, q95."""
    return quantile_table(forecast[INDICATOR_VAR], (STATE, INDICATOR, PERIOD)).loc[
        :, list(INDICATOR_COLUMNS)
    ]
