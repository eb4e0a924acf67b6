"""Random walk with drift: the mean change per period extrapolated, with its uncertainty."""

from __future__ import annotations

import numpy as np

from forecast.baselines.common import MIN_POINTS, TINY, Predictive, Series
from forecast.baselines.persistence import persistence_predictive


def drift_predictive(series: Series, steps: int, pooled_variance: float) -> Predictive | None:
    """Last value plus ``drift * h``; variance ``sigma^2 * h + var(drift) * h^2``.

    With changes ``d_i`` over ``g_i`` periods (``g_i = 1`` without gaps), the drift is
    ``sum(d) / sum(g)`` (the mean of first differences when there is no gap; the maximum
    likelihood estimate when there are), ``sigma^2`` the variance of the changes about it per
    period with one degree of freedom spent on the drift, and ``var(drift) = sigma^2 / sum(g)``.
    The drift's own uncertainty is what makes the variance grow faster than linearly.

    A series whose changes are all equal (a constant or exactly linear series) has
    ``sigma^2 = 0``, which is no predictive variance: the indicator's pooled change variance
    stands in, and the ``note`` says so. Series with fewer than three observations fall back
    to :func:`~forecast.baselines.persistence.persistence_predictive`, which says so in the
    returned ``method`` and ``note``.

    Examples
    --------
    >>> from forecast.baselines.common import panel_series
    >>> from forecast.data.codebook import load_codebook
    >>> import pandas as pd
    >>> panel = pd.DataFrame({"state": "KAZ", "indicator": "us_aid",
    ...                       "period": ["2017", "2018", "2019", "2020"],
    ...                       "value": [1.0, 2.0, 4.0, 5.0]})
    >>> (series,) = panel_series(panel, load_codebook())
    >>> pred = drift_predictive(series, 2, float("nan"))
    >>> pred.mean.round(3).tolist(), pred.var.round(3).tolist()
    ([6.333, 7.667], [0.444, 1.111])
    """
    if series.n_obs < MIN_POINTS:
        return persistence_predictive(
            series, steps, pooled_variance, note=f"fewer than {MIN_POINTS} observations"
        )
    changes, gaps = series.changes()
    span = float(gaps.sum())
    drift = float(changes.sum()) / span
    sigma2 = float(np.sum((changes - drift * gaps) ** 2 / gaps)) / (changes.size - 1)
    note = ""
    if not sigma2 > TINY:
        if not np.isfinite(pooled_variance):
            return persistence_predictive(
                series, steps, pooled_variance, note="no variance about the drift"
            )
        sigma2, note = pooled_variance, "pooled change variance of the indicator"
    h = np.arange(1, steps + 1, dtype=float)
    return Predictive(
        mean=series.link[-1] + drift * h,
        var=sigma2 * h + (sigma2 / span) * h**2,
        method="drift",
        note=note,
    )
