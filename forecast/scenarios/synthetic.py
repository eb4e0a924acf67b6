"""A small synthetic forecast Dataset, shaped like :func:`forecast.model.project.project`'s.

Used by the scenario layer's examples and tests, so that they need no fitted model: random
walks with a drift per pole for the latent, and a few share indicators that follow their
pole's latent through a logistic link, and UN ideal-point distances that shrink as it rises,
all from an explicit seed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from forecast.dims import (
    ALIGNMENT_VAR,
    CHAIN,
    DRAW,
    INDICATOR,
    INDICATOR_VAR,
    PERIOD,
    POLE,
    POLES,
    STATE,
    STATES,
)

#: indicator key -> (pole, intercept on the logit scale) of the synthetic share indicators
#: (the keys the default scenarios read, at roughly their latest levels)
SYNTHETIC_INDICATORS: Mapping[str, tuple[str, float]] = {
    "trade_share_rus": ("RUS", -1.4),
    "unga_agree_rus": ("RUS", 0.8),
    "arms_share_rus": ("RUS", 1.5),
    "remittances_gdp": ("RUS", -2.0),
    "trade_share_chn": ("CHN", -1.6),
    "arms_share_chn": ("CHN", -2.0),
    "trade_share_eu": ("WEST", -1.8),
}

#: indicator key -> (pole, log distance at a latent of 0) of the synthetic ideal-point
#: distances (sign -1: closer means more aligned)
SYNTHETIC_DISTANCES: Mapping[str, tuple[str, float]] = {
    "unga_ideal_rus": ("RUS", -0.3),
    "unga_ideal_chn": ("CHN", -0.5),
    "unga_ideal_usa": ("WEST", 1.0),
}


def synthetic_forecast(
    *,
    chains: int = 2,
    draws: int = 100,
    first: int = 2016,
    last_fitted: int = 2020,
    until: int = 2030,
    drift: Mapping[str, float] | None = None,
    volatility: float = 0.1,
    random_seed: int = 0,
) -> xr.Dataset:
    """Build a forecast Dataset of random-walk latents and share indicators.

    Parameters
    ----------
    chains, draws
        Sample dimensions.
    first, last_fitted, until
        Yearly periods ``first..until``; ``attrs["last_fitted"]`` is ``last_fitted``.
    drift
        Drift per step for each pole (default RUS -0.03, CHN +0.03, WEST 0).
    volatility
        Innovation scale per step.
    random_seed
        Seed of the draws.

    Examples
    --------
    >>> ds = synthetic_forecast()
    >>> dict(ds["alignment"].sizes)
    {'chain': 2, 'draw': 100, 'state': 5, 'pole': 3, 'period': 15}
    >>> ds.attrs["last_fitted"]
    '2020'
    """
    drift = {"RUS": -0.03, "CHN": 0.03, "WEST": 0.0} if drift is None else drift
    rng = np.random.default_rng(random_seed)
    periods = [str(y) for y in range(first, until + 1)]
    mu = np.array([drift.get(p, 0.0) for p in POLES])
    steps = mu + volatility * rng.standard_normal(
        (chains, draws, len(STATES), len(periods), len(POLES))
    )
    start = rng.normal(0.0, 0.5, size=(1, 1, len(STATES), 1, len(POLES)))
    latent = (start + np.cumsum(steps, axis=3)).transpose(0, 1, 2, 4, 3)
    alignment = xr.DataArray(
        latent,
        dims=(CHAIN, DRAW, STATE, POLE, PERIOD),
        coords={
            CHAIN: np.arange(chains),
            DRAW: np.arange(draws),
            STATE: list(STATES),
            POLE: list(POLES),
            PERIOD: periods,
        },
    )
    pieces = []
    for key, (pole, intercept) in SYNTHETIC_INDICATORS.items():
        eta = intercept + alignment.sel({POLE: pole}, drop=True)
        noise = 0.2 * rng.standard_normal(eta.shape)
        share = eta.copy(data=1.0 / (1.0 + np.exp(-(eta.values + noise))))
        pieces.append(share.expand_dims({INDICATOR: [key]}))
    for key, (pole, log_distance) in SYNTHETIC_DISTANCES.items():
        eta = log_distance - 0.5 * alignment.sel({POLE: pole}, drop=True)
        noise = 0.1 * rng.standard_normal(eta.shape)
        distance = eta.copy(data=np.exp(eta.values + noise))
        pieces.append(distance.expand_dims({INDICATOR: [key]}))
    indicators = xr.concat(pieces, dim=INDICATOR).transpose(CHAIN, DRAW, STATE, INDICATOR, PERIOD)
    ds = xr.Dataset({ALIGNMENT_VAR: alignment, INDICATOR_VAR: indicators})
    ds.attrs.update(
        {
            "last_fitted": str(last_fitted),
            "until": str(until),
            "random_seed": random_seed,
            "run_id": "synthetic",
            "converged": 1,
            "approximate": 0,
        }
    )
    return ds
