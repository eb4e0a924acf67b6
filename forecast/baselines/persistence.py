"""Persistence: the last observed value carries forward, with random-walk uncertainty."""

from __future__ import annotations

import numpy as np

from forecast.baselines.common import Predictive, Series, change_variance


def persistence_predictive(
    series: Series, steps: int, pooled_variance: float, *, note: str = ""
) -> Predictive | None:
    """Last value as the mean; variance ``sigma^2 * h`` at ``h`` steps ahead.

    ``sigma^2`` is the series' own :func:`~forecast.baselines.common.change_variance` (the
    variance of its one-step changes, gaps counted as several steps), which pools the h-step
    changes by the random-walk rule ``var(h) = sigma^2 * h``.

    Parameters
    ----------
    series
        The series, on its link scale.
    steps
        Number of periods ahead.
    pooled_variance
        The indicator's change variance pooled over all states, used when the series' own is
        unavailable (fewer than two changes, or a constant series).
    note
        Why persistence runs, when it stands in for another baseline.

    Returns
    -------
    Predictive or None
        None when neither the series' own nor the pooled variance exists.

    Examples
    --------
    >>> from forecast.baselines.common import panel_series
    >>> from forecast.data.codebook import load_codebook
    >>> import pandas as pd
    >>> panel = pd.DataFrame({"state": "KAZ", "indicator": "us_aid",
    ...                       "period": ["2018", "2019", "2020"], "value": [1.0, 3.0, 2.0]})
    >>> (series,) = panel_series(panel, load_codebook())
    >>> pred = persistence_predictive(series, 3, float("nan"))
    >>> pred.mean.tolist(), pred.var.tolist()
    ([2.0, 2.0, 2.0], [2.5, 5.0, 7.5])
    """
    h = np.arange(1, steps + 1, dtype=float)
    sigma2 = change_variance(*series.changes())
    if not np.isfinite(sigma2):
        if not np.isfinite(pooled_variance):
            return None
        sigma2 = pooled_variance
        note = "; ".join(filter(None, [note, "pooled change variance of the indicator"]))
    last = series.link[-1]  # the grid ends at the last observation, so this is observed
    return Predictive(mean=np.full(steps, last), var=sigma2 * h, method="persistence", note=note)
