"""Probability, Monte Carlo standard error and entropy of events over forecast draws.

An event is a boolean per draw, ``(chain, draw, ...)``. Its probability is the share of
draws in which it holds; its Monte Carlo standard error is ``sqrt(var / ESS)``, with ``var``
the sample variance of the indicator series (``p (1 - p) n / (n - 1)``) and ``ESS`` its
effective sample size from ArviZ (``method="mean"``, the ESS that governs the error of a
mean), so autocorrelated MCMC draws are not counted as independent. This is exactly ArviZ's
``mcse(method="mean")``; a paired difference of two events gets the same treatment.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import xarray as xr
from numpy.typing import NDArray

from forecast.dims import CHAIN, DRAW, SAMPLE_DIMS


def normalised_entropy(probabilities: NDArray[np.float64] | list[float]) -> float:
    """Return ``-sum p log p / log K``: 0 for a certain outcome, 1 for equal probabilities.

    Examples
    --------
    >>> normalised_entropy([1.0, 0.0, 0.0]), normalised_entropy([0.25] * 4)
    (0.0, 1.0)
    """
    p = np.asarray(probabilities, dtype=float)
    if p.size < 2:
        return 0.0
    nonzero = p[p > 0]
    value = float(-(nonzero * np.log(nonzero)).sum() / np.log(p.size))
    # adding 0.0 turns -0.0 (a certain outcome) into 0.0
    return min(max(value, 0.0), 1.0) + 0.0


def mean_summary(values: xr.DataArray) -> xr.Dataset:
    """Return the mean over draws, its Monte Carlo standard error ``sqrt(var / ESS)`` and ESS.

    Parameters
    ----------
    values
        Numbers with dims ``(chain, draw, ...)``; booleans count as 0/1, so the mean of an
        event is its probability and the variance ``p (1 - p)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ev = xr.DataArray(rng.random((4, 500)) < 0.3, dims=("chain", "draw"))
    >>> out = mean_summary(ev)
    >>> round(float(out["mean"]), 2), 0.005 < float(out["mcse"]) < 0.015
    (0.3, True)
    """
    numeric = values.astype(float)
    n = numeric.sizes[CHAIN] * numeric.sizes[DRAW]
    mean = numeric.mean(dim=SAMPLE_DIMS)
    # the sample variance (n - 1), as ArviZ's own mcse(method="mean") uses
    variance = numeric.var(dim=SAMPLE_DIMS, ddof=1)
    ess = az.ess(numeric, sample_dims=list(SAMPLE_DIMS), method="mean")
    # a constant series has no Monte Carlo error, whatever ArviZ makes of its ESS
    ess = xr.where(np.isfinite(ess) & (ess > 0), ess, float(n))
    mcse = np.sqrt(variance / ess)
    return xr.Dataset({"mean": mean, "mcse": mcse, "ess": ess})


def event_summary(events: xr.DataArray) -> xr.Dataset:
    """Return ``probability``, ``mcse`` and ``ess`` of boolean events ``(chain, draw, ...)``.

    Examples
    --------
    >>> ev = xr.DataArray(np.ones((2, 50), dtype=bool), dims=("chain", "draw"))
    >>> float(event_summary(ev)["probability"]), float(event_summary(ev)["mcse"])
    (1.0, 0.0)
    """
    return mean_summary(events).rename({"mean": "probability"})
