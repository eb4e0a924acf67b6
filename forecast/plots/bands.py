"""Quantile bands of posterior or forecast draws: the statistics fan charts and forests draw.

A band is a DataArray with a ``quantile`` dimension (the levels of :data:`BAND_LEVELS`); the
plots accept such precomputed bands as readily as raw draws, as ArviZ's plots accept
precomputed statistics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from forecast.dims import QUANTILE, SAMPLE_DIMS

#: quantiles drawn: the 90 % and 50 % equal-tailed intervals and the median
BAND_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)

#: the intervals a fan or forest shows, widest first: (probability, lower, upper quantile)
INTERVALS = ((0.9, 0.05, 0.95), (0.5, 0.25, 0.75))


def quantile_bands(data: xr.DataArray, levels: Sequence[float] = BAND_LEVELS) -> xr.DataArray:
    """Return quantiles over ``(chain, draw)`` with a leading ``quantile`` dimension.

    ``data`` already holding a ``quantile`` dimension is taken as precomputed, and the
    requested levels are selected from it. Cells missing in every draw (an indicator period
    the model does not produce) stay missing.

    Parameters
    ----------
    data
        Draws with dims ``chain`` and ``draw`` (plus any others), or precomputed quantiles.
    levels
        Quantile levels in [0, 1].

    Returns
    -------
    xarray.DataArray
        Dims ``(quantile, *other dims)``.

    Raises
    ------
    ValueError
        When ``data`` has neither sample dimensions nor the requested quantiles.

    Examples
    --------
    >>> draws = xr.DataArray(np.arange(101.0).reshape(1, 101), dims=("chain", "draw"))
    >>> quantile_bands(draws).values.tolist()
    [5.0, 25.0, 50.0, 75.0, 95.0]
    >>> quantile_bands(quantile_bands(draws), (0.5,)).values.tolist()
    [50.0]
    """
    levels = [float(q) for q in levels]
    if QUANTILE in data.dims:
        present = np.asarray(data[QUANTILE].values, dtype=float)
        missing = [q for q in levels if not np.isclose(present, q).any()]
        if missing:
            raise ValueError(f"precomputed bands lack the quantiles {missing}")
        picks = [int(np.argmin(np.abs(present - q))) for q in levels]
        out = data.isel({QUANTILE: picks})
        return out.transpose(QUANTILE, ...)
    absent = [d for d in SAMPLE_DIMS if d not in data.dims]
    if absent:
        raise ValueError(
            f"expected draws with dims {SAMPLE_DIMS} or a {QUANTILE!r} dimension, got {data.dims}"
        )
    # a cell is missing in every draw or in none, so skipping NaNs would only add warnings
    return data.quantile(levels, dim=SAMPLE_DIMS, skipna=False).transpose(QUANTILE, ...)
