"""Local level: statsmodels' ``UnobservedComponents(level="local level")`` fitted per series."""

from __future__ import annotations

import warnings

import numpy as np
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.statespace.structural import UnobservedComponents

from forecast.baselines.common import MIN_POINTS, Predictive, Series, is_constant
from forecast.baselines.persistence import persistence_predictive


def local_level_predictive(series: Series, steps: int, pooled_variance: float) -> Predictive | None:
    """Mean and variance of statsmodels' local-level forecast (``get_forecast(steps)``).

    The model is fitted by maximum likelihood to the link-scale series with its gaps as NaN
    (the Kalman filter skips them). The forecast variance includes the irregular (observation)
    variance, so it is a predictive variance for the next values of the series, and grows with
    the horizon by the level variance per step.

    Falls back to :func:`~forecast.baselines.persistence.persistence_predictive` (saying so in
    ``method`` and ``note``) for series with fewer than three observations, constant series
    (whose likelihood grows without bound as both variances go to zero) and fits whose
    forecast variance is not finite and positive. An optimiser that stops before converging
    keeps its estimate, with a note.

    Examples
    --------
    >>> from forecast.baselines.common import panel_series
    >>> from forecast.data.codebook import load_codebook
    >>> import pandas as pd
    >>> panel = pd.DataFrame({"state": "KAZ", "indicator": "us_aid",
    ...     "period": [str(y) for y in range(2011, 2021)],
    ...     "value": [3.0, 4.1, 3.5, 5.2, 6.0, 5.1, 6.3, 7.4, 6.8, 7.9]})
    >>> (series,) = panel_series(panel, load_codebook())
    >>> pred = local_level_predictive(series, 3, float("nan"))
    >>> pred.method, bool(np.all(np.diff(pred.var) > 0))
    ('local_level', True)
    """
    if series.n_obs < MIN_POINTS:
        return persistence_predictive(
            series, steps, pooled_variance, note=f"fewer than {MIN_POINTS} observations"
        )
    if is_constant(series):
        return persistence_predictive(series, steps, pooled_variance, note="constant series")
    model = UnobservedComponents(series.link, level="local level")
    with warnings.catch_warnings():
        # statsmodels warns when the optimiser stops early; on a 10-30 point series with a
        # flat likelihood that is common and harmless, and ``mle_retvals`` records it, which
        # is reported in the note instead of as a warning (the test suite makes them errors)
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Nelder-Mead on the two variances needs about 60 likelihood evaluations on these
        # short series; the default L-BFGS with numerical gradients takes three to four times
        # as long for the same optimum (bundled panel: forecast variances within 0.5 %, means
        # within 0.005 sd). The forecast does not use the parameters' covariance: none is made
        result = model.fit(method="nm", maxiter=2000, cov_type="none", disp=False)
    forecast = result.get_forecast(steps)
    mean = np.asarray(forecast.predicted_mean, dtype=float)
    var = np.asarray(forecast.var_pred_mean, dtype=float)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var)) and np.all(var > 0)):
        return persistence_predictive(
            series, steps, pooled_variance, note="local-level forecast variance not usable"
        )
    converged = bool(result.mle_retvals.get("converged", True))
    note = "" if converged else "optimiser stopped before converging; its estimate is used"
    return Predictive(mean=mean, var=var, method="local_level", note=note)
